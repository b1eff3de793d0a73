"""台账 services: every rule and every Chinese message (tests/prevention/conftest.py ``pv``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.conftest import make_user
from tests.prevention.conftest import PV, evidence_file
from xinfang.notify.models import Notification
from xinfang.org import roles as R
from xinfang.prevention import services as S
from xinfang.prevention.models import (
    ContactMethod,
    Dispute,
    DisputeAttachment,
    DisputeEvent,
    DisputeState,
    RiskLevel,
)

RESOLUTION = "经街道调解，物业公司同意暂缓上调，业主补缴欠费。"
EVIDENCE = "调解协议一份，双方签字；回访业主三户，均表示满意。"


def kinds(d: Dispute) -> list[str]:
    return list(
        DisputeEvent.objects.filter(dispute=d).order_by("at", "id").values_list("kind", flat=True)
    )


def err(exc: Any) -> tuple[str, str | None]:
    return exc.value.message, exc.value.field


# --- create (owner / leader checks added) --------------------------------------------------


def test_create_numbers_and_defaults(pv: PV) -> None:
    d = pv.dispute()
    year = S.beijing_today().year
    assert d.number == f"MD{year}-00001"
    assert d.state == DisputeState.OPEN
    assert d.due_on == S.beijing_today() + dt.timedelta(days=90)
    assert kinds(d) == ["create"]


def test_create_idempotency_key_returns_first(pv: PV) -> None:
    a = pv.dispute(idempotency_key="k-1")
    b = pv.dispute(idempotency_key="k-1", title="另一个")
    assert a.pk == b.pk and Dispute.objects.count() == 1


def test_create_owner_must_be_staff_of_unit(pv: PV) -> None:
    with pytest.raises(S.DomainError) as e:
        pv.dispute(owner=pv.bob)
    assert err(e) == ("责任人须为责任单位（东湖街道）的在岗工作人员，鲍勃不在该单位任职", "owner")
    assert pv.dispute(owner=pv.hank).owner == pv.hank


def test_create_leader_must_be_leader_at_or_above(pv: PV) -> None:
    with pytest.raises(S.DomainError) as e:
        pv.dispute(leader=pv.uma)
    assert err(e) == (
        "包案领导须为责任单位（东湖街道）或其上级单位的领导，乌玛不具备该职务",
        "leader",
    )
    assert pv.dispute(leader=pv.leo).leader == pv.leo


# --- update --------------------------------------------------------------------------------


def test_update_records_changes(pv: PV) -> None:
    d = pv.dispute()
    S.dispute_update(pv.hank, d, title="幸福里物业费争议", headcount=4, owner=pv.hank)
    ev = DisputeEvent.objects.get(dispute=d, kind="update")
    assert ev.data["changes"] == {
        "title": ["幸福里小区物业费纠纷", "幸福里物业费争议"],
        "headcount": [3, 4],
        "owner": ["", "韩克"],
    }
    d.refresh_from_db()
    assert (d.title, d.headcount, d.owner) == ("幸福里物业费争议", 4, pv.hank)


def test_update_without_changes_writes_nothing(pv: PV) -> None:
    d = pv.dispute()
    S.dispute_update(pv.hank, d, title=d.title)
    assert kinds(d) == ["create"]


def test_update_risk_writes_risk_event(pv: PV) -> None:
    d = pv.dispute()
    S.dispute_update(pv.hank, d, risk_level=RiskLevel.HIGH, reason="当事人扬言集体上访")
    ev = DisputeEvent.objects.get(dispute=d, kind="risk")
    assert ev.text == "当事人扬言集体上访" and ev.data == {"from": "low", "to": "high"}
    assert DisputeEvent.objects.get(dispute=d, kind="update").data["changes"]["risk_level"] == [
        "低",
        "高",
    ]


def test_lowering_below_rubric_needs_reason(pv: PV) -> None:
    d = pv.dispute(headcount=25, risk_level=RiskLevel.HIGH)
    with pytest.raises(S.DomainError) as e:
        S.dispute_update(pv.hank, d, risk_level=RiskLevel.LOW, reason="少")
    assert err(e) == ("按评定标准，该事项应不低于「高」风险；调低须说明理由（至少5个字）", "reason")
    S.dispute_update(pv.hank, d, risk_level=RiskLevel.MEDIUM, reason="多数业主已签协议，仅余三户")
    d.refresh_from_db()
    assert d.risk_level == RiskLevel.MEDIUM


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"title": " "}, "请填写纠纷名称", "title"),
        ({"title": "长" * 101}, "纠纷名称不能超过100字", "title"),
        ({"description": ""}, "请填写纠纷的基本情况", "description"),
        ({"description": "长" * 5001}, "基本情况不能超过5000字", "description"),
        ({"parties": ""}, "请填写当事人（每行一方）", "parties"),
        ({"headcount": 0}, "涉及人数至少为1", "headcount"),
        ({"plan": "长" * 5001}, "化解方案不能超过5000字", "plan"),
        ({"risk_level": "huge"}, "请选择风险等级", "risk_level"),
        ({"due_on": None}, "请填写化解期限", "due_on"),
    ],
)
def test_update_field_errors(pv: PV, fields: dict[str, Any], message: str, field: str) -> None:
    d = pv.dispute()
    with pytest.raises(S.DomainError) as e:
        S.dispute_update(pv.hank, d, **fields)
    assert err(e) == (message, field)


def test_update_due_not_in_past(pv: PV) -> None:
    d = pv.dispute()
    with pytest.raises(S.DomainError) as e:
        S.dispute_update(pv.hank, d, due_on=S.beijing_today() - dt.timedelta(days=1))
    assert err(e) == ("化解期限不能早于今天", "due_on")


def test_update_unknown_field(pv: PV) -> None:
    with pytest.raises(S.DomainError, match="不能修改的字段：state"):
        S.dispute_update(pv.hank, pv.dispute(), state="struck")


def test_update_unit_rules(pv: PV) -> None:
    d = pv.dispute(owner=pv.hank)
    # The office takes it over; hank is not staff there, so the owner is cleared.
    S.dispute_update(pv.alice, d, unit=pv.office)
    d.refresh_from_db()
    assert d.unit == pv.office and d.owner is None
    with pytest.raises(S.DomainError) as e2:
        S.dispute_update(pv.alice, d, owner=pv.hank)
    assert e2.value.field == "owner"


def test_update_inactive_unit(pv: PV) -> None:
    d = pv.dispute(place_unit=pv.community, unit=pv.street)
    pv.community.is_active = False
    pv.community.save()
    with pytest.raises(S.DomainError, match="所选单位已停用"):
        S.dispute_update(pv.alice, d, unit=pv.community)


def test_update_owner_leader_messages(pv: PV) -> None:
    d = pv.dispute()
    with pytest.raises(S.DomainError, match="责任人须为责任单位"):
        S.dispute_update(pv.hank, d, owner=pv.alice)
    with pytest.raises(S.DomainError, match="包案领导须为责任单位"):
        S.dispute_update(pv.hank, d, leader=pv.hank)
    pv.leo.is_active = False
    pv.leo.save()
    with pytest.raises(S.DomainError, match="包案领导须为"):
        S.dispute_update(pv.hank, d, leader=pv.leo)


def test_update_refused_for_outsider_and_struck(pv: PV) -> None:
    d = pv.dispute()
    with pytest.raises(S.PermissionDenied) as e:
        S.dispute_update(pv.bob, d, title="改")
    assert e.value.message == "只有责任单位、责任人、包案领导或上级信访部门可以修改此台账事项"
    d = pv.pending()
    S.dispute_decide_strike(pv.alice, d, True, "同意")
    with pytest.raises(S.DomainError) as e2:
        S.dispute_update(pv.hank, d, title="改")
    assert (
        e2.value.message
        == S.STRUCK_READ_ONLY
        == "已销号的事项不能修改；如有新情况，请另行登记新的台账事项"
    )


def test_update_notifies_new_owner(pv: PV) -> None:
    d = pv.dispute()
    S.dispute_update(pv.uma, d, owner=pv.hank)
    assert Notification.objects.filter(recipient=pv.hank, title__contains="您被指定负责").exists()


def test_update_stale_object_after_strike_is_concurrent(pv: PV) -> None:
    d = pv.pending()
    stale = Dispute.objects.get(pk=d.pk)
    S.dispute_decide_strike(pv.alice, d, True, "")
    with pytest.raises(S.ConcurrentChange, match="该事项刚被他人处理（当前状态：已销号）"):
        S.dispute_update(pv.hank, stale, title="改个名字")


# --- contacts ------------------------------------------------------------------------------


def test_contact_logged(pv: PV) -> None:
    d = pv.dispute()
    at = timezone.now() - dt.timedelta(hours=3)
    ev = S.dispute_contact(
        pv.hank, d, ContactMethod.VISIT, "王某", "上门了解诉求，情绪平稳。", at=at
    )
    assert ev.kind == "contact" and ev.at == at
    assert ev.data["method"] == "visit" and ev.data["method_label"] == "上门走访"
    assert ev.data["person"] == "王某"


@pytest.mark.parametrize(
    ("args", "message", "field"),
    [
        (("fax", "王某", "情况"), "请选择联系方式", "method"),
        (("phone", " ", "情况"), "请填写联系对象（当事人姓名或单位）", "person"),
        (("phone", "王" * 101, "情况"), "联系对象不能超过100字", "person"),
        (("phone", "王某", "好"), "请填写联系情况（至少2个字）", "note"),
        (("phone", "王某", "长" * 5001), "联系情况不能超过5000字", "note"),
    ],
)
def test_contact_errors(pv: PV, args: tuple[str, str, str], message: str, field: str) -> None:
    with pytest.raises(S.DomainError) as e:
        S.dispute_contact(pv.hank, pv.dispute(), *args)
    assert err(e) == (message, field)


def test_contact_not_in_future(pv: PV) -> None:
    with pytest.raises(S.DomainError) as e:
        S.dispute_contact(
            pv.hank,
            pv.dispute(),
            "phone",
            "王某",
            "电话",
            at=timezone.now() + dt.timedelta(hours=2),
        )
    assert err(e) == ("联系时间不能晚于现在", "at")


def test_contact_permission_and_struck(pv: PV) -> None:
    d = pv.dispute()
    with pytest.raises(S.PermissionDenied):
        S.dispute_contact(pv.bob, d, "phone", "王某", "电话联系")
    d = pv.pending()
    S.dispute_decide_strike(pv.leo, d, True, "")
    with pytest.raises(S.DomainError, match="已销号的事项不能修改"):
        S.dispute_contact(pv.hank, d, "phone", "王某", "电话联系")


# --- files ---------------------------------------------------------------------------------


def test_add_file_checked_by_content(pv: PV) -> None:
    d = pv.dispute()
    att = S.dispute_add_file(pv.hank, d, evidence_file())
    assert att.content_type.startswith("text/plain") and att.size > 0
    assert "file" in kinds(d)
    exe = SimpleUploadedFile("协议.pdf", b"MZ\x90\x00" + b"\x00" * 64)
    with pytest.raises(S.DomainError) as e:
        S.dispute_add_file(pv.hank, d, exe)
    assert e.value.field == "files" and "Windows可执行程序" in e.value.message
    assert DisputeAttachment.objects.filter(dispute=d).count() == 1


def test_add_file_size_limit(pv: PV, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(S.DomainError, match="超过上限") as e:
        S.dispute_add_file(pv.hank, pv.dispute(), evidence_file())
    assert e.value.field == "files"


def test_add_file_limit_count(pv: PV, monkeypatch: Any) -> None:
    monkeypatch.setattr(S, "MAX_FILES", 1)
    d = pv.dispute()
    S.dispute_add_file(pv.hank, d, evidence_file())
    with pytest.raises(S.DomainError, match="每个台账事项最多1个材料，已有1个"):
        S.dispute_add_file(pv.hank, d, evidence_file("回访.txt"))


def test_add_file_permission(pv: PV) -> None:
    with pytest.raises(S.PermissionDenied):
        S.dispute_add_file(pv.bob, pv.dispute(), evidence_file())


# --- strike-off ----------------------------------------------------------------------------


def test_request_strike_needs_evidence(pv: PV) -> None:
    d = pv.dispute()
    with pytest.raises(S.DomainError) as e:
        S.dispute_request_strike(pv.hank, d, RESOLUTION, "有协议")
    assert err(e) == (
        "申请销号须提交化解佐证：请说明化解情况并上传协议、回访记录等材料",
        "evidence",
    )
    with pytest.raises(S.DomainError) as e2:
        S.dispute_request_strike(pv.hank, d, RESOLUTION, EVIDENCE)
    assert err(e2) == (S.EVIDENCE_MESSAGE, "files")
    with pytest.raises(S.DomainError) as e3:
        S.dispute_request_strike(pv.hank, d, "", EVIDENCE)
    assert err(e3) == ("请填写化解情况", "resolution")
    with pytest.raises(S.DomainError) as e4:
        S.dispute_request_strike(pv.hank, d, RESOLUTION, "长" * 5001)
    assert e4.value.field == "evidence" and "5000" in e4.value.message
    d.refresh_from_db()
    assert d.state == DisputeState.OPEN and kinds(d) == ["create"]


def test_request_strike_with_earlier_file(pv: PV) -> None:
    d = pv.dispute()
    S.dispute_add_file(pv.hank, d, evidence_file())
    S.dispute_request_strike(pv.hank, d, RESOLUTION, EVIDENCE)
    d.refresh_from_db()
    assert d.state == DisputeState.PENDING and d.requested_by == pv.hank
    assert d.resolution == RESOLUTION and d.evidence == EVIDENCE


def test_request_strike_bad_file_changes_nothing(pv: PV) -> None:
    d = pv.dispute()
    bad = SimpleUploadedFile("协议.docx", b"PK\x03\x04junk")
    with pytest.raises(S.DomainError) as e:
        S.dispute_request_strike(pv.hank, d, RESOLUTION, EVIDENCE, files=[bad])
    assert e.value.field == "files"
    d.refresh_from_db()
    assert d.state == DisputeState.OPEN and not d.attachments.exists()


def test_request_strike_uploads_and_notifies_level_above(pv: PV) -> None:
    d = pv.pending()
    assert d.state == DisputeState.PENDING
    assert d.attachments.count() == 1
    ev = DisputeEvent.objects.get(dispute=d, kind="strike_request")
    assert ev.data["evidence"] == EVIDENCE and len(ev.data["files"]) == 1
    told = set(
        Notification.objects.filter(kind="strike_request").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"leo", "alice"}  # 示范区's leader, 区信访局's case officer; not uma, not hank


def test_request_strike_twice(pv: PV) -> None:
    d = pv.pending()
    with pytest.raises(S.DomainError) as e:
        S.dispute_request_strike(pv.hank, d, RESOLUTION, EVIDENCE)
    assert e.value.message == "该事项已报请销号，正在等待上级审核，请勿重复提交"
    stale = Dispute.objects.get(pk=d.pk)
    stale.state = DisputeState.OPEN  # a page loaded before the first request
    with pytest.raises(S.ConcurrentChange, match="当前状态：待审核销号"):
        S.dispute_request_strike(pv.hank, stale, RESOLUTION, EVIDENCE)
    assert kinds(d).count("strike_request") == 1


def test_request_strike_top_unit_has_no_level_above(pv: PV) -> None:
    d = pv.dispute(place_unit=pv.district, unit=pv.district, by=pv.leo)
    S.dispute_add_file(pv.leo, d, evidence_file())
    with pytest.raises(S.DomainError) as e:
        S.dispute_request_strike(pv.leo, d, RESOLUTION, EVIDENCE)
    assert err(e) == ("责任单位没有上级单位，无法报请销号", "unit")


def test_request_strike_permission(pv: PV) -> None:
    with pytest.raises(S.PermissionDenied):
        S.dispute_request_strike(pv.bob, pv.dispute(), RESOLUTION, EVIDENCE)


def test_approve_strikes_off(pv: PV) -> None:
    d = pv.pending(owner=pv.hank)
    S.dispute_decide_strike(pv.alice, d, True, "材料齐全，同意销号")
    d.refresh_from_db()
    assert d.state == DisputeState.STRUCK
    assert (d.struck_by, d.struck_unit) == (pv.alice, pv.office)
    assert d.struck_at is not None
    assert kinds(d)[-1] == "strike"
    assert Notification.objects.filter(recipient=pv.hank, title__contains="已审核通过").exists()
    # Stays in the register (history).
    assert Dispute.objects.filter(pk=d.pk).exists()


def test_leader_approves_as_district(pv: PV) -> None:
    d = pv.pending()
    S.dispute_decide_strike(pv.leo, d, True, "")
    d.refresh_from_db()
    assert d.struck_unit == pv.district


def test_reject_needs_note_and_reopens(pv: PV) -> None:
    d = pv.pending()
    with pytest.raises(S.DomainError) as e:
        S.dispute_decide_strike(pv.alice, d, False, "")
    assert err(e) == ("退回须填写意见：说明还需开展的化解工作或补充的材料", "note")
    with pytest.raises(S.DomainError) as e2:
        S.dispute_decide_strike(pv.alice, d, True, "长" * 5001)
    assert err(e2) == ("审核意见不能超过5000字", "note")
    S.dispute_decide_strike(pv.alice, d, False, "请补充回访记录")
    d.refresh_from_db()
    assert d.state == DisputeState.OPEN
    ev = DisputeEvent.objects.get(dispute=d, kind="strike_reject")
    assert ev.text == "请补充回访记录"
    assert Notification.objects.filter(recipient=pv.hank, title__contains="被退回").exists()
    # It can be asked again.
    S.dispute_request_strike(pv.hank, d, RESOLUTION, EVIDENCE)
    d.refresh_from_db()
    assert d.state == DisputeState.PENDING


def test_same_unit_cannot_approve(pv: PV) -> None:
    d = pv.pending()
    with pytest.raises(S.PermissionDenied) as e:
        S.dispute_decide_strike(pv.uma, d, True, "")
    assert e.value.message == "只有上一级单位的负责人、领导或信访部门办案员可以审核销号"
    with pytest.raises(S.PermissionDenied):
        S.dispute_decide_strike(pv.hank, d, True, "")


def test_requester_cannot_approve_own(pv: PV) -> None:
    """alice (区信访局 办案员) may both ask for and approve a 东湖街道 item — never both."""
    d = pv.dispute()
    S.dispute_add_file(pv.alice, d, evidence_file())
    S.dispute_request_strike(pv.alice, d, RESOLUTION, EVIDENCE)
    with pytest.raises(S.PermissionDenied) as e:
        S.dispute_decide_strike(pv.alice, d, True, "")
    assert e.value.message == "不能审核自己报请的销号"
    S.dispute_decide_strike(pv.leo, d, True, "")  # the district leader may
    d.refresh_from_db()
    assert d.state == DisputeState.STRUCK


def test_street_head_approves_community_item(pv: PV) -> None:
    cora = type(pv.hank).objects.get(username="cora")
    d = pv.dispute(place_unit=pv.community, unit=pv.community, by=cora)
    S.dispute_add_file(cora, d, evidence_file())
    S.dispute_request_strike(cora, d, RESOLUTION, EVIDENCE)
    S.dispute_decide_strike(pv.uma, d, True, "")
    d.refresh_from_db()
    assert (d.state, d.struck_unit) == (DisputeState.STRUCK, pv.street)


def test_decide_when_not_pending(pv: PV) -> None:
    d = pv.dispute()
    with pytest.raises(S.ConcurrentChange, match="当前状态：化解中"):
        S.dispute_decide_strike(pv.alice, d, True, "")


def test_two_approvers_stale_pages(pv: PV) -> None:
    d = pv.pending()
    alice_page = Dispute.objects.get(pk=d.pk)
    leo_page = Dispute.objects.get(pk=d.pk)
    S.dispute_decide_strike(pv.alice, alice_page, True, "")
    with pytest.raises(S.ConcurrentChange) as e:
        S.dispute_decide_strike(pv.leo, leo_page, False, "再看看")
    assert e.value.message.startswith("该事项刚被他人处理")
    d.refresh_from_db()
    assert d.state == DisputeState.STRUCK and d.struck_by == pv.alice
    assert kinds(d).count("strike") == 1 and "strike_reject" not in kinds(d)


# --- link ----------------------------------------------------------------------------------


def test_link_case(pv: PV, register: Any) -> None:
    case = register()
    d = pv.dispute()
    with pytest.raises(S.DomainError) as e:
        S.dispute_link_case(pv.hank, d, case)  # registered at the office: hank cannot see it
    assert err(e) == ("该信访事项不存在或不在您的权限范围内", "case")
    S.dispute_link_case(pv.alice, d, case)
    d.refresh_from_db()
    assert d.case == case and list(d.petitioners.all()) == list(case.petitioners.all())
    ev = DisputeEvent.objects.get(dispute=d, kind="link")
    assert ev.data["case"] == case.number
    with pytest.raises(S.DomainError, match="已关联信访事项"):
        S.dispute_link_case(pv.alice, d, case)


def test_facts_risk(pv: PV) -> None:
    assert S.facts_risk(pv.dispute(headcount=60)) == RiskLevel.CRITICAL
    assert S.facts_risk(pv.dispute(headcount=2, source="petition")) == RiskLevel.MEDIUM


def test_make_user_unused_guard() -> None:
    assert callable(make_user) and R.LEADER == "leader"


# --- review fixes: 检举控告 never a source, pending unit locked, level above, keys ---------

SECRET = "挪用扶贫款"
ACCUSER = "钱多多"


def accusation(pv: PV, register: Any) -> Any:
    """A 检举控告件 against 西山街道 (placed there), registered at 区信访局."""
    from xinfang.core.idcard import id_check_digit
    from xinfang.people.services import PetitionerInput

    base = "11010519800101003"
    return register(
        purpose="accusation",
        summary=f"检举西山街道干部{SECRET}",
        content=f"王某{SECRET}",
        petitioners=[
            PetitionerInput(
                name=ACCUSER, id_number=base + id_check_digit(base), phone="13900001111"
            )
        ],
        accused_unit_ids=[pv.sibling.pk],
        place_code="110105002",
    )


def test_accusation_never_a_dispute_source(pv: PV, register: Any) -> None:
    case = accusation(pv, register)
    with pytest.raises(S.DomainError) as e:
        S.dispute_create(
            pv.alice,
            title="征地补偿纠纷",
            description="见信访事项",
            source="petition",
            parties="群众代表",
            place_unit=pv.sibling,
            unit=pv.sibling,
            risk_level="medium",
            case=case,
            petitioners=list(case.petitioners.all()),
        )
    assert err(e) == ("检举控告件不能转为矛盾纠纷台账事项，请按检举控告程序办理", "case")
    assert not Dispute.objects.exists()


def test_accusation_never_linked(pv: PV, register: Any) -> None:
    case = accusation(pv, register)
    d = pv.dispute(place_unit=pv.sibling, unit=pv.sibling, by=pv.alice)
    with pytest.raises(S.DomainError) as e:
        S.dispute_link_case(pv.alice, d, case)
    assert err(e) == (S.CONFIDENTIAL_SOURCE, "case")
    d.refresh_from_db()
    assert d.case is None and not d.petitioners.exists() and "link" not in kinds(d)
    # Someone who cannot see the case learns nothing more than "not found".
    with pytest.raises(S.DomainError) as e2:
        S.dispute_link_case(pv.bob, d, case)
    assert err(e2) == ("该信访事项不存在或不在您的权限范围内", "case")


def test_unit_locked_while_strike_pending(pv: PV) -> None:
    """uma may not move a pending street item down to her community and approve it herself."""
    d = pv.pending()
    ev = DisputeEvent.objects.get(dispute=d, kind="strike_request")
    assert (ev.data["unit_id"], ev.data["unit"]) == (pv.street.pk, "东湖街道")
    with pytest.raises(S.DomainError) as e:
        S.dispute_update(pv.uma, d, unit=pv.community, reason="调整责任单位")
    assert err(e) == ("事项已报请销号，审核期间不能变更责任单位", "unit")
    d.refresh_from_db()
    assert d.unit == pv.street and d.state == DisputeState.PENDING
    with pytest.raises(S.PermissionDenied):
        S.dispute_decide_strike(pv.uma, d, True, "同意")
    # Other facts may still be corrected while pending.
    S.dispute_update(pv.uma, d, plan="继续回访")
    assert Dispute.objects.get(pk=d.pk).plan == "继续回访"


def test_unit_change_racing_a_strike_request(pv: PV) -> None:
    d = pv.dispute()
    stale = Dispute.objects.get(pk=d.pk)  # the edit page, loaded while the item was open
    S.dispute_add_file(pv.hank, d, evidence_file())
    S.dispute_request_strike(pv.hank, d, RESOLUTION, EVIDENCE)
    with pytest.raises(S.ConcurrentChange, match="当前状态：待审核销号"):
        S.dispute_update(pv.uma, stale, unit=pv.community)
    assert Dispute.objects.get(pk=d.pk).unit == pv.street


def test_decide_refused_when_unit_moved_after_request(pv: PV) -> None:
    """Defence in depth: a unit changed behind the services' back (admin, SQL) blocks the
    approval; the item can only be sent back."""
    d = pv.pending()
    Dispute.objects.filter(pk=d.pk).update(unit=pv.community)
    d.refresh_from_db()
    with pytest.raises(S.DomainError) as e:
        S.dispute_decide_strike(pv.uma, d, True, "同意")
    assert e.value.message == (
        "报请销号后责任单位已由东湖街道变更为东湖社区，不能审核通过；"
        "请退回，由现责任单位重新报请销号"
    )
    d.refresh_from_db()
    assert d.state == DisputeState.PENDING and "strike" not in kinds(d)
    S.dispute_decide_strike(pv.uma, d, False, "请重新报请")
    d.refresh_from_db()
    assert d.state == DisputeState.OPEN


def test_approver_is_the_level_above_on_the_tree(pv: PV) -> None:
    from xinfang.org.models import Unit, UnitType
    from xinfang.prevention.policy import approver_unit

    street_item = pv.pending()
    assert approver_unit(pv.alice, street_item) == pv.office  # 区信访局 serves 示范区
    assert approver_unit(pv.leo, street_item) == pv.district
    assert approver_unit(pv.uma, street_item) is None
    cora = type(pv.hank).objects.get(username="cora")
    community_item = pv.dispute(place_unit=pv.community, unit=pv.community, by=cora)
    assert approver_unit(pv.uma, community_item) == pv.street
    assert approver_unit(pv.leo, community_item) == pv.district
    # 区信访局 is not above a community: 东湖街道 (its petition office) is the level above.
    assert approver_unit(pv.alice, community_item) is None
    # A street's own subordinate petition office never approves the street's items.
    Unit.objects.filter(pk=pv.street.pk).update(is_petition_office=False)
    sub = Unit.objects.create(
        name="东湖街道信访办",
        unit_type=UnitType.DEPARTMENT,
        parent=pv.street,
        is_petition_office=True,
    )
    clerk = make_user("clerk", sub, R.CASE_OFFICER, "街道信访办")
    assert approver_unit(clerk, Dispute.objects.get(pk=street_item.pk)) is None
    # … but it serves the street: it approves the street's communities' items.
    assert approver_unit(clerk, Dispute.objects.get(pk=community_item.pk)) == sub


def test_idempotency_key_is_the_creators_own(pv: PV) -> None:
    d = pv.dispute(idempotency_key="k-1")
    assert pv.dispute(idempotency_key="k-1", title="重发").pk == d.pk
    with pytest.raises(S.IdempotencyConflict) as e:
        pv.dispute(idempotency_key="k-1", by=pv.uma)
    assert err(e) == ("该幂等键已被使用，请为新的登记生成新的幂等键", "idempotency_key")
    assert Dispute.objects.count() == 1
