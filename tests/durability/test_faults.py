"""Database down and disk full answer 503 in Chinese with a log line — never a 500 traceback —
and leave nothing half-written; /healthz says why."""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import Client

from tests.api.conftest import token_client
from tests.conftest import World
from xinfang.cases import services as S
from xinfang.cases.models import Attachment, CaseEvent
from xinfang.core.models import IdempotencyRecord


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@contextmanager
def failing_writes(monkeypatch: Any, message: str, *, reads_too: bool = False) -> Iterator[None]:
    """Every INSERT/UPDATE (and with ``reads_too`` every statement) fails as the driver would."""
    real = CursorWrapper.execute

    def execute(self: Any, sql: str, params: Any = None) -> Any:
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if reads_too or verb in {"INSERT", "UPDATE", "DELETE"}:
            raise OperationalError(message)
        return real(self, sql, params)

    with monkeypatch.context() as m:
        m.setattr(CursorWrapper, "execute", execute)
        yield


def _assert_503(response: Any, text: str) -> str:
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.content.decode()
    assert text in body
    assert "Traceback" not in body and "OperationalError" not in body
    return body


def _log_line(caplog: Any, cause: str) -> str:
    lines = [r.getMessage() for r in caplog.records if r.name == "xinfang.faults"]
    assert any(cause in line for line in lines), lines
    assert all(r.levelno == logging.ERROR for r in caplog.records if r.name == "xinfang.faults")
    return lines[-1]


def _ready(world: World, register: Any) -> Any:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    return case


def test_form_post_when_disk_is_full(world: World, register: Any, monkeypatch: Any, caplog: Any):
    case = _ready(world, register)
    client = Client()
    client.force_login(world.hank)
    client.get(f"/cases/{case.pk}/")  # the session is loaded before the disk fills
    before = CaseEvent.objects.count()
    with failing_writes(monkeypatch, "database or disk is full"):
        response = client.post(
            f"/cases/{case.pk}/act/sign_in/", {"idempotency_key": "k1"}, follow=False
        )
    body = _assert_503(response, "系统暂时无法保存")
    assert "您填写的内容没有丢失" in body
    line = _log_line(caplog, "disk_full")
    assert f"/cases/{case.pk}/act/sign_in/" in line and "13812345678" not in line
    assert CaseEvent.objects.count() == before
    assert not IdempotencyRecord.objects.exists()
    # Space again: the same form, sent again, works once.
    assert (
        client.post(f"/cases/{case.pk}/act/sign_in/", {"idempotency_key": "k1"}).status_code == 200
    )
    assert CaseEvent.objects.filter(case=case, kind="sign_in").count() == 1


def test_htmx_post_when_database_is_down(
    world: World, register: Any, monkeypatch: Any, caplog: Any
):
    case = _ready(world, register)
    # Everything fails, the session store too (the answer then comes from handler500).
    client = Client(raise_request_exception=False)
    client.force_login(world.hank)
    with failing_writes(monkeypatch, "connection refused", reads_too=True):
        response = client.post(
            f"/cases/{case.pk}/note/",
            {"idempotency_key": "k2", "text": "已电话联系信访人"},
            headers={"HX-Request": "true"},
        )
    body = _assert_503(response, "数据库暂不可用")
    assert response["HX-Retarget"] == "#messages"  # shown above; the typed form stays
    assert "表单中的内容仍保留在页面上" in body
    assert "<html" not in body
    _log_line(caplog, "database_unavailable")
    assert not CaseEvent.objects.filter(kind="note").exists()


def test_api_post_when_database_is_locked(
    world: World, register: Any, monkeypatch: Any, caplog: Any
):
    case = _ready(world, register)
    hank = token_client(world.hank)
    with failing_writes(monkeypatch, "database is locked"):
        response = hank.client.post(
            f"/api/cases/{case.pk}/actions/sign_in",
            data="{}",
            content_type="application/json",
            headers={"Idempotency-Key": "k3"},
        )
    _assert_503(response, "数据库暂时无法写入")
    assert response.json()["code"] == "database_locked"
    _log_line(caplog, "database_locked")
    assert not CaseEvent.objects.filter(kind="sign_in").exists()
    assert not IdempotencyRecord.objects.exists()


def test_api_when_database_is_down_before_anything(
    world: World, register: Any, monkeypatch: Any, caplog: Any
):
    case = _ready(world, register)
    hank = token_client(world.hank)
    with failing_writes(monkeypatch, 'connection to server at "127.0.0.1" failed', reads_too=True):
        response = hank.client.post(
            f"/api/cases/{case.pk}/actions/sign_in", data="{}", content_type="application/json"
        )
        keyed = hank.client.post(
            f"/api/cases/{case.pk}/actions/sign_in",
            data="{}",
            content_type="application/json",
            headers={"Idempotency-Key": "k4"},
        )
    for r in (response, keyed):
        _assert_503(r, "数据库暂不可用")
        assert json.loads(r.content)["code"] == "database_unavailable"
    _log_line(caplog, "database_unavailable")


def _enospc(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_upload_when_disk_is_full_api_and_form(
    world: World, register: Any, monkeypatch: Any, caplog: Any, _media: Any
):
    case = register()
    rita = token_client(world.rita)
    monkeypatch.setattr(FileSystemStorage, "_save", _enospc)
    response = rita.client.post(
        f"/api/cases/{case.pk}/attachments",
        {"file": SimpleUploadedFile("材料.pdf", b"%PDF-1.4\n%%EOF\n")},
    )
    _assert_503(response, "存储空间不足")
    _log_line(caplog, "disk_full")
    assert not Attachment.objects.exists()
    assert not CaseEvent.objects.filter(kind="attachment").exists()


def test_registration_form_with_attachment_when_disk_is_full(
    world: World, monkeypatch: Any, caplog: Any
):
    from tests.conftest import register_form
    from xinfang.cases.models import Case

    client = Client()
    client.force_login(world.rita)
    monkeypatch.setattr(FileSystemStorage, "_save", _enospc)
    data = register_form("reg-disk", attachments=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"))
    response = client.post("/cases/new/", data)
    _assert_503(response, "存储空间不足")
    _log_line(caplog, "disk_full")
    assert not Attachment.objects.exists()
    # The case and its file are one submission: nothing of it is kept when the file fails.
    assert not Case.objects.exists(), "a case without its attachment was left behind"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own disk-full error")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_sqlite_disk_full(world: World, register: Any, caplog: Any):
    """``PRAGMA max_page_count`` makes SQLite itself answer "database or disk is full"."""
    case = _ready(world, register)
    hank = token_client(world.hank)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA max_page_count")
        limit = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
    try:
        big = "满" * 3000
        response = None
        for i in range(200):  # fill the last free pages, then the next write fails
            response = hank.client.post(
                f"/api/cases/{case.pk}/actions/note",
                data=json.dumps({"text": f"{i}{big}"}),
                content_type="application/json",
            )
            if response.status_code != 200:
                break
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA max_page_count = {limit}")
    assert response is not None
    _assert_503(response, "存储空间不足")
    _log_line(caplog, "disk_full")
    texts = CaseEvent.objects.filter(kind="note").values_list("text", flat=True)
    assert all(t.endswith(big) for t in texts)  # every stored note is whole


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_ok(db: Any, settings: Any) -> None:
    settings.HEALTH_MIN_FREE_BYTES = 1
    data = Client().get("/healthz").json()
    assert data["status"] == "ok", data
    assert data["database"]["reachable"] is True and data["database"]["latency_ms"] >= 0
    assert data["disk"]["media"]["free_bytes"] > 0
    assert data["migrations"] == {"ok": True, "pending": 0, "names": []}


def test_healthz_low_disk(db: Any, settings: Any) -> None:
    settings.HEALTH_MIN_FREE_BYTES = 1 << 62
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["磁盘空间不足"]
    assert response.json()["disk"]["media"]["low"] is True


def test_healthz_database_down(db: Any, settings: Any, monkeypatch: Any) -> None:
    settings.HEALTH_MIN_FREE_BYTES = 1
    with failing_writes(monkeypatch, "connection refused", reads_too=True):
        response = Client().get("/healthz")
    assert response.status_code == 503
    data = response.json()
    assert data["reasons"] == ["数据库不可用"]
    assert data["database"]["reachable"] is False
    assert data["database"]["cause"] == "database_unavailable"


def test_healthz_pending_migration(db: Any, settings: Any, monkeypatch: Any) -> None:
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.migration import Migration

    settings.HEALTH_MIN_FREE_BYTES = 1
    monkeypatch.setattr(
        MigrationExecutor,
        "migration_plan",
        lambda self, targets: [(Migration("0099_x", "cases"), False)],
    )
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["数据库结构未更新（有未执行的迁移）"]
    assert response.json()["migrations"]["names"] == ["cases.0099_x"]
