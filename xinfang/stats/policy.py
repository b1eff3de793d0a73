"""Who reads statistics, and over which units.

Readers: 领导, 办案员, 督查员 and 单位负责人 (``STAT_READERS``), over the units of their posts'
subtrees (petition-office staff: the jurisdiction they serve, as for cases — ``org.policy``).
A reader picks a scope unit among those (``?unit=``); every figure is then summed over that
unit's subtree. A unit outside the reader's scope is a 404 (never "0"), the same as a case.

Figures count every case, 检举控告 included (a count reveals nothing of its content); the
cases behind a figure are listed only as far as the reader may see them
(``cases.policy.cases_visible_to``) and the page says how many are not shown.
Configuring the 考核 scheme, recording 一票否决 and issuing 通报: 领导 and 办案员 whose scope is
the whole district (``may_manage_assessment``) — never the assessed units' own staff. Every
export (XLSX/DOCX/PDF) is audited.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import Http404

from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import posts_of, subtree_roots, visible_unit_ids
from xinfang.stats.query import Filters

STAT_READERS = frozenset({R.LEADER, R.CASE_OFFICER, R.SUPERVISOR, R.UNIT_HEAD})
ASSESSMENT_MANAGERS = frozenset({R.LEADER, R.CASE_OFFICER})


def may_read_stats(user: Any) -> bool:
    return any(p.role in STAT_READERS for p in posts_of(user))


def scope_ids(user: Any) -> list[int]:
    return visible_unit_ids(user, STAT_READERS)


def scope_roots(user: Any) -> list[Unit]:
    """The top units of the reader's scopes (the default scope is the first)."""
    paths = subtree_roots(user, STAT_READERS)
    return list(Unit.objects.filter(path__in=paths).order_by("path"))


def scope_unit(user: Any, unit_id: Any = None) -> Unit:
    """The unit whose subtree the figures cover: ``unit_id`` if in scope (else 404), or the
    reader's first scope root. 404 when the user reads no statistics."""
    ids = set(scope_ids(user))
    if not ids:
        raise Http404("无统计查看权限")
    if unit_id not in (None, ""):
        try:
            pk = int(unit_id)
        except (TypeError, ValueError) as exc:
            raise Http404("单位不存在") from exc
        if pk not in ids:
            raise Http404("单位不存在")
        return Unit.objects.get(pk=pk)
    roots = scope_roots(user)
    if not roots:
        raise Http404("无统计查看权限")
    return roots[0]


def subtree_ids(unit: Unit) -> tuple[int, ...]:
    return tuple(Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))


def whole_tree(ids: tuple[int, ...]) -> bool:
    """Whether a subtree's ids are every unit (the district's own scope): its figures then need
    no unit filter — the same rows, without an ``IN`` list of every unit id compiled into and
    tested by each of a page's thirty-odd sums. (Units are deactivated, never deleted, so every
    rollup row's unit is one of them.)"""
    return len(ids) == Unit.objects.count()


class Subtree:
    """A scope unit's subtree, read once (ids and paths), as every figure and live read over it
    uses it: the rollup filters, the condition on open cases (either unit in the subtree) and
    the unit list of the live reads — all three with no unit filter for the whole tree."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        rows = Unit.objects.filter(path__startswith=unit.path).order_by("pk")
        self.paths: dict[int, str] = dict(rows.values_list("pk", "path"))
        self.ids: tuple[int, ...] = tuple(self.paths)
        self.whole = whole_tree(self.ids)
        # the unit ids of a live read (cases, open deadlines, open counts); None: no filter
        self.units: tuple[int, ...] | None = None if self.whole else self.ids
        self.filters = Filters(units=self.units)

    def case_q(self) -> Q:
        """Cases in the scope: registered or handled by one of its units."""
        if self.units is None:
            return Q()
        return Q(office_unit_id__in=self.units) | Q(handling_unit_id__in=self.units)


def may_manage_assessment(user: Any) -> bool:
    """The 考核 scheme and 一票否决 are the top level's: a 领导 or 办案员 post whose scope is a
    whole tree (the district's leaders, the 区信访局's officers — their scope is the district
    they serve). An assessed unit's own staff never change what ranks them."""
    return any(
        p.role in ASSESSMENT_MANAGERS and (p.scope_path or p.unit_path).strip(".").count(".") == 0
        for p in posts_of(user)
    )
