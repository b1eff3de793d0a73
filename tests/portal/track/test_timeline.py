"""The case page and the public timeline: each kind in its public wording; no staff names, no
internal notes or routing notes; 检举控告 shows the state only; the printable opinion."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from tests.conftest import World, reply_case
from tests.portal.track.conftest import opened
from xinfang.cases import services as S
from xinfang.cases.models import Case
from xinfang.portal import tracking

STAFF_NAMES = ["艾丽", "芮塔", "韩克", "乌玛", "鲍勃", "黎奥", "alice", "rita", "hank", "uma"]
NOTE = "内部备注：信访人情绪激动需重点关注"
ROUTING_NOTE = "交办说明：请韩克同志牵头核查"


def _page(client: Client, case: Case) -> str:
    response = client.get(f"/portal/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_timeline_shows_public_wording_and_never_names_or_notes(
    world: World, register: Any
) -> None:
    case = register()
    S.case_add_note(case=case, by=world.alice, text=NOTE)
    S.case_assign(case=case, by=world.alice, unit=world.street, note=ROUTING_NOTE)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(
        case=case, by=world.hank, notice_text="经审查，您反映的问题符合受理条件，决定受理。"
    )
    from tests.conftest import serve_reply

    serve_reply(world, case, decision="经协调，物业公司已恢复原收费标准并退还多收费用。")
    case = Case.objects.get(pk=case.pk)
    html = _page(opened(Client(), case), case)
    assert f"信访事项已登记（编号{case.number}）" in html
    assert "已交办至「东湖街道」办理" in html
    assert "经审查，您反映的问题符合受理条件，决定受理。" in html
    assert "已答复" in html and "物业公司已恢复原收费标准" in html
    assert "打印答复意见书" in html
    assert "办理单位" in html and "东湖街道" in html
    for secret in [NOTE, ROUTING_NOTE, "首问责任人", *STAFF_NAMES]:
        assert secret not in html, secret
    kinds = [e.kind for e in tracking.public_timeline(case)]
    assert kinds == ["register", "assign", "accept", "reply"]  # no note, sign_in, drafts


def test_owed_deadlines_are_shown(world: World, register: Any) -> None:
    case = register()
    client = opened(Client(), case)
    assert "转送、交办有权处理机关或者告知您" in _page(client, case)
    S.case_assign(case=case, by=world.alice, unit=world.street)
    assert "告知是否受理" in _page(client, case)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    html = _page(client, case)
    assert "前办结答复" in html and "告知是否受理" not in html


def test_inform_refuse_messages_and_followup(world: World, register: Any) -> None:
    from xinfang.notify.petitioner import case_progress_notice

    informed = register(idempotency_key="k1")
    S.case_inform(
        case=informed,
        by=world.rita,
        reason="该事项属于劳动争议，请向劳动人事争议仲裁委员会申请仲裁。",
    )
    html = _page(opened(Client(), informed), informed)
    assert "已告知（不予受理）" in html and "劳动人事争议仲裁委员会申请仲裁" in html

    refused = register(idempotency_key="k2")
    S.case_assign(case=refused, by=world.alice, unit=world.street)
    case_progress_notice(case=refused, by=world.hank, channel="portal", opening="investigating")
    S.case_sign_in(case=refused, by=world.hank)
    S.case_refuse(case=refused, by=world.hank, notice_text="该事项已经人民法院受理，请向法院反映。")
    html = _page(opened(Client(), refused), refused)
    assert "进展告知" in html and "承办单位正在调查核实有关情况" in html
    assert "不予受理" in html and "已经人民法院受理" in html


def test_evaluation_by_staff_shows_the_result_not_the_staff_remark(
    world: World, register: Any
) -> None:
    case = reply_case(world, register())
    S.case_evaluate(
        case=case,
        by=world.rita,
        evaluation="satisfied",
        comment="电话回访时信访人语气平和",
        channel="phone",
    )
    S.case_close(case=case, by=world.alice, note="办结说明：材料已归档第3卷")
    html = _page(opened(Client(), case), case)
    assert "您的评价：满意（电话回访）" in html
    assert "电话回访时信访人语气平和" not in html
    assert "已办结" in html and "材料已归档" not in html


def test_accusation_shows_the_state_only(world: World, register: Any) -> None:
    case = register(
        purpose="accusation",
        summary="举报某局干部收受红包",
        content="该干部多次在办事时索要财物。",
        accused_text="某局副局长赵某某",
    )
    S.case_assign(case=case, by=world.alice, unit=world.street, note="请严格保密")
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    from tests.conftest import serve_reply

    serve_reply(world, case, decision="经核查，所反映的问题部分属实，已按规定处理。")
    case = Case.objects.get(pk=case.pk)
    client = opened(Client(), case)
    html = _page(client, case)
    assert case.number in html and "已答复" in html
    assert tracking.CONFIDENTIAL_NOTE in html
    for secret in [
        "东湖街道",
        "示范区人民政府",
        "收受红包",
        "索要财物",
        "赵某某",
        "部分属实",
        "已按规定处理",
        "请严格保密",
        "办理过程",
        "应于",
        *STAFF_NAMES,
    ]:
        assert secret not in html, secret
    # evaluation and 复查 are still offered (the act reveals nothing)
    assert "满意度评价" in html and "请求复查" in html
    reply = case.events.get(kind="reply")
    assert client.get(f"/portal/cases/{case.pk}/doc/{reply.pk}/").status_code == 404
    assert tracking.public_timeline(case) == []


def test_printable_reply_document(world: World, register: Any) -> None:
    case = reply_case(world, register(), text="经调查核实，已督促物业公司整改。")
    client = opened(Client(), case)
    reply = case.events.get(kind="reply")
    response = client.get(f"/portal/cases/{case.pk}/doc/{reply.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "答复意见书" in html and "已督促物业公司整改" in html
    assert "示范区人民政府" in html  # the 复查 organ named in the legal paragraph
    assert "data-print" in html and "portal-track.js" in html
    for name in STAFF_NAMES:
        assert name not in html
    sign_in = case.events.get(kind="sign_in")
    assert client.get(f"/portal/cases/{case.pk}/doc/{sign_in.pk}/").status_code == 404
    assert Client().get(f"/portal/cases/{case.pk}/doc/{reply.pk}/").status_code == 404


def test_issued_acceptance_notice_is_printable_without_contact_person(
    world: World, register: Any
) -> None:
    from xinfang.documents.services import document_for_event

    world.street.contact_person = "韩克"
    world.street.phone = "010-88886666"
    world.street.save()
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    accept = S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    client = opened(Client(), case)
    assert "打印受理告知书" not in _page(client, case)  # none issued yet
    document_for_event(accept, by=world.hank)
    assert "打印受理告知书" in _page(client, case)
    html = client.get(f"/portal/cases/{case.pk}/doc/{accept.pk}/").content.decode()
    assert "依法予以受理" in html and "韩克" not in html


def test_decided_review_is_shown_and_rereview_offered(world: World, register: Any) -> None:
    from xinfang.portal.services import principal

    case = reply_case(world, register())
    S.case_request_review(case=case, by=principal(case), reason="答复没有解决物业费问题")
    S.case_decide_review(case=case, by=world.alice, text="经复查，原答复意见事实清楚，予以维持。")
    case = Case.objects.get(pk=case.pk)
    html = _page(opened(Client(), case), case)
    assert "已收到您的复查请求" in html and "答复没有解决物业费问题" not in html
    assert "已提出复查意见" in html and "予以维持" in html
    assert "请求复核" in html and "可在" in html


def test_followup_hearing_and_internal_kinds(world: World, register: Any) -> None:
    from django.utils import timezone

    from xinfang.cases.models import CaseEvent

    case = reply_case(world, register())
    at = timezone.now()

    def event(kind: str, text: str, **data: Any) -> None:
        CaseEvent.objects.create(
            case=case,
            kind=kind,
            actor=world.alice,
            actor_unit=world.office,
            at=at,
            text=text,
            data=data,
        )

    when = (timezone.localtime() + dt.timedelta(days=3)).replace(hour=9, minute=30)
    event(
        "hearing_schedule",
        "定于…举行听证",
        hearing_id=7,
        scheduled_at=when.isoformat(),
        place="区信访局三楼听证室",
        members=["王律师", "李代表"],
    )
    event("hearing_record", "听证表决：同意3、不同意1", hearing_id=7, record="听证笔录内容")
    event(
        "hearing_schedule", "第二次", hearing_id=8, scheduled_at=when.isoformat(), place="某会议室"
    )
    event("hearing_cancel", "取消原因：主持人出差", hearing_id=8)
    event("followup_done", "回访情况：信访人家中经济困难", result="satisfied")
    event("supervise", "督办：东湖街道逾期未办")
    event("investigation", "调查记录：走访邻居")
    html = _page(opened(Client(), case), case)
    assert "已安排听证" in html and "区信访局三楼听证室" in html
    assert f"{when.year}年{when.month}月{when.day}日 09:30" in html
    assert "听证已举行" in html and "该次听证已取消" in html
    assert "已回访" in html
    for secret in [
        "王律师",
        "李代表",
        "听证表决",
        "听证笔录",
        "主持人出差",
        "经济困难",
        "督办",
        "走访邻居",
    ]:
        assert secret not in html, secret
