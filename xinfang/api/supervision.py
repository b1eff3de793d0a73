"""督查督办: a supervisor's manual 催办/督办 on a case, and the escalation sweep runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import WRITE_ERRORS, with_field_map
from xinfang.api.schemas import EventOut
from xinfang.core.errors import PermissionDenied
from xinfang.supervision import services as SS
from xinfang.supervision.models import SweepRun

router = Router(tags=["督查督办"])


class SuperviseIn(Schema):
    stage: str = Field(description="urge 催办 或 supervise 督办")
    note: str = Field("", description="督办意见（可空，最多500字）")


class SweepRunOut(Schema):
    id: int
    state: str
    state_label: str
    today: dt.date | None
    queued_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    examined: int
    created: int
    skipped: int
    notified: int
    counts: dict[str, int]
    error: str


def _run_out(run: SweepRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "state": run.state,
        "state_label": run.get_state_display(),
        "today": run.today,
        "queued_at": run.queued_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "examined": run.examined,
        "created": run.created,
        "skipped": run.skipped,
        "notified": run.notified,
        "counts": run.counts or {},
        "error": run.error,
    }


@router.post(
    "/cases/{case_id}/supervise",
    response={200: EventOut, **WRITE_ERRORS},
    summary="督查员催办/督办",
    operation_id="case_supervise",
    description="督查员对本辖区未办结事项发出催办（urge）或督办（supervise）：记入事项动态并通知承办单位。",
)
def case_supervise(request: HttpRequest, case_id: int, body: SuperviseIn) -> Any:
    case = access.case_or_404(request, case_id)
    event = with_field_map(
        lambda f: f,
        lambda: SS.case_supervise(
            case=case, by=current_user(request), stage=body.stage, note=body.note
        ),
    )
    return out.event(event, show_repeat_of=False)


def _viewer(request: HttpRequest) -> Any:
    user = current_user(request)
    if not SS.may_view(user):
        raise PermissionDenied("只有督查员、办案员和领导可以查看督办扫描")
    return user


@router.get(
    "/supervision/runs",
    response={200: list[SweepRunOut], **WRITE_ERRORS},
    summary="督办扫描记录（最近20次）",
    operation_id="supervision_runs",
)
def sweep_runs(request: HttpRequest) -> Any:
    _viewer(request)
    return [_run_out(r) for r in SweepRun.objects.all()[:20]]


@router.post(
    "/supervision/runs",
    response={200: SweepRunOut, **WRITE_ERRORS},
    summary="立即运行督办扫描（后台任务）",
    operation_id="supervision_run_now",
)
def sweep_run_now(request: HttpRequest) -> Any:
    run = SS.request_sweep(by=current_user(request))
    return _run_out(run)
