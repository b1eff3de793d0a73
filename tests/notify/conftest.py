"""Notify test helpers: a 检举控告 case whose secrets must never appear in anything sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from xinfang.cases.models import Case
from xinfang.core.idcard import id_check_digit
from xinfang.people.services import PetitionerInput

SECRET_WORD = "挪用扶贫款"
ACCUSER = "钱多多"
ACCUSER_PHONE = "13900001111"
ACCUSER_ID = "11010519800101003" + id_check_digit("11010519800101003")


def leaks(text: str) -> list[str]:
    secrets = (SECRET_WORD, ACCUSER, ACCUSER_PHONE, ACCUSER_ID, "王某", "检举西山")
    return [s for s in secrets if s in text]


@pytest.fixture
def accusation(world: World, register: Any) -> Case:
    return register(
        purpose="accusation",
        summary=f"检举西山街道干部{SECRET_WORD}",
        content=f"西山街道副主任王某{SECRET_WORD}二十万元。",
        petitioners=[PetitionerInput(name=ACCUSER, id_number=ACCUSER_ID, phone=ACCUSER_PHONE)],
        accused_unit_ids=[world.sibling.pk],
        accused_text="副主任王某",
    )
