"""台账 pages: list/filters/export, register (prefill, idempotency, rubric), detail forms,
the 销号 panel, file download; the permission matrix (another street's item is a 404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.prevention.conftest import PV, evidence_file
from xinfang.audit.models import AuditEntry
from xinfang.prevention import services as S
from xinfang.prevention.models import Dispute, DisputeEvent, DisputeState, RiskLevel

RES = "经街道调解，物业公司同意暂缓上调，业主补缴欠费。"
EVI = "调解协议一份，双方签字；回访业主三户，均表示满意。"


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def new_form(pv: PV, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "idempotency_key": "form-key-1",
        "title": "东湖社区拆迁补偿纠纷",
        "source": "screening",
        "description": "拆迁户对补偿标准有异议。",
        "parties": "李某 139****0000",
        "headcount": "3",
        "place_unit": str(pv.community.pk),
        "risk_level": "low",
        "unit": str(pv.street.pk),
    }
    data.update(overrides)
    return data


# --- permission matrix ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status"),
    [("hank", 200), ("uma", 200), ("alice", 200), ("leo", 200), ("bob", 404), ("sam", 404)],
)
def test_detail_visibility(pv: PV, username: str, status: int) -> None:
    d = pv.dispute()
    user = type(pv.hank).objects.get(username=username)
    assert client_for(user).get(f"/prevention/disputes/{d.pk}/").status_code == status


@pytest.mark.parametrize(
    ("path", "get", "post"),
    [
        ("", 404, 404),  # the page; POST uploads files
        ("edit/", 404, 404),
        ("contact/", 405, 404),  # POST only
        ("request-strike/", 405, 404),
        ("decide-strike/", 405, 404),
        ("files/{file}/", 404, 405),  # GET only
    ],
)
def test_other_street_gets_404_everywhere(pv: PV, path: str, get: int, post: int) -> None:
    """404 for the method each URL accepts (405 is only ever the method it does not)."""
    d = pv.pending()
    att = d.attachments.get()  # a real file of the item: only the scope can make it a 404
    url = f"/prevention/disputes/{d.pk}/{path.format(file=att.pk)}"
    valid = {
        "idempotency_key": "k-bob",
        "title": "改",
        "method": "phone",
        "person": "李某",
        "note": "电话沟通，同意调解",
        "resolution": RES,
        "evidence": EVI,
        "decision": "approve",
    }
    bob = client_for(pv.bob)
    assert bob.get(url).status_code == get
    assert bob.post(url, valid).status_code == post
    assert client_for(pv.uma).get(url).status_code == (200 if get == 404 else 405)
    d.refresh_from_db()
    assert d.state == DisputeState.PENDING and d.title != "改"
    assert not DisputeEvent.objects.filter(dispute=d, actor=pv.bob).exists()


def test_list_scope(pv: PV) -> None:
    pv.dispute(title="东湖的事")
    pv.dispute(title="西山的事", place_unit=pv.sibling, unit=pv.sibling, by=pv.bob)
    body = client_for(pv.hank).get("/prevention/disputes/").content.decode()
    assert "东湖的事" in body and "西山的事" not in body
    body = client_for(pv.leo).get("/prevention/disputes/").content.decode()
    assert "东湖的事" in body and "西山的事" in body
    assert client_for(pv.sam).get("/prevention/disputes/").status_code == 404


def test_uma_sees_no_decide_form_alice_does(pv: PV) -> None:
    d = pv.pending()
    body = client_for(pv.uma).get(f"/prevention/disputes/{d.pk}/").content.decode()
    assert "同意销号" not in body and "待上一级单位审核" in body
    r = client_for(pv.uma).post(
        f"/prevention/disputes/{d.pk}/decide-strike/", {"decision": "approve"}
    )
    assert r.status_code == 403
    assert "只有上一级单位的负责人" in r.content.decode()
    body = client_for(pv.alice).get(f"/prevention/disputes/{d.pk}/").content.decode()
    assert "同意销号" in body


# --- list ----------------------------------------------------------------------------------


def test_list_filters_sort_counts(pv: PV) -> None:
    low = pv.dispute(title="低风险事项")
    crit = pv.dispute(title="重大事项", risk_level=RiskLevel.CRITICAL, headcount=60)
    late = pv.dispute(title="逾期事项", risk_level=RiskLevel.MEDIUM)
    Dispute.objects.filter(pk=late.pk).update(due_on=S.beijing_today() - dt.timedelta(days=3))
    c = client_for(pv.hank)
    body = c.get("/prevention/disputes/").content.decode()
    assert body.index("重大事项") < body.index("逾期事项") < body.index("低风险事项")
    assert "逾期 1" in body and "化解中 3" in body
    body = c.get("/prevention/disputes/?state=overdue").content.decode()
    assert "逾期事项" in body and "逾期3天" in body and "低风险事项" not in body
    body = c.get("/prevention/disputes/?risk=critical").content.decode()
    assert "重大事项" in body and "低风险事项" not in body
    body = c.get(f"/prevention/disputes/?q={crit.number}").content.decode()
    assert "重大事项" in body and "低风险事项" not in body
    body = c.get("/prevention/disputes/?q=王某").content.decode()  # parties
    assert "低风险事项" in body
    r = c.get("/prevention/disputes/?state=open", headers={"HX-Request": "true"})
    assert "<form" not in r.content.decode() and "低风险事项" in r.content.decode()
    due = S.beijing_today() - dt.timedelta(days=10)
    body = c.get(
        f"/prevention/disputes/?due_to={(due + dt.timedelta(days=8)).isoformat()}"
    ).content.decode()
    assert "逾期事项" in body and "低风险事项" not in body
    assert low.pk


def test_list_bad_filter_values_are_ignored(pv: PV) -> None:
    pv.dispute()
    r = client_for(pv.hank).get("/prevention/disputes/?due_from=notadate&unit=x&page=999")
    assert r.status_code == 200


def test_export_csv_audited(pv: PV) -> None:
    pv.dispute(title="=HYPERLINK(1)")
    r = client_for(pv.hank).get("/prevention/disputes/export.csv?q=HYPER")
    assert r.status_code == 200
    text = b"".join(r.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    lines = text.splitlines()
    assert lines[0].startswith("内部资料")
    assert lines[1].startswith("台账编号,纠纷名称,状态")
    assert "'=HYPERLINK(1)" in lines[2] and "王某" in lines[2]
    entry = AuditEntry.objects.filter(action="export").latest("seq")
    assert entry.detail["rows"] == 1 and "HYPER" not in str(entry.detail)


# --- register ------------------------------------------------------------------------------


def test_new_form_shows_rubric(pv: PV) -> None:
    body = client_for(pv.hank).get("/prevention/disputes/new/").content.decode()
    assert "风险等级评定标准" in body and "有进京、赴省上访" in body
    assert 'id="disp-rubric-data"' in body and "prevention_disp.js" in body
    assert "<script>" not in body.replace(
        '<script id="disp-rubric-data" type="application/json">', ""
    )


def test_new_registers_once(pv: PV) -> None:
    c = client_for(pv.hank)
    r = c.post("/prevention/disputes/new/", new_form(pv))
    assert r.status_code == 302
    d = Dispute.objects.get()
    assert r["Location"] == f"/prevention/disputes/{d.pk}/"
    r2 = c.post("/prevention/disputes/new/", new_form(pv))  # double submit
    assert r2.status_code == 302 and Dispute.objects.count() == 1


def test_new_keeps_input_on_error(pv: PV) -> None:
    r = client_for(pv.hank).post("/prevention/disputes/new/", new_form(pv, parties=""))
    body = r.content.decode()
    assert r.status_code == 200 and "请填写当事人（每行一方）" in body
    assert "东湖社区拆迁补偿纠纷" in body
    assert not Dispute.objects.exists()


def test_new_below_rubric_needs_reason(pv: PV) -> None:
    c = client_for(pv.hank)
    r = c.post("/prevention/disputes/new/", new_form(pv, headcount="25"))
    assert "按评定标准建议为「高」风险；选择更低等级须说明理由（至少5个字）" in r.content.decode()
    assert not Dispute.objects.exists()
    r = c.post(
        "/prevention/disputes/new/",
        new_form(pv, headcount="25", reason="多为同一家庭成员，诉求单一"),
    )
    assert r.status_code == 302
    d = Dispute.objects.get()
    ev = DisputeEvent.objects.get(dispute=d, kind="risk")
    assert ev.text == "多为同一家庭成员，诉求单一" and ev.data["suggested"] == "high"


def test_new_owner_error_on_field(pv: PV) -> None:
    r = client_for(pv.alice).post("/prevention/disputes/new/", new_form(pv, owner=str(pv.bob.pk)))
    assert "责任人须为责任单位（东湖街道）的在岗工作人员" in r.content.decode()


def test_new_prefill_from_case(pv: PV, register: Any) -> None:
    case = register(summary="反映拆迁补偿不到位", place_name="东湖社区3号楼")
    body = client_for(pv.alice).get(f"/prevention/disputes/new/?case={case.pk}").content.decode()
    assert "反映拆迁补偿不到位" in body and "张三" in body and "东湖社区3号楼" in body
    assert f"信访事项{case.number}" in body
    assert client_for(pv.hank).get(f"/prevention/disputes/new/?case={case.pk}").status_code == 404
    r = client_for(pv.alice).post(
        f"/prevention/disputes/new/?case={case.pk}",
        new_form(pv, source="petition", headcount="1", risk_level="medium"),
    )
    assert r.status_code == 302
    d = Dispute.objects.get()
    assert d.case == case and d.petitioners.count() == 1


def test_new_prefill_from_report_404_when_invisible(pv: PV) -> None:
    assert client_for(pv.hank).get("/prevention/disputes/new/?report=999").status_code == 404


# --- detail forms --------------------------------------------------------------------------


def test_contact_form(pv: PV) -> None:
    d = pv.dispute()
    c = client_for(pv.hank)
    data = {"idempotency_key": "c-1", "method": "visit", "person": "王某", "note": "上门走访"}
    r = c.post(f"/prevention/disputes/{d.pk}/contact/", data)
    assert r.status_code == 302
    c.post(f"/prevention/disputes/{d.pk}/contact/", data)  # double submit
    assert DisputeEvent.objects.filter(dispute=d, kind="contact").count() == 1
    future = (dt.datetime.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(
        f"/prevention/disputes/{d.pk}/contact/",
        {"method": "phone", "person": "王某", "note": "电话", "at": future},
    )
    body = r.content.decode()
    assert "联系时间不能晚于现在" in body and "王某" in body
    assert "上门走访" in c.get(f"/prevention/disputes/{d.pk}/").content.decode()


def test_upload_and_download_audited(pv: PV) -> None:
    d = pv.dispute()
    c = client_for(pv.hank)
    r = c.post(f"/prevention/disputes/{d.pk}/", {"uploads": [evidence_file()]})
    assert r.status_code == 302
    att = d.attachments.get()
    r = client_for(pv.leo).get(f"/prevention/disputes/{d.pk}/files/{att.pk}/")
    assert r.status_code == 200
    assert b"".join(r.streaming_content).decode() == "调解协议：双方同意按约定分期付款。"  # type: ignore[attr-defined]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="download", actor_id=pv.leo.pk).exists()
    other = pv.dispute()
    assert c.get(f"/prevention/disputes/{other.pk}/files/{att.pk}/").status_code == 404
    bad = c.post(f"/prevention/disputes/{d.pk}/", {"uploads": []})
    assert "请选择要上传的文件" in bad.content.decode()


def test_request_strike_form_keeps_input(pv: PV) -> None:
    d = pv.dispute()
    c = client_for(pv.hank)
    r = c.post(f"/prevention/disputes/{d.pk}/request-strike/", {"resolution": RES, "evidence": EVI})
    body = r.content.decode()
    assert S.EVIDENCE_MESSAGE in body and RES in body and EVI in body
    r = c.post(
        f"/prevention/disputes/{d.pk}/request-strike/",
        {
            "idempotency_key": "s-1",
            "resolution": RES,
            "evidence": EVI,
            "uploads": [evidence_file()],
        },
    )
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.state == DisputeState.PENDING
    r = c.post(
        f"/prevention/disputes/{d.pk}/request-strike/",
        {"idempotency_key": "s-2", "resolution": RES, "evidence": EVI},
        follow=True,
    )
    assert "该事项已报请销号，正在等待上级审核，请勿重复提交" in r.content.decode()
    assert DisputeEvent.objects.filter(dispute=d, kind="strike_request").count() == 1


def test_decide_strike_pages(pv: PV) -> None:
    d = pv.pending()
    c = client_for(pv.alice)
    r = c.post(f"/prevention/disputes/{d.pk}/decide-strike/", {"decision": "reject", "note": ""})
    assert "退回须填写意见" in r.content.decode()
    r = c.post(
        f"/prevention/disputes/{d.pk}/decide-strike/", {"decision": "approve", "note": "同意"}
    )
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.state == DisputeState.STRUCK
    body = client_for(pv.hank).get(f"/prevention/disputes/{d.pk}/").content.decode()
    assert (
        "已销号" in body and "报请销号" not in body.split('id="strike-h"')[1].split("</section>")[0]
    )
    assert "修改</a>" not in body
    r = client_for(pv.leo).post(
        f"/prevention/disputes/{d.pk}/decide-strike/", {"decision": "approve"}
    )
    assert r.status_code == 302  # the item was decided meanwhile: message, back to the page
    r = client_for(pv.hank).get(f"/prevention/disputes/{d.pk}/edit/")
    assert r.status_code == 302


def test_edit_page(pv: PV) -> None:
    d = pv.dispute()
    c = client_for(pv.hank)
    assert "修改台账事项" in c.get(f"/prevention/disputes/{d.pk}/edit/").content.decode()
    data = {
        "title": "新名字",
        "description": d.description,
        "parties": d.parties,
        "headcount": "3",
        "risk_level": "low",
        "unit": str(pv.street.pk),
        "due_on": d.due_on.isoformat(),
    }
    assert c.post(f"/prevention/disputes/{d.pk}/edit/", data).status_code == 302
    d.refresh_from_db()
    assert d.title == "新名字"
    r = c.post(f"/prevention/disputes/{d.pk}/edit/", {**data, "headcount": "30"})
    assert "调低须说明理由" not in r.content.decode() or r.status_code == 200
    assert client_for(pv.bob).get(f"/prevention/disputes/{d.pk}/edit/").status_code == 404
    assert client_for(pv.rita).get(f"/prevention/disputes/{d.pk}/edit/").status_code == 403


def test_print_sheet(pv: PV) -> None:
    d = pv.dispute()
    body = client_for(pv.hank).get(f"/prevention/disputes/{d.pk}/?print=1").content.decode()
    assert "矛盾纠纷排查化解台账" in body and "内部资料" in body and d.number in body


# --- 检举控告件: never a dispute source (prefill, form, page, CSV) ----------------------------

SECRET = "挪用扶贫款"
ACCUSER = "钱多多"
REFUSED = "检举控告件不能转为矛盾纠纷台账事项，请按检举控告程序办理"


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


@pytest.mark.parametrize(
    ("username", "status"),
    # alice and leo may read the case (masked): refused with the message; bob (the accused
    # unit) and hank cannot see it at all: 404, as for any case out of sight.
    [("alice", 400), ("leo", 400), ("bob", 404), ("hank", 404)],
)
def test_accusation_prefill_and_post_refused(
    pv: PV, register: Any, username: str, status: int
) -> None:
    case = accusation(pv, register)
    user = type(pv.hank).objects.get(username=username)
    c = client_for(user)
    url = f"/prevention/disputes/new/?case={case.pk}"
    r = c.get(url)
    body = r.content.decode()
    assert r.status_code == status
    assert SECRET not in body and ACCUSER not in body and case.number not in body
    if status == 400:
        assert REFUSED in body and 'name="case"' not in body
    form = new_form(
        pv,
        place_unit=str(pv.sibling.pk),
        unit=str(pv.sibling.pk),
        source="petition",
        risk_level="medium",
    )
    r = c.post(url, form)
    assert r.status_code == status
    body = r.content.decode()
    assert SECRET not in body and ACCUSER not in body and case.number not in body
    if status == 400:
        assert REFUSED in body and "东湖社区拆迁补偿纠纷" in body  # the typed input is kept
    r = c.post("/prevention/disputes/new/", {**form, "case": str(case.pk)})
    assert r.status_code == status
    assert not Dispute.objects.exists()


def test_accusation_never_reaches_the_accused_through_the_register(pv: PV, register: Any) -> None:
    """A dispute at the accused street: the case cannot be linked, so bob's page, list and
    CSV never name the accuser or the case."""
    case = accusation(pv, register)
    d = pv.dispute(title="征地补偿纠纷", place_unit=pv.sibling, unit=pv.sibling, by=pv.alice)
    with pytest.raises(S.DomainError, match=REFUSED):
        S.dispute_link_case(pv.alice, d, case)
    bob = client_for(pv.bob)
    for url in (
        f"/prevention/disputes/{d.pk}/",
        f"/prevention/disputes/{d.pk}/?print=1",
        "/prevention/disputes/",
        "/prevention/disputes/export.csv",
    ):
        r = bob.get(url)
        assert r.status_code == 200, url
        body = r.getvalue().decode()  # the CSV is streamed
        assert "征地补偿纠纷" in body or d.number in body, url
        assert ACCUSER not in body and SECRET not in body and case.number not in body, url
