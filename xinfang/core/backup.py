"""Backups and restores that can be checked: a manifest of row counts and content hashes.

A backup is a directory ``xinfang-<UTC time>/`` holding

- ``db.sqlite3`` (SQLite's online backup API: a consistent copy while the server writes) or
  ``db.dump`` (``pg_dump -Fc`` of a snapshot exported by the transaction that also computes the
  manifest, so both describe the same instant);
- ``media.tar`` — the attachments under ``MEDIA_ROOT``;
- ``manifest.json`` — per table: rows and a SHA-256 over its rows in primary-key order (one
  canonical JSON line per row, the same definition on both databases), and the SHA-256 of each
  file above and of each attachment.

``restore`` loads them into an empty database, recomputes the counts and hashes from the restored
rows and compares them with the manifest, and walks the audit hash chain.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, models, transaction

MANIFEST = "manifest.json"
MEDIA_TAR = "media.tar"
FORMAT = 1
CHUNK = 2000


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value.normalize())
    if isinstance(value, bytes | memoryview | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def backed_up_models() -> list[type[models.Model]]:
    """Every table Django manages, many-to-many link tables included, by table name."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        found.setdefault(meta.db_table, model)
    return [found[name] for name in sorted(found)]


def table_digest(model: type[models.Model], using: str) -> tuple[int, str]:
    """Row count and SHA-256 over the rows in primary-key order."""
    names = [f.attname for f in model._meta.concrete_fields]
    digest = hashlib.sha256()
    count = 0
    rows = (
        model._base_manager.using(using)
        .order_by("pk")
        .values_list(*names)
        .iterator(chunk_size=CHUNK)
    )
    for row in rows:
        line = json.dumps(
            [_canonical(v) for v in row], ensure_ascii=False, sort_keys=True, default=str
        )
        digest.update(line.encode())
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()


def database_manifest(using: str = "default") -> dict[str, dict[str, Any]]:
    return {
        model._meta.db_table: dict(zip(("rows", "sha256"), table_digest(model, using), strict=True))
        for model in backed_up_models()
    }


def _walk_media(root: Path) -> Iterator[Path]:
    if not root.exists():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def media_checksums(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p) for p in _walk_media(root)}


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_copy(using: str, target: Path) -> None:
    """The online backup API from the live connection: consistent even while others write."""
    conn = connections[using]
    conn.ensure_connection()
    dst = sqlite3.connect(str(target))
    try:
        conn.connection.backup(dst)
    finally:
        dst.close()


@dataclass
class Snapshot:
    alias: str

    def close(self) -> None:
        connections[self.alias].close()
        del connections[self.alias]


def open_sqlite(path: Path, alias: str) -> Snapshot:
    """A Django connection (for the ORM's ``using(alias)``) on another SQLite file, made for
    this moment only: not a configured database."""
    default = connections["default"]
    config = dict(default.settings_dict)
    config["NAME"] = str(path)
    connections[alias] = type(default)(config, alias)
    return Snapshot(alias)


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore``: the newest under /usr/lib/postgresql, else from PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"找不到 {name}：请安装 postgresql-client（或 postgresql-15）")
    return found


def pg_args(using: str) -> tuple[list[str], dict[str, str]]:
    db = connections[using].settings_dict
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return [*args, "-d", str(db["NAME"])], env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{Path(cmd[0]).name} 失败（{result.returncode}）：{result.stderr[-500:]}"
        )


# --- backup ---------------------------------------------------------------------------------


def backup(output: Path, using: str = "default", now: dt.datetime | None = None) -> Path:
    """Write one backup directory under ``output``; returns its path."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M%S-%f")
    folder = output / f"xinfang-{stamp}"
    folder.mkdir(parents=True)
    conn = connections[using]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "vendor": conn.vendor,
        "files": {},
    }
    if conn.vendor == "sqlite":
        db_file = folder / "db.sqlite3"
        _sqlite_copy(using, db_file)
        snap = open_sqlite(db_file, f"backup-{stamp}")
        try:
            manifest["tables"] = database_manifest(snap.alias)
        finally:
            snap.close()
    elif conn.vendor == "postgresql":
        db_file = folder / "db.dump"
        args, env = pg_args(using)
        with transaction.atomic(using=using):
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot_id = cursor.fetchone()[0]
            dump = subprocess.Popen(
                [
                    pg_tool("pg_dump"),
                    "-Fc",
                    "--no-owner",
                    f"--snapshot={snapshot_id}",
                    "-f",
                    str(db_file),
                    *args,
                ],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                manifest["tables"] = database_manifest(using)
            finally:
                _, err = dump.communicate()
            if dump.returncode != 0:
                raise RuntimeError(f"pg_dump 失败（{dump.returncode}）：{err[-500:]}")
    else:  # pragma: no cover
        raise RuntimeError(f"不支持的数据库：{conn.vendor}")
    media_root = Path(settings.MEDIA_ROOT)
    media = media_checksums(media_root)
    with tarfile.open(folder / MEDIA_TAR, "w") as tar:
        for rel in media:
            tar.add(media_root / rel, arcname=rel, recursive=False)
    manifest["media"] = media
    manifest["files"] = {
        db_file.name: sha256_file(db_file),
        MEDIA_TAR: sha256_file(folder / MEDIA_TAR),
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
    )
    return folder


# --- restore --------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{folder} 不是备份目录（缺少 {MANIFEST}）")
    manifest: dict[str, Any] = json.loads(path.read_text())
    for name, expected in manifest["files"].items():
        actual = sha256_file(folder / name)
        if actual != expected:
            raise ValueError(
                f"备份文件 {name} 已损坏：校验值 {actual[:12]}… 与清单 {expected[:12]}… 不符"
            )
    return manifest


def database_is_empty(using: str = "default") -> bool:
    """No tables at all, or tables with no rows (a freshly migrated database)."""
    conn = connections[using]
    tables = set(conn.introspection.table_names())
    for model in backed_up_models():
        if model._meta.db_table in tables and model._base_manager.using(using).exists():
            if model._meta.db_table == "django_migrations":
                continue
            # Data migrations seed reference rows (roles, deadline rules): a database holding
            # nothing but those counts as empty only if no case, user or audit row exists.
            if model._meta.label_lower in SEEDED:
                continue
            return False
    return True


SEEDED = {
    "org.role",
    "cases.deadlinerule",
    "cases.category",
    "contenttypes.contenttype",
    "auth.permission",
    "audit.audithead",
}


def restore_database(folder: Path, manifest: dict[str, Any], using: str = "default") -> None:
    conn = connections[using]
    if manifest["vendor"] != conn.vendor:
        raise ValueError(f"备份来自 {manifest['vendor']}，当前数据库为 {conn.vendor}，无法直接恢复")
    if conn.vendor == "sqlite":
        target = Path(str(conn.settings_dict["NAME"]))
        conn.close()
        src = sqlite3.connect(str(folder / "db.sqlite3"))
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return
    args, env = pg_args(using)
    conn.close()
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--exit-on-error",
            "-1",
            *args,
            str(folder / "db.dump"),
        ],
        env,
    )


def restore_media(folder: Path, manifest: dict[str, Any]) -> None:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / MEDIA_TAR) as tar:
        tar.extractall(root, filter="data")


@dataclass
class Comparison:
    table: str
    expected_rows: int | None
    actual_rows: int | None
    same_hash: bool

    @property
    def ok(self) -> bool:
        return self.expected_rows == self.actual_rows and self.same_hash


def compare(manifest: dict[str, Any], using: str = "default") -> list[Comparison]:
    actual = database_manifest(using)
    expected = manifest["tables"]
    out = []
    for table in sorted(set(actual) | set(expected)):
        e, a = expected.get(table), actual.get(table)
        out.append(
            Comparison(
                table,
                e["rows"] if e else None,
                a["rows"] if a else None,
                bool(e and a and e["sha256"] == a["sha256"]),
            )
        )
    return out


def compare_media(manifest: dict[str, Any]) -> list[str]:
    """Attachments missing or different after the restore."""
    actual = media_checksums(Path(settings.MEDIA_ROOT))
    return [rel for rel, digest in manifest.get("media", {}).items() if actual.get(rel) != digest]


def verify_audit(using: str = "default") -> Any:
    from xinfang.audit.chain import GENESIS, verify
    from xinfang.audit.models import AuditEntry, AuditHead

    head = AuditHead.objects.using(using).filter(pk=1).values_list("seq", "hash").first()
    head_seq, head_hash = (int(head[0]), str(head[1])) if head else (0, GENESIS)
    rows = AuditEntry.objects.using(using).order_by("seq").iterator(chunk_size=CHUNK)
    return verify(rows, head_seq, head_hash)
