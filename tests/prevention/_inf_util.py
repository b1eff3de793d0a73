"""Helpers of the 信息员 tests (tag inf): informants appointed through the service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import World, make_user
from xinfang.org import roles as R
from xinfang.prevention import informants as I


@dataclass
class Net:
    ivan: Any  # 信息员 of 东湖社区 (appointed by uma)
    wang: Any  # 信息员 of 西山街道 (appointed by leo)


def make_net(world: World) -> Net:
    ivan = make_user("ivan", world.community, R.INFORMANT, "伊万")
    I.informant_add(world.uma, user=ivan, unit=world.community, phone="13900001111")
    wang = make_user("wang", world.sibling, R.INFORMANT, "王五")
    I.informant_add(world.leo, user=wang, unit=world.sibling)
    return Net(ivan=ivan, wang=wang)


def urgent(world: World, user: Any, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "unit": world.community,
        "urgency": "urgent",
        "signal": "collective",
        "title": "拆迁户拟集体到区政府上访",
        "text": "东湖社区拆迁安置户约30人商量明早到区政府集体上访，诉求补偿款。",
        "headcount": 30,
        "destination": "赴区",
    }
    values.update(overrides)
    return I.report_submit(user, **values)
