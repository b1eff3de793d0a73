"""Two clerks issuing at the same moment (real threads; PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.threads import in_threads, needs_server_db
from xinfang.cases import services as S
from xinfang.documents.models import DocumentCounter, IssuedDocument
from xinfang.documents.services import document_for_event

pytestmark = [needs_server_db, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_same_event_from_many_threads_gives_one_document(world: World, register: Any) -> None:
    ev = S.case_assign(case=register(), by=world.alice, unit=world.street)
    results = in_threads(8, lambda i: document_for_event(ev, by=world.alice).pk)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert IssuedDocument.objects.count() == 1
    assert DocumentCounter.objects.get().last == 1  # the losers gave their numbers back


def test_many_events_at_once_are_numbered_without_gaps(world: World, register: Any) -> None:
    evs = [
        S.case_assign(case=register(summary=f"反映问题第{i}件"), by=world.alice, unit=world.street)
        for i in range(8)
    ]
    results = in_threads(8, lambda i: document_for_event(evs[i]).number)
    assert not [r for r in results if isinstance(r, Exception)], results
    seqs = sorted(int(n.split("〕")[1].rstrip("号")) for n in results)
    assert seqs == list(range(1, 9))
    assert DocumentCounter.objects.get().last == 8
