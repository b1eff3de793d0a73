"""``GET /intel/models`` and ``POST /intel/models/retrain``: the routing model registry, same
services and rules as ``/intel/models/`` (``registry.may_manage_models``; anyone else: 404)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.intel import registry
from xinfang.intel.models import ModelVersion

router = Router()
NOT_FOUND = "未找到（不存在或您无权访问）"


class ModelVersionOut(Schema):
    id: int
    version: str = Field(description="内容哈希（模型目录 meta.json 中的 version）；训练中为空")
    source: str = Field(description="bundled / retrain / import")
    state: str = Field(description="training / ready / failed")
    is_active: bool
    created_at: dt.datetime
    finished_at: dt.datetime | None
    n_train: int
    n_own: int = Field(description="其中本系统已办结案例数")
    labels: list[str]
    macro_f1: float | None = Field(description="交叉验证（或留出）宏 F1，见 metrics.method")
    macro_f1_bundled: float | None = Field(description="公开数据部分的宏 F1：启用规则的比较依据")
    metrics: dict
    error: str


def _out(mv: ModelVersion) -> ModelVersionOut:
    return ModelVersionOut(
        id=mv.pk,
        version=mv.version,
        source=mv.source,
        state=mv.state,
        is_active=mv.is_active,
        created_at=mv.created_at,
        finished_at=mv.finished_at,
        n_train=mv.n_train,
        n_own=mv.n_own,
        labels=list(mv.labels),
        macro_f1=mv.metrics.get("macro_f1"),
        macro_f1_bundled=mv.metrics.get("macro_f1_bundled"),
        metrics=mv.metrics,
        error=mv.error,
    )


@router.get(
    "/intel/models",
    response={200: list[ModelVersionOut], **READ_ERRORS},
    tags=["智能辅助"],
    summary="分类模型版本列表",
)
def model_list(request: HttpRequest) -> list[ModelVersionOut]:
    if not registry.may_manage_models(current_user(request)):
        raise NotFound(NOT_FOUND)
    return [_out(mv) for mv in ModelVersion.objects.all()[:100]]


@router.post(
    "/intel/models/retrain",
    response={202: ModelVersionOut, **WRITE_ERRORS},
    tags=["智能辅助"],
    summary="重新训练分类模型（排入后台任务队列）",
)
def model_retrain(request: HttpRequest) -> WithStatus:
    """202 with the ``training`` row; 409 ``concurrent_change`` while another training runs.
    Poll ``GET /intel/models`` until its state is ``ready`` or ``failed``."""
    user = current_user(request)
    if not registry.may_manage_models(user):
        raise NotFound(NOT_FOUND)
    mv = registry.retrain_request(by=user)
    return WithStatus(202, _out(mv))
