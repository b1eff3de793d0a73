"""The statistics of the spike rules: pure functions, no database."""

from __future__ import annotations

import math

import pytest

from xinfang.prevention.warning import detect_series, poisson_sf, spike_severity, spike_test


def _sf_reference(k: int, lam: float) -> float:
    """P(X ≥ k) by summing the pmf in log space from k upwards (slow, obviously right)."""
    terms = []
    i = k
    while True:
        t = i * math.log(lam) - lam - math.lgamma(i + 1)
        terms.append(t)
        if i > lam and t < terms[0] - 40:
            break
        i += 1
    top = max(terms)
    return math.exp(top) * math.fsum(math.exp(t - top) for t in terms)


@pytest.mark.parametrize(
    ("k", "lam", "expected"),
    [
        (0, 3.0, 1.0),
        (1, 3.0, 1 - math.exp(-3)),  # 0.950212931632136
        (10, 1.0, 1.1142547833872e-07),  # the textbook P(X ≥ 10 | λ = 1)
        (3, 1.0, 1 - math.exp(-1) * (1 + 1 + 0.5)),  # 0.0803013970713942
        (9, 7.0, 0.2709087322619),  # 1-a-day baseline, 9 in a week: not unusual
        (5, 0.0, 0.0),
    ],
)
def test_poisson_sf_known_values(k: int, lam: float, expected: float) -> None:
    assert poisson_sf(k, lam) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    ("k", "lam"),
    [(15, 2.0), (40, 10.0), (1100, 1000.0), (1200, 1000.0), (900, 1000.0), (120_000, 100_000.0)],
)
def test_poisson_sf_matches_log_space_sum_for_large_lambda(k: int, lam: float) -> None:
    assert poisson_sf(k, lam) == pytest.approx(_sf_reference(k, lam), rel=1e-8)


def test_poisson_sf_tiny_tails_do_not_underflow_to_nonsense() -> None:
    p = poisson_sf(200, 5.0)
    assert 0 < p < 1e-200
    assert poisson_sf(100_000, 100_000.0) == pytest.approx(0.5, abs=0.01)
    assert poisson_sf(1, 1e7) == 1.0


def test_spike_test_against_a_weekly_baseline() -> None:
    # 12 cases in 12 weeks (1 a week): 9 in a week is a spike, 3 is not.
    hit = spike_test(9, 12, baseline_days=84, window_days=7, alpha=0.001, min_count=5)
    assert hit.is_spike
    assert hit.expected == pytest.approx((12 + 0.5) / 84 * 7)
    assert hit.p < 1e-5
    miss = spike_test(3, 12, baseline_days=84, window_days=7, alpha=0.001, min_count=5)
    assert not miss.is_spike


def test_spike_test_min_count_and_empty_baseline() -> None:
    # a place with no history: 4 cases are below min_count even though p is tiny
    r = spike_test(4, 0, baseline_days=84, window_days=7, alpha=0.001, min_count=5)
    assert r.p < 0.001 and not r.is_spike
    assert spike_test(5, 0, baseline_days=84, window_days=7, alpha=0.001, min_count=5).is_spike


def test_severity_escalates_with_p() -> None:
    assert spike_severity(1e-4, {}, "yellow") == "yellow"
    assert spike_severity(1e-7, {}, "yellow") == "orange"
    assert spike_severity(1e-12, {}, "yellow") == "red"
    assert spike_severity(1e-4, {"orange_p": 1e-3}, "yellow") == "orange"


def test_detect_series_finds_an_injected_spike_once() -> None:
    counts = [1] * 120
    for d in range(100, 105):
        counts[d] = 5  # +400 % for five days
    alerts = detect_series(counts)
    assert len(alerts) == 1
    day, res = alerts[0]
    assert 100 <= day <= 104
    assert res.observed >= 9
    assert detect_series([1] * 200) == []
