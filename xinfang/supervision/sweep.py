"""The escalation sweep: 临期提醒 → 催办 → 督办 → 提级督办 (and 签收提醒) as data-driven steps.

For each active ``EscalationRule`` the sweep turns "trigger date (due date ± offset) ≤ today"
around into a cut-off on the due date (``base_cutoff``), so the candidates are one range read of
the partial index ``deadline_open_kind_due`` (kind, due_on) of open deadlines: the work grows
with the number of deadlines that are due, not with the number that are open.

Idempotency: a ``SupervisionStep`` row per (deadline, rule), unique. Each batch runs in one
transaction: ``INSERT … ON CONFLICT DO NOTHING RETURNING`` the step rows, then the case events
and the notifications only for the rows this sweep actually inserted. An interrupted run (an
exception, ``stop_after``) leaves whole batches behind; re-running finds the rest, never the
same deadline twice. Two sweeps at once: the unique index makes the second wait and then skip.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Exists, JSONField, OuterRef, QuerySet
from django.utils import timezone

from xinfang.cases.models import CaseEvent, Deadline, DeadlineKind, Purpose, Status
from xinfang.core import workcalendar
from xinfang.notify.models import Notification
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.supervision.models import (
    SIGN_IN,
    EscalationRule,
    Recipient,
    Stage,
    SupervisionStep,
    SweepRun,
)

log = logging.getLogger(__name__)
_DAY = dt.timedelta(days=1)

# Which case states still carry each obligation (a step for a case that moved on is skipped).
OBLIGATION_STATES: dict[str, frozenset[str]] = {
    DeadlineKind.ROUTE: frozenset({Status.REGISTERED, Status.RETURNED}),
    DeadlineKind.ACCEPT: frozenset({Status.ASSIGNED, Status.FORWARDED, Status.SIGNED}),
    DeadlineKind.HANDLE: frozenset({Status.ACCEPTED}),
    DeadlineKind.REVIEW_DECIDE: frozenset({Status.REVIEW_REQUESTED}),
    DeadlineKind.REREVIEW_DECIDE: frozenset({Status.REREVIEW_REQUESTED}),
    SIGN_IN: frozenset({Status.ASSIGNED, Status.FORWARDED}),
}
# Obligations of the handling unit; the others are the registering office's.
UNIT_SIDE = frozenset({DeadlineKind.ACCEPT, DeadlineKind.HANDLE, SIGN_IN})

EVENT_KINDS = {
    "remind": "临期提醒",
    "urge": "催办",
    "supervise": "督办",
    "escalate": "提级督办",
    "sign_in_remind": "签收提醒",
}
KIND_LABELS = {
    "route": "登记转送交办",
    "accept": "受理告知",
    "handle": "办理答复",
    "review_decide": "复查办理",
    "rereview_decide": "复核办理",
    SIGN_IN: "签收",
}


# --- dates ---------------------------------------------------------------------------------


def _workday_back(d: dt.date, n: int) -> dt.date:
    """The ``n``-th workday before ``d`` (``d`` itself not counted)."""
    while n:
        d -= _DAY
        if workcalendar.is_workday(d):
            n -= 1
    return d


def trigger_date(base: dt.date, offset: int, working_days: bool) -> dt.date:
    """When a rule fires for a deadline whose due (or, for sign_in, start) date is ``base``."""
    if not working_days or offset == 0:
        return base + dt.timedelta(days=offset)
    if offset > 0:
        return workcalendar.add_days(base, offset, working_days=True, roll_to_workday=False)
    return _workday_back(base, -offset)


def base_cutoff(today: dt.date, offset: int, working_days: bool) -> dt.date:
    """The latest base date whose trigger date is ≤ ``today`` (trigger is monotonic in base):
    the sweep's index range is ``due_on <= base_cutoff(today, …)``."""
    if not working_days or offset == 0:
        return today - dt.timedelta(days=offset)
    if offset > 0:
        # trigger(base) ≤ today ⇔ (base, today] holds ≥ offset workdays ⇔ base < w, where w is
        # the offset-th workday counted backwards from today inclusive.
        w = today + _DAY
        n = offset
        while n:
            w -= _DAY
            if workcalendar.is_workday(w):
                n -= 1
        return w - _DAY
    # offset < 0: trigger(base) ≤ today ⇔ fewer than |offset| workdays strictly between today
    # and base ⇔ base ≤ the |offset|-th workday after today.
    return workcalendar.add_days(today, -offset, working_days=True, roll_to_workday=False)


# --- recipients ------------------------------------------------------------------------------


def _users(unit_id: int | None, roles: Iterable[str]) -> list[int]:
    if unit_id is None:
        return []
    return list(
        get_user_model()
        .objects.filter(
            is_active=True, memberships__unit_id=unit_id, memberships__role__code__in=list(roles)
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


class Recipients:
    """Recipient ids by (code, responsible unit, office), cached for one run."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int | None, int | None, bool], list[int]] = {}
        self._parents: dict[int, int | None] = {}

    def _parent(self, unit_id: int) -> int | None:
        if unit_id not in self._parents:
            self._parents[unit_id] = (
                Unit.objects.filter(pk=unit_id).values_list("parent_id", flat=True).first()
            )
        return self._parents[unit_id]

    def _nearest(self, unit_id: int | None, roles: set[str]) -> list[int]:
        node = unit_id
        while node is not None:
            ids = _users(node, roles)
            if ids:
                return ids
            node = self._parent(node)
        return []

    def ids(
        self, code: str, *, unit_id: int | None, office_id: int | None, unit_side: bool
    ) -> list[int]:
        key = (code, unit_id, office_id, unit_side)
        if key not in self._cache:
            self._cache[key] = self._compute(code, unit_id, office_id, unit_side)
        return self._cache[key]

    def _compute(
        self, code: str, unit_id: int | None, office_id: int | None, unit_side: bool
    ) -> list[int]:
        if code == Recipient.UNIT_STAFF:
            return _users(unit_id, R.UNIT_STAFF if unit_side else {R.CASE_OFFICER})
        if code == Recipient.UNIT_HEADS:
            return _users(unit_id, {R.UNIT_HEAD})
        if code == Recipient.LEADERS:
            return self._nearest(unit_id, {R.LEADER})
        if code == Recipient.OFFICE:
            return _users(office_id, {R.CASE_OFFICER})
        if code == Recipient.SUPERVISORS:
            return self._nearest(office_id, {R.SUPERVISOR})
        return []

    def for_case(self, codes: Iterable[str], case: Any, kind: str) -> list[int]:
        """``case``: a Case or a sweep row (reads handling_unit_id, office_unit_id)."""
        unit_side = kind in UNIT_SIDE
        unit_id = case.handling_unit_id if unit_side else case.office_unit_id
        out: list[int] = []
        for code in codes:
            for pk in self.ids(
                code, unit_id=unit_id, office_id=case.office_unit_id, unit_side=unit_side
            ):
                if pk not in out:
                    out.append(pk)
        return out


def _may_see(user_ids: list[int], case_id: int) -> list[int]:
    """检举控告件: only recipients who may open the case (not the accused) are told."""
    from xinfang.cases.policy import cases_visible_to

    users = get_user_model().objects.filter(pk__in=user_ids)
    return [u.pk for u in users if cases_visible_to(u).filter(pk=case_id).exists()]


# --- messages ------------------------------------------------------------------------------


def message(
    event_kind: str, case: Any, deadline_kind: str, due_on: dt.date, days_overdue: int
) -> tuple[str, str]:
    """Title and body of the notification. A 检举控告件 carries no content (only its number)."""
    what = KIND_LABELS.get(deadline_kind, deadline_kind)
    if days_overdue > 0:
        when = f"已超期{days_overdue}日（届满日{due_on:%Y-%m-%d}）"
    elif days_overdue == 0:
        when = f"今日届满（{due_on:%Y-%m-%d}）"
    else:
        when = f"将于{due_on:%Y-%m-%d}届满（剩{-days_overdue}日）"
    label = EVENT_KINDS.get(event_kind, event_kind)
    if case.is_confidential:
        # 检举控告件: only the number and the kind, as notify() stores them (notify.services).
        from xinfang.notify.services import CONFIDENTIAL_BODY, confidential_title

        return f"{confidential_title(case, event_kind)}（{when}）", CONFIDENTIAL_BODY
    if event_kind == "sign_in_remind":
        title = f"{label}：{case.number} 已交办/转送，尚未签收"
    else:
        title = f"{label}：{case.number} {what}期限{when}"
    body = f"诉求摘要：{case.summary}"
    return title, body


def _notify_rows(rows: list[dict[str, Any]], keys: list[str], email: bool) -> int:
    """Store the batch's notifications — ``notify.services.notify`` for many dedupe keys at
    once: the unique (recipient, dedupe_key) index makes a repeat a no-op — and, after the
    commit, mail the new rows whose recipient has an address (``notify.mail.send_rows`` claims
    each row, so a racing sweep never mails twice)."""
    if not rows:
        return 0
    _insert(Notification, rows, conflict="*")
    if email and keys:

        def _send() -> None:
            from xinfang.notify import mail

            pending = (
                Notification.objects.filter(dedupe_key__in=keys, emailed_at__isnull=True)
                .exclude(recipient__email="")
                .select_related("recipient")
            )
            try:
                mail.send_rows(list(pending))
            except Exception:
                log.exception("supervision mails not sent")

        transaction.on_commit(_send)
    return len(rows)


# --- the sweep -----------------------------------------------------------------------------


@dataclass
class _Tally:
    examined: int = 0
    created: int = 0
    skipped: int = 0
    notified: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class _Stop(Exception):
    pass


def candidates(rule: EscalationRule, today: dt.date) -> QuerySet[Deadline]:
    """Open, unpaused deadlines whose trigger date for ``rule`` is ≤ ``today`` and that have no
    step for it: a range on the partial index (kind, due_on) of open deadlines."""
    cutoff = base_cutoff(today, rule.offset_days, rule.working_days)
    qs = Deadline.objects.filter(met_at__isnull=True, cancelled_at__isnull=True, paused=False)
    if SIGN_IN in rule.kinds:
        qs = qs.filter(
            kind=DeadlineKind.ACCEPT,
            started_on__lte=cutoff,
            case__status__in=list(OBLIGATION_STATES[SIGN_IN]),
        )
    else:
        kinds = [k for k in rule.kinds if k in OBLIGATION_STATES]
        qs = qs.filter(kind__in=kinds, due_on__lte=cutoff)
    done = SupervisionStep.objects.filter(deadline_id=OuterRef("pk"), rule_id=rule.pk)
    return qs.filter(~Exists(done))


class _Row:
    """What a batch reads of one deadline and its case (tuples, not model instances: the
    sweep handles 100,000s of rows)."""

    __slots__ = (  # noqa: RUF023 — the order of _ROW_FIELDS
        "pk",
        "kind",
        "due_on",
        "started_on",
        "case_id",
        "number",
        "status",
        "purpose",
        "summary",
        "office_unit_id",
        "handling_unit_id",
    )

    pk: int
    kind: str
    due_on: dt.date
    started_on: dt.date
    case_id: int
    number: str
    status: str
    purpose: str
    summary: str
    office_unit_id: int
    handling_unit_id: int | None

    def __init__(self, values: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)

    # the attributes ``message`` and ``Recipients.for_case`` read of a case
    @property
    def is_confidential(self) -> bool:
        return bool(self.purpose == Purpose.ACCUSATION)


def _columns(model: type[Any]) -> tuple[list[Any], dict[str, Any]]:
    """Concrete non-pk fields and the Python default of each (columns other features add
    with a default are filled in, so the raw INSERTs below keep working)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults: dict[str, Any] = {}
    for f in fields:
        if f.has_default() or (not f.null and f.empty_strings_allowed):
            defaults[f.attname] = f.get_default()
        else:
            defaults[f.attname] = None
    return fields, defaults


def _prep(f: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(f, JSONField):
        return f.get_db_prep_save(value, connection)
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _insert(
    model: type[Any],
    rows: list[dict[str, Any]],
    *,
    conflict: str = "",
    returning: str = "",
    chunk: int = 1000,
) -> list[tuple[Any, ...]]:
    """Multi-row raw INSERT of Python values, optionally ``ON CONFLICT (…) DO NOTHING`` and
    ``RETURNING …``. PostgreSQL: one JSON parameter expanded by ``json_populate_recordset``
    (a VALUES list of 10,000 placeholders costs more to parse than to insert); SQLite (≥ 3.35
    for RETURNING): a VALUES list."""
    if not rows:
        return []
    fields, defaults = _columns(model)
    names = [f.attname for f in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    target = "" if conflict in ("", "*") else f" ({conflict})"
    tail = (f" ON CONFLICT{target} DO NOTHING" if conflict else "") + (
        f" RETURNING {returning}" if returning else ""
    )
    pg = connection.vendor == "postgresql"
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cur:
        for i in range(0, len(rows), chunk):
            part = rows[i : i + chunk]
            if pg:
                records = [
                    {
                        f.column: (row[n] if n in row else defaults[n])
                        for f, n in zip(fields, names, strict=True)
                    }
                    for row in part
                ]
                payload = json.dumps(records, default=str, ensure_ascii=False)
                cur.execute(
                    f"INSERT INTO {table} ({cols}) SELECT {cols} FROM "
                    f"json_populate_recordset(NULL::{table}, %s::json){tail}",
                    [payload],
                )
            else:
                params: list[Any] = []
                for row in part:
                    params.extend(
                        _prep(f, row[n] if n in row else defaults[n])
                        for f, n in zip(fields, names, strict=True)
                    )
                cur.execute(
                    f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * len(part))}{tail}",
                    params,
                )
            if returning:
                out.extend(cur.fetchall())
    return out


def _set_event_ids(pairs: list[tuple[int, int]]) -> None:
    """step.event_id for (step id, event id) pairs: one UPDATE … CASE per 500."""
    table = connection.ops.quote_name(SupervisionStep._meta.db_table)
    with connection.cursor() as cur:
        for i in range(0, len(pairs), 500):
            part = pairs[i : i + 500]
            whens = " ".join(["WHEN %s THEN %s"] * len(part))
            params: list[Any] = [v for pair in part for v in pair]
            params += [step for step, _ in part]
            cur.execute(
                f"UPDATE {table} SET event_id = CASE id {whens} END "
                f"WHERE id IN ({', '.join(['%s'] * len(part))})",
                params,
            )


_ROW_FIELDS = (
    "pk",
    "kind",
    "due_on",
    "started_on",
    "case_id",
    "case__number",
    "case__status",
    "case__purpose",
    "case__summary",
    "case__office_unit_id",
    "case__handling_unit_id",
)


def _process(
    rule: EscalationRule,
    ids: list[int],
    today: dt.date,
    at: dt.datetime,
    recipients: Recipients,
    tally: _Tally,
) -> None:
    """One batch, one transaction."""
    sign_in = SIGN_IN in rule.kinds
    rows = [
        _Row(values)
        for values in Deadline.objects.filter(
            pk__in=ids, met_at__isnull=True, cancelled_at__isnull=True, paused=False
        )
        .order_by("pk")
        .values_list(*_ROW_FIELDS)
    ]
    tally.skipped += len(ids) - len(rows)
    plan: list[tuple[_Row, str, dt.date, int, int | None]] = []
    for d in rows:
        obligation = SIGN_IN if sign_in else d.kind
        if d.status not in OBLIGATION_STATES[obligation]:
            tally.skipped += 1
            continue
        base = d.started_on if sign_in else d.due_on
        fire = trigger_date(base, rule.offset_days, rule.working_days)
        if fire > today:  # the cut-off is exact; this guards a calendar edited mid-run
            tally.skipped += 1
            continue
        due = fire if sign_in else d.due_on
        unit_id = d.handling_unit_id if obligation in UNIT_SIDE else d.office_unit_id
        plan.append((d, obligation, due, (today - due).days, unit_id))
    db_at = at
    inserted = {
        deadline_id: step_id
        for step_id, deadline_id in _insert(
            SupervisionStep,
            [
                {
                    "case_id": d.case_id,
                    "deadline_id": d.pk,
                    "rule_id": rule.pk,
                    "stage": rule.stage,
                    "unit_id": unit_id,
                    "due_on": due,
                    "days_overdue": overdue,
                    "at": db_at,
                }
                for d, _, due, overdue, unit_id in plan
            ],
            conflict="deadline_id, rule_id",
            returning="id, deadline_id",
        )
    }
    tally.skipped += len(plan) - len(inserted)
    if not inserted:
        return
    unit_names = dict(
        Unit.objects.filter(pk__in={p[4] for p in plan if p[4]}).values_list("pk", "name")
    )
    events: list[dict[str, Any]] = []
    step_ids: list[int] = []
    notes: list[dict[str, Any]] = []
    keys: list[str] = []
    kind = rule.event_kind
    for d, obligation, due, overdue, unit_id in plan:
        step_id = inserted.get(d.pk)
        if step_id is None:
            continue
        to = recipients.for_case(rule.recipients, d, obligation)
        if d.is_confidential and to:
            to = _may_see(to, d.case_id)
        title, body = message(kind, d, SIGN_IN if sign_in else d.kind, due, overdue)
        data = {
            "rule_id": rule.pk,
            "rule": rule.code,
            "stage": rule.stage,
            "step_id": step_id,
            "deadline_id": d.pk,
            "deadline_kind": d.kind,
            "due_on": due.isoformat(),
            "days_overdue": overdue,
            "unit_id": unit_id,
            "unit": unit_names.get(unit_id, "") if unit_id else "",
            "recipients": to,
            "issues_document": rule.issues_document,
        }
        events.append(
            {
                "case_id": d.case_id,
                "kind": kind,
                "at": db_at,
                "text": title,
                "data": data,
            }
        )
        step_ids.append(step_id)
        key = f"sweep:{rule.code}:{d.pk}"
        keys.append(key)
        for pk in to:
            notes.append(
                {
                    "recipient_id": pk,
                    "kind": kind,
                    "title": title[:200],
                    "body": body,
                    "case_id": d.case_id,
                    "url": f"/cases/{d.case_id}/",
                    "dedupe_key": key,
                    "created_at": db_at,
                }
            )
        tally.counts[kind] = tally.counts.get(kind, 0) + 1
    # RETURNING the step id from the event's data: no reliance on the order of returned rows
    step_of = (
        "(data->>'step_id')::bigint"
        if connection.vendor == "postgresql"
        else "json_extract(data, '$.step_id')"
    )
    made = _insert(CaseEvent, events, returning=f"id, {step_of}")
    assert len(made) == len(step_ids)
    _set_event_ids([(int(step_id), event_id) for event_id, step_id in made])
    tally.notified += _notify_rows(notes, keys, rule.email)
    tally.created += len(events)


def _moment(today: dt.date | None) -> dt.datetime:
    now = timezone.now()
    if today is None or today == timezone.localdate(now):
        return now
    return timezone.make_aware(dt.datetime.combine(today, dt.time(8, 0)))


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def run_sweep(
    today: dt.date | None = None,
    *,
    batch: int = 1000,
    stop_after: int | None = None,
    run: SweepRun | None = None,
) -> SweepRun:
    """Take every escalation step that is due by ``today``. Returns the ``SweepRun`` row.

    ``stop_after``: stop (state 已中止) once that many deadlines were examined — an interrupted
    run for tests and operators; the next run picks up where it stopped. An exception marks
    the run 失败 (with the error) and is re-raised; committed batches stay committed."""
    day = today or timezone.localdate()
    now = timezone.now()
    if run is None:
        run = SweepRun.objects.create(state=SweepRun.State.RUNNING, today=day, started_at=now)
    else:
        run.state, run.today, run.started_at = SweepRun.State.RUNNING, day, now
        run.save(update_fields=["state", "today", "started_at"])
    tally = _Tally()
    at = _moment(today)
    recipients = Recipients()
    state = SweepRun.State.DONE
    error = ""
    try:
        for rule in EscalationRule.objects.filter(active=True).order_by("order", "pk"):
            ids = list(candidates(rule, day).order_by("pk").values_list("pk", flat=True))
            for chunk in _chunks(ids, batch):
                if stop_after is not None:
                    room = stop_after - tally.examined
                    if room <= 0:
                        raise _Stop
                    chunk = chunk[:room]
                with transaction.atomic():
                    _process(rule, chunk, day, at, recipients, tally)
                tally.examined += len(chunk)
    except _Stop:
        state = SweepRun.State.STOPPED
    except Exception as exc:
        state = SweepRun.State.FAILED
        error = f"{type(exc).__name__}: {exc}"
        log.exception("supervision sweep failed")
        _finish(run, tally, state, error)
        raise
    _finish(run, tally, state, error)
    return run


def _finish(run: SweepRun, tally: _Tally, state: str, error: str) -> None:
    run.state = state
    run.error = error
    run.finished_at = timezone.now()
    run.examined, run.created, run.skipped = tally.examined, tally.created, tally.skipped
    run.notified, run.counts = tally.notified, tally.counts
    run.save(
        update_fields=[
            "state",
            "error",
            "finished_at",
            "examined",
            "created",
            "skipped",
            "notified",
            "counts",
        ]
    )


def stage_label(stage: str) -> str:
    return dict(Stage.choices).get(stage, stage)
