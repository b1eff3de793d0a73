"""Registration (登记) on every channel: the first service of a case's life."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CasePetitioner,
    Category,
    Channel,
    DeadlineKind,
    DeskPurpose,
    PetitionerRole,
    Purpose,
    Status,
    VisitorType,
)
from xinfang.cases.policy import may_register
from xinfang.cases.signals import announce_registered
from xinfang.core.errors import DomainError, IdempotencyConflict, PermissionDenied
from xinfang.core.refcache import ReferenceCache
from xinfang.core.text import clean_line, clean_text
from xinfang.org.models import Unit
from xinfang.people.models import Petitioner, PetitionerGroup
from xinfang.people.services import PetitionerInput, clean_petitioner, petitioner_resolve

MAX_REPRESENTATIVES = 5
COLLECTIVE_HEADCOUNT = 5
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
EARLIEST_YEAR = 1990
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over a phone
QUERY_CODE_LENGTH = 10
WRITTEN_CHANNELS = {Channel.LETTER, Channel.ONLINE, Channel.EMAIL, Channel.FAX}
QUERY_CODE_ATTEMPTS = 3
REFERENCE_CACHE_TTL_SECONDS = 60.0


@dataclass
class Registration:
    channel: str
    purpose: str
    summary: str
    petitioners: list[PetitionerInput]
    received_at: dt.datetime
    content: str = ""
    category_id: int | None = None
    place_code: str = ""
    place_name: str = ""
    headcount: int = 1
    representatives: list[PetitionerInput] = field(default_factory=list)
    group_name: str = ""
    related_to_id: int | None = None
    skip_level: bool = False
    # 检举控告 only: the accused (``cases.confidential``).
    accused_unit_ids: list[int] = field(default_factory=list)
    accused_person_ids: list[int] = field(default_factory=list)
    accused_text: str = ""
    # The desk (xinfang.cases.desk): persons already on file, chosen from a lookup (not
    # retyped); each must be visible to the clerk through a case they may see.
    known_petitioner_ids: list[int] = field(default_factory=list)
    known_representative_ids: list[int] = field(default_factory=list)
    # 集体访: persons present who are not representatives (role 在场人员), typed or known.
    participants: list[PetitionerInput] = field(default_factory=list)
    known_participant_ids: list[int] = field(default_factory=list)
    desk_purpose: str = ""  # DeskPurpose (分类接待), optional
    visitor_type: str = ""  # VisitorType, optional: the clerk's perception
    # A repeat of a final (已终结) matter the clerk can see: True → registered and 告知 at once,
    # False → registered as a new matter (``final_override`` event), None → flagged only.
    final_inform: bool | None = None
    # The final case the clerk was shown and confirmed 告知 on (``final_inform`` True): that
    # one is used even when the automatic match (``final_case_for``) finds another or none.
    final_case_id: int | None = None
    psych_note: str = ""  # non-empty: 转介心理疏导 (``psych_referral`` event)


def _clean(reg: Registration, now: dt.datetime) -> None:
    # Free text: control, bidi and invisible format characters out, NFC (xinfang.core.text).
    reg.summary = clean_line(reg.summary)
    reg.content = clean_text(reg.content)
    reg.place_code = clean_line(reg.place_code)
    reg.place_name = clean_line(reg.place_name)
    reg.group_name = clean_line(reg.group_name)
    if reg.channel not in Channel.values:
        raise DomainError("请选择来源渠道", field="channel")
    if reg.purpose not in Purpose.values:
        raise DomainError("请选择信访目的（建议意见 / 检举控告 / 申诉求决）", field="purpose")
    if not reg.summary.strip():
        raise DomainError("请填写诉求摘要", field="summary")
    if len(reg.summary) > 300:
        raise DomainError(f"诉求摘要最多300字，当前{len(reg.summary)}字", field="summary")
    if reg.received_at.year < EARLIEST_YEAR:
        raise DomainError(f"收到时间早于{EARLIEST_YEAR}年，请核对", field="received_at")
    if timezone.is_naive(reg.received_at):
        reg.received_at = timezone.make_aware(reg.received_at)
    if reg.received_at > now + FUTURE_TOLERANCE:
        shown = timezone.localtime(reg.received_at).strftime("%Y-%m-%d %H:%M")
        raise DomainError(f"收到时间 {shown} 晚于当前时间，请核对", field="received_at")
    if reg.headcount < 1:
        raise DomainError("人数至少为1", field="headcount")
    if reg.desk_purpose and reg.desk_purpose not in DeskPurpose.values:
        raise DomainError("来访目的（分类接待）不在可选范围内", field="desk_purpose")
    if reg.visitor_type and reg.visitor_type not in VisitorType.values:
        raise DomainError("来访人类型不在可选范围内", field="visitor_type")
    reps = len(reg.representatives) + len(reg.known_representative_ids)
    if reps > MAX_REPRESENTATIVES:
        raise DomainError(
            f"集体访最多登记{MAX_REPRESENTATIVES}名代表（当前{reps}名），其余人员计入人数即可",
            field="representatives",
        )
    if not (reg.petitioners or reg.representatives or reg.known_petitioner_ids or reps):
        raise DomainError("请至少登记一名信访人", field="petitioners")
    people = (
        len(reg.petitioners)
        + len(reg.representatives)
        + len(reg.participants)
        + len(reg.known_petitioner_ids)
        + len(reg.known_representative_ids)
        + len(reg.known_participant_ids)
    )
    if reg.headcount < people:
        reg.headcount = people
    if reg.category_id and not _category_exists(reg.category_id):
        raise DomainError("内容分类不存在，请重新选择", field="category")


# --- per-process cache of reference data ---------------------------------------------------
#
# Registration reads two kinds of reference data on every case: whether the chosen category
# exists, and the unit tree for the 越级 flag. Both change rarely and only by administrators,
# so they are kept per process in a ``core.refcache.ReferenceCache`` (saves and deletes of
# ``Unit``/``Category`` clear it; other processes catch up within the TTL). Only facts that
# stay safe when up to a minute old are kept: categories known to exist (a category in use
# cannot be deleted: PROTECT) and the derived 越级 flag. The case number's prefix is never
# cached.


class _Reference:
    """One generation of cached reference facts (see ``xinfang.core.refcache``)."""

    __slots__ = ("categories", "skip_level")

    def __init__(self) -> None:
        self.categories: set[int] = set()
        self.skip_level: dict[tuple[int, str, str, str], bool] = {}


_reference: ReferenceCache[_Reference] = ReferenceCache(
    _Reference, name="registration", watch=[Unit, Category], ttl=REFERENCE_CACHE_TTL_SECONDS
)
clear_reference_cache = _reference.clear


def _cached() -> _Reference:
    return _reference.get()


def _category_exists(category_id: int) -> bool:
    known = _cached().categories
    if category_id in known:
        return True
    if Category.objects.filter(pk=category_id).exists():
        known.add(category_id)
        return True
    return False


def _counter_next(code: str, year: int) -> int:
    """The next sequence number of ``code``/``year``: one ``UPDATE … RETURNING`` (PostgreSQL,
    SQLite ≥ 3.35), or UPDATE then SELECT on an older SQLite; the row is created on the first
    number of the year."""
    connection = connections[router.db_for_write(CaseCounter)]
    for _attempt in range(2):
        if connection.features.can_return_columns_from_insert:  # RETURNING is available
            qn = connection.ops.quote_name
            sql = (
                f"UPDATE {qn(CaseCounter._meta.db_table)} SET {qn('last')} = {qn('last')} + 1 "
                f"WHERE {qn('code')} = %s AND {qn('year')} = %s RETURNING {qn('last')}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [code, year])
                row = cursor.fetchone()
            if row is not None:
                return int(row[0])
        elif CaseCounter.objects.filter(code=code, year=year).update(last=F("last") + 1):
            return CaseCounter.objects.values_list("last", flat=True).get(code=code, year=year)
        try:
            with transaction.atomic(using=connection.alias):
                CaseCounter.objects.create(code=code, year=year, last=1)
            return 1
        except IntegrityError:
            continue  # another clerk created the row a moment ago: increment theirs
    raise IntegrityError(f"case counter {code}/{year} could not be created")


def _next_number(office: Unit, year: int) -> str:
    """Gap-free per number prefix and year. The prefix is the office's effective division code,
    shared by every office without a code of its own under the same unit, so the counter is
    keyed by the prefix, not by the office. It is incremented inside the registration's
    transaction, so a rolled-back registration gives its number back; the UPDATE takes the row
    (PostgreSQL) or database (SQLite, IMMEDIATE) write lock, serialising concurrent clerks."""
    code = office.effective_division_code()
    return f"XF-{code}-{year}-{_counter_next(code, year):06d}"


def _new_query_code() -> str:
    """A random code; uniqueness is the constraint's job (see ``_QueryCodeTaken``)."""
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


class _QueryCodeTaken(IntegrityError):
    """The drawn query code exists already (about 1 in 10¹⁵ per case): register again."""


def _is_query_code_clash(exc: IntegrityError) -> bool:
    """By the violated constraint, never by the message text (it may quote user data)."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg): constraint "cases_case_query_code_key"
        return "query_code" in (diag.constraint_name or "")
    # SQLite: "UNIQUE constraint failed: cases_case.query_code" (no values in the message).
    return str(exc).endswith(f"{Case._meta.db_table}.query_code")


def _earlier_case(people: list[Petitioner], group: PetitionerGroup | None, reg: Registration):  # type: ignore[no-untyped-def]
    """The latest earlier case of the same person or group about the same matter (category)."""
    if reg.related_to_id:
        return Case.objects.filter(pk=reg.related_to_id).first()
    if not reg.category_id:
        return None
    qs = Case.objects.filter(category_id=reg.category_id)
    if group is not None:
        by_group = qs.filter(group=group).order_by("-received_at").first()
        if by_group is not None:
            return by_group
    if people:
        return qs.filter(parties__petitioner__in=people).order_by("-received_at").first()
    return None


def _is_skip_level(office: Unit, reg: Registration) -> bool:
    """越级 (信访工作条例 2022: a petition goes to the competent level or the next one up;
    only going past that is 越级). The clerk's ``skip_level`` always wins. Otherwise:

    1. the place's unit: in the registering office's tree, the unit whose division code is the
       longest prefix of ``place_code`` (codes of 6/9/12 digits); unknown place → not 越级;
    2. the petition levels from that unit upwards: units that are themselves an active petition
       office, or have an active petition office without a code of its own as a direct child
       (the district with its 区信访局);
    3. the registering office's jurisdiction: the office if it has its own division code, else
       its nearest ancestor that has one.

    Jurisdiction at index 0 (competent level) or 1 (next level up) of those levels → not 越级;
    index ≥ 2 → 越级; not among them (another jurisdiction's matter) → not 越级.
    """
    if reg.skip_level:
        return True
    code = reg.place_code.strip()
    if not code.isdigit() or len(code) < 6:
        return False
    key = (office.pk, office.path, office.division_code, code)
    cache = _cached().skip_level
    answer = cache.get(key)
    if answer is None:
        answer = cache[key] = _levels_skipped(office, code)
    return answer


def _path_ids(path: str) -> list[int]:
    """Ids on a materialised path, the unit itself first, then upwards to the root."""
    return [int(part) for part in reversed(path.split(".")) if part]


def _levels_skipped(office: Unit, place_code: str) -> bool:
    root = office.path.split(".", 1)[0] + "."
    prefixes = [place_code[:n] for n in range(6, len(place_code) + 1)]
    candidates = Unit.objects.filter(path__startswith=root, division_code__in=prefixes)
    place = max(
        candidates.values_list("division_code", "path"),
        key=lambda row: (len(row[0]), -row[1].count("."), row[1]),
        default=None,
    )
    if place is None:
        return False
    chain = _path_ids(place[1])
    office_up = _path_ids(office.path)
    rows = Unit.objects.filter(
        Q(pk__in=chain)
        | Q(pk__in=office_up)
        | Q(parent_id__in=chain, is_petition_office=True, is_active=True, division_code="")
    ).values_list("pk", "parent_id", "division_code", "is_petition_office", "is_active")
    units = {pk: (code, is_office and active) for pk, _p, code, is_office, active in rows}
    with_office_child = {
        parent for pk, parent, code, is_office, active in rows if is_office and active and not code
    }
    levels = [pk for pk in chain if pk in units and (units[pk][1] or pk in with_office_child)]
    jurisdiction = next((pk for pk in office_up if pk in units and units[pk][0]), None)
    if jurisdiction not in levels:
        return False
    return levels.index(jurisdiction) >= 2


def _clean_accused(reg: Registration, office: Unit, by: Any) -> tuple[list[Any], list[Any]] | None:
    """The accused of a 检举控告 case, checked (``confidential.resolve_accused``); None when
    none are named. Other purposes name no accused."""
    from xinfang.cases.confidential import resolve_accused

    if not (reg.accused_unit_ids or reg.accused_person_ids or reg.accused_text.strip()):
        return None
    if reg.purpose != Purpose.ACCUSATION:
        raise DomainError(
            "只有信访目的为“检举控告”的事项可以填写被检举控告对象", field="accused_units"
        )
    reg.accused_text = clean_text(reg.accused_text)
    return resolve_accused(
        office=office, by=by, unit_ids=reg.accused_unit_ids, person_ids=reg.accused_person_ids
    )


def _replayed(key: str, by: Any, office: Unit) -> Case | None:
    """The case a retried submission created — only the same clerk's at the same office; a key
    someone else used is refused without saying anything about their case."""
    existing = Case.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if existing.office_unit_id != office.pk or existing.registered_by_id != by.pk:
        raise IdempotencyConflict("该提交标识已被其他登记使用，请重新打开登记页面后再提交")
    return existing


def case_register(
    *,
    by: Any,
    office: Unit,
    reg: Registration,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """Register a case.

    Guard: ``by`` is 接待员/办案员 of ``office``, a petition office; fields valid (ID check
    digits, ≤5 representatives, received time not in the future); known persons visible to
    ``by`` (``cases.desk.known_petitioners``).
    Effect: petitioners found or created (present non-representatives: 在场人员); number issued
    gap-free; flags 重复/越级/集体/联名 derived; the 15-day routing deadline opened; a repeat of
    a final matter the clerk can see: 告知 at once or the override recorded (``final_inform``).
    Event: ``register`` (+ ``final_repeat``, ``inform``/``final_override``, ``psych_referral``).
    Idempotent: a repeated ``idempotency_key`` returns the first case.
    """
    # Permission first: a replayed key must not hand a case to someone who may not register.
    if not may_register(by, office):
        raise PermissionDenied("您没有在该信访机构登记信访事项的权限")
    if idempotency_key:
        existing = _replayed(idempotency_key, by, office)
        if existing is not None:
            return existing
    return _register_checked(by, office, reg, idempotency_key, at or timezone.now())


def case_register_online(
    *,
    by: Any,
    office: Unit,
    reg: Registration,
    idempotency_key: str,
    at: dt.datetime | None = None,
) -> Case:
    """A petition submitted by the petitioner on the public portal (网上信访, ``xinfang.portal``).

    ``by`` is the portal's system account (``portal.services.portal_user``), the 首问责任人 of
    record until the office routes the case; there is no staff permission to check — the portal
    has checked the submission (consent, rate limits, the confirmation step). Only what a
    citizen can state is taken: channel 网上信访; no persons on file, no desk classification, no
    accused chosen from the unit tree (the citizen describes them in ``accused_text``).
    Otherwise the same validation, number, query code, flags, routing deadline and ``register``
    event as at the desk. Idempotent by ``idempotency_key`` (a confirmation sent twice).
    """
    if reg.channel != Channel.ONLINE:
        raise DomainError("网上信访平台只能登记网上信访事项", field="channel")
    if (
        reg.known_petitioner_ids
        or reg.known_representative_ids
        or reg.known_participant_ids
        or reg.participants
        or reg.accused_unit_ids
        or reg.accused_person_ids
        or reg.related_to_id
        or reg.desk_purpose
        or reg.visitor_type
        or reg.final_inform is not None
        or reg.psych_note
    ):
        raise DomainError("网上信访只能填写信访人本人陈述的内容", field="petitioners")
    if not office.is_petition_office or not office.is_active:
        raise DomainError("网上信访受理机构未配置或已停用，请联系信访部门", field="office")
    existing = _replayed(idempotency_key, by, office)
    if existing is not None:
        return existing
    return _register_checked(
        by, office, reg, idempotency_key, at or timezone.now(), origin="信访人通过网上信访平台提交"
    )


def _register_checked(
    by: Any,
    office: Unit,
    reg: Registration,
    idempotency_key: str | None,
    now: dt.datetime,
    *,
    origin: str = "",
) -> Case:
    """Validation, then the registration transaction (retried on a query-code clash)."""
    _clean(reg, now)
    cleaned = [clean_petitioner(p, prefix=f"p{i}_") for i, p in enumerate(reg.petitioners)]
    cleaned_reps = [clean_petitioner(p, prefix=f"r{i}_") for i, p in enumerate(reg.representatives)]
    cleaned_present = [clean_petitioner(p, prefix=f"x{i}_") for i, p in enumerate(reg.participants)]
    known = _known(by, reg)
    accused = _clean_accused(reg, office, by)
    for attempt in range(1, QUERY_CODE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                case = _register(
                    by,
                    office,
                    reg,
                    cleaned,
                    cleaned_reps,
                    idempotency_key,
                    now,
                    present=cleaned_present,
                    known=known,
                    origin=origin,
                )
                if accused is not None:
                    case.accused_units.add(*accused[0])
                    case.accused_persons.add(*accused[1])
                return case
        except _QueryCodeTaken:
            # Everything rolled back, the number included: register again with a new code.
            # Cheaper than a savepoint around every insert for a 1-in-10¹⁵ event.
            if attempt == QUERY_CODE_ATTEMPTS:
                raise
        except IntegrityError:
            # A concurrent retry of the same form won the race: return its case.
            if idempotency_key:
                existing = _replayed(idempotency_key, by, office)
                if existing is not None:
                    return existing
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _known(by: Any, reg: Registration) -> tuple[list[Petitioner], ...]:
    """The known persons (principals, representatives, present), each checked visible to
    ``by`` (``cases.desk.known_petitioners``); checked before the transaction."""
    from xinfang.cases.desk import known_petitioners

    return (
        known_petitioners(by, list(dict.fromkeys(reg.known_petitioner_ids))),
        known_petitioners(by, list(dict.fromkeys(reg.known_representative_ids))),
        known_petitioners(by, list(dict.fromkeys(reg.known_participant_ids))),
    )


def _register(
    by: Any,
    office: Unit,
    reg: Registration,
    cleaned: list[dict[str, Any]],
    cleaned_reps: list[dict[str, Any]],
    idempotency_key: str | None,
    now: dt.datetime,
    *,
    present: list[dict[str, Any]] | None = None,
    known: tuple[list[Petitioner], ...] = ([], [], []),
    origin: str = "",
) -> Case:
    # The same person typed twice (two rows with one ID number) is one party of the case.
    people = list(dict.fromkeys([*known[0], *(petitioner_resolve(v) for v in cleaned)]))
    reps = list(dict.fromkeys([*known[1], *(petitioner_resolve(v) for v in cleaned_reps)]))
    attending = list(dict.fromkeys([*known[2], *(petitioner_resolve(v) for v in (present or []))]))
    attending = [a for a in attending if a not in people and a not in reps]
    group = None
    if reg.group_name.strip():
        group, _ = PetitionerGroup.objects.get_or_create(name=reg.group_name.strip())
        group.members.add(*people, *reps, *attending)
    everyone = people + [r for r in reps if r not in people] + attending
    earlier = _earlier_case(everyone, group, reg)
    from xinfang.replies.finality import final_case_for, record_final_repeat

    final = final_case_for(everyone, group, reg.category_id, reg.related_to_id, earlier)
    if reg.final_inform and reg.final_case_id:
        # the clerk confirmed 告知 on the final case the desk showed (visible: checked by the
        # view) — even when the automatic match found another one or none (a related case that
        # is not final, named from the lookup card)
        final = Case.objects.filter(pk=reg.final_case_id, status=Status.FINAL).first() or final
    earlier = final or earlier  # 终结: a repeat of the final case (xinfang.replies.finality)
    year = timezone.localtime(now).year
    number = _next_number(office, year)
    try:
        case = Case.objects.create(
            number=number,
            query_code=_new_query_code(),
            idempotency_key=idempotency_key or None,
            channel=reg.channel,
            purpose=reg.purpose,
            category_id=reg.category_id,
            place_code=reg.place_code,
            place_name=reg.place_name,
            summary=reg.summary.strip(),
            content=reg.content,
            accused_text=reg.accused_text.strip(),
            received_at=reg.received_at,
            headcount=reg.headcount,
            group=group,
            is_repeat=earlier is not None,
            related_to=earlier,
            is_skip_level=_is_skip_level(office, reg),
            is_collective=reg.headcount >= COLLECTIVE_HEADCOUNT,
            desk_purpose=reg.desk_purpose,
            visitor_type=reg.visitor_type,
            is_joint=reg.channel in WRITTEN_CHANNELS and len(people) > 1,
            status=Status.REGISTERED,
            office_unit=office,
            registered_by=by,
            registered_at=now,
        )
    except IntegrityError as exc:
        if _is_query_code_clash(exc):
            raise _QueryCodeTaken from exc
        raise
    links = [
        CasePetitioner(
            case=case,
            petitioner=p,
            order=i,
            role=PetitionerRole.COSIGNER if i and case.is_joint else PetitionerRole.PRINCIPAL,
        )
        for i, p in enumerate(people)
    ]
    links += [
        CasePetitioner(case=case, petitioner=r, order=10 + i, role=PetitionerRole.REPRESENTATIVE)
        for i, r in enumerate(reps)
        if r not in people
    ]
    links += [
        CasePetitioner(case=case, petitioner=a, order=20 + i, role=PetitionerRole.PARTICIPANT)
        for i, a in enumerate(attending)
    ]
    CasePetitioner.objects.bulk_create(links)
    route = deadlines.deadline_open(case, DeadlineKind.ROUTE, deadlines.local_date(reg.received_at))
    CaseEvent.objects.create(
        case=case,
        kind="register",
        actor=by,
        actor_unit=office,
        at=now,
        to_status=Status.REGISTERED,
        text=origin
        or f"{case.get_channel_display()}登记，首问责任人：{by.get_full_name() or by.username}",
        data={
            "route_due": route.due_on.isoformat(),
            "repeat_of": earlier.number if earlier else None,
            "headcount": case.headcount,
        },
    )
    if final is not None:
        record_final_repeat(case, final, by=by, unit=office, at=now)
        _desk_final(case, final, by, reg, now)
    if reg.psych_note.strip():
        from xinfang.cases.desk import case_refer_counselling

        case_refer_counselling(case=case, by=by, note=reg.psych_note, at=now)
    transaction.on_commit(lambda: announce_registered(case))
    return case


def _desk_final(case: Case, final: Case, by: Any, reg: Registration, now: dt.datetime) -> None:
    """The desk's answer to a repeat of a final matter it can see (``reg.final_inform``):
    告知 at once, or the clerk's override recorded. A final case the clerk cannot see is only
    flagged (``final_repeat``): nobody is told 不予受理 on grounds the clerk cannot read."""
    if reg.final_inform is None:
        return
    from xinfang.cases import desk
    from xinfang.cases.policy import cases_visible_to

    if not cases_visible_to(by).filter(pk=final.pk).exists():
        return
    if reg.final_inform:
        desk.inform_as_final(case=case, final=final, by=by, at=now)
    else:
        desk.record_final_override(case=case, final=final, by=by, at=now)
