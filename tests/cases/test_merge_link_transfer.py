"""合并 / 关联 / 转办 (xinfang.cases.handling): guards, events, deadlines, visibility, API,
and two clerks at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import token_client
from tests.conftest import World
from tests.threads import in_threads, needs_server_db
from xinfang.cases import handling as H
from xinfang.cases import services as S
from xinfang.cases.models import (
    Case,
    CaseEvent,
    CaseLink,
    Deadline,
    DeadlineKind,
    ExtensionRequest,
    Status,
)
from xinfang.cases.transitions import EVENT_LABELS, PUBLIC_EVENT_KINDS
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.notify.models import Notification

Register = Callable[..., Case]


def kinds(case: Case) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("kind", flat=True)
    )


def open_kinds(case: Case) -> set[str]:
    return set(
        Deadline.objects.filter(
            case=case, met_at__isnull=True, cancelled_at__isnull=True
        ).values_list("kind", flat=True)
    )


# --- 合并 -------------------------------------------------------------------------------------


def test_merge_duplicate_into_survivor(world: World, register: Register) -> None:
    dup, keep = register(), register()
    S.case_assign(case=dup, by=world.alice, unit=world.street)
    ev = H.case_merge(case=dup, by=world.alice, into=keep, note="同一诉求重复来信")
    dup.refresh_from_db()
    assert dup.status == Status.MERGED and dup.merged_into_id == keep.pk
    assert not dup.is_open
    assert ev.kind == "merge" and ev.data == {"into_id": keep.pk, "into_number": keep.number}
    assert kinds(dup)[-1] == "merge" and kinds(keep)[-1] == "merge_in"
    merge_in = CaseEvent.objects.get(case=keep, kind="merge_in")
    assert merge_in.data == {"from_id": dup.pk, "from_number": dup.number}
    assert open_kinds(dup) == set()  # the accept deadline of the duplicate is cancelled
    assert DeadlineKind.ROUTE in open_kinds(keep)  # the survivor keeps going
    assert Case.objects.get(pk=keep.pk).status == Status.REGISTERED
    assert EVENT_LABELS["merge"] == "合并" and EVENT_LABELS["merge_in"]
    assert not {"merge", "merge_in", "link", "investigation", "evidence"} & PUBLIC_EVENT_KINDS


def test_merge_denies_pending_extension(world: World, register: Register) -> None:
    dup, keep = register(), register()
    S.case_assign(case=dup, by=world.alice, unit=world.street)
    S.case_sign_in(case=dup, by=world.hank)
    S.case_accept(case=dup, by=world.hank, notice_text="决定受理。")
    S.case_request_extension(case=dup, by=world.hank, days=10, reason="情况复杂需要核实")
    H.case_merge(case=dup, by=world.alice, into=keep)
    assert ExtensionRequest.objects.get(case=dup).state == ExtensionRequest.State.DENIED


@pytest.mark.parametrize(
    "setup, message",
    [
        ("self", "不能把事项合并到它自己"),
        ("merged", "已被合并，不能再并入其他事项"),
        ("closed", "已不在办理中，不能并入"),
        ("accusation", "检举控告件只能与检举控告件合并"),
    ],
)
def test_merge_guards(world: World, register: Register, setup: str, message: str) -> None:
    dup = register()
    if setup == "self":
        into = dup
    elif setup == "merged":
        into = register()
        H.case_merge(case=into, by=world.alice, into=register())
    elif setup == "closed":
        into = register()
        S.case_inform(case=into, by=world.alice, reason="属于涉法涉诉事项，请向法院反映")
        S.case_close(case=into, by=world.alice)
    else:
        into = register(purpose="accusation")
    with pytest.raises(DomainError, match=message) as err:
        H.case_merge(case=dup, by=world.alice, into=into)
    assert err.value.field == "into"
    assert Case.objects.get(pk=dup.pk).status == Status.REGISTERED


def test_merge_needs_office_case_officer(world: World, register: Register) -> None:
    dup, keep = register(), register()
    for user in (world.rita, world.hank, world.leo):
        with pytest.raises(PermissionDenied):
            H.case_merge(case=dup, by=user, into=keep)


def test_merge_into_case_of_another_office(world: World, register: Register) -> None:
    from tests.conftest import make_user, registration
    from xinfang.cases.registration import case_register
    from xinfang.org import roles as R

    street_clerk = make_user("sc", world.street, R.CASE_OFFICER)
    other = case_register(by=street_clerk, office=world.street, reg=registration())
    dup = register()
    # alice (district office) sees the street's case, but it is another office's register.
    with pytest.raises(DomainError, match="只能合并同一信访机构登记的事项"):
        H.case_merge(case=dup, by=world.alice, into=other)


def test_merge_by_number_and_chained_merges(world: World, register: Register) -> None:
    a, b, c = register(), register(), register()
    with pytest.raises(DomainError, match="未找到编号") as err:
        H.case_merge_by_number(case=a, by=world.alice, into_number="XF-0")
    assert err.value.field == "into_number"
    H.case_merge_by_number(case=a, by=world.alice, into_number=b.number.lower())
    H.case_merge(case=b, by=world.alice, into=c)
    assert Case.objects.get(pk=a.pk).merged_into_id == c.pk  # re-pointed to the survivor


def test_merged_case_pages(world: World, register: Register) -> None:
    dup, keep = register(), register()
    H.case_merge(case=dup, by=world.alice, into=keep)
    client = Client()
    client.force_login(world.alice)
    page = client.get(f"/cases/{dup.pk}/").content.decode()
    assert "本事项已作为重复事项合并至" in page and keep.number in page
    survivor = client.get(f"/cases/{keep.pk}/").content.decode()
    assert "已并入本事项的重复事项" in survivor and dup.number in survivor


def test_merge_through_action_panel(world: World, register: Register) -> None:
    dup, keep = register(), register()
    client = Client()
    client.force_login(world.alice)
    page = client.get(f"/cases/{dup.pk}/").content.decode()
    assert "合并为重复事项" in page and "转办" not in page.split("办理经过")[0].split("办理")[-1]
    bad = client.post(
        f"/cases/{dup.pk}/act/merge/",
        {"a_merge-into_number": "XF-NOPE", "idempotency_key": "k1"},
        headers={"HX-Request": "true"},
    )
    assert "未找到编号为「XF-NOPE」的事项" in bad.content.decode()
    assert 'value="XF-NOPE"' in bad.content.decode()  # what was typed stays
    ok = client.post(
        f"/cases/{dup.pk}/act/merge/",
        {"a_merge-into_number": keep.number, "a_merge-note": "重复", "idempotency_key": "k2"},
    )
    assert ok.status_code == 200
    assert Case.objects.get(pk=dup.pk).status == Status.MERGED


def test_two_clerks_merging_crosswise_stale_pages(world: World, register: Register) -> None:
    a, b = register(), register()
    a_page, b_page = Case.objects.get(pk=a.pk), Case.objects.get(pk=b.pk)
    H.case_merge(case=a_page, by=world.alice, into=b_page)
    with pytest.raises(DomainError):
        H.case_merge(case=b_page, by=world.alice, into=Case.objects.get(pk=a.pk))
    assert Case.objects.get(pk=b.pk).status == Status.REGISTERED


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_crosswise_merges_one_wins(world: World, register: Register) -> None:
    a, b = register(), register()

    def work(i: int) -> Any:
        x, y = (a, b) if i == 0 else (b, a)
        return H.case_merge(
            case=Case.objects.get(pk=x.pk), by=world.alice, into=Case.objects.get(pk=y.pk)
        )

    results = in_threads(2, work)
    wins = [r for r in results if isinstance(r, CaseEvent)]
    assert len(wins) == 1, results
    assert all(isinstance(r, (CaseEvent, DomainError)) for r in results), results
    states = sorted(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True))
    assert states == sorted([Status.MERGED, Status.REGISTERED])


# --- 转办 -------------------------------------------------------------------------------------


def test_transfer_moves_case_with_history(world: World, register: Register) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="决定受理。")
    S.case_request_extension(case=case, by=world.hank, days=10, reason="需要进一步核实")
    ev = H.case_transfer(case=case, by=world.alice, unit=world.sibling, reason="属西山街道管辖")
    case.refresh_from_db()
    assert (case.status, case.handling_unit) == (Status.ASSIGNED, world.sibling)
    assert ev.data == {
        "from_unit_id": world.street.pk,
        "from_unit": "东湖街道",
        "unit_id": world.sibling.pk,
        "unit": "西山街道",
        "reason": "属西山街道管辖",
    }
    assert open_kinds(case) == {DeadlineKind.ACCEPT}
    assert Deadline.objects.filter(
        case=case, kind=DeadlineKind.HANDLE, cancelled_at__isnull=False
    ).exists()
    assert ExtensionRequest.objects.get(case=case).state == ExtensionRequest.State.DENIED
    note = Notification.objects.get(recipient=world.bob, kind="assignment")
    assert case.number in note.title
    # the new unit signs in; the old one no longer sees it
    S.case_sign_in(case=case, by=world.bob)
    client = Client()
    client.force_login(world.hank)
    assert client.get(f"/cases/{case.pk}/").status_code == 404


@pytest.mark.parametrize(
    "unit_name, reason, message",
    [
        ("street", "转给另一个单位办理", "已是该事项的承办单位"),
        ("sibling", "", "请填写转办理由"),
        ("office", "转给信访局自己", "不能转办给「区信访局」"),
    ],
)
def test_transfer_guards(
    world: World, register: Register, unit_name: str, reason: str, message: str
) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    with pytest.raises(DomainError, match=message):
        H.case_transfer(case=case, by=world.alice, unit=getattr(world, unit_name), reason=reason)
    assert Case.objects.get(pk=case.pk).handling_unit == world.street


def test_transfer_refuses_registered_case_and_unit_staff(world: World, register: Register) -> None:
    case = register()
    with pytest.raises(DomainError, match="不能执行「转办」"):
        H.case_transfer(case=case, by=world.alice, unit=world.sibling, reason="属西山街道管辖")
    S.case_assign(case=case, by=world.alice, unit=world.street)
    with pytest.raises(PermissionDenied):
        H.case_transfer(case=case, by=world.hank, unit=world.sibling, reason="属西山街道管辖")


def test_transfer_respects_recusal(world: World, register: Register) -> None:
    case = register(purpose="accusation", accused_unit_ids=[world.sibling.pk])
    S.case_assign(case=case, by=world.alice, unit=world.street)
    with pytest.raises(DomainError, match="应当回避，不能转办"):
        H.case_transfer(case=case, by=world.alice, unit=world.sibling, reason="改由西山街道办理")


def test_two_clerks_transferring_stale_pages(world: World, register: Register) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    p1, p2 = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    H.case_transfer(case=p1, by=world.alice, unit=world.sibling, reason="属西山街道管辖")
    with pytest.raises(ConcurrentChange):
        H.case_transfer(case=p2, by=world.alice, unit=world.community, reason="属东湖社区管辖")
    assert Case.objects.get(pk=case.pk).handling_unit == world.sibling


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_transfers_one_wins(world: World, register: Register) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    units = [world.sibling, world.community]

    # both clerks' pages read before either submits: a thread scheduled late must not read the
    # other's committed transfer (from there a second transfer is legitimate, not a race)
    pages = [Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)]

    def work(i: int) -> Any:
        return H.case_transfer(case=pages[i], by=world.alice, unit=units[i], reason="改由他处办理")

    results = in_threads(2, work)
    assert sum(isinstance(r, CaseEvent) for r in results) == 1, results
    assert sum(isinstance(r, ConcurrentChange) for r in results) == 1, results
    assert CaseEvent.objects.filter(case=case, kind="transfer").count() == 1


# --- 关联 -------------------------------------------------------------------------------------


def test_link_both_ways_once(world: World, register: Register) -> None:
    a, b = register(), register()
    link = H.case_link(case=b, by=world.alice, other=a, note="同一小区")
    assert (link.case_a_id, link.case_b_id) == (a.pk, b.pk)
    assert CaseEvent.objects.get(case=a, kind="link").data == {
        "other_id": b.pk,
        "other_number": b.number,
    }
    assert CaseEvent.objects.get(case=b, kind="link").data["other_id"] == a.pk
    with pytest.raises(DomainError, match="已经关联"):
        H.case_link(case=a, by=world.alice, other=b)
    with pytest.raises(DomainError, match="不能把事项与它自己关联"):
        H.case_link(case=a, by=world.alice, other=a)
    assert CaseLink.objects.count() == 1


def test_link_shown_only_to_who_may_see_the_other(world: World, register: Register) -> None:
    a, b = register(), register()
    S.case_assign(case=a, by=world.alice, unit=world.street)
    S.case_assign(case=b, by=world.alice, unit=world.sibling)
    H.case_link(case=a, by=world.alice, other=b, note="同一诉求人")
    hank = Client()
    hank.force_login(world.hank)
    page = hank.get(f"/cases/{a.pk}/").content.decode()
    assert "另有关联事项（不在您的查看范围内）" in page
    assert b.number not in page and "同一诉求人" not in page.split("关联事项")[1][:400]
    alice = Client()
    alice.force_login(world.alice)
    assert b.number in alice.get(f"/cases/{a.pk}/").content.decode()
    # the API hides the other number as well
    api = token_client(world.hank)
    detail = api.get(f"/cases/{a.pk}").json()
    link_ev = next(e for e in detail["events"] if e["kind"] == "link")
    assert link_ev["data"] == {"other_id": None, "other_number": None}
    links = api.get(f"/cases/{a.pk}/links").json()
    assert links[0]["visible"] is False and links[0]["number"] is None


def test_link_needs_a_post_on_the_case(world: World, register: Register) -> None:
    a, b = register(), register()
    with pytest.raises(PermissionDenied):
        H.case_link(case=a, by=world.leo, other=b)


def test_link_form_keeps_input_on_error(world: World, register: Register) -> None:
    a = register()
    client = Client()
    client.force_login(world.alice)
    r = client.post(
        f"/cases/{a.pk}/links/",
        {"other_number": "XF-1-2", "note": "说明文字", "idempotency_key": "l1"},
        headers={"HX-Request": "true"},
    )
    body = r.content.decode()
    assert "未找到编号为「XF-1-2」的事项" in body and 'value="XF-1-2"' in body


# --- API --------------------------------------------------------------------------------------


def test_api_merge_transfer_link(world: World, register: Register) -> None:
    a, b, c = register(), register(), register()
    api = token_client(world.alice)
    r = api.act(a.pk, "merge", {"into_id": b.pk, "note": "重复"})
    assert r.status_code == 200, r.content
    assert r.json()["event"]["kind"] == "merge"
    assert api.act(a.pk, "merge", {"into_id": b.pk}).status_code == 409
    r = api.act(c.pk, "merge", {"into_id": 10**9})
    assert r.status_code == 400 and r.json()["field"] == "into_id"
    S.case_assign(case=b, by=world.alice, unit=world.street)
    r = api.act(b.pk, "transfer", {"unit_id": world.sibling.pk, "reason": ""})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = api.act(b.pk, "transfer", {"unit_id": world.sibling.pk, "reason": "属西山街道管辖"})
    assert r.status_code == 200 and r.json()["case"]["status"]["code"] == "assigned"
    r = api.post(f"/cases/{c.pk}/links", {"other_id": b.pk, "note": "相关"})
    assert r.status_code == 201 and r.json()[0]["number"] == b.number
    # another unit's case is a 404
    bob = token_client(world.bob)
    assert bob.act(c.pk, "merge", {"into_id": b.pk}).status_code == 404
    assert bob.get(f"/cases/{c.pk}/links").status_code == 404
