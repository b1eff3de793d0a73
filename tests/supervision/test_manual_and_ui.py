"""A supervisor's manual 催办/督办 (service, panel, API), the /supervision/ page, "立即运行",
the management command and the background task."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests.conftest import World
from tests.supervision.conftest import assigned, set_dates
from xinfang.cases.models import CaseEvent, Deadline
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.notify.models import Notification
from xinfang.supervision import services as SS
from xinfang.supervision.models import EscalationRule, SupervisionStep, SweepRun
from xinfang.supervision.sweep import run_sweep

D = dt.date


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_supervisor_urges_a_case(sup: World, register: Any) -> None:
    case, dl = assigned(sup, register)
    ev = SS.case_supervise(case=case, by=sup.vera, stage="urge", note="请于本周内签收办理")  # type: ignore[attr-defined]
    assert ev.kind == "urge"
    assert ev.data["stage"] == "urge" and ev.data["deadline_id"] == dl.pk
    assert ev.data["unit"] == "东湖街道" and ev.data["manual"] is True
    assert set(ev.data["recipients"]) == {sup.hank.pk, sup.uma.pk}
    step = SupervisionStep.objects.get(event=ev)
    assert step.rule is None and step.by == sup.vera  # type: ignore[attr-defined]
    n = Notification.objects.get(recipient=sup.hank, case=case)
    assert "请于本周内签收办理" in n.body
    ev2 = SS.case_supervise(case=case, by=sup.vera, stage="supervise")  # type: ignore[attr-defined]
    assert set(ev2.data["recipients"]) == {sup.uma.pk, sup.leo.pk}


@pytest.mark.django_db
def test_only_supervisors_urge_and_only_open_cases(sup: World, register: Any) -> None:
    case, _ = assigned(sup, register)
    with pytest.raises(PermissionDenied, match="只有督查员"):
        SS.case_supervise(case=case, by=sup.alice, stage="urge")
    with pytest.raises(DomainError, match="请选择催办或督办") as err:
        SS.case_supervise(case=case, by=sup.vera, stage="escalate")  # type: ignore[attr-defined]
    assert err.value.field == "stage"
    with pytest.raises(DomainError, match="不能超过500字"):
        SS.case_supervise(case=case, by=sup.vera, stage="urge", note="字" * 501)  # type: ignore[attr-defined]
    case.status = "closed"
    with pytest.raises(DomainError, match="无需催办"):
        SS.case_supervise(case=case, by=sup.vera, stage="urge")  # type: ignore[attr-defined]
    assert not CaseEvent.objects.filter(kind="urge").exists()


@pytest.mark.django_db
def test_panel_button_and_page(sup: World, register: Any) -> None:
    case, dl = assigned(sup, register)
    vera = _client(sup.vera)  # type: ignore[attr-defined]
    page = vera.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "督查督办" in html and 'value="supervise"' in html
    r = vera.post(
        f"/supervision/case/{case.pk}/",
        {"stage": "supervise", "note": "限期办结"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    assert "已督办" in r.content.decode()
    assert CaseEvent.objects.filter(case=case, kind="supervise").count() == 1
    # the handler sees the panel (the step) but no buttons; another unit's case is a 404
    hank_page = _client(sup.hank).get(f"/cases/{case.pk}/").content.decode()
    assert "督查督办" in hank_page and 'value="supervise"' not in hank_page
    assert (
        _client(sup.bob).post(f"/supervision/case/{case.pk}/", {"stage": "urge"}).status_code == 404
    )
    r = _client(sup.alice).post(
        f"/supervision/case/{case.pk}/", {"stage": "urge"}, HTTP_HX_REQUEST="true"
    )
    assert "只有督查员" in r.content.decode()

    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    run_sweep(D(2031, 3, 1))
    for user in (sup.vera, sup.alice, sup.leo):  # type: ignore[attr-defined]
        r = _client(user).get("/supervision/")
        assert r.status_code == 200, user
        body = r.content.decode()
        assert case.number in body and "提级督办" in body and "督办规则" in body
    r = vera.get("/supervision/", {"stage": "escalate"})
    assert r.content.decode().count(case.number) == 1
    r = vera.get("/supervision/", {"min_overdue": "9999"})
    assert case.number not in r.content.decode()
    assert _client(sup.hank).get("/supervision/").status_code == 403
    assert "立即运行" in vera.get("/supervision/").content.decode()
    assert "立即运行" not in _client(sup.leo).get("/supervision/").content.decode()


@pytest.mark.django_db
def test_supervision_list_hides_cases_out_of_scope(sup: World, register: Any) -> None:
    from tests.conftest import make_user
    from xinfang.org import roles as R

    case, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    run_sweep(D(2031, 3, 1))
    outsider = make_user("otto", sup.sibling, R.SUPERVISOR, "奥托")
    body = _client(outsider).get("/supervision/").content.decode()
    assert case.number not in body


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_run_now_enqueues_and_the_worker_runs_it(
    sup: World, register: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _, dl = assigned(sup, register)
    Deadline.objects.filter(pk=dl.pk).update(due_on=dt.date.today() - dt.timedelta(days=30))
    vera = _client(sup.vera)  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):
        r = vera.post("/supervision/run/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert "已提交督办扫描" in r.content.decode() and "排队中" in r.content.decode()
    run = SweepRun.objects.get()
    assert run.requested_by == sup.vera and run.state == SweepRun.State.QUEUED  # type: ignore[attr-defined]
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "xinfang.supervision.tasks.sweep_deadlines"

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    queued.refresh_from_db()
    run.refresh_from_db()
    assert queued.status == "SUCCESSFUL", queued.exception_class_path
    assert run.state == SweepRun.State.DONE and run.created >= 3
    assert run.started_at and run.finished_at
    page = vera.get("/supervision/runs/").content.decode()
    assert "已完成" in page and "every 3s" not in page


@pytest.mark.django_db
def test_second_run_now_while_one_is_queued_is_refused(sup: World) -> None:
    SweepRun.objects.create(state=SweepRun.State.QUEUED)
    with pytest.raises(DomainError, match="正在排队中"):
        SS.request_sweep(by=sup.vera)  # type: ignore[attr-defined]
    with pytest.raises(PermissionDenied):
        SS.request_sweep(by=sup.hank)


@pytest.mark.django_db
def test_management_command_runs_inline(sup: World, register: Any, capsys: Any) -> None:
    _, dl = assigned(sup, register)
    set_dates(dl, started=D(2031, 1, 6), due=D(2031, 1, 15))
    call_command("supervision_sweep", "--today", "2031-03-01")
    assert "新增 5" in capsys.readouterr().out
    call_command("supervision_sweep", "--today", "2031-03-01")
    assert "新增 0" in capsys.readouterr().out


@pytest.mark.django_db
def test_api_supervise_and_runs(sup: World, register: Any) -> None:
    case, _ = assigned(sup, register)
    vera = _client(sup.vera)  # type: ignore[attr-defined]
    r = vera.post(
        f"/api/cases/{case.pk}/supervise",
        {"stage": "urge", "note": "请尽快签收"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["kind"] == "urge"
    r = vera.post(
        f"/api/cases/{case.pk}/supervise", {"stage": "x"}, content_type="application/json"
    )
    assert r.status_code == 400 and "请选择催办或督办" in r.json()["detail"]
    r = _client(sup.bob).post(
        f"/api/cases/{case.pk}/supervise", {"stage": "urge"}, content_type="application/json"
    )
    assert r.status_code == 404
    run_sweep(D(2031, 3, 1))
    r = vera.get("/api/supervision/runs")
    assert r.status_code == 200 and r.json()[0]["state"] == "done"
    assert _client(sup.hank).get("/api/supervision/runs").status_code == 403


@pytest.mark.django_db
def test_rule_validation_messages(sup: World) -> None:
    from django.core.exceptions import ValidationError

    rule = EscalationRule(code="x", name="x", stage="urge", kinds=["nope"], recipients=["office"])
    with pytest.raises(ValidationError, match="无效：nope"):
        rule.clean()
    rule = EscalationRule(code="x", name="x", stage="urge", kinds=["handle"], recipients=[])
    with pytest.raises(ValidationError, match="通知对象"):
        rule.clean()
