"""Two issues at once: one bulletin per period, gap-free numbers (real threads, real commits)."""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.db import connection

from xinfang.stats.bulletins import issue_bulletin
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
