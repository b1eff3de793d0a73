"""同比/环比 figures and their wording, as a bulletin writes them.

- change % = (本期 − 比较期) ÷ 比较期 × 100, rounded half up to a whole percent (one decimal
  when the whole percent would read 0 but the figures differ: "上升了0.4%").
- Equal figures → 持平. No figure in the comparison period (0) and some now → "去年同期无"
  (环比: "上期无"); both 0 → 持平 (the bulletin then usually omits the line).
- One figure: "同比上升了6%"; two: "同比分别上升了7%和28%" (same direction),
  "同比分别下降了11%和上升了34%" (different directions), "同比均持平", "同比分别持平和上升了5%".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

UP, DOWN, FLAT, NEW = "上升", "下降", "持平", "无"
_TENTH = Decimal("0.1")


def rate_pct(num: int, den: int) -> Decimal | None:
    """A rate as a percentage with one decimal, rounded half up (exact: 1/16 → 6.3), or None
    when the denominator is 0. Every page, export and bulletin writes rates with this."""
    if not den:
        return None
    return (Decimal(num) * 100 / Decimal(den)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def rate_text(num: int, den: int) -> str:
    """``rate_pct`` as text: "6.3%", or "—" without a denominator."""
    pct = rate_pct(num, den)
    return "—" if pct is None else f"{pct}%"


@dataclass(frozen=True)
class Change:
    current: int
    previous: int

    @property
    def direction(self) -> str:
        if self.current == self.previous:
            return FLAT
        if self.previous == 0:
            return NEW
        return UP if self.current > self.previous else DOWN

    @property
    def pct(self) -> Decimal | None:
        """Signed percentage (None when the comparison period had none)."""
        if self.previous == 0:
            return None if self.current else Decimal(0)
        raw = (Decimal(self.current - self.previous) * 100) / Decimal(self.previous)
        whole = raw.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if whole == 0 and raw != 0:
            return raw.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return whole

    def pct_text(self) -> str:
        pct = self.pct
        return "—" if pct is None else f"{abs(pct)}%"

    def signed_text(self) -> str:
        """For tables: +7%, −11%, 0%, 新增."""
        pct = self.pct
        if pct is None:
            return "新增"
        if pct > 0:
            return f"+{pct}%"
        if pct < 0:
            return f"−{abs(pct)}%"
        return "0%"

    def moved(self) -> str:
        """上升了7% / 下降了11% / 持平."""
        d = self.direction
        if d in (UP, DOWN):
            return f"{d}了{self.pct_text()}"
        return FLAT


def _absent(basis: str) -> str:
    return "去年同期无" if basis == "同比" else "上期无"


def phrase(change: Change, basis: str = "同比") -> str:
    """同比上升了6% · 同比下降了35% · 与去年同期持平 · 去年同期无."""
    d = change.direction
    if d == NEW:
        return _absent(basis)
    if d == FLAT:
        return "与去年同期持平" if basis == "同比" else "与上期持平"
    return f"{basis}{change.moved()}"


def phrase_pair(a: Change, b: Change, basis: str = "同比") -> str:
    """Two figures (批次 and 人次) in one clause, as the seed paragraph writes them."""
    da, db = a.direction, b.direction
    if da == NEW and db == NEW:
        return _absent(basis)
    if da == NEW or db == NEW:
        # one of them had none: say each on its own
        first = "批次" + (_absent(basis) if da == NEW else phrase(a, basis))
        second = "人次" + (_absent(basis) if db == NEW else phrase(b, basis))
        return f"{first}，{second}"
    if da == FLAT and db == FLAT:
        return f"{basis}均持平"
    if da == db:
        return f"{basis}分别{da}了{a.pct_text()}和{b.pct_text()}"
    return f"{basis}分别{a.moved()}和{b.moved()}"
