"""Follow-up fixtures: a replied case, a closed case, and a pool of hearing members."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, reply_case
from xinfang.followup.models import HearingMember, HearingMemberKind


@pytest.fixture
def replied(world: World, register: Any) -> Any:
    return reply_case(world, register())


@pytest.fixture
def pool(db: Any) -> list[HearingMember]:
    kinds = list(HearingMemberKind.values)
    return [
        HearingMember.objects.create(
            name=f"听证员{i + 1}", affiliation="某单位", kind=kinds[i % len(kinds)]
        )
        for i in range(10)
    ]
