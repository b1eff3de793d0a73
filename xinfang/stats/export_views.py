"""/stats/export/<what>.xlsx — any statistic or list as XLSX, with the request's filters.

``what``: ``intake`` (the 信访统计 table), ``cases`` (the cases behind a figure: every page,
visible cases only), ``caselist`` (the main case list /cases/ with its filters, the same rows
as its CSV export), ``form`` (the 信访情况统计表, same layout as the page). Each sheet has a
title, the filters in words and "内部资料"; one ``export`` audit row is written before the
file is built. Lists over ``xlsx.MAX_ROWS`` rows are refused with a message to narrow them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinfang.cases import confidential
from xinfang.stats import forms, xlsx
from xinfang.stats.forms import FigureParams
from xinfang.stats.table_views import (
    FORM_ROWS,
    Scope,
    behind,
    behind_rows,
    intake_table,
    national_table,
    read_scope,
)

TOO_MANY = "共{n}条，超过单次导出上限{cap}条，请缩小筛选范围（如缩短统计期）后再导出。"


def _audit(request: HttpRequest, *, object_type: str, summary: str, detail: dict[str, Any]) -> None:
    from xinfang.audit.services import audit_record

    audit_record(
        action="export",
        actor=request.user,
        object_type=object_type,
        summary=summary,
        detail={**detail, "format": "xlsx"},
        request=request,
    )


def _refuse(message: str) -> HttpResponse:
    return HttpResponse(
        f"<!doctype html><meta charset=utf-8><title>无法导出</title><p role=alert>{message}</p>"
        '<p><a href="javascript:history.back()">返回</a></p>',
        status=400,
        content_type="text/html; charset=utf-8",
    )


def _audit_filters(p: FigureParams, scope: Scope) -> dict[str, Any]:
    return {k: v for k, v in dict(p.raw, unit=scope.unit.pk).items() if v not in ("", None)}


@login_required
@require_GET
def export_xlsx(request: HttpRequest, what: str) -> HttpResponse:
    if what == "caselist":
        return _caselist(request)
    if what not in ("intake", "cases", "form"):
        raise Http404("没有这种导出")
    p = forms.parse(request.GET, today=timezone.localdate())
    scope = read_scope(request.user, p)
    if not p.ok:
        return _refuse("导出条件有误：" + p.error_text())
    if what == "intake":
        return _intake(request, p, scope)
    if what == "cases":
        return _cases(request, p, scope)
    return _form(request, p, scope)


def _title_words(p: FigureParams, scope: Scope) -> str:
    from xinfang.stats.table_views import _names

    words = p.words(_names(p))
    return f"统计单位 {scope.unit.name}；{words}"


def _intake(request: HttpRequest, p: FigureParams, scope: Scope) -> HttpResponse:
    t = intake_table(p, scope, today=timezone.localdate(), paragraph=False)
    header = [forms.GROUPS[p.by], "批次", "人次"]
    if t.other is not None:
        before = "去年同期" if t.basis == "同比" else "上期"
        header += [f"{before}批次", f"{before}人次", f"批次{t.basis}", f"人次{t.basis}"]

    def line(r: Any) -> list[Any]:
        out: list[Any] = [r.label, r.batches.value, r.persons.value]
        if t.other is not None:
            out += [r.prev_batches.value, r.prev_persons.value, r.change_batches, r.change_persons]
        return out

    words = _title_words(p, scope) + (
        f"；{t.basis}比较期 {t.other.range_label()}" if t.other is not None else ""
    )
    _audit(
        request,
        object_type="stats",
        summary=f"导出信访统计表（{len(t.rows)}行）",
        detail={"filters": _audit_filters(p, scope), "rows": len(t.rows), "what": "intake"},
    )
    data = xlsx.table_book(
        title="信访统计",
        words=words,
        header=header,
        rows=[line(r) for r in t.rows],
        widths=[22, 10, 10, 12, 12, 12, 12][: len(header)],
        total=line(t.total),
    )
    return xlsx.response(data, "信访统计", "stats-intake")


CASE_HEADER = [
    "编号",
    "收到日期",
    "来源渠道",
    "人数",
    "内容分类",
    "问题属地",
    "诉求摘要",
    "状态",
    "登记单位",
    "承办单位",
]


def _cases(request: HttpRequest, p: FigureParams, scope: Scope) -> HttpResponse:
    found = behind(p, scope, request.user)
    count = found.cases - found.hidden
    if count > xlsx.MAX_ROWS:
        return _refuse(TOO_MANY.format(n=count, cap=xlsx.MAX_ROWS))
    _audit(
        request,
        object_type="case",
        summary=f"导出统计数字背后的信访事项（{count}件）",
        detail={"filters": _audit_filters(p, scope), "rows": count, "what": "cases"},
    )

    def rows() -> Any:
        for c in behind_rows(found.visible).iterator(chunk_size=1000):
            yield [
                c.number,
                c.received_at,
                c.get_channel_display(),
                c.headcount,
                c.category.name if c.category else "未分类",
                c.place_name,
                confidential.shown_summary(c),
                c.get_status_display(),
                c.office_unit.name,
                c.handling_unit.name if c.handling_unit else "",
            ]

    label = forms.MEASURE_LABELS.get(p.measure, p.measure)
    words = f"{_title_words(p, scope)}；{label} {found.figure}"
    if found.hidden:
        words += f"；另有{found.hidden}件无权查看，未导出"
    data = xlsx.table_book(
        title="数字背后的信访事项",
        words=words,
        header=CASE_HEADER,
        rows=rows(),
        widths=[18, 17, 10, 6, 16, 16, 40, 10, 16, 16],
        big=True,
    )
    return xlsx.response(data, "统计事项清单", "stats-cases")


def _form(request: HttpRequest, p: FigureParams, scope: Scope) -> HttpResponse:
    t = national_table(p, scope)
    _audit(
        request,
        object_type="stats",
        summary=f"导出信访情况统计表（{t.period.range_label()}）",
        detail={"filters": _audit_filters(p, scope), "rows": len(t.rows), "what": "form"},
    )
    maker = request.user.get_full_name() or request.user.get_username()  # type: ignore[union-attr]
    return xlsx.response(
        form_book(t, scope.unit.name, maker, timezone.localdate()), "信访情况统计表", "stats-form"
    )


def form_book(t: Any, unit_name: str, maker: str, today: Any) -> bytes:
    """The 信访情况统计表 sheet: title; 填报单位/统计期/单位; a two-row header (本期, 去年同期,
    同比增减%, 1月至本期累计, 去年同期累计, 累计同比增减% — each over 批次 and 人次); the rows
    with 行次; the footer 制表人/审核人/填报日期. A4 landscape, fitted to one page."""
    book = xlsx.Book()
    ws = book.sheet("信访情况统计表")
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 1)
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 5)
    ws.set_column(2, 13, 9)
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, 13, "信访情况统计表", book.title)
    ws.write_string(1, 13, "内部资料", book.mark)
    ws.merge_range(2, 0, 2, 5, f"填报单位：{unit_name}", book.note)
    ws.merge_range(2, 6, 2, 10, f"统计期：{t.period.range_label()}", book.note)
    ws.merge_range(2, 11, 2, 13, "单位：批、人次", book.note)
    ws.merge_range(3, 0, 4, 0, "项目", book.head)
    ws.merge_range(3, 1, 4, 1, "行次", book.head)
    groups = ["本期", "去年同期", "同比增减%", "1月至本期累计", "去年同期累计", "累计同比增减%"]
    for i, name in enumerate(groups):
        col = 2 + 2 * i
        ws.merge_range(3, col, 3, col + 1, name, book.head)
        ws.write_string(4, col, "批次", book.head)
        ws.write_string(4, col + 1, "人次", book.head)
    ws.freeze_panes(5, 2)
    indent = book.wb.add_format({"border": 1, "indent": 1})
    r = 5
    for row, (_, level, _) in zip(t.rows, FORM_ROWS, strict=True):
        bold = row.label == "合计"
        ws.write_string(
            r, 0, row.label, book.text_bold if bold else (indent if level else book.text)
        )
        ws.write_number(r, 1, row.number, book.center)
        c = row.cells
        values: list[Any] = [
            c[0].value, c[1].value, c[2].value, c[3].value,
            row.changes[0], row.changes[1],
            c[4].value, c[5].value, c[6].value, c[7].value,
            row.changes[2], row.changes[3],
        ]  # fmt: skip
        for j, v in enumerate(values):
            if isinstance(v, int):
                ws.write_number(r, 2 + j, v, book.int_bold if bold else book.int)
            else:
                ws.write_string(r, 2 + j, v, book.pct)
        r += 1
    r += 1
    ws.merge_range(r, 0, r, 4, f"制表人：{maker}", book.note)
    ws.merge_range(r, 5, r, 8, "审核人：", book.note)
    ws.merge_range(r, 9, r, 13, f"填报日期：{today.year}年{today.month}月{today.day}日", book.note)
    return book.close()


CASELIST_WORDS = {
    "q": "检索词",
    "status": "状态",
    "channel": "渠道",
    "purpose": "目的",
    "unit": "承办单位",
    "category": "内容分类",
    "place": "问题属地",
    "date_from": "收到日期自",
    "date_to": "收到日期至",
    "deadline": "期限",
    "flag": "标记",
}


def _caselist(request: HttpRequest) -> HttpResponse:
    """The main case list's filters (``cases.forms.CaseFilterForm``), the rows of its CSV
    export (``cases.exports``: visible cases only, 检举控告 masked)."""
    from xinfang.cases import exports, selectors
    from xinfang.cases.forms import CaseFilterForm

    form = CaseFilterForm(request.GET or None)
    f = form.to_filter()
    qs = selectors.case_list(request.user, f)
    count = qs.count()
    if count > xlsx.MAX_ROWS:
        return _refuse(TOO_MANY.format(n=count, cap=xlsx.MAX_ROWS))
    filters = exports._filters_for_audit(f)
    _audit(
        request,
        object_type="case",
        summary=f"导出信访事项列表（{count}件）",
        detail={"filters": filters, "rows": count, "what": "caselist"},
    )
    rows = (
        qs.select_related("office_unit", "handling_unit")
        .defer("content")
        .order_by("-received_at", "-id")
    )
    words = "；".join(f"{CASELIST_WORDS.get(k, k)} {v}" for k, v in filters.items())
    words = words or "全部（无筛选条件）"
    data = xlsx.table_book(
        title="信访事项列表",
        words=f"筛选条件：{words}；共{count}件",
        header=exports.HEADER,
        rows=exports._rows(rows, timezone.localdate()),
        widths=[18, 17, 10, 10, 10, 10, 20, 14, 40, 16, 16, 16, 10, 12],
        big=True,
    )
    return xlsx.response(data, "信访事项", "cases")
