"""What the intelligence features do when a case is registered or routed (``cases.signals``).

Connected by :func:`connect` (from :meth:`xinfang.intel.apps.IntelConfig.ready`). They run after
the case's own commit, together in one transaction, each in its own savepoint
(``cases.signals.isolated``); a failure is logged and never undoes the registration or the
routing, and the catch-up commands (``intel_index``, ``intel_neardup``) repair what was missed.
"""

from __future__ import annotations

from typing import Any

from xinfang.intel import suggest


def record_registration_suggestion(sender: Any, case: Any, **kwargs: Any) -> None:
    suggest.record_registration(case)


def record_routing_suggestion(
    sender: Any, case: Any, unit: Any, by: Any, action: str, at: Any = None, **kwargs: Any
) -> None:
    suggest.record_routing(case, unit, by, action, at=at)


def bulk_registered(sender: Any, case_ids: list[int], **kwargs: Any) -> None:
    """After a bulk load (``cases.signals.registrations_in_bulk``): the same indexes, in batches.
    No suggestion events: nobody was shown a suggestion for these cases."""
    from xinfang.intel import hotspots, neardup, similar

    similar.vectors_fill()
    neardup.catch_up()
    for i in range(0, len(case_ids), 2000):
        hotspots.store_terms(case_ids[i : i + 2000])


def connect() -> None:
    from xinfang.cases.signals import (
        case_registered,
        case_routed,
        cases_bulk_registered,
        isolated,
    )
    from xinfang.intel import hotspots, neardup, similar

    for uid, receiver in (
        ("intel_suggest_register", record_registration_suggestion),
        ("intel_similar_index", similar.index_registered_case),
        ("intel_neardup_register", neardup.receive_registered),
        ("intel_hotspot_terms", hotspots.store_registered_terms),
    ):
        case_registered.connect(isolated(receiver), weak=False, dispatch_uid=uid)
    case_routed.connect(
        isolated(record_routing_suggestion), weak=False, dispatch_uid="intel_suggest_route"
    )
    cases_bulk_registered.connect(bulk_registered, dispatch_uid="intel_bulk_registered")
