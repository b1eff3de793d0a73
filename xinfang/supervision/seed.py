"""The default escalation rules (data migration 0002 and tests after a flush)."""

from __future__ import annotations

from typing import Any

OBLIGATIONS = ["route", "accept", "handle", "review_decide", "rereview_decide"]

SEED_RULES: list[dict[str, Any]] = [
    {
        "code": "sign_in_remind",
        "name": "签收提醒",
        "stage": "remind",
        "kinds": ["sign_in"],
        "offset_days": 1,
        "working_days": True,
        "recipients": ["unit_staff"],
        "issues_document": False,
        "email": False,
        "order": 5,
    },
    {
        "code": "remind",
        "name": "临期提醒",
        "stage": "remind",
        "kinds": OBLIGATIONS,
        "offset_days": -3,
        "working_days": True,
        "recipients": ["unit_staff"],
        "issues_document": False,
        "email": True,
        "order": 10,
    },
    {
        "code": "urge",
        "name": "到期催办",
        "stage": "urge",
        "kinds": OBLIGATIONS,
        "offset_days": 0,
        "working_days": True,
        "recipients": ["unit_staff", "unit_heads", "office"],
        "issues_document": False,
        "email": True,
        "order": 20,
    },
    {
        "code": "supervise",
        "name": "超期督办",
        "stage": "supervise",
        "kinds": OBLIGATIONS,
        "offset_days": 3,
        "working_days": True,
        "recipients": ["unit_heads", "office", "supervisors"],
        "issues_document": True,
        "email": True,
        "order": 30,
    },
    {
        "code": "escalate",
        "name": "提级督办",
        "stage": "escalate",
        "kinds": OBLIGATIONS,
        "offset_days": 7,
        "working_days": True,
        "recipients": ["leaders", "unit_heads", "supervisors"],
        "issues_document": True,
        "email": True,
        "order": 40,
    },
]


def seed_rules(model: Any) -> None:
    for row in SEED_RULES:
        values = {k: v for k, v in row.items() if k != "code"}
        model.objects.get_or_create(code=row["code"], defaults=values)
