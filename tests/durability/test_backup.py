"""Restore drill: build data, back up, restore into a fresh database in another process, and
compare counts, hashes, attachments and the audit chain — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from tests.conftest import World
from xinfang.audit.models import AuditEntry
from xinfang.audit.services import audit_record
from xinfang.cases import services as S
from xinfang.cases.attachments import attachment_add
from xinfang.cases.models import Attachment, Case
from xinfang.core import backup

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a process that uses a new, empty database (and media directory)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["XINFANG_ALLOW_DEV_SECRET"] = "1"
    env["XINFANG_MEDIA_ROOT"] = str(tmp_path / "restored-media")
    if connection.vendor == "sqlite":
        env["XINFANG_SQLITE_PATH"] = str(tmp_path / "restored.sqlite3")
        yield env
        return
    db = connection.settings_dict
    name = f"xf_restore_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env["DATABASE_URL"] = f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    try:
        yield env
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _build(world: World, register: Any) -> None:
    for i in range(3):
        case = register(summary=f"反映第{i}个问题：小区道路破损")
        attachment_add(
            case=case,
            by=world.rita,
            upload=SimpleUploadedFile(f"材料{i}.pdf", PDF + str(i).encode()),
        )
        S.case_add_note(case=case, by=world.rita, text=f"已电话联系信访人，第{i}次")
    S.case_assign(case=Case.objects.earliest("pk"), by=world.alice, unit=world.street)
    audit_record(action="login", actor=world.alice, summary="登录")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_drill(
    world: World, register: Any, media: Path, tmp_path: Path, fresh_database: dict[str, str]
) -> None:
    _build(world, register)
    assert AuditEntry.objects.exists()
    out = io.StringIO()
    call_command("backup", output=str(tmp_path / "backups"), stdout=out)
    folder = next((tmp_path / "backups").iterdir())
    manifest = backup.read_manifest(folder)
    assert manifest["tables"]["cases_case"]["rows"] == 3
    assert manifest["tables"]["cases_attachment"]["rows"] == 3
    assert len(manifest["media"]) == 3
    assert AuditEntry.objects.filter(action="backup").count() == 1  # audited after the copy

    restored = _manage(fresh_database, "restore", str(folder), "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "恢复完成" in restored.stdout
    assert "cases_case" in restored.stdout and "不一致" not in restored.stdout
    assert "审计链：校验通过" in restored.stdout
    files = list(Path(fresh_database["XINFANG_MEDIA_ROOT"]).rglob("*.pdf"))
    assert len(files) == 3
    assert {backup.sha256_file(f) for f in files} == set(
        Attachment.objects.values_list("sha256", flat=True)
    )

    # The restored database is no longer empty: a second restore is refused.
    again = _manage(fresh_database, "restore", str(folder), "--yes")
    assert again.returncode != 0 and "不是空库" in again.stderr


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_detects_a_changed_row_and_a_damaged_file(
    world: World, register: Any, media: Path, tmp_path: Path
) -> None:
    _build(world, register)
    folder = backup.backup(tmp_path / "backups")
    manifest = backup.read_manifest(folder)
    assert all(c.ok for c in backup.compare(manifest))
    Case.objects.filter(pk=Case.objects.first().pk).update(summary="被改动的摘要")  # type: ignore[union-attr]
    bad = [c.table for c in backup.compare(manifest) if not c.ok]
    assert bad == ["cases_case"]
    damaged = folder / next(iter(manifest["files"]))
    with damaged.open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\x00\xff\x00\xff")
    with pytest.raises(ValueError, match="已损坏"):
        backup.read_manifest(folder)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite file backup")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sqlite_backup_is_a_sound_database(
    world: World, register: Any, media: Path, tmp_path: Path
):
    _build(world, register)
    folder = backup.backup(tmp_path / "b")
    db = sqlite3.connect(str(folder / "db.sqlite3"))
    # CHECK constraints use REGEXP, which Django's SQLite backend provides.
    db.create_function("REGEXP", 2, lambda p, v: v is not None and re.search(p, str(v)) is not None)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM cases_case").fetchone()[0] == 3
    finally:
        db.close()


def test_restore_needs_yes(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path))


def test_hash_definition_is_stable(db: Any) -> None:
    import datetime as dt
    import decimal

    assert backup._canonical(
        dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    ) == ("2026-01-01T00:00:00+00:00")
    assert backup._canonical(decimal.Decimal("1.50")) == "1.5"
    assert backup._canonical(b"\x00") == "AA=="
    assert django_settings.MEDIA_ROOT
