"""Case list export (CSV, UTF-8 with BOM so Excel opens it as Unicode).

The rows are the list's own: ``selectors.case_list(user, filter)``, which starts from
``policy.cases_visible_to`` — a case the user may not see (another unit's, or a 检举控告 case
naming the user or the user's unit) is never exported. 检举控告 rows are masked exactly as in
the list (``confidential``). Every export writes one ``export`` audit row (filters, row count)
before the first byte is sent. Rows are streamed in chunks, so a large list does not sit in
memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import asdict
from itertools import islice
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinfang.cases import confidential, deadlines, selectors
from xinfang.cases.models import Case
from xinfang.cases.selectors import CaseFilter

CHUNK = 500
BOM = "\ufeff"
HEADER = [
    "编号",
    "收到时间",
    "来源渠道",
    "信访目的",
    "状态",
    "信访人",
    "证件号码",
    "联系电话",
    "诉求摘要",
    "问题属地",
    "登记单位",
    "承办单位",
    "期限状态",
    "最近期限",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """Text as a spreadsheet shows it; a leading formula character is neutralised (CSV
    injection: a petitioner's text must never run as a formula in the clerk's Excel)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _rows(qs: Any, today: dt.date) -> Iterator[list[str]]:
    cases = iter(qs.iterator(chunk_size=CHUNK))
    while True:
        chunk: list[Case] = list(islice(cases, CHUNK))
        if not chunk:
            return
        first = selectors.first_petitioners(chunk)
        due = deadlines.next_due_by_case([c.pk for c in chunk])
        for case in chunk:
            person = first.get(case.pk)
            secret = case.is_confidential
            next_due = due.get(case.pk)
            yield [
                _cell(v)
                for v in (
                    case.number,
                    timezone.localtime(case.received_at).strftime("%Y-%m-%d %H:%M"),
                    case.get_channel_display(),
                    case.get_purpose_display(),
                    case.get_status_display(),
                    confidential.shown_name(case, person.name) if person else "",
                    "" if secret or person is None else person.id_masked,
                    "" if secret or person is None else person.phone_masked,
                    confidential.shown_summary(case),
                    case.place_name,
                    case.office_unit.name,
                    case.handling_unit.name if case.handling_unit else "",
                    deadlines.STATE_LABELS[deadlines.state_of(next_due, today)],
                    next_due.isoformat() if next_due else "",
                )
            ]


def csv_lines(qs: Any, today: dt.date | None = None) -> Iterator[str]:
    """The CSV text, a line at a time, BOM first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow(values)
        return buffer.getvalue()

    yield BOM + line(HEADER)
    for row in _rows(qs, today or timezone.localdate()):
        yield line(row)


def _filters_for_audit(f: CaseFilter) -> dict[str, Any]:
    """The export's filters for the audit row. The search words are not copied: they are often
    a name, an ID number or a phone, or words of a 检举控告 — not for the 审计员 to read."""
    filters = {
        k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(f).items() if v
    }
    if filters.get("q"):
        filters["q"] = f"（检索词已隐去，{len(str(filters['q']))}字）"
    return filters


def export_response(
    user: Any, f: CaseFilter, request: HttpRequest | None = None
) -> StreamingHttpResponse:
    """Audit the export, then stream it."""
    from xinfang.audit.services import audit_record

    qs = selectors.case_list(user, f)
    count = qs.count()
    audit_record(
        action="export",
        actor=user,
        object_type="case",
        summary=f"导出信访事项列表（{count}件）",
        detail={"filters": _filters_for_audit(f), "rows": count, "format": "csv"},
        request=request,
    )
    rows = (
        qs.select_related("office_unit", "handling_unit")
        .defer("content")
        .order_by("-received_at", "-id")
    )
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    localised = quote(f"信访事项-{stamp}.csv")
    response["Content-Disposition"] = (
        f"attachment; filename=\"cases-{stamp}.csv\"; filename*=UTF-8''{localised}"
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Export-Rows"] = str(count)
    return response


@login_required
@require_GET
def case_export_view(request: HttpRequest) -> StreamingHttpResponse:
    from xinfang.cases.forms import CaseFilterForm

    form = CaseFilterForm(request.GET or None)
    return export_response(request.user, form.to_filter(), request)
