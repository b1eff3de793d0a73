"""听证: panel size (3–9, odd), one scheduled hearing per case, one vote per member, tally."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.conftest import World
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.followup import hearings as H
from xinfang.followup.models import Hearing, HearingVote


def _schedule(world: World, case: Any, members: list[Any], **kw: Any) -> Hearing:
    return H.hearing_schedule(
        case=case,
        by=kw.pop("by", world.alice),
        scheduled_at=kw.pop("scheduled_at", timezone.now() + dt.timedelta(days=3)),
        place=kw.pop("place", "区信访局听证室"),
        member_ids=[m.pk for m in members],
        parties="信访人张三；东湖街道",
        **kw,
    )


@pytest.mark.parametrize("n", [0, 1, 2, 4, 6, 10])
def test_panel_size_must_be_odd_3_to_9(world: World, replied: Any, pool: list[Any], n: int) -> None:
    with pytest.raises(DomainError) as exc:
        _schedule(world, replied, pool[:n])
    assert exc.value.field == "members"
    assert not Hearing.objects.exists()


@pytest.mark.parametrize("n", [3, 5, 7, 9])
def test_panel_sizes_accepted(world: World, replied: Any, pool: list[Any], n: int) -> None:
    hearing = _schedule(world, replied, pool[:n])
    assert hearing.members.count() == n
    ev = replied.events.get(kind="hearing_schedule")
    assert ev.data["hearing_id"] == hearing.pk and len(ev.data["members"]) == n


def test_schedule_guards(world: World, replied: Any, pool: list[Any]) -> None:
    with pytest.raises(PermissionDenied):
        _schedule(world, replied, pool[:3], by=world.rita)
    with pytest.raises(DomainError) as exc:
        _schedule(world, replied, pool[:3], scheduled_at=timezone.now() - dt.timedelta(hours=1))
    assert exc.value.field == "scheduled_at"
    with pytest.raises(DomainError):
        _schedule(world, replied, [pool[0], pool[0], pool[1]])
    pool[2].is_active = False
    pool[2].save()
    with pytest.raises(DomainError):
        _schedule(world, replied, pool[:3])
    _schedule(world, replied, pool[3:6])
    with pytest.raises(DomainError, match="已有待举行"):
        _schedule(world, replied, pool[5:8])


def _votes(members: list[Any], *values: str) -> list[H.VoteInput]:
    return [
        H.VoteInput(m.pk, v, f"意见{i}")
        for i, (m, v) in enumerate(zip(members, values, strict=True))
    ]


RECORD = "听证会依法举行，各方陈述了意见，听证员进行了评议。"


def test_record_and_tally(world: World, replied: Any, pool: list[Any]) -> None:
    members = pool[:5]
    hearing = _schedule(world, replied, members)
    ev = H.hearing_record(
        hearing=hearing,
        by=world.alice,
        record=RECORD,
        votes=_votes(members, "agree", "agree", "disagree", "abstain", "agree"),
    )
    hearing.refresh_from_db()
    assert hearing.state == "held" and hearing.record == RECORD
    t = H.tally(hearing)
    assert (t.agree, t.disagree, t.abstain, t.panel) == (3, 1, 1, 5)
    assert t.result == "agree" and t.result_label == "多数同意"
    assert ev.kind == "hearing_record"
    assert ev.data["tally"] == {"agree": 3, "disagree": 1, "abstain": 1}
    with pytest.raises(ConcurrentChange):
        H.hearing_record(
            hearing=hearing,
            by=world.alice,
            record=RECORD,
            votes=_votes(members, *["agree"] * 5),
        )
    assert HearingVote.objects.filter(hearing=hearing).count() == 5


def test_no_majority(world: World, replied: Any, pool: list[Any]) -> None:
    members = pool[:3]
    hearing = _schedule(world, replied, members)
    H.hearing_record(
        hearing=hearing,
        by=world.alice,
        record=RECORD,
        votes=_votes(members, "agree", "disagree", "abstain"),
    )
    assert H.tally(hearing).result == "none"
    assert H.Tally(agree=0, disagree=4, abstain=3, panel=7).result == "disagree"


def test_vote_once_per_member(world: World, replied: Any, pool: list[Any]) -> None:
    members = pool[:3]
    hearing = _schedule(world, replied, members)
    twice = [*_votes(members, "agree", "agree", "agree"), H.VoteInput(members[0].pk, "disagree")]
    with pytest.raises(DomainError, match="只能表决一次"):
        H.hearing_record(hearing=hearing, by=world.alice, record=RECORD, votes=twice)
    with pytest.raises(DomainError, match="尚未表决"):
        H.hearing_record(
            hearing=hearing,
            by=world.alice,
            record=RECORD,
            votes=_votes(members[:2], "agree", "agree"),
        )
    with pytest.raises(DomainError, match="不是本次听证"):
        H.hearing_record(
            hearing=hearing,
            by=world.alice,
            record=RECORD,
            votes=_votes([*members[:2], pool[5]], "agree", "agree", "agree"),
        )
    hearing.refresh_from_db()
    assert hearing.state == "scheduled" and not HearingVote.objects.exists()
    # The database holds the rule too.
    HearingVote.objects.create(hearing=hearing, member=members[0], vote="agree")
    with pytest.raises(IntegrityError), transaction.atomic():
        HearingVote.objects.create(hearing=hearing, member=members[0], vote="disagree")


def test_cancel(world: World, replied: Any, pool: list[Any]) -> None:
    hearing = _schedule(world, replied, pool[:3])
    with pytest.raises(DomainError):
        H.hearing_cancel(hearing=hearing, by=world.alice, reason="")
    H.hearing_cancel(hearing=hearing, by=world.alice, reason="信访人申请延期")
    hearing.refresh_from_db()
    assert hearing.state == "cancelled"
    _schedule(world, replied, pool[:3])  # a new one may be scheduled
