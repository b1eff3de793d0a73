"""The longest-overdue lists of the dashboard and the bulletins (``deadlines.most_overdue``):
longest first with each case's earliest overdue date, only the scope's and the reader's cases,
found beyond the first chunk of rows, met/cancelled/paused/future deadlines ignored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinfang.cases import deadlines
from xinfang.cases.models import Case, Deadline, DeadlineKind

from .factory import bulk_cases


def _dl(case: Case, kind: str, due: dt.date, **kw: Any) -> Deadline:
    return Deadline.objects.create(case=case, kind=kind, started_on=due, due_on=due, **kw)


def test_most_overdue_order_scope_and_visibility(world: Any) -> None:
    today = dt.date(2026, 6, 30)
    cases = bulk_cases(world, [(60, {})], rebuild=False)
    # 60 cases overdue by 1..60 days at the office; two deadlines on case 0 (the earlier counts)
    for i, c in enumerate(cases):
        _dl(c, DeadlineKind.HANDLE, today - dt.timedelta(days=1 + i))
    _dl(cases[0], DeadlineKind.ACCEPT, today - dt.timedelta(days=90))
    # not overdue: met, cancelled, paused, due today, a request window (not an obligation)
    other = bulk_cases(world, [(5, {})], rebuild=False)
    _dl(other[0], DeadlineKind.HANDLE, today - dt.timedelta(days=400), met_at=world_now())
    _dl(other[1], DeadlineKind.HANDLE, today - dt.timedelta(days=400), cancelled_at=world_now())
    _dl(other[2], DeadlineKind.HANDLE, today - dt.timedelta(days=400), paused=True)
    _dl(other[3], DeadlineKind.HANDLE, today)
    _dl(other[4], DeadlineKind.REVIEW_REQUEST, today - dt.timedelta(days=400))
    # a street's case, overdue by 5 days: only in the street's list and the district's
    street_case = bulk_cases(world, [(1, {"handling_unit": world.street})], rebuild=False)[0]
    _dl(street_case, DeadlineKind.HANDLE, today - dt.timedelta(days=5))

    rows = deadlines.overdue_in(today)
    assert rows.values("case_id").distinct().count() == 61
    top = deadlines.most_overdue(rows, None, 10)
    assert [c.pk for c, _ in top][:1] == [cases[0].pk]
    assert top[0][1] == today - dt.timedelta(days=90)
    assert [d for _, d in top] == sorted(d for _, d in top)
    assert [c.pk for c, _ in top[1:]] == [cases[i].pk for i in range(59, 50, -1)]

    street_rows = deadlines.overdue_in(today, [world.street.pk, world.community.pk])
    assert [c.pk for c, _ in deadlines.most_overdue(street_rows, None, 10)] == [street_case.pk]

    # the reader sees only the last three office cases (the least overdue): they are found
    # after the first chunks of more overdue rows
    visible = Case.objects.filter(pk__in=[cases[0].pk, cases[1].pk, cases[2].pk])
    found = deadlines.most_overdue(rows, visible.exclude(pk=cases[0].pk), 10)
    assert [c.pk for c, _ in found] == [cases[2].pk, cases[1].pk]
    assert deadlines.most_overdue(rows, Case.objects.none(), 10) == []


def world_now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def test_street_open_count_counts_each_case_once(world: Any) -> None:
    """在办 of a street: registered there, held there, or both — each once; another street's
    and closed cases not at all (two index-friendly counts, the second without the first)."""
    from xinfang.cases.models import Status
    from xinfang.stats.dashboard import Scope, open_and_overdue

    bulk_cases(
        world,
        [
            (1, {"office_unit": world.street}),
            (1, {"handling_unit": world.community, "status": Status.ACCEPTED}),
            (1, {"office_unit": world.street, "handling_unit": world.street}),
            (1, {"office_unit": world.sibling}),
            (1, {"handling_unit": world.street, "status": Status.CLOSED}),
        ],
        rebuild=False,
    )
    scope = Scope(world.street)
    assert not scope.whole
    assert open_and_overdue(scope, dt.date(2026, 6, 30)) == (3, 0)
    district = Scope(world.district)
    assert district.whole and open_and_overdue(district, dt.date(2026, 6, 30)) == (4, 0)
