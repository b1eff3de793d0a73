"""领导批示: guards, events, notifications, the 催办 sweep, the dashboard, the API, scoping.

Cast (tests/conftest.py): leo is the district 领导; alice/rita the 区信访局; hank (承办人) and
uma (单位负责人) at 东湖街道; bob at 西山街道.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import World, make_user
from xinfang.cases import services as CS
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.transitions import EVENT_LABELS, PUBLIC_EVENT_KINDS
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.instructions import services as S
from xinfang.instructions.models import Instruction, InstructionUrge
from xinfang.instructions.models import InstructionState as St
from xinfang.notify.models import Notification
from xinfang.org import roles as R

pytestmark = pytest.mark.django_db


def _today() -> dt.date:
    """Today in the office's time zone, when the test runs (a run may cross midnight)."""
    return timezone.localdate()


def _assigned(world: World, register: Any, **kw: Any) -> Case:
    case = register(**kw)
    CS.case_assign(case=case, by=world.alice, unit=world.street)
    return Case.objects.select_related("office_unit", "handling_unit").get(pk=case.pk)


def _instruct(world: World, case: Case, days: int = 10, **kw: Any) -> Instruction:
    return S.instruct(
        case=case,
        by=kw.pop("by", world.leo),
        text=kw.pop("text", "请东湖街道尽快核实并妥善处理，结果报我。"),
        due_on=_today() + dt.timedelta(days=days),
        **kw,
    )


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# --- guards -----------------------------------------------------------------------------


def test_leader_instructs_default_target_is_handling_unit(world: World, register: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case)
    assert ins.state == St.OPEN and ins.target_unit == world.street
    assert ins.leader_unit == world.district
    ev = CaseEvent.objects.get(case=case, kind="instruct")
    assert ev.actor == world.leo and ev.text.startswith("请东湖街道")
    assert ev.data == {
        "instruction_id": ins.pk,
        "due_on": ins.due_on.isoformat(),
        "unit_id": world.street.pk,
        "unit": "东湖街道",
    }
    assert ev.from_status == ev.to_status == case.status  # no state change of the case


def test_unrouted_case_goes_to_the_office(world: World, register: Any) -> None:
    case = register()
    ins = _instruct(world, case)
    assert ins.target_unit == world.office


@pytest.mark.parametrize("who", ["alice", "hank", "uma", "bob", "sam"])
def test_only_leaders_instruct(world: World, register: Any, who: str) -> None:
    case = _assigned(world, register)
    with pytest.raises(PermissionDenied, match="只有对该事项有管辖权的领导可以批示"):
        _instruct(world, case, by=getattr(world, who))
    assert not Instruction.objects.exists()


def test_leader_of_another_branch_cannot_instruct(world: World, register: Any) -> None:
    case = _assigned(world, register)
    west_leader = make_user("west_leader", world.sibling, R.LEADER, "西山领导")
    assert not S.may_instruct(west_leader, case)
    with pytest.raises(PermissionDenied):
        _instruct(world, case, by=west_leader)


@pytest.mark.parametrize(
    ("days", "text", "field", "message"),
    [
        (-1, "请核实处理", "due_on", "落实期限不能早于今天"),
        (400, "请核实处理", "due_on", "落实期限不能超过一年"),
        (5, " 请 "[1:2], "text", "请填写批示内容"),
        (5, "批" * 2001, "text", "批示内容不能超过 2000 字"),
    ],
)
def test_field_rules(
    world: World, register: Any, days: int, text: str, field: str, message: str
) -> None:
    case = _assigned(world, register)
    with pytest.raises(DomainError, match=message) as info:
        _instruct(world, case, days=days, text=text)
    assert info.value.field == field


def test_due_today_is_allowed_and_target_must_be_a_case_unit(world: World, register: Any) -> None:
    case = _assigned(world, register)
    assert _instruct(world, case, days=0).due_on == _today()
    with pytest.raises(DomainError, match="批示只能交「东湖街道」或「区信访局」落实") as info:
        _instruct(world, case, target_unit=world.sibling)
    assert info.value.field == "target_unit"
    assert _instruct(world, case, target_unit=world.office).target_unit == world.office


def test_report_by_target_unit_only(world: World, register: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case)
    for user in (world.alice, world.bob, world.leo):
        with pytest.raises(PermissionDenied, match="东湖街道"):
            S.instruction_report(ins=ins, by=user, text="已处理")
    with pytest.raises(DomainError, match="请填写落实情况") as info:
        S.instruction_report(ins=ins, by=world.hank, text=" ")
    assert info.value.field == "text"
    S.instruction_report(ins=ins, by=world.hank, text="已约谈物业公司，暂停涨价。")
    ins.refresh_from_db()
    assert ins.state == St.REPORTED and ins.reported_by == world.hank
    with pytest.raises(DomainError, match="已报告，不能再报告"):
        S.instruction_report(ins=ins, by=world.uma, text="再报告一次")
    ev = CaseEvent.objects.get(case=case, kind="instruction_report")
    assert ev.actor_unit == world.street and ev.data["instruction_id"] == ins.pk


def test_stale_report_loses(world: World, register: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case)
    stale = Instruction.objects.get(pk=ins.pk)
    S.instruction_report(ins=ins, by=world.hank, text="已处理完毕")
    with pytest.raises(ConcurrentChange, match="刚被他人处理"):
        S.instruction_report(ins=stale, by=world.uma, text="也处理了")
    assert CaseEvent.objects.filter(kind="instruction_report").count() == 1


def test_close_and_send_back(world: World, register: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case)
    with pytest.raises(DomainError, match="须在承办单位报告落实情况后办结"):
        S.instruction_close(ins=ins, by=world.leo)
    S.instruction_report(ins=ins, by=world.hank, text="初步处理")
    with pytest.raises(PermissionDenied, match="只有作出批示的领导"):
        S.instruction_close(ins=ins, by=world.alice)
    with pytest.raises(DomainError, match="请填写退回意见"):
        S.instruction_send_back(ins=ins, by=world.leo, note="")
    with pytest.raises(DomainError, match="新的落实期限不能早于今天"):
        S.instruction_send_back(
            ins=ins, by=world.leo, note="不具体", due_on=_today() - dt.timedelta(days=1)
        )
    new_due = _today() + dt.timedelta(days=20)
    S.instruction_send_back(ins=ins, by=world.leo, note="报告不具体，请补充。", due_on=new_due)
    ins.refresh_from_db()
    assert (ins.state, ins.due_on, ins.returned_count) == (St.OPEN, new_due, 1)
    S.instruction_report(ins=ins, by=world.uma, text="已补充：物业费恢复原标准。")
    # another leader of the same unit may accept the report
    lena = make_user("lena", world.district, R.LEADER, "莉娜")
    S.instruction_close(ins=ins, by=lena, note="同意")
    ins.refresh_from_db()
    assert ins.state == St.CLOSED and ins.closed_by == lena and ins.close_note == "同意"
    kinds = list(
        CaseEvent.objects.filter(case=case, kind__startswith="instruct")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "instruct",
        "instruction_report",
        "instruction_return",
        "instruction_report",
        "instruction_close",
    ]


def test_event_kinds_labelled_and_not_public() -> None:
    for kind in (
        "instruct",
        "instruction_report",
        "instruction_close",
        "instruction_return",
        "instruction_urge",
    ):
        assert kind in EVENT_LABELS and kind not in PUBLIC_EVENT_KINDS


# --- notifications ----------------------------------------------------------------------


def test_instruct_notifies_target_unit_staff_by_email(
    world: World, register: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = _assigned(world, register)
    with django_capture_on_commit_callbacks(execute=True):
        ins = _instruct(world, case)
    rows = Notification.objects.filter(kind="instruction")
    assert {n.recipient.username for n in rows} == {"hank", "uma"}
    assert all(n.dedupe_key == f"instruction:{ins.pk}" and n.case == case for n in rows)
    assert "请于" in rows[0].title and case.number in rows[0].title
    S.instruction_report(ins=ins, by=world.hank, text="已处理")
    got = Notification.objects.get(kind="instruction_report")
    assert got.recipient == world.leo


def test_accused_staff_are_not_notified(world: World, register: Any) -> None:
    case = register(
        purpose="accusation",
        summary="检举区领导",
        accused_person_ids=[world.leo.pk],
    )
    CS.case_assign(case=case, by=world.alice, unit=world.street)
    case = Case.objects.select_related("office_unit", "handling_unit").get(pk=case.pk)
    lena = make_user("lena", world.district, R.LEADER, "莉娜")
    # leo is accused: he cannot see, so cannot instruct
    with pytest.raises(PermissionDenied):
        _instruct(world, case, by=world.leo)
    ins = _instruct(world, case, by=lena)
    S.instruction_report(ins=ins, by=world.hank, text="已查实")
    assert not Notification.objects.filter(recipient=world.leo).exists()
    assert not S.instructions_visible_to(world.leo).filter(pk=ins.pk).exists()
    r = _client(world.leo).get("/instructions/")
    assert case.number not in r.content.decode()
    assert token_client(world.leo).get(f"/instructions/{ins.pk}").status_code == 404


# --- sweep ------------------------------------------------------------------------------


def test_sweep_stages_and_idempotency(world: World, register: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case, days=0)  # due today
    closed = _instruct(world, case, days=0)
    S.instruction_report(ins=closed, by=world.hank, text="已办")
    due = ins.due_on
    assert S.instructions_sweep(due) == 0  # not late yet
    assert S.instructions_sweep(due + dt.timedelta(days=1)) == 1
    assert S.instructions_sweep(due + dt.timedelta(days=1)) == 0  # idempotent
    assert S.instructions_sweep(due + dt.timedelta(days=3)) == 0  # between stages
    assert S.instructions_sweep(due + dt.timedelta(days=7)) == 1
    assert S.instructions_sweep(due + dt.timedelta(days=30)) == 0  # past the last stage
    urges = list(InstructionUrge.objects.filter(instruction=ins).order_by("stage"))
    assert [(u.stage, u.days_overdue) for u in urges] == [(1, 1), (7, 7)]
    events = list(CaseEvent.objects.filter(kind="instruction_urge").order_by("id"))
    assert len(events) == 2 and events[0].actor is None
    assert events[1].data == {
        "instruction_id": ins.pk,
        "due_on": due.isoformat(),
        "unit_id": world.street.pk,
        "unit": "东湖街道",
        "days_overdue": 7,
        "stage": 7,
    }
    assert urges[1].event == events[1]
    notified = Notification.objects.filter(kind="instruction_urge")
    # the unit head and the leader, once per stage
    assert sorted(notified.values_list("recipient__username", flat=True)) == [
        "leo",
        "leo",
        "uma",
        "uma",
    ]
    assert not InstructionUrge.objects.filter(instruction=closed).exists()


def test_sweep_late_first_run_issues_the_reached_stage_only(
    world: World, register: Any, settings: Any
) -> None:
    settings.INSTRUCTION_URGE_STAGES = [1, 7, 15]
    case = _assigned(world, register)
    ins = _instruct(world, case, days=0)
    assert S.instructions_sweep(ins.due_on + dt.timedelta(days=10)) == 1
    assert list(InstructionUrge.objects.values_list("stage", flat=True)) == [7]
    assert S.instructions_sweep(ins.due_on + dt.timedelta(days=15)) == 1
    assert S.instructions_sweep(ins.due_on + dt.timedelta(days=16)) == 0


def test_sweep_command_and_task(world: World, register: Any, capsys: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case, days=0)
    day = (ins.due_on + dt.timedelta(days=2)).isoformat()
    call_command("instructions_sweep", "--date", day)
    assert "新发催办单 1 份" in capsys.readouterr().out
    call_command("instructions_sweep", "--date", day)
    assert "新发催办单 0 份" in capsys.readouterr().out
    from xinfang.instructions.tasks import instructions_sweep_task

    assert instructions_sweep_task.call(day) == "issued 0"
    assert InstructionUrge.objects.count() == 1


# --- dashboard and list -----------------------------------------------------------------


def test_leader_home_lists_own_instructions_by_urgency(world: World, register: Any) -> None:
    a = _assigned(world, register, summary="第一件")
    b = _assigned(world, register, summary="第二件")
    c = _assigned(world, register, summary="第三件")
    late = _instruct(world, a, days=0)
    Instruction.objects.filter(pk=late.pk).update(due_on=_today() - dt.timedelta(days=3))
    soon = _instruct(world, b, days=5)
    reported = _instruct(world, c, days=2)
    S.instruction_report(ins=reported, by=world.hank, text="已办")
    done = _instruct(world, c, days=2)
    S.instruction_report(ins=done, by=world.hank, text="已办")
    S.instruction_close(ins=done, by=world.leo)
    html = _client(world.leo).get("/").content.decode()
    assert "我的批示" in html and "超期 3 天" in html and "已报告" in html and "待落实" in html
    assert "超期 1 件" in html
    pos = [html.index(x.case.number + "</a>") for x in (late, soon, reported)]
    assert pos == sorted(pos)
    assert html.count('#instructions">') == 3  # the closed one is not on the dashboard


def test_unit_staff_home_and_list(world: World, register: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case)
    html = _client(world.hank).get("/").content.decode()
    assert "待落实的领导批示" in html and case.number in html
    assert "待落实的领导批示" not in _client(world.bob).get("/").content.decode()
    listing = _client(world.hank).get("/instructions/").content.decode()
    assert case.number in listing and "请东湖街道尽快核实" in listing
    assert case.number not in _client(world.bob).get("/instructions/").content.decode()
    assert _client(world.sam).get("/instructions/").status_code == 404
    # the office sees it (its case), but an instruction to the office is not the street's
    to_office = _instruct(world, case, target_unit=world.office, text="请信访局督促落实")
    assert "请信访局督促落实" in _client(world.alice).get("/instructions/").content.decode()
    assert "请信访局督促落实" not in _client(world.hank).get("/instructions/").content.decode()
    assert ins.pk != to_office.pk


def test_list_filters_search_and_pages(world: World, register: Any) -> None:
    case = _assigned(world, register)
    for i in range(32):
        _instruct(world, case, text=f"第{i}号批示内容", days=i % 5)
    late = Instruction.objects.order_by("id").first()
    assert late is not None
    Instruction.objects.filter(pk=late.pk).update(due_on=_today() - dt.timedelta(days=2))
    c = _client(world.leo)
    page1 = c.get("/instructions/").content.decode()
    assert "共 32 件" in page1 and "第 1 / 2 页" in page1
    assert page1.index("超期 2 天") < page1.index('dl-due_soon">待落实')
    page2 = c.get("/instructions/", {"page": 2}).content.decode()
    assert "第 2 / 2 页" in page2 and page2.count('<td class="nowrap"><span class="dl dl-') == 2
    assert "共 1 件" in c.get("/instructions/", {"state": "overdue"}).content.decode()
    assert "共 0 件" in c.get("/instructions/", {"state": "reported"}).content.decode()
    assert "共 1 件" in c.get("/instructions/", {"q": "第17号"}).content.decode()
    assert "共 0 件" in c.get("/instructions/", {"unit": world.sibling.pk}).content.decode()
    partial = c.get("/instructions/", {"q": "第1"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "共 11 件" in partial.content.decode()


# --- case page panel --------------------------------------------------------------------


def test_case_panel_forms_by_role(world: World, register: Any) -> None:
    case = _assigned(world, register)
    url = f"/cases/{case.pk}/"
    leo_page = _client(world.leo).get(url).content.decode()
    assert "作出批示" in leo_page
    assert "作出批示" not in _client(world.hank).get(url).content.decode()
    r = _client(world.leo).post(
        f"/instructions/case/{case.pk}/new",
        {"ins-text": "请尽快处理", "ins-due_on": "2000-01-01", "ins-target_unit": world.street.pk},
        headers={"HX-Request": "true"},
    )
    body = r.content.decode()
    assert "落实期限不能早于今天" in body and "请尽快处理" in body  # the typed text kept
    due = (_today() + dt.timedelta(days=7)).isoformat()
    r = _client(world.leo).post(
        f"/instructions/case/{case.pk}/new",
        {"ins-text": "请尽快处理", "ins-due_on": due, "ins-target_unit": world.street.pk},
        headers={"HX-Request": "true"},
    )
    assert "已批示" in r.content.decode()
    ins = Instruction.objects.get()
    hank_page = _client(world.hank).get(url).content.decode()
    assert "报告落实情况" in hank_page and "请尽快处理" in hank_page
    r = _client(world.hank).post(
        f"/instructions/{ins.pk}/report", {f"r{ins.pk}-text": "x"}, headers={"HX-Request": "1"}
    )
    assert "请填写落实情况" in r.content.decode()
    r = _client(world.hank).post(
        f"/instructions/{ins.pk}/report",
        {f"r{ins.pk}-text": "已落实到位"},
        headers={"HX-Request": "1"},
    )
    assert "已报告批示落实情况" in r.content.decode()
    r = _client(world.leo).post(
        f"/instructions/{ins.pk}/close", {f"c{ins.pk}-decision": "close", f"c{ins.pk}-note": "好"}
    )
    assert r.status_code == 302
    ins.refresh_from_db()
    assert ins.state == St.CLOSED
    timeline = _client(world.leo).get(url).content.decode()
    assert "领导批示" in timeline and "批示落实报告" in timeline and "批示办结" in timeline


def test_panel_posts_are_scoped(world: World, register: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case)
    # bob cannot see the case: 404 on every path
    assert _client(world.bob).post(f"/instructions/case/{case.pk}/new", {}).status_code == 404
    r = _client(world.bob).post(f"/instructions/{ins.pk}/report", {f"r{ins.pk}-text": "已办"})
    assert r.status_code == 404
    # alice sees it, but may not report for 东湖街道
    r = _client(world.alice).post(
        f"/instructions/{ins.pk}/report",
        {f"r{ins.pk}-text": "代为报告"},
        headers={"HX-Request": "1"},
    )
    assert "只有「东湖街道」的工作人员可以报告" in r.content.decode()
    ins.refresh_from_db()
    assert ins.state == St.OPEN


def test_double_submit_instructs_once(world: World, register: Any) -> None:
    case = _assigned(world, register)
    data = {
        "ins-text": "请尽快处理",
        "ins-due_on": (_today() + dt.timedelta(days=3)).isoformat(),
        "ins-target_unit": world.street.pk,
        "idempotency_key": "k" * 32,
    }
    c = _client(world.leo)
    c.post(f"/instructions/case/{case.pk}/new", data, headers={"HX-Request": "1"})
    r = c.post(f"/instructions/case/{case.pk}/new", data, headers={"HX-Request": "1"})
    assert "未重复批示" in r.content.decode()
    assert Instruction.objects.count() == 1


# --- API --------------------------------------------------------------------------------


def test_api_create_report_close(world: World, register: Any) -> None:
    case = _assigned(world, register)
    leo, hank = token_client(world.leo), token_client(world.hank)
    due = (_today() + dt.timedelta(days=5)).isoformat()
    r = leo.post(f"/cases/{case.pk}/instructions", {"text": "请处理", "due_on": "2000-01-01"})
    assert r.status_code == 400 and r.json()["field"] == "due_on"
    r = leo.post(
        f"/cases/{case.pk}/instructions",
        {"text": "请处理", "due_on": due, "target_unit_id": world.sibling.pk},
    )
    assert r.status_code == 400 and r.json()["field"] == "target_unit_id"
    r = hank.post(f"/cases/{case.pk}/instructions", {"text": "请处理", "due_on": due})
    assert r.status_code == 403
    r = leo.post(f"/cases/{case.pk}/instructions", {"text": "请处理", "due_on": due})
    assert r.status_code == 201, r.content
    got = r.json()
    assert got["state"] == "open" and got["unit"] == "东湖街道" and got["state_label"] == "待落实"
    iid = got["id"]
    assert leo.post(f"/instructions/{iid}/close", {}).status_code == 400
    assert leo.post(f"/instructions/{iid}/report", {"text": "领导代报"}).status_code == 403
    r = hank.post(f"/instructions/{iid}/report", {"text": "已处理"})
    assert r.status_code == 200 and r.json()["state"] == "reported"
    assert r.json()["reported_by"] == "韩克"
    r = leo.post(f"/instructions/{iid}/send_back", {"note": "请补充"})
    assert r.status_code == 200 and r.json()["state"] == "open"
    hank.post(f"/instructions/{iid}/report", {"text": "已补充"})
    r = leo.post(f"/instructions/{iid}/close", {"note": "同意"})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    listing = hank.get("/instructions", state="closed").json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == iid
    assert hank.get("/instructions", state="bogus").status_code == 400


def test_api_scoping(world: World, register: Any) -> None:
    case = _assigned(world, register)
    ins = _instruct(world, case)
    to_office = _instruct(world, case, target_unit=world.office)
    bob, hank = token_client(world.bob), token_client(world.hank)
    assert bob.get(f"/instructions/{ins.pk}").status_code == 404
    assert bob.post(f"/instructions/{ins.pk}/report", {"text": "已办"}).status_code == 404
    assert (
        bob.post(
            f"/cases/{case.pk}/instructions", {"text": "x批示", "due_on": _today().isoformat()}
        ).status_code
        == 404
    )
    assert bob.get("/instructions").json()["count"] == 0
    # the street sees its own instruction, not the one addressed to the office
    assert hank.get(f"/instructions/{to_office.pk}").status_code == 404
    assert [i["id"] for i in hank.get("/instructions").json()["items"]] == [ins.pk]
    overdue = token_client(world.leo).get("/instructions", state="overdue").json()
    assert overdue["count"] == 0
