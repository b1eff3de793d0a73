"""XLSX writing shared by the statistics exports (XlsxWriter).

Every sheet starts the same way: a title row, a row with the filters in words and the
"内部资料" marking, then the header (bold, bordered, frozen below it). Text cells are always
written as strings (a petitioner's "=…" never runs as a formula). Lists are written in
``constant_memory`` mode (rows flushed as they are written), so a 100,000-row list does not sit
in memory as cells.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

import xlsxwriter
from django.http import HttpResponse
from django.utils import timezone

MAX_ROWS = 100_000
MARK = "内部资料 注意保存"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Book:
    """A workbook in memory with the formats every statistics sheet uses."""

    def __init__(self, *, big: bool = False) -> None:
        self.buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(
            self.buffer,
            {"constant_memory": big, "in_memory": not big, "strings_to_formulas": False},
        )
        add = self.wb.add_format
        self.title = add({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.note = add({"font_size": 10, "font_color": "#555555"})
        self.mark = add({"bold": True, "font_color": "#C00000", "align": "right"})
        self.head = add(
            {
                "bold": True,
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "bg_color": "#F2F2F2",
            }
        )
        self.text = add({"border": 1, "valign": "top"})
        self.text_bold = add({"border": 1, "bold": True})
        self.int = add({"border": 1, "num_format": "#,##0"})
        self.int_bold = add({"border": 1, "num_format": "#,##0", "bold": True})
        self.pct = add({"border": 1, "align": "right"})
        self.date = add({"border": 1, "num_format": "yyyy-mm-dd"})
        self.center = add({"border": 1, "align": "center"})

    def sheet(self, name: str) -> Any:
        return self.wb.add_worksheet(name[:31])

    def heading(self, ws: Any, title: str, words: str, ncols: int) -> int:
        """Title (row 0, merged), filters + 内部资料 (row 1). Returns the next free row."""
        last = max(ncols - 1, 1)
        ws.set_row(0, 28)
        ws.merge_range(0, 0, 0, last, title, self.title)
        if ncols > 2:
            ws.merge_range(1, 0, 1, last - 1, words, self.note)
        else:
            ws.write_string(1, 0, words, self.note)
        ws.write_string(1, last, MARK, self.mark)
        return 2

    def cell(self, ws: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
        if value is None:
            ws.write_blank(row, col, None, fmt or self.text)
        elif isinstance(value, bool):
            ws.write_string(row, col, "是" if value else "否", fmt or self.text)
        elif isinstance(value, int):
            ws.write_number(row, col, value, fmt or self.int)
        elif isinstance(value, dt.datetime):
            ws.write_string(
                row, col, timezone.localtime(value).strftime("%Y-%m-%d %H:%M"), fmt or self.text
            )
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time.min), fmt or self.date)
        else:
            ws.write_string(row, col, str(value), fmt or self.text)

    def close(self) -> bytes:
        self.wb.close()
        return self.buffer.getvalue()


def table_book(
    *,
    title: str,
    words: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int],
    big: bool = False,
    total: Sequence[Any] | None = None,
) -> bytes:
    """One sheet: heading, a header row frozen, the rows, an optional bold totals row."""
    book = Book(big=big)
    ws = book.sheet(title)
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    r = book.heading(ws, title, words, len(header))
    for c, name in enumerate(header):
        ws.write_string(r, c, name, book.head)
    ws.freeze_panes(r + 1, 0)
    r += 1
    for values in rows:
        for c, value in enumerate(values):
            book.cell(ws, r, c, value)
        r += 1
    if total is not None:
        for c, value in enumerate(total):
            book.cell(ws, r, c, value, book.int_bold if isinstance(value, int) else book.text_bold)
    return book.close()


def response(data: bytes, name: str, ascii_name: str) -> HttpResponse:
    """The download, with a UTF-8 file name and no caching."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    out = HttpResponse(data, content_type=XLSX_TYPE)
    out["Content-Disposition"] = (
        f'attachment; filename="{ascii_name}-{stamp}.xlsx"; '
        f"filename*=UTF-8''{quote(f'{name}-{stamp}.xlsx')}"
    )
    out["Cache-Control"] = "no-store, private"
    return out
