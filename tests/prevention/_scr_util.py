"""Helpers of the 排查轮次 tests (helper B): extra units and people, a dispute, a new-item row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.conftest import World, make_user
from xinfang.org import roles as R
from xinfang.org.models import Unit, UnitType
from xinfang.prevention.models import Dispute, DisputeSource, RiskLevel
from xinfang.prevention.services import dispute_create


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def add_community(world: World, name: str, username: str, parent: Unit | None = None) -> Any:
    unit = Unit.objects.create(
        name=name, unit_type=UnitType.COMMUNITY, parent=parent or world.street
    )
    user = make_user(username, unit, R.HANDLER, username)
    return unit, user


def cora() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="cora")


def open_dispute(world: World, by: Any, unit: Unit | None = None) -> Dispute:
    unit = unit or world.community
    return dispute_create(
        by,
        title="楼道堆物纠纷",
        description="邻里因楼道堆放杂物发生争执。",
        source=DisputeSource.VISIT,
        parties="王五\n赵六",
        place_unit=unit,
        unit=unit,
        risk_level=RiskLevel.LOW,
    )


def item(**kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "小区停车位纠纷",
        "parties": "业主代表李四\n物业公司",
        "description": "业主与物业就地面停车位收费发生争议，约10户。",
        "risk_level": RiskLevel.MEDIUM,
        "headcount": 10,
    }
    values.update(kw)
    return values
