"""Two issues at once: one bulletin per period, gap-free numbers (real threads, real commits)."""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.db import connection

from xinfang.stats.bulletins import issue_bulletin, reissue
from xinfang.stats.models import Bulletin
from xinfang.stats.periods import Period

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_database() -> None:
    # SQLite's test database is in memory with a shared cache: a second writer gets "table is
    # locked" at once instead of waiting (a file database waits: IMMEDIATE + busy timeout).
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        pytest.skip("并发测试需要文件数据库或 PostgreSQL")


def _slow_render(figures: dict[str, Any], step: Any = None) -> dict[str, bytes]:
    time.sleep(0.2)  # both threads render before either writes
    return {"docx": b"d", "pdf": b"p", "xlsx": b"x"}


def _run(calls: list[Period], unit: Any) -> list[Any]:
    out: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def work(i: int, period: Period) -> None:
        try:
            out[i] = issue_bulletin("monthly", unit, period)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate(calls)]
    with mock.patch("xinfang.stats.bulletins._render_all", _slow_render):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    return out


def test_same_period_twice_gives_one_bulletin(world: Any) -> None:
    a, b = _run([Period.month(2026, 3), Period.month(2026, 3)], world.district)
    assert a.pk == b.pk
    assert Bulletin.objects.filter(state="ready").count() == 1


def test_two_periods_at_once_get_consecutive_numbers(world: Any) -> None:
    a, b = _run([Period.month(2026, 2), Period.month(2026, 3)], world.district)
    assert sorted([a.number, b.number]) == ["2026年第1期", "2026年第2期"]
    assert Bulletin.objects.filter(state="ready").count() == 2


def test_two_reissues_at_once_chain_instead_of_forking(world: Any) -> None:
    """Two clerks press 重新生成 on the same edition at once: both render from it, the first
    to lock the unit saves its version, the second sees it, renders again on top of it — a
    chain v1 → v2 → v3 with one current version and one number, no fork."""
    first = issue_bulletin("monthly", world.district, Period.month(2026, 3))
    errors: list[BaseException] = []
    out: list[Any] = [None, None]

    def work(i: int) -> None:
        try:
            out[i] = reissue(Bulletin.objects.get(pk=first.pk))
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    with mock.patch("xinfang.stats.bulletins._render_all", _slow_render):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    ready = list(Bulletin.objects.filter(state="ready").order_by("pk"))
    assert len(ready) == 3 and {b.number for b in ready} == {first.number}
    v1, v2, v3 = ready
    assert (v1.pk, v2.replaces_id, v3.replaces_id) == (first.pk, v1.pk, v2.pk)
    assert sorted(b.pk for b in out) == [v2.pk, v3.pk]
    assert not v3.reissues.exists() and Bulletin.objects.filter(replaces=v1).count() == 1
