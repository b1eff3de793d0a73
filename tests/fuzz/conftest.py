"""Fuzz fixtures: the world is built once per test function, not once per example."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World


@pytest.fixture
def world_once(world: World) -> World:
    return world


@pytest.fixture
def fuzz_case(world: World, register: Any) -> int:
    return int(register().pk)
