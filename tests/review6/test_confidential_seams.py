"""Review of issue 6: 检举控告 confidentiality at the seams of the new features (终结 guidance,
答复/复查/复核 texts, merge and link, the 不满意 task list) and the 督查员's unit scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import World, make_user, registration, serve_reply
from xinfang.cases import handling as H
from xinfang.cases import services as S
from xinfang.cases.models import Case, CaseEvent, Category, Status
from xinfang.cases.policy import cases_visible_to
from xinfang.cases.registration import case_register
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.idcard import id_check_digit
from xinfang.org import roles as R
from xinfang.people.services import PetitionerInput

SECRET = "挪用扶贫款"
ACCUSER = "钱多多"
ACCUSER_ID = "11010519800101003" + id_check_digit("11010519800101003")
ACCUSER_PHONE = "13900001111"


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _accusation(world: World, *, office: Any = None, by: Any = None, **over: Any) -> Case:
    values: dict[str, Any] = {
        "purpose": "accusation",
        "summary": f"检举西山街道干部{SECRET}",
        "content": f"西山街道副主任王某{SECRET}二十万元。",
        "petitioners": [PetitionerInput(name=ACCUSER, id_number=ACCUSER_ID, phone=ACCUSER_PHONE)],
        "accused_unit_ids": [world.sibling.pk],
        "accused_person_ids": [world.leo.pk],
    }
    values.update(over)
    return case_register(
        by=by or world.rita, office=office or world.office, reg=registration(**values)
    )


def _accepted(world: World, case: Case) -> Case:
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    case.refresh_from_db()
    return case


def _make_final(case: Case, text: str) -> None:
    Case.objects.filter(pk=case.pk).update(status=Status.FINAL)
    CaseEvent.objects.create(
        case=case, kind="decide_rereview", at=timezone.now(), to_status=Status.FINAL, text=text
    )


# --- 终结 (replies.finality) -------------------------------------------------------------


@pytest.mark.django_db
def test_final_repeat_does_not_copy_a_confidential_final_opinion(world: World) -> None:
    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    final = _accusation(world, category_id=cat.pk)
    _make_final(final, f"经复核，西山街道副主任王某{SECRET}属实，本事项终结。")
    # The same person comes back with an ordinary petition in the same category.
    again = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(
            category_id=cat.pk,
            petitioners=[PetitionerInput(name=ACCUSER, id_number=ACCUSER_ID, phone=ACCUSER_PHONE)],
        ),
    )
    ev = again.events.get(kind="final_repeat")
    assert ev.data["final_case_id"] == final.pk
    assert SECRET not in ev.text and "王某" not in ev.text
    # The ordinary case may well be routed to the unit accused in the final one: its page
    # must not carry the confidential opinion.
    S.case_assign(case=again, by=world.alice, unit=world.sibling)
    html = _client(world.bob).get(f"/cases/{again.pk}/").content.decode()
    assert SECRET not in html and "王某" not in html


@pytest.mark.django_db
def test_final_guidance_follows_the_person_search_rule(world: World) -> None:
    """A confidential final case registered by 东湖街道's desk: the district office's
    receptionist sees the case (its scope is the district) but a person search of hers must
    not find it (confidential rule 4); 东湖街道's own desk does."""
    street_desk = make_user("desk", world.street, R.RECEPTIONIST, "街道接待")
    final = _accusation(world, office=world.street, by=street_desk)
    _make_final(final, "经复核，维持复查意见，本事项终结。")
    assert cases_visible_to(world.rita).filter(pk=final.pk).exists()
    form = {"p-0-id_number": ACCUSER_ID}
    html = _client(world.rita).post("/replies/final-check/", form).content.decode()
    assert final.number not in html
    html = _client(street_desk).post("/replies/final-check/", form).content.decode()
    assert final.number in html


# --- 答复意见书 / 复查 / 复核 of a 检举控告件 ----------------------------------------------


@pytest.mark.django_db
def test_confidential_reply_texts_do_not_name_the_accuser(world: World) -> None:
    from xinfang.documents.services import document_for_event
    from xinfang.replies import services as RS

    case = _accepted(world, _accusation(world))
    assert ACCUSER not in RS.new_draft_values(case)["title"]
    reply = serve_reply(world, case)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查")
    review = RS.review_decide(
        case=case,
        by=world.alice,
        facts="经复查，原答复认定的事实清楚。",
        basis="依据《信访工作条例》第三十五条。",
        decision="维持原答复意见，不予支持。",
    )
    for ev in case.events.all():
        assert ACCUSER not in ev.text, ev.kind
        assert ACCUSER not in str(ev.data), ev.kind
    # The API's timeline (read by everyone who may see the case, no reveal needed).
    body = token_client(world.uma).get(f"/cases/{case.pk}").content.decode()
    assert ACCUSER not in body
    for ev in (reply, review):
        doc = document_for_event(ev, by=world.alice)
        assert ACCUSER not in doc.title  # the API's document metadata (not audited)
        assert doc.body["to"] == f"{ACCUSER}："  # the printed 主送 (audited reveal) is right


# --- 合并 / 关联 -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_merge_into_a_case_the_accused_unit_handles_is_refused(world: World) -> None:
    dup = _accusation(world)
    keep = _accusation(world, accused_unit_ids=[], accused_person_ids=[], accused_text="某人")
    S.case_assign(case=keep, by=world.alice, unit=world.sibling)  # keep does not name 西山街道
    with pytest.raises(DomainError) as err:
        H.case_merge(case=dup, by=world.alice, into=keep)
    assert err.value.field == "into" and "回避" in err.value.message
    assert Case.objects.get(pk=dup.pk).status != Status.MERGED


@pytest.mark.django_db
def test_merged_accusation_stays_hidden_from_its_accused(world: World) -> None:
    dup = _accusation(world)
    keep = _accusation(world, accused_unit_ids=[], accused_person_ids=[], accused_text="某人")
    S.case_assign(case=keep, by=world.alice, unit=world.street)
    assert cases_visible_to(world.leo).filter(pk=keep.pk).exists()
    H.case_merge(case=dup, by=world.alice, into=keep)
    keep.refresh_from_db()
    assert set(keep.accused_units.values_list("pk", flat=True)) == {world.sibling.pk}
    assert not cases_visible_to(world.leo).filter(pk=keep.pk).exists()  # accused person
    assert "副主任王某" not in keep.accused_text  # dup had no accused_text of its own


@pytest.mark.django_db
def test_link_note_about_an_accusation_stays_off_the_ordinary_case(world: World) -> None:
    secret = _accusation(world)
    plain = case_register(by=world.rita, office=world.office, reg=registration())
    H.case_link(case=secret, by=world.alice, other=plain, note=f"同一人，涉及{SECRET}")
    assert plain.events.get(kind="link").text == ""
    assert SECRET in secret.events.get(kind="link").text


# --- 不满意 tasks ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_list_masks_a_confidential_task(world: World) -> None:
    from xinfang.followup.services import office_task_open

    case = _accusation(world)
    source = case.events.get(kind="register")
    office_task_open(case=case, source=source, by=world.alice, summary=f"不满意：{SECRET}")
    html = _client(world.alice).get("/followup/tasks/", {"state": "all"}).content.decode()
    assert case.number in html and SECRET not in html
    found = _client(world.alice).get("/followup/tasks/", {"state": "all", "q": SECRET})
    assert case.number not in found.content.decode()  # found by its number only
    rows = token_client(world.alice).get("/followup/tasks", state="all").json()
    assert rows and all(SECRET not in r["summary"] for r in rows)


# --- 督查员 scope -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_supervisor_post_elsewhere_does_not_reach_a_case(world: World) -> None:
    from xinfang.supervision import services as SS
    from xinfang.supervision.models import EscalationRule
    from xinfang.supervision.seed import seed_rules

    seed_rules(EscalationRule)
    # A handler of 东湖街道 (sees its cases) who is a 督查员 of 西山街道 only.
    from xinfang.org.models import Membership, Role

    Membership.objects.create(
        user=world.hank, unit=world.sibling, role=Role.objects.get(code=R.SUPERVISOR)
    )
    case = case_register(by=world.rita, office=world.office, reg=registration())
    S.case_assign(case=case, by=world.alice, unit=world.street)
    with pytest.raises(PermissionDenied):
        SS.case_supervise(case=case, by=world.hank, stage="urge")
    vera = make_user("vera", world.office, R.SUPERVISOR, "薇拉")
    assert SS.case_supervise(case=case, by=vera, stage="urge").kind == "urge"


# --- 领导批示 after the case left the unit --------------------------------------------------


@pytest.mark.django_db
def test_instruction_urge_not_sent_to_a_unit_the_case_has_left(world: World) -> None:
    from xinfang.cases.handling import case_transfer
    from xinfang.instructions import services as IS
    from xinfang.notify.models import Notification

    case = case_register(by=world.rita, office=world.office, reg=registration())
    S.case_assign(case=case, by=world.alice, unit=world.street)
    today = timezone.localdate()
    IS.instruct(case=case, by=world.leo, text="请东湖街道尽快核实并报告", due_on=today)
    case_transfer(case=case, by=world.alice, unit=world.sibling, reason="属西山街道管辖")
    assert not cases_visible_to(world.uma).filter(pk=case.pk).exists()
    assert IS.instructions_sweep(today + dt.timedelta(days=2)) == 1
    urged = set(
        Notification.objects.filter(kind="instruction_urge").values_list("recipient_id", flat=True)
    )
    assert world.leo.pk in urged and world.uma.pk not in urged and world.hank.pk not in urged


@pytest.mark.django_db
def test_manual_urge_form_resent_urges_once(world: World) -> None:
    from xinfang.supervision.models import EscalationRule, SupervisionStep
    from xinfang.supervision.seed import seed_rules

    seed_rules(EscalationRule)
    vera = make_user("vera", world.office, R.SUPERVISOR, "薇拉")
    case = case_register(by=world.rita, office=world.office, reg=registration())
    S.case_assign(case=case, by=world.alice, unit=world.street)
    c = _client(vera)
    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert 'name="idempotency_key"' in page.split('id="supervision"', 1)[1].split("</form>")[0]
    form = {"stage": "urge", "note": "请尽快签收", "idempotency_key": "urge-key-1"}
    for _ in range(2):
        assert c.post(f"/supervision/case/{case.pk}/", form).status_code in (200, 302)
    assert SupervisionStep.objects.filter(case=case, rule=None).count() == 1


# --- 答复意见书 after the case changed hands -------------------------------------------------


@pytest.mark.django_db
def test_previous_units_checked_draft_cannot_be_served_by_the_new_unit(world: World) -> None:
    from xinfang.cases.handling import case_transfer
    from xinfang.replies import services as RS
    from xinfang.replies.models import DraftState

    parts: dict[str, Any] = {
        "facts": "经调查核实，信访人反映的情况基本属实。",
        "basis": "依据《信访工作条例》及有关政策规定。",
        "decision": "已协调有关部门处理完毕，请予理解。",
        "review_organ": "示范区人民政府",
    }
    case = _accepted(world, case_register(by=world.rita, office=world.office, reg=registration()))
    RS.draft_save(case=case, by=world.hank, **parts)
    RS.draft_submit(case=case, by=world.hank)
    RS.draft_approve(case=case, by=world.uma)
    RS.draft_check(case=case, by=world.alice)
    case_transfer(case=case, by=world.alice, unit=world.sibling, reason="属西山街道管辖")
    head = make_user("sihead", world.sibling, R.UNIT_HEAD, "西山负责人")
    S.case_sign_in(case=case, by=world.bob)
    S.case_accept(case=case, by=world.bob, notice_text="经审查，决定受理。")
    with pytest.raises(DomainError, match="原承办单位"):
        RS.draft_serve(case=case, by=world.bob, served_on=timezone.localdate(), method="in_person")
    draft = RS.draft_save(case=case, by=world.bob, **parts)
    assert draft.state == DraftState.DRAFT and draft.approved_by_id is None
    assert draft.checked_by_id is None
    RS.draft_submit(case=case, by=world.bob)
    RS.draft_approve(case=case, by=head)
    RS.draft_check(case=case, by=world.alice)
    ev = RS.draft_serve(case=case, by=world.bob, served_on=timezone.localdate(), method="in_person")
    assert ev.kind == "reply" and ev.data["doc"]["organ"] == "西山街道"
