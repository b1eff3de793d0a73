"""风险等级评定标准 (the risk rubric) as data: what makes a dispute low … critical.

The register form shows it beside the risk field and ``suggest_risk`` proposes a level from the
facts typed (the clerk decides; a level below the suggestion needs a reason in the timeline).
The thresholds follow common district practice (5+ people = 集体访, the 进京/赴省 signal and
risk to life are always 重大); they are data here, documented in docs/prevention.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang.prevention.models import RISK_ORDER, RiskLevel


@dataclass(frozen=True)
class RubricRow:
    level: str
    label: str
    criteria: tuple[str, ...]
    # How soon it must be resolved by default (days from registration) and how often the
    # responsible person must record a contact (days).
    due_days: int
    contact_every_days: int


RUBRIC: tuple[RubricRow, ...] = (
    RubricRow(
        RiskLevel.CRITICAL,
        "重大",
        (
            "有进京、赴省上访或到重要场所聚集的苗头",
            "可能危及人身安全或发生个人极端行为",
            "涉及50人以上，或可能引发群体性事件",
        ),
        due_days=15,
        contact_every_days=1,
    ),
    RubricRow(
        RiskLevel.HIGH,
        "高",
        (
            "有到区及以上集体上访的苗头（5人以上）",
            "涉及20人以上，或涉及重点人员、重点群体",
            "矛盾已经激化，或同一事项已多次信访",
        ),
        due_days=30,
        contact_every_days=7,
    ),
    RubricRow(
        RiskLevel.MEDIUM,
        "中",
        (
            "涉及5至19人",
            "当事人已经信访或表示将要信访",
            "需要两个以上部门协调解决",
        ),
        due_days=60,
        contact_every_days=15,
    ),
    RubricRow(
        RiskLevel.LOW,
        "低",
        ("个体纠纷，当事人情绪平稳，可在村（社区）就地化解",),
        due_days=90,
        contact_every_days=30,
    ),
)

BY_LEVEL = {row.level: row for row in RUBRIC}


def suggest_risk(
    *,
    headcount: int,
    capital_signal: bool = False,
    extreme_signal: bool = False,
    collective_signal: bool = False,
    key_subject: bool = False,
    already_petitioned: bool = False,
    repeated: bool = False,
) -> str:
    """The level the rubric gives for these facts (the highest row any fact meets)."""
    if capital_signal or extreme_signal or headcount >= 50:
        return RiskLevel.CRITICAL
    if collective_signal or headcount >= 20 or key_subject or repeated:
        return RiskLevel.HIGH
    if headcount >= 5 or already_petitioned:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def is_below(level: str, other: str) -> bool:
    return RISK_ORDER[RiskLevel(level)] < RISK_ORDER[RiskLevel(other)]
