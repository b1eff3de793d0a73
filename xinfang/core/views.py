from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from xinfang.core import faults
from xinfang.core.db import database_status


def _existing(path: Path) -> Path:
    """statvfs needs an existing path: the nearest existing ancestor of ``path``."""
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_status() -> dict[str, Any]:
    """Free bytes where the data is written: the SQLite file's directory and MEDIA_ROOT."""
    threshold = int(getattr(settings, "HEALTH_MIN_FREE_BYTES", 0))
    places: dict[str, Path] = {"media": Path(settings.MEDIA_ROOT)}
    db = settings.DATABASES[DEFAULT_DB_ALIAS]
    if db["ENGINE"].endswith("sqlite3") and str(db["NAME"]) not in {"", ":memory:"}:
        places["database"] = Path(str(db["NAME"])).parent
    out: dict[str, Any] = {"min_free_bytes": threshold, "ok": True}
    for name, path in places.items():
        free = shutil.disk_usage(_existing(path)).free
        low = free < threshold
        out[name] = {"free_bytes": free, "low": low}
        out["ok"] = out["ok"] and not low
    return out


def migration_status() -> dict[str, Any]:
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # the database check reports why
        return {"ok": False, "pending": None, "error": exc.__class__.__name__}
    pending = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    return {"ok": not pending, "pending": len(pending), "names": pending[:20]}


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Health with the reasons: 200 when the database answers, there is disk space above
    ``HEALTH_MIN_FREE_BYTES`` and no migration is pending; 503 otherwise, saying why."""
    started = time.perf_counter()
    db = database_status()
    db["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    disk = disk_status()
    migrations = migration_status() if db["ok"] else {"ok": False, "pending": None}
    reasons = []
    if not db["ok"]:
        reasons.append("数据库不可用")
    if not disk["ok"]:
        reasons.append("磁盘空间不足")
    if db["ok"] and not migrations["ok"]:
        reasons.append("数据库结构未更新（有未执行的迁移）")
    ok = not reasons
    return JsonResponse(
        {
            "status": "ok" if ok else "error",
            "reasons": reasons,
            "database": db,
            "disk": disk,
            "migrations": migrations,
        },
        status=200 if ok else 503,
        json_dumps_params={"ensure_ascii": False},
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database or disk fault raised outside a view (e.g. saving the session)
    still answers 503 with its Chinese message; anything else is the plain 500 page."""
    exc = sys.exc_info()[1]
    if exc is not None:
        response = faults.handle(request, exc)
        if response is not None:
            return response
    try:
        template = loader.get_template("500.html")
    except Exception:
        return HttpResponseServerError(
            "<h1>服务器内部错误（500）</h1><p>请稍后再试；如持续出现，请通知系统管理员。</p>"
        )
    return HttpResponseServerError(template.render())
