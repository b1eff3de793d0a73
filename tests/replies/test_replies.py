"""答复意见书: templates, mandatory parts, roles per step, rejection, serving (the reply event's
``doc`` and 复查 window), no direct reply, 复查/复核 documents, day-31 refusal, 终结 flagging."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import World, make_user, registration, serve_reply
from tests.threads import in_threads, needs_server_db
from xinfang.cases import services as S
from xinfang.cases.models import Case, CaseEvent, Category, Status
from xinfang.cases.registration import case_register
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.org import roles as R
from xinfang.org.models import Unit, UnitType
from xinfang.replies import boilerplate as B
from xinfang.replies import services as RS
from xinfang.replies.models import DraftState, ReplyDraft

PARTS: dict[str, Any] = {
    "facts": "经调查核实，小区物业公司未经业主大会同意上调物业费。",
    "basis": "依据《物业管理条例》第十一条及本市物业服务收费管理办法。",
    "decision": "责令物业公司恢复原收费标准，多收费用予以退还。",
    "review_organ": "示范区人民政府",
}


def accepted(world: World, **reg: Any) -> Case:
    case = case_register(by=world.rita, office=world.office, reg=registration(**reg))
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    return case


def to_checked(world: World, case: Case) -> ReplyDraft:
    RS.draft_save(case=case, by=world.hank, **PARTS)
    RS.draft_submit(case=case, by=world.hank)
    RS.draft_approve(case=case, by=world.uma)
    return RS.draft_check(case=case, by=world.alice)


def test_templates_per_purpose_and_default_review_organ(world: World) -> None:
    assert set(B.TEMPLATES) == {"suggestion", "accusation", "appeal"}
    for tpl in B.TEMPLATES.values():
        assert [p.field for p in tpl.parts] == ["facts", "basis", "decision"]
        assert tpl.title.startswith("关于") and tpl.title.endswith("答复意见书")
        assert "经调查核实，现答复如下：" in tpl.opening
    # 街道 under the district → the district government; 社区 → its street; root → itself.
    assert B.default_review_organ(world.street) == "示范区人民政府"
    assert B.default_review_organ(world.community) == "东湖街道"
    assert B.default_review_organ(world.district) == "示范区"
    dept = Unit.objects.create(
        name="区住建委", unit_type=UnitType.DEPARTMENT, parent=world.district
    )
    assert B.default_review_organ(dept) == "示范区人民政府"
    case = accepted(world)
    start = RS.new_draft_values(case)
    assert start["title"] == "关于张三反映问题的答复意见书"
    assert start["review_organ"] == "示范区人民政府"
    opening = B.opening_for(case)
    assert opening.startswith("你（们）于") and "反映小区物业费上涨问题" in opening
    assert "本机关于" in opening and "受理。经调查核实，现答复如下：" in opening


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("facts", "查明的事实"),
        ("basis", "处理依据"),
        ("decision", "处理意见"),
        ("review_organ", "复查机关"),
    ],
)
def test_each_mandatory_part_is_required(world: World, field: str, label: str) -> None:
    case = accepted(world)
    values = dict(PARTS, **{field: "  短 "})
    with pytest.raises(DomainError) as err:
        RS.draft_save(case=case, by=world.hank, **values)
    assert err.value.field == field
    assert label in err.value.message
    assert not ReplyDraft.objects.filter(case=case).exists()


def test_roles_per_step(world: World) -> None:
    case = accepted(world)
    for who in (world.alice, world.bob, world.leo, world.rita):
        with pytest.raises(PermissionDenied):
            RS.draft_save(case=case, by=who, **PARTS)
    draft = RS.draft_save(case=case, by=world.hank, **PARTS)
    assert draft.state == DraftState.DRAFT and draft.drafted_by == world.hank
    with pytest.raises(DomainError, match="不能审批"):
        RS.draft_approve(case=case, by=world.uma)  # not submitted yet
    RS.draft_submit(case=case, by=world.hank)
    with pytest.raises(DomainError, match="不能修改"):
        RS.draft_save(case=case, by=world.hank, **PARTS)
    for who in (world.hank, world.alice, world.leo):
        with pytest.raises(PermissionDenied, match="单位负责人"):
            RS.draft_approve(case=case, by=who)
    RS.draft_approve(case=case, by=world.uma)
    for who in (world.hank, world.uma, world.rita, world.leo):
        with pytest.raises(PermissionDenied, match="办案员"):
            RS.draft_check(case=case, by=who)
    with pytest.raises(DomainError, match="不能送达"):
        RS.draft_serve(case=case, by=world.uma, served_on=timezone.localdate(), method="post")
    RS.draft_check(case=case, by=world.alice)
    for who in (world.alice, world.bob):
        with pytest.raises(PermissionDenied):
            RS.draft_serve(case=case, by=who, served_on=timezone.localdate(), method="post")
    RS.draft_serve(case=case, by=world.hank, served_on=timezone.localdate(), method="post")
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-5:] == ["reply_draft", "reply_submit", "reply_approve", "reply_check", "reply"]
    # Nothing more to draft after the reply (the case is no longer 已受理).
    with pytest.raises(DomainError, match="已受理"):
        RS.draft_save(case=case, by=world.hank, **PARTS)


def test_draft_needs_an_accepted_case(world: World) -> None:
    case = case_register(by=world.rita, office=world.office, reg=registration())
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    with pytest.raises(DomainError, match="只有已受理的事项才能起草"):
        RS.draft_save(case=case, by=world.hank, **PARTS)


def test_reject_by_head_and_by_office_back_to_draft(world: World) -> None:
    case = accepted(world)
    RS.draft_save(case=case, by=world.hank, **PARTS)
    RS.draft_submit(case=case, by=world.hank)
    with pytest.raises(DomainError) as err:
        RS.draft_reject(case=case, by=world.uma, reason="")
    assert err.value.field == "reason"
    with pytest.raises(PermissionDenied):
        RS.draft_reject(case=case, by=world.alice, reason="依据不充分")  # office: not yet
    draft = RS.draft_reject(case=case, by=world.uma, reason="处理依据引用条款不准确")
    assert draft.state == DraftState.DRAFT and draft.reject_note == "处理依据引用条款不准确"
    RS.draft_save(case=case, by=world.hank, **dict(PARTS, basis="依据《物业管理条例》第四十条。"))
    RS.draft_submit(case=case, by=world.hank)
    RS.draft_approve(case=case, by=world.uma)
    with pytest.raises(PermissionDenied):
        RS.draft_reject(case=case, by=world.uma, reason="再改一改")  # approved: the office's turn
    draft = RS.draft_reject(case=case, by=world.alice, reason="未写明复查途径的具体机关")
    assert draft.state == DraftState.DRAFT and draft.approved_by is None
    reject = case.events.filter(kind="reply_reject").last()
    assert reject is not None and reject.actor_unit == world.office
    assert reject.data == {"draft_id": draft.pk}
    assert ReplyDraft.objects.filter(case=case).count() == 1  # one live draft, edited


def test_serve_puts_doc_and_draft_in_the_reply_event_and_opens_review_window(
    world: World,
) -> None:
    case = accepted(world)
    draft = to_checked(world, case)
    served_on = timezone.localdate()
    ev = RS.draft_serve(case=case, by=world.uma, served_on=served_on, method="in_person")
    case.refresh_from_db()
    draft.refresh_from_db()
    assert case.status == Status.REPLIED and case.served_at == served_on
    assert draft.state == DraftState.SERVED and draft.served_on == served_on
    assert ev.kind == "reply" and ev.data["draft_id"] == draft.pk
    doc = ev.data["doc"]
    assert doc["to"] == "张三" and doc["organ"] == "东湖街道"
    assert doc["title"] == "关于张三反映问题的答复意见书"
    assert doc["review_organ"] == "示范区人民政府"
    assert doc["closing"] == (
        "如对本答复意见不服，可自收到本答复意见书之日起30日内，向示范区人民政府书面请求复查。"
    )
    assert [s["heading"] for s in doc["sections"]] == [
        "",
        "一、查明的事实",
        "二、处理依据",
        "三、处理意见",
    ]
    assert doc["sections"][3]["text"] == PARTS["decision"]
    assert PARTS["facts"] in ev.text and doc["closing"] in ev.text
    window = case.deadlines.get(kind="review_request")
    assert window.started_on == served_on and window.met_at is None
    assert (window.due_on - served_on).days >= 30
    # A new draft may not be started for a replied case, and the served one stays readable.
    assert RS.live_draft(case) is None and RS.served_draft(case) == draft


def test_direct_reply_without_a_checked_draft_is_refused(world: World) -> None:
    case = accepted(world)
    values: dict[str, Any] = {
        "text": "经调查核实，已依法依规处理完毕。",
        "served_on": timezone.localdate(),
        "method": "post",
    }
    with pytest.raises(DomainError, match="答复意见书") as err:
        S.case_reply(case=case, by=world.uma, **values)
    assert err.value.field == "text"
    RS.draft_save(case=case, by=world.hank, **PARTS)
    RS.draft_submit(case=case, by=world.hank)
    RS.draft_approve(case=case, by=world.uma)
    approved = RS.live_draft(case)
    with pytest.raises(DomainError, match="信访机构审核"):
        S.case_reply(case=case, by=world.uma, draft=approved, **values)
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED


def test_review_and_rereview_documents(world: World) -> None:
    case = accepted(world)
    serve_reply(world, case)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查")
    parts: dict[str, Any] = {
        "facts": "经复查，原处理查明的事实清楚。",
        "basis": "依据《信访工作条例》第三十五条。",
        "decision": "维持东湖街道的答复意见。",
    }
    with pytest.raises(DomainError) as err:
        RS.review_decide(case=case, by=world.alice, **dict(parts, basis=""))
    assert err.value.field == "basis"
    with pytest.raises(PermissionDenied):
        RS.review_decide(case=case, by=world.uma, **parts)
    ev = RS.review_decide(case=case, by=world.alice, **parts)
    doc = ev.data["doc"]
    assert doc["organ"] == "区信访局" and "复查意见书" in doc["title"]
    assert "复核" in doc["closing"] and parts["decision"] in ev.text
    S.case_request_rereview(case=case, by=world.rita, reason="对复查意见不服")
    ev = RS.rereview_decide(case=case, by=world.alice, **parts)
    assert ev.data["doc"]["closing"] == (
        "本复核意见为终结意见，信访人以同一事实和理由再提出信访的，不再受理。"
    )
    assert B.FINAL_PARAGRAPH in ev.text
    case.refresh_from_db()
    assert case.status == Status.FINAL


def test_api_style_text_decision_still_gets_a_doc(world: World) -> None:
    case = accepted(world)
    serve_reply(world, case)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查")
    ev = S.case_decide_review(case=case, by=world.alice, text="经复查，维持原答复意见，理由如下。")
    assert ev.data["doc"]["sections"][-1]["text"] == "经复查，维持原答复意见，理由如下。"


def test_review_request_on_day_31_names_served_and_due_dates(world: World) -> None:
    tz = timezone.get_current_timezone()
    at = dt.datetime(2026, 3, 20, 10, tzinfo=tz)
    case = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(received_at=at - dt.timedelta(days=18)),
        at=at - dt.timedelta(days=18),
    )
    S.case_assign(case=case, by=world.alice, unit=world.street, at=at - dt.timedelta(days=17))
    S.case_sign_in(case=case, by=world.hank, at=at - dt.timedelta(days=17))
    S.case_accept(
        case=case, by=world.hank, notice_text="经审查，决定受理。", at=at - dt.timedelta(days=16)
    )
    RS.draft_save(case=case, by=world.hank, at=at, **PARTS)
    RS.draft_submit(case=case, by=world.hank, at=at)
    RS.draft_approve(case=case, by=world.uma, at=at)
    RS.draft_check(case=case, by=world.alice, at=at)
    RS.draft_serve(case=case, by=world.uma, served_on=at.date(), method="post", at=at)
    # Served Fri 03-20; +30 = Sun 04-19 → Mon 04-20; day 31 after that is refused.
    with pytest.raises(DomainError) as err:
        S.case_request_review(
            case=case, by=world.rita, reason="对答复不服", at=dt.datetime(2026, 4, 21, 9, tzinfo=tz)
        )
    assert "2026年03月20日送达" in err.value.message
    assert "已于2026年04月20日届满" in err.value.message


def _final_case(world: World, category_id: int) -> Case:
    case = accepted(world, category_id=category_id)
    serve_reply(world, case)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查")
    S.case_decide_review(case=case, by=world.alice, text="经复查，维持原答复意见，理由如下。")
    S.case_request_rereview(case=case, by=world.rita, reason="对复查意见不服")
    S.case_decide_rereview(case=case, by=world.alice, text="经复核，维持复查意见，本事项终结。")
    case.refresh_from_db()
    assert case.status == Status.FINAL
    return case


def test_registration_flags_a_repeat_of_a_final_case(world: World) -> None:
    cats = list(Category.objects.filter(level=3).values_list("pk", flat=True)[:2])
    final = _final_case(world, cats[0])
    # An open case of the same person in the same category, registered later: the final one
    # still wins (not merely the latest earlier case).
    accepted(world, category_id=cats[0])
    again = case_register(by=world.rita, office=world.office, reg=registration(category_id=cats[0]))
    assert again.is_repeat and again.related_to_id == final.pk
    ev = again.events.get(kind="final_repeat")
    assert ev.data == {"final_case_id": final.pk, "final_number": final.number}
    assert "经复核，维持复查意见" in ev.text
    # Another category: not the same matter.
    other = case_register(by=world.rita, office=world.office, reg=registration(category_id=cats[1]))
    assert not other.events.filter(kind="final_repeat").exists()
    # Named as related_to (no category): flagged too.
    named = case_register(
        by=world.rita, office=world.office, reg=registration(related_to_id=final.pk)
    )
    assert named.related_to_id == final.pk
    assert named.events.filter(kind="final_repeat").exists()


def test_final_repeat_banner_on_the_case_page(world: World, client: Any) -> None:
    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    final = _final_case(world, cat.pk)
    again = case_register(by=world.rita, office=world.office, reg=registration(category_id=cat.pk))
    client.force_login(world.alice)
    html = client.get(f"/cases/{again.pk}/").content.decode()
    assert "该事项已终结（复核意见…），同一事实和理由不再受理" in html
    assert final.number in html


@needs_server_db
@pytest.mark.django_db(transaction=True)
def test_two_heads_approving_at_once_one_wins(world: World) -> None:
    uma2 = make_user("uma2", world.street, R.UNIT_HEAD, "乌玛二")
    case = accepted(world)
    RS.draft_save(case=case, by=world.hank, **PARTS)
    RS.draft_submit(case=case, by=world.hank)
    heads = [world.uma, uma2]

    def work(i: int) -> Any:
        return RS.draft_approve(case=Case.objects.get(pk=case.pk), by=heads[i])

    results = in_threads(2, work)
    wins = [r for r in results if isinstance(r, ReplyDraft)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], ConcurrentChange) or "不能审批" in losses[0].message
    assert "刚被他人处理" in losses[0].message or "待审核" in losses[0].message
    assert CaseEvent.objects.filter(case=case, kind="reply_approve").count() == 1
    draft = ReplyDraft.objects.get(case=case)
    assert draft.state == DraftState.APPROVED and draft.approved_by == wins[0].approved_by


def test_stale_approval_is_a_concurrent_change(world: World) -> None:
    """The conditional UPDATE: a head acting on a draft another head approved a moment ago."""
    case = accepted(world)
    RS.draft_save(case=case, by=world.hank, **PARTS)
    RS.draft_submit(case=case, by=world.hank)
    stale = RS.live_draft(case)
    assert stale is not None
    RS.draft_approve(case=case, by=world.uma)
    with pytest.raises(ConcurrentChange, match="刚被他人处理"):
        RS._move(stale, DraftState.SUBMITTED, DraftState.APPROVED, "审批")
