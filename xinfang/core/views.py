from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from xinfang.core.db import database_status


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness with the database status: 200 when a query runs, 503 otherwise."""
    db = database_status()
    return JsonResponse(
        {"status": "ok" if db["ok"] else "error", "database": db}, status=200 if db["ok"] else 503
    )
