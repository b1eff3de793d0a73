"""Demo 预防排查 data (after ``load_cases`` and ``load_reception``): two 信息员 with a routine
and an urgent report (→ a red/orange alert), a register of disputes in every state (one waiting
for 销号 approval, one struck off with its evidence), the key persons given a 包案 leader and a
plan, this period's screening rounds with some units reported and some late, and one warning
sweep. All through the services, so timelines, notifications and the audit log are real.
Idempotent: skipped when the register holds anything."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xinfang.people.models import KeyPerson
from xinfang.prevention import informants, keypersons, screening, services, warning
from xinfang.prevention.models import Dispute, ScreeningReport

# A one-page PDF (the evidence of the struck-off item): checked by content like any upload.
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

DISPUTES: list[dict[str, Any]] = [
    {
        "key": "dh1",
        "title": "幸福里小区物业费上调纠纷",
        "parties": "幸福里小区业主代表 张某某 等\n幸福里物业服务有限公司",
        "description": "物业公司拟将物业费由每月1.2元/平方米上调至1.8元，部分业主不同意，"
        "扬言集体到区政府反映。",
        "headcount": 30,
        "risk_level": "high",
        "plan": "街道牵头召开业主、物业、社区三方协调会，公开物业服务成本。",
    },
    {
        "key": "dh2",
        "title": "拆迁安置房交付延期",
        "parties": "滨河路片区被拆迁户 58户\n区城发集团",
        "description": "安置房原定今年6月交付，现延期，被拆迁户过渡费发放不及时。",
        "headcount": 58,
        "risk_level": "critical",
        "plan": "包案领导每周约谈城发集团，按月公布工程进度，过渡费按期足额发放。",
    },
    {
        "key": "dh3",
        "title": "邻里宅基地界址争议",
        "parties": "王某某\n李某某",
        "description": "两户因院墙界址发生争执，曾发生推搡。",
        "headcount": 2,
        "risk_level": "low",
        "plan": "社区调委会现场勘查，组织双方调解。",
    },
    {
        "key": "qs1",
        "title": "建筑工地拖欠农民工工资",
        "parties": "农民工 赵某某 等12人\n某建筑劳务公司",
        "description": "春节前工程款结算争议，劳务公司拖欠12名农民工工资约18万元。",
        "headcount": 12,
        "risk_level": "medium",
        "plan": "街道劳动保障所会同区人社局督促总包单位代发。",
    },
]


def load_prevention(org: Any) -> dict[str, int]:
    if Dispute.objects.exists():
        return {}
    units, user = org.units, org.user
    today = timezone.localdate()
    made: dict[str, int] = {}

    # 信息员 of 东湖 and 青山 first communities (the demo logins xinxi, xinxi_qs).
    informants.informant_add(
        user("banan_dh"), user=user("xinxi"), unit=units["dh1"], phone="13900001111"
    )
    informants.informant_add(
        user("banan_qs"), user=user("xinxi_qs"), unit=units["qs1"], phone="13900002222"
    )

    # The register: one item per community above, each in its street's responsibility.
    items = []
    for spec in DISPUTES:
        place = units[spec["key"]]
        street = place.parent
        clerk = user(f"banan_{_street_key(org, street)}")
        items.append(
            services.dispute_create(
                clerk,
                title=spec["title"],
                description=spec["description"],
                source="visit",
                parties=spec["parties"],
                headcount=spec["headcount"],
                place_unit=place,
                unit=street,
                risk_level=spec["risk_level"],
                plan=spec["plan"],
                leader=user("lingdao_dh") if street == units["dh"] else None,
            )
        )
    made["disputes"] = len(items)
    services.dispute_contact(
        user("fuze_dh"),
        items[0],
        method="visit",
        person="业主代表张某某",
        note="上门听取意见，业主同意参加三方协调会。",
    )
    # One item resolved and struck off by the level above, one waiting for approval.
    for item, approve in ((items[2], True), (items[3], None)):
        street_key = _street_key(org, item.unit)
        services.dispute_add_file(
            user(f"fuze_{street_key}"),
            item,
            SimpleUploadedFile("调解协议.pdf", EVIDENCE_PDF, content_type="application/pdf"),
        )
        services.dispute_request_strike(
            user(f"fuze_{street_key}"),
            item,
            resolution="经调解双方达成协议，已履行完毕。",
            evidence="调解协议书一份，双方签字确认，回访双方无异议。",
        )
        if approve:
            item.refresh_from_db()
            services.dispute_decide_strike(user("banan"), item, True, "佐证齐全，同意销号。")

    # 重点人员: 包案 leader, responsible unit, plan and review date.
    for kp in KeyPerson.objects.filter(removed_at__isnull=True, unit__isnull=True):
        keypersons.key_person_update(
            user("banan"),
            kp,
            unit=units["dh"],
            leader=user("lingdao_dh"),
            plan="包案领导每月约谈一次；社区网格员每周走访，了解生活困难并协助申请救助。",
            review_on=today + dt.timedelta(days=7),
        )

    # Screening rounds of this period; the 东湖 street and one community have reported.
    screening.screening_sweep(today)
    for report in ScreeningReport.objects.filter(unit__in=[units["dh1"], units["dh"]]):
        reporter = user("xinxi") if report.unit == units["dh1"] else user("chengban_dh")
        screening.report_submit(
            reporter, report, nothing_new=True, note="本期走访未发现新的矛盾纠纷。"
        )
        made["round_reports"] = made.get("round_reports", 0) + 1

    # Informant reports: one routine, one urgent (→ an alert to the on-duty leader).
    informants.report_submit(
        user("xinxi"),
        unit=units["dh1"],
        urgency="routine",
        title="小区停车位划线引发议论",
        text="社区拟在幸福里小区内划定收费停车位，部分居民有意见，情绪尚平稳。",
    )
    informants.report_submit(
        user("xinxi_qs"),
        unit=units["qs1"],
        urgency="urgent",
        signal="collective",
        title="农民工拟到区政府集体讨薪",
        text="据了解，12名农民工计划下周一上午到区政府门口集体讨要工资。",
        headcount=12,
        destination="赴区",
        expected_at=timezone.now() + dt.timedelta(days=3),
    )
    made["alerts"] = warning.warning_sweep(today).raised
    return made


def _street_key(org: Any, street: Any) -> str:
    for key, unit in org.units.items():
        if unit.pk == street.pk:
            return str(key)
    raise KeyError(street.name)
