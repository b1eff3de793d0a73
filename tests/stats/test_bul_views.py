"""通报 pages and API: who may read, issue and reissue; the files; errors keep the input."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from tests.api.conftest import token_client
from xinfang.audit.models import AuditEntry
from xinfang.stats.bulletins import issue_bulletin
from xinfang.stats.models import Bulletin
from xinfang.stats.periods import Period

from .factory import at, bulk_cases

MARCH = Period.month(2026, 3)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def run_tasks(settings: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Queued tasks run inline when the request's transaction commits (as a worker would)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def issued(world: Any) -> Bulletin:
    bulk_cases(world, [(4, {"received_at": at("2026-03-05")}), (2, {"channel": "letter"})])
    return issue_bulletin("monthly", world.district, MARCH, world.alice)


def test_list_readers_and_non_readers(
    world: Any, issued: Bulletin, django_assert_max_num_queries: Any
) -> None:
    leo = _client(world.leo)
    with django_assert_max_num_queries(12):
        r = leo.get("/stats/bulletins/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "2026年第1期" in body and "生成通报" in body
    for user in (world.hank, world.bob):
        assert _client(user).get("/stats/bulletins/").status_code == 404
    assert Client().get("/stats/bulletins/").status_code == 302
    # uma reads the street's bulletins only, and may not issue
    uma = _client(world.uma)
    r = uma.get("/stats/bulletins/")
    assert r.status_code == 200 and "2026年第1期" not in r.content.decode()
    assert "生成通报" not in r.content.decode()
    # filters
    assert "2026年第1期" not in leo.get("/stats/bulletins/?kind=weekly").content.decode()
    assert "2026年第1期" in leo.get("/stats/bulletins/?year=2026&kind=monthly").content.decode()


def test_query_count_does_not_grow(
    world: Any, issued: Bulletin, django_assert_max_num_queries: Any
) -> None:
    for m in (1, 2):
        issue_bulletin("monthly", world.district, Period.month(2026, m))
    leo = _client(world.leo)
    with django_assert_max_num_queries(12):
        assert leo.get("/stats/bulletins/").status_code == 200


def test_issue_form_creates_then_returns_existing(world: Any, run_tasks: Any) -> None:
    bulk_cases(world, [(3, {"received_at": at("2026-03-05")})])
    alice = _client(world.alice)
    form = {"kind": "monthly", "month": "2026-03", "week": "", "unit": world.district.pk}
    with run_tasks():
        r = alice.post("/stats/bulletins/", form)
    b = Bulletin.objects.get()
    assert b.state == "ready" and b.number == "2026年第1期" and b.created_by == world.alice
    assert r.status_code == 302 and r["Location"] == f"/stats/bulletins/{b.pk}/"
    page = alice.get(r["Location"]).content.decode()
    assert "今年3月份" not in page or "示范区共接待群众来访3批（次）" in page
    assert "示范区共接待群众来访3批（次）、3人（次）" in page
    r = alice.post("/stats/bulletins/", form, follow=True)
    assert Bulletin.objects.count() == 1 and "未重复生成" in r.content.decode()
    # weekly by ISO week
    with run_tasks():
        r = alice.post("/stats/bulletins/", {**form, "kind": "weekly", "week": "2026-W10"})
    w = Bulletin.objects.get(kind="weekly")
    assert (w.period_start, w.period_end) == (dt.date(2026, 3, 2), dt.date(2026, 3, 8))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"month": ""}, "请选择月份，格式如 2026-03"),
        ({"month": "2026-13"}, "请选择月份，格式如 2026-03"),
        ({"kind": "weekly", "week": "2026-W99"}, "请选择周次，格式如 2026-W12"),
        ({"month": "2099-01"}, "该月尚未结束"),
    ],
)
def test_issue_form_errors_keep_input(world: Any, fields: dict[str, str], message: str) -> None:
    form = {"kind": "monthly", "month": "2026-03", "week": "", "unit": world.district.pk, **fields}
    r = _client(world.alice).post("/stats/bulletins/", form)
    assert r.status_code == 400
    body = r.content.decode()
    assert message in body
    if fields.get("month"):
        assert f'value="{fields["month"]}"' in body
    assert not Bulletin.objects.exists()


def test_issue_refused_outside_scope_or_role(world: Any) -> None:
    form = {"kind": "monthly", "month": "2026-03", "unit": world.district.pk}
    assert _client(world.uma).post("/stats/bulletins/", form).status_code == 404
    assert _client(world.hank).post("/stats/bulletins/", form).status_code == 404
    assert not Bulletin.objects.exists()


def test_detail_files_and_audit(world: Any, issued: Bulletin) -> None:
    leo = _client(world.leo)
    page = leo.get(f"/stats/bulletins/{issued.pk}/").content.decode()
    assert "示范区信访工作月通报" in page and "按当前数据重新生成" in page
    assert page.count('<img src="data:image/svg+xml;base64,') == 3  # CSP: no inline SVG styles
    before = AuditEntry.objects.filter(action="export").count()
    for fmt, ctype, magic in (
        ("pdf", "application/pdf", b"%PDF"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ):
        r = leo.get(f"/stats/bulletins/{issued.pk}/{fmt}/")
        assert r.status_code == 200 and r["Content-Type"] == ctype
        assert r.content.startswith(magic)
        name = quote(f"示范区信访工作月通报（2026年第1期）.{fmt}", safe="")
        assert f"filename*=UTF-8''{name}" in r["Content-Disposition"]
    assert leo.get(f"/stats/bulletins/{issued.pk}/txt/").status_code == 404
    entries = AuditEntry.objects.filter(action="export").order_by("-id")
    assert entries.count() == before + 3
    assert "下载通报2026年第1期" in entries[0].summary
    # outside the scope: 404 for the page and the files
    uma = _client(world.uma)
    assert uma.get(f"/stats/bulletins/{issued.pk}/").status_code == 404
    assert uma.get(f"/stats/bulletins/{issued.pk}/pdf/").status_code == 404
    assert AuditEntry.objects.filter(action="export").count() == before + 3


def test_reissue_page_shows_difference(world: Any, issued: Bulletin, run_tasks: Any) -> None:
    from xinfang.cases.models import Case
    from xinfang.stats import rollup

    alice = _client(world.alice)
    assert alice.get(f"/stats/bulletins/{issued.pk}/reissue/").status_code == 405
    assert _client(world.uma).post(f"/stats/bulletins/{issued.pk}/reissue/").status_code == 404
    case = Case.objects.filter(channel="visit").first()
    assert case is not None
    Case.objects.filter(pk=case.pk).update(channel="phone")
    rollup.refresh(case.pk)
    with run_tasks():
        r = alice.post(f"/stats/bulletins/{issued.pk}/reissue/")
    new = Bulletin.objects.exclude(pk=issued.pk).get()
    assert r["Location"] == f"/stats/bulletins/{new.pk}/"
    page = alice.get(r["Location"]).content.decode()
    assert "与原通报相比" in page and "信访渠道/来访/批次" in page
    old_page = alice.get(f"/stats/bulletins/{issued.pk}/").content.decode()
    assert "本通报已被更正版取代" in old_page and "按当前数据重新生成" not in old_page
    r = alice.post(f"/stats/bulletins/{issued.pk}/reissue/", follow=True)
    assert "该通报已有更新的版本" in r.content.decode()


# --- API -------------------------------------------------------------------------------------


def test_api_list_detail_file(world: Any, issued: Bulletin) -> None:
    api = token_client(world.leo)
    r = api.get("/stats/bulletins")
    assert r.status_code == 200 and r.json()["count"] == 1
    item = r.json()["items"][0]
    assert item["number"] == "2026年第1期" and item["files"]["pdf"].endswith("/pdf")
    d = api.get(f"/stats/bulletins/{issued.pk}").json()
    assert d["figures"]["totals"] == {"batches": 6, "persons": 6}
    f = api.client.get(f"/api/stats/bulletins/{issued.pk}/xlsx")
    assert f.status_code == 200 and f.content.startswith(b"PK")
    assert api.get("/stats/bulletins", kind="daily").status_code == 400
    assert token_client(world.uma).get(f"/stats/bulletins/{issued.pk}").status_code == 404
    assert token_client(world.hank).get("/stats/bulletins").json()["count"] == 0


def test_api_issue_and_reissue(world: Any, run_tasks: Any) -> None:
    bulk_cases(world, [(2, {"received_at": at("2026-03-05")})])
    api = token_client(world.alice)
    body = {"kind": "monthly", "month": "2026-03", "unit_id": world.district.pk}
    with run_tasks():
        r = api.post("/stats/bulletins", body)
    assert r.status_code == 202, r.content
    assert r.json()["state"] == "pending" and r.json()["step"] == "排队等待"
    pk = r.json()["id"]
    d = api.get(f"/stats/bulletins/{pk}").json()
    assert d["state"] == "ready" and d["number"] == "2026年第1期" and d["step"] == ""
    r = api.post("/stats/bulletins", body)
    assert r.status_code == 200 and r.json()["id"] == pk
    bad = api.post("/stats/bulletins", {**body, "month": "03/2026"})
    assert bad.status_code == 400 and bad.json()["field"] == "month"
    assert token_client(world.uma).post("/stats/bulletins", body).status_code == 404
    street = {**body, "unit_id": world.street.pk}
    assert token_client(world.uma).post("/stats/bulletins", street).status_code == 403
    with run_tasks():
        r = api.post(f"/stats/bulletins/{pk}/reissue")
    assert r.status_code == 202 and r.json()["replaces_id"] == pk
    d = api.get(f"/stats/bulletins/{r.json()['id']}").json()
    assert d["state"] == "ready" and d["number"] == "2026年第1期" and d["diff"] == []
    assert api.post(f"/stats/bulletins/{pk}/reissue").status_code == 400


def test_request_is_queued_with_progress_and_never_doubled(world: Any) -> None:
    """Without a worker the request waits: the page shows its step and polls; a second click
    (or a colleague) gets the same request; the worker's run turns it into the bulletin and the
    poll then reloads the page; a request whose worker died stops blocking after 30 minutes."""
    from django.utils import timezone

    from xinfang.stats.bulletins import PENDING_TIMEOUT, generate_pending

    bulk_cases(world, [(3, {"received_at": at("2026-03-05")})])
    alice = _client(world.alice)
    form = {"kind": "monthly", "month": "2026-03", "week": "", "unit": world.district.pk}
    r = alice.post("/stats/bulletins/", form, follow=True)
    b = Bulletin.objects.get()
    assert b.state == "pending" and b.number == "" and b.step == "排队等待"
    page = r.content.decode()
    assert "已提交生成月通报" in page and "正在生成通报" in page
    assert f'hx-get="/stats/bulletins/{b.pk}/progress/"' in page and "排队等待" in page
    assert "下载：" not in page
    for user in (world.leo, world.alice):  # a colleague, then a second click
        r = _client(user).post("/stats/bulletins/", form, follow=True)
        assert "该期通报正在生成，未重复提交" in r.content.decode()
    assert Bulletin.objects.count() == 1
    api = token_client(world.alice)
    body = {"kind": "monthly", "month": "2026-03", "unit_id": world.district.pk}
    r = api.post("/stats/bulletins", body)
    assert r.status_code == 202 and r.json()["id"] == b.pk
    progress = alice.get(f"/stats/bulletins/{b.pk}/progress/", HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and "排队等待" in progress.content.decode()
    assert _client(world.uma).get(f"/stats/bulletins/{b.pk}/progress/").status_code == 404

    done = generate_pending(b.pk)
    assert done is not None and done.pk == b.pk
    b.refresh_from_db()
    assert b.state == "ready" and b.number == "2026年第1期" and b.step == "" and b.pdf
    assert b.created_by == world.alice
    progress = alice.get(f"/stats/bulletins/{b.pk}/progress/", HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true"
    assert "下载：" in alice.get(f"/stats/bulletins/{b.pk}/").content.decode()
    assert generate_pending(b.pk) == b  # a second run of the task changes nothing
    assert Bulletin.objects.count() == 1

    # a reissue request whose worker died: after PENDING_TIMEOUT a new click queues a new one
    r = alice.post(f"/stats/bulletins/{b.pk}/reissue/")
    stale = Bulletin.objects.get(state="pending")
    assert stale.replaces_id == b.pk and r["Location"] == f"/stats/bulletins/{stale.pk}/"
    r = alice.post(f"/stats/bulletins/{b.pk}/reissue/")
    assert Bulletin.objects.filter(state="pending").count() == 1
    Bulletin.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - PENDING_TIMEOUT - dt.timedelta(minutes=1)
    )
    alice.post(f"/stats/bulletins/{b.pk}/reissue/")
    stale.refresh_from_db()
    assert stale.state == "failed" and "生成超时" in stale.error
    fresh = Bulletin.objects.get(state="pending")
    generate_pending(fresh.pk)
    fresh.refresh_from_db()
    assert fresh.state == "ready" and fresh.replaces_id == b.pk and fresh.number == b.number


def test_a_request_overtaken_by_the_sweep_points_to_the_issued(world: Any) -> None:
    """The daily sweep issues the period while a request waits: the request ends failed with the
    number of the issued bulletin; there is still one first edition."""
    from xinfang.stats.bulletins import generate_pending, request_bulletin

    bulk_cases(world, [(1, {"received_at": at("2026-03-05")})])
    req = request_bulletin("monthly", world.district, MARCH, world.alice)
    issued = issue_bulletin("monthly", world.district, MARCH)
    assert generate_pending(req.pk) == issued
    req.refresh_from_db()
    assert req.state == "failed" and "该期通报已生成（2026年第1期）" in req.error
    assert Bulletin.objects.filter(state="ready").count() == 1
