"""``/intel/models/``: the routing model's versions, "重新训练" and "设为当前".

Who: ``registry.may_manage_models`` (系统管理员; 单位负责人/领导 of a petition office); everyone
else gets a 404. The page shows counts and scores only — never a training text. While a
training runs, the table polls itself with HTMX until the row is ready or failed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from xinfang.core.errors import DomainError
from xinfang.intel import registry
from xinfang.intel.models import ModelVersion

POLL_SECONDS = 3
LISTED = 50


def _guard(request: HttpRequest) -> None:
    if not registry.may_manage_models(request.user):
        raise Http404


def _table_context() -> dict[str, Any]:
    versions = list(ModelVersion.objects.select_related("requested_by")[:LISTED])
    return {
        "versions": versions,
        "training": any(v.state == ModelVersion.State.TRAINING for v in versions),
        "poll_seconds": POLL_SECONDS,
    }


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    _guard(request)
    ctx = _table_context()
    ctx["tolerance"] = registry.ACTIVATION_TOLERANCE
    return render(request, "intel/models.html", ctx)


@login_required
@require_GET
def model_table(request: HttpRequest) -> HttpResponse:
    """The table alone, for the HTMX poll while a training runs."""
    _guard(request)
    return render(request, "intel/_models_table.html", _table_context())


@login_required
@require_POST
def model_retrain(request: HttpRequest) -> HttpResponse:
    _guard(request)
    try:
        mv = registry.retrain_request(by=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"已开始重新训练（记录 #{mv.pk}），完成后本页自动更新。")
    return redirect("intel_models")


@login_required
@require_POST
def model_activate(request: HttpRequest, pk: int) -> HttpResponse:
    _guard(request)
    mv = get_object_or_404(ModelVersion, pk=pk)
    try:
        registry.activate(mv, by=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"已将模型 {mv.version[:12]} 设为当前版本。")
    return redirect("intel_models")
