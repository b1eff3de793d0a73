"""The desk lookup (来访人查询): one box, search as you type, a card per person.

``classify(q)`` normalises what the clerk typed and decides what it is; ``lookup(user, q)``
finds the persons and builds their cards. Both the HTMX box (``lookup_views``) and the API
(``api/lookup.py``) call ``lookup`` — same scope, same masking.

Kinds and the index each one uses (docs/reception.md "来访人查询"):

====================  =====================================================  ==================
kind                  typed                                                  index
====================  =====================================================  ==================
``id_full``           18-character resident ID / HMT permit (or 15 digits)   ``id_number_bidx``
``id_tail``           exactly the last 6 characters of an ID                 ``id_tail_bidx``
``phone``             11-digit mobile, landline, +86/0086, spaces, hyphens   ``phone_bidx``
``case_number``       ``XF-…`` (prefix), or its tail ``2026-000123``          ``Case.number``
``query_code``        10 characters of the query-code alphabet               ``Case.query_code``
``name``              Chinese name, exact or prefix                          ``name`` (range)
``initials``          latin letters → pinyin initials prefix                 ``name_initials``
``words``             Chinese words: name prefix OR address contains; every  name range +
                      word must match (``张 幸福路`` = name 张… and address)  address trigrams
====================  =====================================================  ==================

Scope: a person exists for the user only through a case in ``cases_visible_to(user)``; only
those cases are listed. Person search (name, ID, phone, address) finds a 检举控告 case only for
the desk and case staff of its registering office (``confidential.search_guard``); anyone else
finds it by number or query code only, and then sees its persons masked and no other case of
theirs. A person known only through 检举控告 cases is shown masked (张**), without reveal.

Nothing here logs or audits the query: searches are not audited in this system (the case
list's search is not either); the ID number and phone are hashed into blind indexes and never
written anywhere. The fragment is fetched by POST so the typed value stays out of URLs and
access logs.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from xinfang.core.masking import normalise_phone
from xinfang.core.text import clean_line
from xinfang.people import selectors
from xinfang.people.models import KeyPerson, Petitioner

MAX_PERSONS = 20
MAX_CASES_PER_PERSON = 10
# With more than FEW_PERSONS persons found the clerk is still picking the person: each card
# lists only the newest CASES_WHEN_MANY cases (a 20-card answer stays small and fast); a
# narrower query (full name, ID, phone) shows MAX_CASES_PER_PERSON.
FEW_PERSONS = 3
CASES_WHEN_MANY = 3
MAX_QUERY = 100
REPLY_CHARS = 80

QUERY_CODE_RE = re.compile(r"[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{10}")
ID_FULL_RE = re.compile(r"\d{17}[\dX]|\d{15}|[A-Z]\d{8,10}")
ID_TAIL_RE = re.compile(r"\d{5}[\dX]")
CASE_NUMBER_RE = re.compile(r"XF-[0-9A-Z-]{0,30}")
CASE_TAIL_RE = re.compile(r"(\d{4})-(\d{1,6})")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
LANDLINE_RE = re.compile(r"0\d{2,3}-?\d{7,8}")
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD_RE = re.compile(rf"[{CJK}·]+|[{CJK}0-9A-Za-z·]+")
NAME_RE = re.compile(rf"[{CJK}][{CJK}·]*")
LATIN_RE = re.compile(r"[A-Za-z]{2,20}")
DOTS = ".•・‧∙⋅･●"
MIN_ADDRESS_WORD = 3  # trigram indexes: shorter words cannot drive the search

HINT_EMPTY = "请输入姓名、身份证号码（或后6位）、手机号、事项编号、查询码或地址"


@dataclass
class Query:
    """What was typed, normalised and classified. ``message``: a hint instead of a search."""

    raw: str
    text: str
    kind: str
    value: str = ""
    words: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def searchable(self) -> bool:
        return not self.message

    @property
    def sensitive(self) -> bool:
        """An ID number or phone: never echoed into URLs or logs."""
        return self.kind in {"id_full", "id_tail", "phone"}


KIND_LABELS = {
    "id_full": "证件号码",
    "id_tail": "身份证后6位",
    "phone": "电话号码",
    "case_number": "事项编号",
    "query_code": "查询码",
    "name": "姓名",
    "initials": "姓名拼音首字母",
    "words": "姓名或地址",
    "hint": "",
}


def normalise(raw: str | None) -> str:
    """NFKC (full-width digits and letters → ASCII), one line, the dot of minority names
    (·/•/．/・) unified to "·", runs of spaces to one."""
    text = unicodedata.normalize("NFKC", clean_line(raw or ""))[: MAX_QUERY * 2]
    for dot in DOTS:
        text = text.replace(dot, "·")
    return " ".join(text.split())[:MAX_QUERY]


def _hint(raw: str, text: str, message: str) -> Query:
    return Query(raw=raw, text=text, kind="hint", message=message)


def classify(raw: str | None) -> Query:
    raw = raw or ""
    text = normalise(raw)
    if not text:
        return _hint(raw, text, HINT_EMPTY)
    upper = text.upper()
    compact = re.sub(r"[\s\-()（）]", "", upper)
    if CASE_NUMBER_RE.fullmatch(upper.replace(" ", "")):
        value = upper.replace(" ", "")
        if len(value) < 6:
            return _hint(raw, text, "请输入更完整的事项编号，例如 XF-110101-2026-000123")
        return Query(raw=raw, text=text, kind="case_number", value=value)
    tail = CASE_TAIL_RE.fullmatch(text.replace(" ", ""))
    if tail:
        return Query(
            raw=raw,
            text=text,
            kind="case_number",
            value=f"-{tail.group(1)}-{tail.group(2).zfill(6)}",
        )
    # Phones: +86 / 0086 and spaces/hyphens out.
    phone = re.sub(r"^(\+86|0086)", "", compact)
    mobile = bool(MOBILE_RE.fullmatch(phone))
    if mobile or (phone.startswith("0") and LANDLINE_RE.fullmatch(phone)):
        canonical = normalise_phone(phone if mobile else text)
        return Query(raw=raw, text=text, kind="phone", value=canonical or phone)
    if re.fullmatch(r"\d{17}[\dX]", compact) or re.fullmatch(r"\d{15}", compact):
        return Query(raw=raw, text=text, kind="id_full", value=compact)
    if re.fullmatch(r"[HM]\d{8,10}", compact):  # 港澳居民来往内地通行证 style numbers
        return Query(raw=raw, text=text, kind="id_full", value=compact)
    if ID_TAIL_RE.fullmatch(compact):
        return Query(raw=raw, text=text, kind="id_tail", value=compact)
    # A query code is 10 characters of its alphabet — about 1 in 18 has no digit at all (and a
    # few no letter): decided here, before the digit hints and the pinyin initials (10 initials
    # without I/O would be a 10-character name).
    if QUERY_CODE_RE.fullmatch(compact):
        return Query(raw=raw, text=text, kind="query_code", value=compact)
    if re.fullmatch(r"[\dX]+", compact) and any(c.isdigit() for c in compact):
        n = len(compact)
        if n == 16 or n == 17:
            return _hint(raw, text, f"身份证号码应为18位，您输入了{n}位，请核对")
        if n in (4, 5):
            return _hint(
                raw, text, "按身份证尾号查询请输入身份证后6位（按事项编号请输入如 2026-000123）"
            )
        if n == 12 and compact.startswith("1"):
            return _hint(raw, text, "手机号应为11位，您输入了12位，请核对")
        if n == 10 and compact.startswith("1"):
            return _hint(raw, text, "手机号应为11位，您输入了10位，请核对")
        return _hint(
            raw,
            text,
            "无法识别这串数字：请输入18位身份证号码、身份证后6位、11位手机号或带区号的固定电话",
        )
    if LATIN_RE.fullmatch(compact):
        return Query(raw=raw, text=text, kind="initials", value=compact.lower())
    if re.fullmatch(r"[A-Za-z]", compact):
        return _hint(raw, text, "按拼音首字母查询请至少输入2个字母，例如 zs")
    words = [w for w in text.split() if w]
    if len(words) == 1 and NAME_RE.fullmatch(words[0]):
        return Query(raw=raw, text=text, kind="name", value=words[0], words=words)
    cleaned = WORD_RE.findall(text)
    if not cleaned:
        return _hint(raw, text, "无法识别的查询内容，" + HINT_EMPTY)
    if len(cleaned) > 5:
        return _hint(raw, text, "查询词过多，请最多输入5个词（如：张 幸福路）")
    if not any(len(w) >= MIN_ADDRESS_WORD or NAME_RE.fullmatch(w) for w in cleaned):
        return _hint(raw, text, "地址关键词请至少输入3个字，或加上姓名（如：张 幸福路）")
    return Query(raw=raw, text=text, kind="words", words=cleaned)


# --- finding people --------------------------------------------------------------------------


def _name_prefix(word: str) -> Q:
    # A range, not LIKE: both databases walk the B-tree index on name (C collation on PG).
    return Q(name__gte=word, name__lt=word + "\uffff")


def _other_word(word: str) -> Q:
    """A word beside the driving one: filters the driver's rows (any length; not indexed)."""
    condition = Q(address__contains=word)
    if NAME_RE.fullmatch(word):
        condition |= _name_prefix(word)
    return condition


@dataclass
class AddressPart:
    """Persons whose address contains ``word`` (3+ characters) and who match ``extra``: read
    from the address index in id order, in batches, so a common road name stops after a page."""

    word: str
    extra: Q


Part = QuerySet[Petitioner] | AddressPart
ADDRESS_BATCH = 400


def _people(q: Query) -> list[Part] | None:
    """Petitioners matching a person-kind query, as parts read in order until the page is full
    (None for case kinds). A name walks the name index in name order; an address word walks the
    address index (``AddressPart``) — neither sorts every match of a common name or road."""
    base = Petitioner.objects.filter(merged_into__isnull=True)
    if q.kind == "id_full":
        return [selectors.with_id_number(q.value, base).order_by("-id")]
    if q.kind == "id_tail":
        return [selectors.with_id_tail(q.value, base).order_by("-id")]
    if q.kind == "phone":
        return [selectors.with_phone(q.value, q.text, qs=base).order_by("-id")]
    if q.kind == "initials":
        v = q.value
        return [
            # by the indexed column alone: with ", id" PostgreSQL reads every person sharing
            # the initials ("zw": thousands) to sort the ties before it can stop (SQLite's
            # index already holds rowid order)
            base.filter(name_initials__gte=v, name_initials__lt=v + "\uffff").order_by(
                "name_initials"
            )
        ]
    if q.kind not in {"name", "words"}:
        return None
    words = q.words or [q.value]
    long_words = sorted((w for w in words if len(w) >= MIN_ADDRESS_WORD), key=len, reverse=True)
    parts: list[Part] = []
    # Each name-like word may be the name: its prefix (indexed) drives, the others filter.
    for word in words:
        if NAME_RE.fullmatch(word):
            extra = Q()
            for other in words:
                if other is not word:
                    extra &= _other_word(other)
            parts.append(base.filter(_name_prefix(word)).filter(extra).order_by("name"))
    # The longest word of 3+ characters may be an address word: the address index drives.
    if long_words:
        driver = long_words[0]
        extra = Q(merged_into__isnull=True)
        for other in words:
            if other is not driver:
                extra &= _other_word(other)
        address = AddressPart(driver, extra)
        if q.kind == "words" and connection.vendor == "postgresql":
            # "张 幸福路": PostgreSQL intersects the trigram and name indexes (BitmapAnd) in
            # one go; walking every 张 in name order for an address match is slower there.
            parts.insert(0, address)
        else:
            parts.append(address)
    return parts


def _address_rows(part: AddressPart, has_case: Exists, wanted: int) -> list[Petitioner]:
    """Up to ``wanted`` persons of an address part (with a case in scope)."""
    if connection.vendor != "sqlite":
        # pg_trgm GIN index on address (migration 0005) answers LIKE '%word%'.
        qs = Petitioner.objects.filter(address__contains=part.word).filter(part.extra)
        return list(qs.filter(has_case).order_by()[:wanted])
    # SQLite: the FTS5 trigram table answers LIKE from its index; walk it by rowid in batches.
    found: list[Petitioner] = []
    last = 0
    batch = ADDRESS_BATCH
    with connection.cursor() as cursor:
        while len(found) < wanted:
            cursor.execute(
                "SELECT rowid FROM people_petitioner_addr WHERE address LIKE %s AND rowid > %s "
                "ORDER BY rowid LIMIT %s",
                [f"%{part.word}%", last, batch],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            last = ids[-1]
            rows = Petitioner.objects.filter(pk__in=ids).filter(part.extra).filter(has_case)
            found.extend(rows.order_by("id")[: wanted - len(found)])
            if len(ids) < batch:
                break
            batch = min(batch * 4, 20_000)
    return found


def _person_scope(user: Any) -> QuerySet[Any]:
    """Cases a person search may reach for ``user``."""
    from xinfang.cases.confidential import search_guard
    from xinfang.cases.policy import cases_visible_to

    return cases_visible_to(user).filter(search_guard(user))


def _in_scope(scope: QuerySet[Any]) -> Exists:
    """ "This link's case is in ``scope``" as a correlated EXISTS: one primary-key probe per
    link. (``case__in=scope`` makes SQLite materialise the whole scope — every case of a
    district office — before probing.)"""
    return Exists(scope.filter(pk=OuterRef("case_id")))


# --- the cards -------------------------------------------------------------------------------


@dataclass
class CaseRow:
    case: Any
    via_group: str = ""
    next_due: dt.date | None = None
    deadline_state: str = "none"
    deadline_label: str = "—"
    last_reply: str = ""
    is_final: bool = False


@dataclass
class Card:
    person: Petitioner
    masked: bool
    shown_name: str
    id_masked: str
    phone_masked: str
    reveal_case: Any = None  # a visible case to reveal the ID/phone through (None: no reveal)
    key_reason: str | None = None
    groups: list[str] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)
    more_cases: bool = False
    latest_case: Any = None


@dataclass
class Result:
    query: Query
    cards: list[Card] = field(default_factory=list)
    more: bool = False
    message: str = ""


def may_lookup(user: Any) -> bool:
    from xinfang.org.policy import visible_unit_ids
    from xinfang.org.roles import CASE_READERS

    return bool(visible_unit_ids(user, CASE_READERS))


def sees_key_flags(user: Any) -> bool:
    from xinfang.org import roles as R
    from xinfang.org.policy import role_codes

    return bool(role_codes(user) & (R.OFFICE_STAFF | {R.LEADER}))


def lookup(user: Any, raw: str | None, *, today: dt.date | None = None) -> Result:
    """Find persons for what was typed and build their cards (see the module docstring)."""
    q = classify(raw)
    if not q.searchable:
        return Result(query=q, message=q.message)
    today = today or timezone.localdate()
    scope = _person_scope(user)
    pinned: dict[int, Any] = {}  # person id → the case found by number (case kinds)
    masked_only: set[int] = set()
    people = _people(q)
    if people is None:
        from xinfang.cases.confidential import search_guard
        from xinfang.cases.models import CasePetitioner
        from xinfang.cases.policy import cases_visible_to

        visible = cases_visible_to(user)
        if q.kind == "case_number":
            found = (
                visible.filter(number__in=_numbers_ending(q.value))
                if q.value.startswith("-")
                else visible.filter(number__gte=q.value, number__lt=q.value + "\uffff")
            )
        else:
            found = visible.filter(query_code=q.value)
        # newest number first: a backward walk of the unique index that stops after a page
        # ("XF-110105" alone matches every case of an office)
        cases = list(found.order_by("-number")[:MAX_PERSONS])
        if not cases:
            return Result(query=q, message=f"没有找到{KIND_LABELS[q.kind]}为「{q.text}」的事项")
        guarded = set(
            visible.filter(search_guard(user), pk__in=[c.pk for c in cases]).values_list(
                "pk", flat=True
            )
        )
        ids: list[int] = []
        for link in CasePetitioner.objects.filter(case__in=cases).order_by("case_id", "order"):
            if link.petitioner_id not in pinned:
                pinned[link.petitioner_id] = link.case_id
                ids.append(link.petitioner_id)
            if link.case_id not in guarded:
                masked_only.add(link.petitioner_id)
        persons = list(Petitioner.objects.filter(pk__in=ids[: MAX_PERSONS + 1]))
        persons.sort(key=lambda p: ids.index(p.pk))
    else:
        from xinfang.cases.models import CasePetitioner

        has_case = Exists(
            CasePetitioner.objects.filter(petitioner_id=OuterRef("pk")).filter(_in_scope(scope))
        )
        persons = []
        seen: set[int] = set()
        for part in people:
            wanted = MAX_PERSONS + 1 - len(persons)
            if wanted <= 0:
                break
            if isinstance(part, AddressPart):
                rows = _address_rows(part, has_case, wanted + len(seen))
            else:
                rows = list(part.filter(has_case)[: wanted + len(seen)])
            for person in rows:
                if person.pk not in seen and len(persons) <= MAX_PERSONS:
                    seen.add(person.pk)
                    persons.append(person)
        if q.kind == "name":
            # the exact name first, then the name prefix in name order, then address matches
            persons.sort(key=lambda p: (p.name != q.value, not p.name.startswith(q.value)))
    more = len(persons) > MAX_PERSONS
    persons = persons[:MAX_PERSONS]
    if not persons:
        label = "姓名或地址" if q.kind == "name" and len(q.value) >= MIN_ADDRESS_WORD else None
        label = label or KIND_LABELS[q.kind]
        return Result(query=q, message=f"没有找到{label}为「{_echo(q)}」的来访人")
    cases_each = MAX_CASES_PER_PERSON if len(persons) <= FEW_PERSONS else CASES_WHEN_MANY
    cards = _cards(user, persons, scope, pinned, masked_only, today, cases_each=cases_each)
    return Result(query=q, cards=cards, more=more)


def _numbers_ending(tail: str) -> list[str]:
    """Full numbers a tail like "-2026-000123" can belong to: one per number prefix that issued
    numbers that year (``CaseCounter``) — exact lookups on the unique index, not a scan of every
    number's end."""
    from xinfang.cases.models import CaseCounter

    year = int(tail.split("-")[1])
    codes = CaseCounter.objects.filter(year=year).values_list("code", flat=True)
    return [f"XF-{code}{tail}" for code in codes[:1000]]


def _echo(q: Query) -> str:
    """What to repeat back: never a full ID number or phone (the page may be shared)."""
    if q.kind == "id_full":
        from xinfang.core.masking import mask_id

        return mask_id(q.value)
    if q.kind == "phone":
        from xinfang.core.masking import mask_phone

        return mask_phone(q.value)
    return q.text


def _cards(
    user: Any,
    persons: list[Petitioner],
    scope: QuerySet[Any],
    pinned: dict[int, Any],
    masked_only: set[int],
    today: dt.date,
    *,
    cases_each: int = MAX_CASES_PER_PERSON,
) -> list[Card]:
    from xinfang.cases import deadlines
    from xinfang.cases.confidential import mask_name
    from xinfang.cases.models import Case, CaseEvent, CasePetitioner, Status

    ids = [p.pk for p in persons]
    open_ids = [pk for pk in ids if pk not in masked_only]
    # Groups of the persons (one query) and the cases of those groups in scope.
    groups: dict[int, list[tuple[int, str]]] = {}
    Membership = Petitioner.groups.through
    for m in Membership.objects.filter(petitioner_id__in=open_ids).select_related(
        "petitionergroup"
    ):
        groups.setdefault(m.petitioner_id, []).append(
            (m.petitionergroup_id, m.petitionergroup.name)
        )
    # The persons' cases in scope, newest first (one query), capped per person.
    per_person: dict[int, list[tuple[Any, str]]] = {pk: [] for pk in ids}
    more_cases: set[int] = set()
    case_fields = ("category", "handling_unit")
    # Newest first, at most ``cases_each`` (+1 to know there are more) per person: a
    # window in the database, so a petitioner with hundreds of cases costs no more objects.
    newest = Window(
        RowNumber(),
        partition_by=[F("petitioner_id")],
        order_by=[F("case__received_at").desc(), F("case_id").desc()],
    )
    links = (
        CasePetitioner.objects.filter(petitioner_id__in=open_ids)
        .filter(_in_scope(scope))
        .annotate(newest=newest)
        .filter(newest__lte=cases_each + 1)
        .select_related("case", "case__category", "case__handling_unit")
        .defer("case__content")
        .order_by("-case__received_at", "-case_id")
    )
    for link in links:
        rows = per_person[link.petitioner_id]
        if len(rows) < cases_each:
            rows.append((link.case, ""))
        else:
            more_cases.add(link.petitioner_id)
    group_ids = {gid for gs in groups.values() for gid, _ in gs}
    if group_ids:
        group_cases = list(
            scope.filter(group_id__in=group_ids)
            .select_related(*case_fields, "group")
            .defer("content")
            .order_by("-received_at", "-id")[:200]
        )
        for pk, gs in groups.items():
            mine = {gid for gid, _ in gs}
            have = {c.pk for c, _ in per_person[pk]}
            for case in group_cases:
                if case.group_id in mine and case.pk not in have:
                    if len(per_person[pk]) < cases_each:
                        per_person[pk].append((case, case.group.name))
                        have.add(case.pk)
                    else:
                        more_cases.add(pk)
            per_person[pk].sort(key=lambda row: (row[0].received_at, row[0].pk), reverse=True)
    # Persons reached by a case number: that case (others only when the person is open).
    if pinned:
        pinned_cases = {
            c.pk: c
            for c in Case.objects.filter(pk__in=set(pinned.values()))
            .select_related(*case_fields)
            .defer("content")
        }
        for pk, case_id in pinned.items():
            if pk not in per_person:
                continue
            if all(c.pk != case_id for c, _ in per_person[pk]):
                per_person[pk].insert(0, (pinned_cases[case_id], ""))
    all_cases = {c.pk: c for rows in per_person.values() for c, _ in rows}
    due = deadlines.next_due_by_case(list(all_cases))
    replies: dict[int, str] = {}
    reply_rows = (
        CaseEvent.objects.filter(case_id__in=list(all_cases), kind="reply")
        .order_by("case_id", "-at", "-id")
        .values_list("case_id", "text")
    )
    for case_id, text in reply_rows:
        replies.setdefault(case_id, text)
    keys: dict[int, str] = {}
    if sees_key_flags(user):
        keys = dict(
            KeyPerson.objects.filter(petitioner_id__in=ids, removed_at__isnull=True).values_list(
                "petitioner_id", "reason"
            )
        )
    cards: list[Card] = []
    for person in persons:
        rows = per_person.get(person.pk, [])
        open_rows = [c for c, _ in rows if not c.is_confidential]
        masked = person.pk in masked_only or not open_rows
        case_rows: list[CaseRow] = []
        for case, via in rows:
            nd = due.get(case.pk)
            state = deadlines.state_of(nd, today)
            reply = "" if case.is_confidential else replies.get(case.pk, "")
            case_rows.append(
                CaseRow(
                    case=case,
                    via_group=via,
                    next_due=nd,
                    deadline_state=state,
                    deadline_label=deadlines.STATE_LABELS[state],
                    last_reply=_truncate(reply),
                    is_final=case.status == Status.FINAL,
                )
            )
        cards.append(
            Card(
                person=person,
                masked=masked,
                shown_name=mask_name(person.name) if masked else person.name,
                id_masked="" if masked else person.id_masked,
                phone_masked="" if masked else person.phone_masked,
                reveal_case=None if masked else open_rows[0],
                key_reason=None if masked else keys.get(person.pk),
                groups=[] if masked else [name for _, name in groups.get(person.pk, [])],
                cases=case_rows,
                more_cases=person.pk in more_cases,
                latest_case=None if masked else open_rows[0],
            )
        )
    return cards


def _truncate(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= REPLY_CHARS else text[: REPLY_CHARS - 1] + "…"


def as_json(result: Result) -> dict[str, Any]:
    """The API shape (masked, like the card)."""
    from xinfang.cases.confidential import PLACEHOLDER

    return {
        "kind": result.query.kind,
        "message": result.message,
        "more": result.more,
        "persons": [
            {
                "id": card.person.pk,
                "name": card.shown_name,
                "masked": card.masked,
                "id_number": card.id_masked,
                "phone": card.phone_masked,
                "address": "" if card.masked else card.person.address,
                "key_person": card.key_reason is not None,
                "key_reason": card.key_reason or "",
                "groups": card.groups,
                "more_cases": card.more_cases,
                "cases": [
                    {
                        "id": row.case.pk,
                        "number": row.case.number,
                        "received_at": row.case.received_at,
                        "channel": row.case.get_channel_display(),
                        "category": row.case.category.full_name if row.case.category else "",
                        "status": row.case.status,
                        "status_label": row.case.get_status_display(),
                        "handling_unit": row.case.handling_unit.name
                        if row.case.handling_unit
                        else "",
                        "summary": PLACEHOLDER if row.case.is_confidential else row.case.summary,
                        "next_due": row.next_due,
                        "deadline_state": row.deadline_state,
                        "last_reply": row.last_reply,
                        "final": row.is_final,
                        "via_group": row.via_group,
                    }
                    for row in card.cases
                ],
            }
            for card in result.cards
        ],
    }
