"""Issue 6's whole path as the people involved see it: the unit signs in late → the sweep's
签收提醒 reaches the handler's inbox → the handling deadline passes → 催办 and a 督办单 to the
unit head → the reply is drafted, approved, checked and served → the petitioner is 不满意 (an
office review task) → 复查 → 复核 → 终结; a new petition with the same facts is flagged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.e2e.conftest import login
from tests.e2e.test_replies_flow import draft_approve_check_serve
from xinfang.cases.models import Case, CaseEvent, Category, Deadline, DeadlineKind, Status
from xinfang.followup.models import OfficeTask
from xinfang.notify.models import Notification
from xinfang.supervision.models import EscalationRule
from xinfang.supervision.seed import seed_rules
from xinfang.supervision.sweep import run_sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _act(page: Any, code: str, fill: dict[str, str] | None = None) -> None:
    page.click(f"#action-{code} > summary")
    for selector, value in (fill or {}).items():
        if selector.startswith("select:"):
            page.select_option(selector[7:], value)
        elif selector.startswith("check:"):
            page.check(selector[6:])
        else:
            page.fill(selector, value)
    page.click(f"#action-{code} button[type=submit]")


def _backdate(case: Case, kind: str, *, started: dt.date, due: dt.date) -> None:
    Deadline.objects.filter(case=case, kind=kind, met_at__isnull=True).update(
        started_on=started, due_on=due
    )


def test_late_sign_in_to_final(page, live_server, world, register, shot):
    seed_rules(EscalationRule)  # a TransactionTestCase flush removes the migration's rows
    # The longest browser flow (eight logins): allow a loaded CI machine more than 10 s a step.
    page.set_default_timeout(30_000)
    today = timezone.localdate()
    category = Category.objects.filter(level=1).order_by("id").first()
    assert category is not None
    case = register(category_id=category.pk)
    url = f"{live_server.url}/cases/{case.pk}/"

    # 交办 through the page; the 交办单 is on the timeline.
    login(page, live_server, "alice")
    page.goto(url)
    _act(page, "assign", {"select:#id_a_assign-unit": str(world.street.pk)})
    page.wait_for_selector(".status-assigned")
    assert page.locator("text=交办单").count() >= 1

    # Nobody signs in for a week: the sweep reminds the unit.
    _backdate(
        case,
        DeadlineKind.ACCEPT,
        started=today - dt.timedelta(days=7),
        due=today + dt.timedelta(days=8),
    )
    run_sweep(today)
    run_sweep(today)  # idempotent: the second run sends nothing
    assert CaseEvent.objects.filter(case=case, kind="sign_in_remind").count() == 1
    assert (
        Notification.objects.filter(recipient=world.hank, case=case).count() == 2
    )  # 交办 + 签收提醒

    login(page, live_server, "hank")
    page.goto(f"{live_server.url}/notify/")
    assert "签收提醒" in page.inner_text("main")
    shot("01-handler-inbox")
    page.goto(url)
    _act(page, "sign_in")
    page.wait_for_selector(".status-signed")
    _act(
        page,
        "accept",
        {"#id_a_accept-notice_text": "经审查，您反映的问题属于本单位职责范围，决定受理。"},
    )
    page.wait_for_selector(".status-accepted")

    # The handling deadline passes: 临期提醒, 催办 and 督办 (a 督办单 for the unit head).
    _backdate(
        case,
        DeadlineKind.HANDLE,
        started=today - dt.timedelta(days=70),
        due=today - dt.timedelta(days=10),
    )
    run_sweep(today)
    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert {"remind", "urge", "supervise"} <= kinds
    assert Notification.objects.filter(recipient=world.uma, case=case, kind="supervise").exists()

    login(page, live_server, "uma")
    page.goto(url)
    supervise_row = page.locator(".timeline li", has_text="督办").first
    supervise_row.locator("button:has-text('打印'), a:has-text('打印')").first.click()
    page.wait_for_selector("text=督办单")
    shot("02-supervision-notice")

    # The reply: drafted, approved, checked, served.
    draft_approve_check_serve(page, live_server, case)

    # The petitioner is not satisfied (told the desk by phone): an office review task.
    login(page, live_server, "rita")
    page.goto(url)
    _act(
        page,
        "evaluate",
        {
            "check:input[name='a_evaluate-evaluation'][value='unsatisfied']": "",
            "select:#id_a_evaluate-channel": "phone",
            "#id_a_evaluate-comment": "物业费仍未恢复原标准",
        },
    )
    page.wait_for_selector(".status-evaluated")
    assert OfficeTask.objects.filter(case=case, state="open").count() == 1

    # 复查 → 复核 → 终结.
    _act(page, "request_review", {"#id_a_request_review-reason": "对答复意见不服，请求复查。"})
    page.wait_for_selector(".status-review_requested")
    login(page, live_server, "alice")
    page.goto(url)
    parts = {
        "facts": "经复查，物业公司已按原标准收费，多收费用已退还。",
        "basis": "《物业管理条例》第七条、第十一条。",
        "decision": "维持原答复意见，物业费按原标准执行。",
    }
    _act(page, "decide_review", {f"#id_a_decide_review-{k}": v for k, v in parts.items()})
    page.wait_for_selector(".status-reviewed")
    login(page, live_server, "rita")
    page.goto(url)
    _act(
        page, "request_rereview", {"#id_a_request_rereview-reason": "对复查意见仍不服，请求复核。"}
    )
    page.wait_for_selector(".status-rereview_requested")
    login(page, live_server, "alice")
    page.goto(url)
    _act(page, "decide_rereview", {f"#id_a_decide_rereview-{k}": v for k, v in parts.items()})
    page.wait_for_selector(".status-final")
    shot("03-final")
    case.refresh_from_db()
    assert case.status == Status.FINAL
    rereview = CaseEvent.objects.get(case=case, kind="decide_rereview")
    assert "终结" in str(rereview.data["doc"])

    # The same person with the same matter again: flagged at registration.
    again = register(category_id=category.pk)
    assert again.related_to_id == case.pk and again.is_repeat
    assert CaseEvent.objects.filter(case=again, kind="final_repeat").exists()
    page.goto(f"{live_server.url}/cases/{again.pk}/")
    page.wait_for_selector("text=不再受理")
    shot("04-final-repeat-flagged")
