"""Charts drawn on the server with matplotlib (Agg): SVG for pages and the PDF, PNG for DOCX and
XLSX. No JavaScript, no CDN, nothing fetched: text in Noto Sans CJK SC (Debian's fonts-noto-cjk).

A chart is described by data (``Chart``), drawn once per distinct description and kept in a
small per-process LRU cache — the dashboard redraws only when its figures change. Every chart
has a text alternative (``Chart.alt``) and the page shows its figures in a table beside it.

    chart = Chart("line", "近12个月信访量", labels=["1月", …], series={"批次": [..], "人次": [..]})
    chart.svg()      # str, inline <svg> — for the PDF/print HTML (no CSP there)
    chart.img_tag()  # <img src="data:image/svg+xml;base64,…" alt="…"> — for pages under the CSP
    chart.png()      # bytes
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

FONT = ["Noto Sans CJK SC", "AR PL UKai CN", "DejaVu Sans"]
PALETTE = ["#1f5fa8", "#c0392b", "#27864a", "#b9770e", "#6c3483", "#117a8b", "#7f8c8d"]
_lock = threading.Lock()  # pyplot state is global: one figure at a time per process


@dataclass(frozen=True)
class Chart:
    kind: str  # "bar" (grouped columns), "hbar" (horizontal bars, ranked), "line", "stack"
    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    unit: str = ""
    width: float = 7.0  # inches
    height: float = 3.2
    extra: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def of(
        cls,
        kind: str,
        title: str,
        labels: list[str],
        series: dict[str, list[float]],
        **kw: Any,
    ) -> Chart:
        return cls(
            kind,
            title,
            tuple(labels),
            tuple((k, tuple(v)) for k, v in series.items()),
            **kw,
        )

    @property
    def alt(self) -> str:
        parts = []
        for name, values in self.series:
            pairs = "，".join(
                f"{lab}{_fmt(v)}" for lab, v in zip(self.labels, values, strict=False)
            )
            parts.append(f"{name}：{pairs}")
        return f"{self.title}。" + "；".join(parts)

    def svg(self) -> str:
        return _render(self, "svg").decode("utf-8")

    def png(self, dpi: int = 150) -> bytes:
        return _render(self, "png", dpi)

    def data_uri(self) -> str:
        import base64

        return "data:image/svg+xml;base64," + base64.b64encode(_render(self, "svg")).decode()

    def img_tag(self, css_class: str = "chart-img") -> str:
        """For pages: matplotlib's SVG styles itself with ``style`` attributes, which the
        Content-Security-Policy (``style-src 'self'``) blocks when inlined — as an image it is a
        separate document and renders; ``img-src`` allows ``data:``. Safe HTML (escaped alt)."""
        from django.utils.html import format_html

        return str(
            format_html('<img class="{}" src="{}" alt="{}">', css_class, self.data_uri(), self.alt)
        )


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


@lru_cache(maxsize=256)
def _render(chart: Chart, fmt: str, dpi: int = 100) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    with _lock:
        plt.rcParams["font.sans-serif"] = FONT
        plt.rcParams["font.family"] = "sans-serif"
        plt.rcParams["axes.unicode_minus"] = False
        plt.rcParams["svg.fonttype"] = "none"  # text stays text (selectable, small)
        fig, ax = plt.subplots(figsize=(chart.width, chart.height))
        try:
            _draw(ax, chart)
            ax.set_title(chart.title, fontsize=11)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=dpi, metadata=_metadata(fmt))
        finally:
            plt.close(fig)
    data = buf.getvalue()
    if fmt == "svg":
        # drop the XML prolog and DOCTYPE: the SVG is inlined into HTML
        text = data.decode("utf-8")
        text = text[text.index("<svg") :]
        text = text.replace("<svg ", f'<svg role="img" aria-label="{_esc(chart.alt)}" ', 1)
        data = text.encode("utf-8")
    return data


def _metadata(fmt: str) -> dict[str, Any]:
    # reproducible output: no creation date in the file
    return {"Date": None} if fmt == "svg" else {}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _draw(ax: Any, chart: Chart) -> None:
    n = len(chart.labels)
    xs = list(range(n))
    if chart.kind == "line":
        for i, (name, values) in enumerate(chart.series):
            ax.plot(xs, values, marker="o", ms=3, color=PALETTE[i % len(PALETTE)], label=name)
        ax.set_xticks(xs, chart.labels, fontsize=8, rotation=0 if n <= 12 else 45)
    elif chart.kind == "hbar":
        name, values = chart.series[0]
        ys = list(range(n))[::-1]
        ax.barh(ys, values, color=PALETTE[0])
        ax.set_yticks(ys, chart.labels, fontsize=8)
        for y, v in zip(ys, values, strict=False):
            ax.text(v, y, f" {_fmt(v)}", va="center", fontsize=7)
    elif chart.kind == "stack":
        bottom = [0.0] * n
        for i, (name, values) in enumerate(chart.series):
            ax.bar(xs, values, bottom=bottom, color=PALETTE[i % len(PALETTE)], label=name)
            bottom = [b + v for b, v in zip(bottom, values, strict=False)]
        ax.set_xticks(xs, chart.labels, fontsize=8, rotation=0 if n <= 12 else 45)
    else:  # grouped bars
        k = max(1, len(chart.series))
        w = 0.8 / k
        for i, (name, values) in enumerate(chart.series):
            ax.bar(
                [x - 0.4 + w * (i + 0.5) for x in xs],
                values,
                width=w,
                color=PALETTE[i % len(PALETTE)],
                label=name,
            )
        ax.set_xticks(xs, chart.labels, fontsize=8, rotation=0 if n <= 12 else 45)
    if chart.unit:
        ax.set_ylabel(chart.unit, fontsize=8)
    if len(chart.series) > 1:
        ax.legend(fontsize=8, frameon=False)
    ax.tick_params(labelsize=8)
