"""The figure links' query strings (``forms.encode``) read back as written, equal to what
``urlencode`` makes; the whole tree's figures carry no unit filter, a part of it does."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World
from xinfang.stats import dashboard
from xinfang.stats.forms import encode, figure_url
from xinfang.stats.periods import Period

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.text(max_size=12),
)
value = st.one_of(scalar, st.lists(scalar, max_size=4), st.tuples(scalar, scalar))
params = st.dictionaries(st.sampled_from(["place", "category", "q", "来源", "a b", "x&y"]), value)


def _reference(p: dict[str, Any]) -> str:
    clean = []
    for key, v0 in p.items():
        for v in v0 if isinstance(v0, list | tuple) else [v0]:
            if v is None or v == "":
                continue
            if isinstance(v, bool):
                v = int(v)
            elif isinstance(v, dt.date):
                v = v.isoformat()
            clean.append((key, str(v)))
    return urlencode(clean)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params)
def test_encode_is_urlencode_of_the_clean_pairs(p: dict[str, Any]) -> None:
    assert encode(p) == _reference(p)
    assert parse_qsl(encode(p), keep_blank_values=True) == parse_qsl(_reference(p))


def test_a_figure_url_reads_back(db: Any) -> None:
    url = figure_url(table="i", measure="batches", start=dt.date(2026, 3, 1), place=[3, 4])
    assert url == "/stats/cases/?table=i&measure=batches&start=2026-03-01&place=3&place=4"


def test_the_whole_tree_sums_without_a_unit_list(world: World) -> None:
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    today = dt.date(2026, 4, 6)
    for unit, whole in ((world.district, True), (world.street, False)):
        scope = dashboard.Scope(unit)
        assert scope.whole is whole
        with CaptureQueriesContext(connection) as ctx:
            dashboard.build(world.leo, unit, period, today)
        sums = [q["sql"] for q in ctx.captured_queries if "stats_intake" in q["sql"]]
        assert sums and all(('"office_id" IN' in s) is not whole for s in sums), unit
