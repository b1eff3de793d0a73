"""SQLite durability settings are verified on every connection; /healthz reports the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from xinfang.core.db import sqlite_pragma_problems


def _sqlite(tmp_path, options):  # type: ignore[no-untyped-def]
    settings = dict(connection.settings_dict)
    settings.update(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "x.sqlite3"),
            "OPTIONS": options,
            "TEST": {},
        }
    )
    return DatabaseWrapper(settings, alias="pragma_check")


def test_production_settings_pass(tmp_path, db):
    from django.conf import settings as dj

    if dj.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the embedded default is SQLite; this run uses PostgreSQL")
    wrapper = _sqlite(tmp_path, dict(dj.DATABASES["default"]["OPTIONS"]))
    wrapper.ensure_connection()
    assert sqlite_pragma_problems(wrapper) == []
    wrapper.close()


def test_connection_without_wal_is_refused(tmp_path, db):
    wrapper = _sqlite(tmp_path, {"init_command": "PRAGMA synchronous=NORMAL;", "timeout": 5})
    with pytest.raises(ImproperlyConfigured) as info:
        wrapper.ensure_connection()
    message = str(info.value)
    assert "journal_mode" in message and "synchronous" in message
    wrapper.close()


def test_healthz_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["reasons"]) == ("ok", [])
    assert data["database"]["ok"] is True and data["database"]["vendor"] == connection.vendor
    # disk, migrations and latency: tests/durability/test_faults.py


def test_healthz_503_when_database_unreachable(client, db, monkeypatch):
    from django.db.utils import OperationalError

    def broken_cursor(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("connection refused")

    with monkeypatch.context() as m:
        m.setattr(connection, "cursor", broken_cursor)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
