"""Shared 预防排查 fixtures (helper A owns this file; keep it small and stable).

``pv``: the ``world`` plus helpers to put items in the register:

- ``pv.dispute(**overrides)`` registers one (by hank, 东湖社区 → 东湖街道, low risk) through
  ``services.dispute_create``;
- ``pv.evidence_file(name)`` a small valid text upload;
- ``pv.pending(**overrides)`` an item already 报请销号 by hank (with one evidence file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import World
from xinfang.prevention import services as S
from xinfang.prevention.models import Dispute, DisputeSource, RiskLevel


def evidence_file(
    name: str = "调解协议.txt", text: str = "调解协议：双方同意按约定分期付款。"
) -> Any:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/plain")


@dataclass
class PV:
    world: World

    def __getattr__(self, name: str) -> Any:  # pv.hank, pv.street … as on the world
        return getattr(self.world, name)

    def dispute(self, **overrides: Any) -> Dispute:
        w = self.world
        values: dict[str, Any] = {
            "title": "幸福里小区物业费纠纷",
            "description": "物业公司上调物业费，部分业主拒缴，双方发生争执。",
            "source": DisputeSource.SCREENING,
            "parties": "幸福里业主代表 王某 138****1234\n幸福物业公司",
            "place_unit": w.community,
            "unit": w.street,
            "risk_level": RiskLevel.LOW,
            "headcount": 3,
        }
        by = overrides.pop("by", w.hank)
        values.update(overrides)
        return S.dispute_create(by, **values)

    def evidence_file(self, name: str = "调解协议.txt") -> Any:
        return evidence_file(name)

    def pending(self, **overrides: Any) -> Dispute:
        d = self.dispute(**overrides)
        return S.dispute_request_strike(
            self.world.hank,
            d,
            "经街道调解，物业公司同意暂缓上调，业主补缴欠费。",
            "调解协议一份，双方签字；回访业主三户，均表示满意。",
            files=[evidence_file()],
        )


@pytest.fixture
def pv(world: World, settings: Any, tmp_path: Any) -> PV:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return PV(world)
