"""Fixtures of the reception tests: a desk clerk at 东湖街道 (another petition office)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, make_user
from xinfang.org import roles as R


@pytest.fixture
def dora(world: World) -> Any:
    """接待员 of 东湖街道's petition office (another office than rita's 区信访局)."""
    return make_user("dora", world.street, R.RECEPTIONIST, "朵拉")
