"""Signal receivers of 预防排查 (connected in ``apps.ready``).

- ``case_registered`` (after commit): the per-case early-warning rules (a repeat petition after
  closing; 3+ cases of one group within the window) — ``warning.on_case_registered``. Each runs
  in its own savepoint (``cases.signals.isolated``); a failure is logged by the sender, never
  raised to the clerk, and the daily ``warning_sweep`` catches the case up.
- ``cases_bulk_registered``: the same for a bulk load, in batches (repeat rule only; the sweep
  catches group clusters up).
"""

from __future__ import annotations

import logging
from typing import Any

from xinfang.cases.signals import case_registered, cases_bulk_registered, isolated

log = logging.getLogger(__name__)


def warn_case_registered(sender: Any, *, case: Any, **kwargs: Any) -> None:
    from xinfang.prevention.warning import on_case_registered

    on_case_registered(case)


def warn_cases_bulk_registered(sender: Any, *, case_ids: Any = (), **kwargs: Any) -> None:
    from xinfang.prevention.warning import on_cases_bulk_registered

    try:
        on_cases_bulk_registered(list(case_ids))
    except Exception:  # a bulk load has committed; the sweep catches up
        log.exception("prevention warning for %d bulk-registered cases failed", len(case_ids))


case_registered.connect(
    isolated(warn_case_registered), weak=False, dispatch_uid="prevention_warn_case_registered"
)
cases_bulk_registered.connect(
    warn_cases_bulk_registered, weak=False, dispatch_uid="prevention_warn_cases_bulk"
)
