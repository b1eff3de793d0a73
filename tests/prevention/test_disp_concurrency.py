"""Two approvers at once (threads, PostgreSQL): exactly one decision; the other gets
ConcurrentChange. Two strike requests at once: one request."""

from __future__ import annotations

import pytest

from tests.prevention.conftest import PV
from tests.threads import in_threads, needs_server_db
from xinfang.core.errors import ConcurrentChange, DomainError
from xinfang.prevention import services as S
from xinfang.prevention.models import Dispute, DisputeEvent, DisputeState


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_approvers_at_once(pv: PV) -> None:
    d = pv.pending()
    approvers = [pv.alice, pv.leo]

    def work(i: int) -> object:
        page = Dispute.objects.get(pk=d.pk)
        return S.dispute_decide_strike(approvers[i], page, i == 0, "同意" if i == 0 else "退回补充")

    results = in_threads(2, work)
    wins = [r for r in results if isinstance(r, Dispute)]
    losses = [r for r in results if isinstance(r, ConcurrentChange)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].message.startswith("该事项刚被他人处理")
    decided = DisputeEvent.objects.filter(dispute=d, kind__in=["strike", "strike_reject"])
    assert decided.count() == 1
    d.refresh_from_db()
    assert d.state in (DisputeState.STRUCK, DisputeState.OPEN)


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_strike_requests_at_once(pv: PV) -> None:
    d = pv.dispute()
    S.dispute_add_file(pv.hank, d, pv.evidence_file())
    people = [pv.hank, pv.uma]

    def work(i: int) -> object:
        page = Dispute.objects.get(pk=d.pk)
        return S.dispute_request_strike(
            people[i], page, "已化解，双方签订协议。", "调解协议一份，回访记录两份，双方签字。"
        )

    results = in_threads(2, work)
    assert sum(isinstance(r, Dispute) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) for r in results) == 1, results
    assert DisputeEvent.objects.filter(dispute=d, kind="strike_request").count() == 1
