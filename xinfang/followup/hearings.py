"""听证: the registering office schedules a public hearing with a panel from the member pool,
then records what was said and how each member voted; the tally is derived from the votes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, Status
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.followup.models import Hearing, HearingMember, HearingVote, Vote
from xinfang.org import roles as R
from xinfang.org.policy import holds_role_over

PANEL_MIN, PANEL_MAX = 3, 9


def may_run_hearings(user: Any, case: Case) -> bool:
    """Hearings are the registering office's: its 办案员 schedules and records them."""
    return holds_role_over(user, case.office_unit, {R.CASE_OFFICER})


def _require(user: Any, case: Case) -> None:
    if not may_run_hearings(user, case):
        raise PermissionDenied("只有登记单位的办案员可以安排和记录听证")


@dataclass(frozen=True)
class Tally:
    agree: int
    disagree: int
    abstain: int
    panel: int

    @property
    def voted(self) -> int:
        return self.agree + self.disagree + self.abstain

    @property
    def result(self) -> str:
        """The majority of the whole panel decides; otherwise no majority opinion."""
        if self.agree * 2 > self.panel:
            return "agree"
        if self.disagree * 2 > self.panel:
            return "disagree"
        return "none"

    @property
    def result_label(self) -> str:
        return {
            "agree": "多数同意",
            "disagree": "多数不同意",
            "none": "未形成多数意见",
        }[self.result]

    def as_dict(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            "disagree": self.disagree,
            "abstain": self.abstain,
            "panel": self.panel,
            "result": self.result,
            "result_label": self.result_label,
        }


def tally(hearing: Hearing) -> Tally:
    counts = {v: 0 for v in Vote.values}
    for vote in hearing.votes.values_list("vote", flat=True):
        counts[vote] += 1
    return Tally(
        agree=counts[Vote.AGREE],
        disagree=counts[Vote.DISAGREE],
        abstain=counts[Vote.ABSTAIN],
        panel=hearing.members.count(),
    )


def _panel(member_ids: Iterable[int]) -> list[HearingMember]:
    ids = list(member_ids)
    if len(set(ids)) != len(ids):
        raise DomainError("听证员不能重复选择", field="members")
    n = len(ids)
    if not PANEL_MIN <= n <= PANEL_MAX or n % 2 == 0:
        raise DomainError(
            f"听证员应为{PANEL_MIN}至{PANEL_MAX}人的单数（3、5、7或9人），当前选择了{n}人",
            field="members",
        )
    members = list(HearingMember.objects.filter(pk__in=ids, is_active=True))
    if len(members) != n:
        raise DomainError("所选听证员不存在或已停用，请重新选择", field="members")
    return members


def hearing_schedule(
    *,
    case: Case,
    by: Any,
    scheduled_at: dt.datetime,
    place: str,
    member_ids: Sequence[int],
    parties: str = "",
    host: Any = None,
    at: dt.datetime | None = None,
) -> Hearing:
    """安排听证. Guard: office 办案员; case not 已终结; no other hearing waiting (partial unique
    index); a future time; a place; a panel of 3–9 (odd) active members. Event
    ``hearing_schedule`` (data hearing_id, scheduled_at, place, members)."""
    _require(by, case)
    if case.status == Status.FINAL:
        raise DomainError("事项已终结，不能再安排听证")
    now = at or timezone.now()
    if scheduled_at is None or scheduled_at <= now:
        raise DomainError("听证时间应晚于当前时间", field="scheduled_at")
    place = clean_text(place or "").strip()
    if len(place) < 2:
        raise DomainError("请填写听证地点", field="place")
    members = _panel(member_ids)
    host = host or by
    with transaction.atomic():
        try:
            with transaction.atomic():
                hearing = Hearing.objects.create(
                    case=case,
                    scheduled_at=scheduled_at,
                    place=place,
                    host=host,
                    parties=clean_text(parties or "").strip(),
                    created_at=now,
                    created_by=by,
                )
        except IntegrityError as exc:
            raise DomainError("该事项已有待举行的听证，请先记录或取消") from exc
        hearing.members.set(members)
        local = timezone.localtime(scheduled_at)
        CaseEvent.objects.create(
            case=case,
            kind="hearing_schedule",
            actor=by,
            actor_unit=case.office_unit,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=f"定于{local:%Y年%m月%d日 %H:%M}在{place}举行听证",
            data={
                "hearing_id": hearing.pk,
                "scheduled_at": scheduled_at.isoformat(),
                "place": place,
                "members": [m.name for m in members],
            },
        )
    return hearing


@dataclass(frozen=True)
class VoteInput:
    member_id: int
    vote: str
    opinion: str = ""


def hearing_record(
    *,
    hearing: Hearing,
    by: Any,
    record: str,
    votes: Sequence[VoteInput],
    at: dt.datetime | None = None,
) -> CaseEvent:
    """听证记录 and the panel's votes. Guard: office 办案员; hearing 已安排; record text; one vote
    (同意/不同意/弃权) from each panel member, once (unique index). Effect: votes stored, hearing
    held. Event ``hearing_record`` (data hearing_id, tally {agree, disagree, abstain}, result)."""
    case = hearing.case
    _require(by, case)
    record = clean_text(record or "").strip()
    if len(record) < 10:
        raise DomainError("请填写听证记录（至少10个字）", field="record")
    panel = {m.pk: m for m in hearing.members.all()}
    seen: set[int] = set()
    for v in votes:
        if v.member_id not in panel:
            raise DomainError("表决人不是本次听证的听证员", field="votes")
        if v.member_id in seen:
            name = panel[v.member_id].name
            raise DomainError(f"听证员{name}已表决，每人只能表决一次", field="votes")
        if v.vote not in Vote.values:
            raise DomainError(f"请选择听证员{panel[v.member_id].name}的表决意见", field="votes")
        seen.add(v.member_id)
    missing = [m.name for pk, m in panel.items() if pk not in seen]
    if missing:
        raise DomainError(f"以下听证员尚未表决：{'、'.join(missing)}", field="votes")
    now = at or timezone.now()
    with transaction.atomic():
        won = Hearing.objects.filter(pk=hearing.pk, state=Hearing.State.SCHEDULED).update(
            state=Hearing.State.HELD, record=record, held_at=now
        )
        if not won:
            raise ConcurrentChange("该听证已记录或已取消，请刷新后查看")
        try:
            with transaction.atomic():
                HearingVote.objects.bulk_create(
                    [
                        HearingVote(
                            hearing=hearing,
                            member_id=v.member_id,
                            vote=v.vote,
                            opinion=clean_text(v.opinion or "").strip(),
                        )
                        for v in votes
                    ]
                )
        except IntegrityError as exc:
            raise ConcurrentChange("该听证的表决已记录，请刷新后查看") from exc
        hearing.refresh_from_db()
        t = tally(hearing)
        return CaseEvent.objects.create(
            case=case,
            kind="hearing_record",
            actor=by,
            actor_unit=case.office_unit,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=f"听证表决：同意{t.agree}、不同意{t.disagree}、弃权{t.abstain}，{t.result_label}",
            data={
                "hearing_id": hearing.pk,
                "tally": {"agree": t.agree, "disagree": t.disagree, "abstain": t.abstain},
                "result": t.result,
                "record": record,
            },
        )


def hearing_cancel(
    *, hearing: Hearing, by: Any, reason: str, at: dt.datetime | None = None
) -> CaseEvent:
    """取消听证. Guard: office 办案员; hearing 已安排; reason. Event ``hearing_cancel``."""
    case = hearing.case
    _require(by, case)
    reason = clean_text(reason or "").strip()
    if len(reason) < 4:
        raise DomainError("请填写取消理由（至少4个字）", field="reason")
    now = at or timezone.now()
    with transaction.atomic():
        won = Hearing.objects.filter(pk=hearing.pk, state=Hearing.State.SCHEDULED).update(
            state=Hearing.State.CANCELLED
        )
        if not won:
            raise ConcurrentChange("该听证已记录或已取消，请刷新后查看")
        return CaseEvent.objects.create(
            case=case,
            kind="hearing_cancel",
            actor=by,
            actor_unit=case.office_unit,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=reason,
            data={"hearing_id": hearing.pk},
        )
