"""Seed rows (data, editable in the admin): the screening cadence of seed 004 and the
early-warning rules with their parameters. Used by migration 0002 and by tests."""

from __future__ import annotations

from typing import Any

SCREENING_RULES: list[dict[str, Any]] = [
    {
        "name": "区信访办月度排查",
        "cadence": "monthly",
        "unit_types": ["department", "district"],
        "petition_office_only": True,
        "priority": 1,
        "due_workdays": 2,
        "basis": "区信访办每月排查一次（示范做法）",
    },
    {
        "name": "街道、部门半月排查",
        "cadence": "half_monthly",
        "unit_types": ["street", "department"],
        "petition_office_only": False,
        "priority": 2,
        "due_workdays": 1,
        "basis": "街道和部门每半月排查一次",
    },
    {
        "name": "社区、辖区单位每周排查",
        "cadence": "weekly",
        "unit_types": ["community", "company"],
        "petition_office_only": False,
        "priority": 3,
        "due_workdays": 1,
        "basis": "社区居委会和辖区单位每周排查一次",
    },
]

# code, name, severity, params, description
WARNING_RULES: list[tuple[str, str, str, dict[str, Any], str]] = [
    (
        "spike_place",
        "属地信访量异常增长",
        "yellow",
        {"window_days": 7, "baseline_days": 84, "alpha": 0.001, "min_count": 5},
        "近7天某街道/社区的来信来访量，与其前12周的日均量比较"
        "（泊松上尾检验，p<0.001 且不少于5件）。",
    ),
    (
        "spike_topic",
        "问题类别信访量异常增长",
        "yellow",
        {"window_days": 7, "baseline_days": 84, "alpha": 0.001, "min_count": 5},
        "近7天某一级问题类别的信访量，与其前12周日均量比较（泊松上尾检验）。",
    ),
    (
        "group_cluster",
        "同一群体短期内多次信访",
        "orange",
        {"window_days": 30, "min_cases": 3},
        "同一信访群体30天内登记3件及以上。",
    ),
    (
        "repeat_after_close",
        "办结后重复信访",
        "blue",
        {"within_days": 180},
        "信访人在同一事项办结（或终结）后180天内再次信访。",
    ),
    (
        "informant_urgent",
        "信息员紧急报告",
        "orange",
        {"red_signals": ["capital", "extreme"], "max_steps": 4},
        "信息员报送集体访、进京赴省、聚集等紧急信息即时预警；进京赴省和个人极端为红色。",
    ),
    (
        "dispute_overdue",
        "矛盾纠纷逾期未化解",
        "yellow",
        {},
        "台账事项超过化解期限仍未销号；高、重大风险事项为橙色。",
    ),
    (
        "case_near_deadline",
        "信访事项临近法定期限",
        "blue",
        {"days": 3},
        "受理告知、办理期限届满前3天仍未完成。",
    ),
]


def ensure_rules() -> None:
    """Create the seed rules that are missing (tests after a flush; ``load_demo``)."""
    from xinfang.prevention.models import ScreeningRule, WarningRule

    for row in SCREENING_RULES:
        if not ScreeningRule.objects.filter(name=row["name"]).exists():
            ScreeningRule.objects.create(**row)
    for code, name, severity, params, description in WARNING_RULES:
        WarningRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "severity": severity,
                "params": params,
                "description": description,
            },
        )
