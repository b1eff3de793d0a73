"""Which organ is competent (``competent_organs``) and what a 告知单 says about it
(``organ_snapshot``).

Matching, for a case's content category and problem place:

- category: an organ that lists the category or any ancestor of it matches (the deeper the
  listed category, the more specific); an organ listing no category matches any content
  (属地 organs such as a street office) but ranks after the specific ones; an organ listing
  other categories only does not match;
- place: an organ with division-code prefixes matches a place code that starts with one of
  them (the longer the prefix, the more specific); an organ without prefixes covers the whole
  jurisdiction; an organ whose prefixes all miss does not match.

No article numbers are printed (shared/domain.md "Rules of acceptance"): the remedy wording
names the procedure and the time limits that are certain in the law, nothing else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from xinfang.cases.models import Category
from xinfang.core.text import clean_line
from xinfang.directory.models import LEGAL_KINDS, Organ, OrganKind

Q_LIMIT = 40

# Standard wording of the remedy per kind (used when the organ has no wording of its own).
REMEDY_TEXT: dict[str, str] = {
    OrganKind.COURT: (
        "本事项属于人民法院受理范围，应当通过诉讼途径依法解决：民事纠纷可以向有管辖权的"
        "人民法院提起民事诉讼，诉讼时效期间一般为三年，自知道或者应当知道权利受到损害以及"
        "义务人之日起计算；对行政机关的行政行为不服的，可以依法提起行政诉讼，起诉期限一般为"
        "自知道或者应当知道作出行政行为之日起六个月。已经进入诉讼程序的，请向受理案件的"
        "人民法院反映。"
    ),
    OrganKind.ARBITRATION: (
        "本事项属于劳动人事争议，应当先向劳动人事争议仲裁委员会申请仲裁。仲裁时效期间为一年，"
        "从当事人知道或者应当知道其权利被侵害之日起计算；对仲裁裁决不服的，可以依法向人民法院"
        "提起诉讼。"
    ),
    OrganKind.RECONSIDERATION: (
        "对行政机关作出的行政行为不服的，可以自知道或者应当知道该行政行为之日起六十日内申请"
        "行政复议（法律规定的申请期限超过六十日的除外），也可以依法向人民法院提起行政诉讼"
        "（法律规定应当先申请行政复议的除外）。"
    ),
    OrganKind.PROCURATORATE: (
        "认为人民法院的生效裁判、调解书或者诉讼活动有错误的，可以依法向人民检察院申请法律监督。"
    ),
    OrganKind.DISCIPLINE: "检举控告党员、公职人员违纪违法问题的，请向纪检监察机关提出。",
    OrganKind.POLICE: "涉及违法犯罪、治安案件的，请向公安机关报案或者反映；紧急情况请拨打110。",
}
DEFAULT_REMEDY = "请向该机关反映，由其依法处理。"

# The 涉法涉诉 explanation on the directory page (the same wording as the 告知单).
LEGAL_ROUTES: list[tuple[str, str]] = [
    ("诉讼", REMEDY_TEXT[OrganKind.COURT]),
    ("劳动人事争议仲裁", REMEDY_TEXT[OrganKind.ARBITRATION]),
    ("行政复议", REMEDY_TEXT[OrganKind.RECONSIDERATION]),
]


def remedy_text(organ: Organ) -> str:
    return organ.remedy.strip() or REMEDY_TEXT.get(organ.kind, DEFAULT_REMEDY)


def _category_depths(category_id: int | None) -> dict[int, int]:
    """The category and its ancestors: id → level (3 for a third-level category …)."""
    out: dict[int, int] = {}
    seen = 0
    cid = category_id
    while cid is not None and seen < 10:
        row = Category.objects.filter(pk=cid).values("id", "parent_id", "level").first()
        if row is None:
            break
        out[row["id"]] = row["level"] or 1
        cid = row["parent_id"]
        seen += 1
    return out


def _place_score(organ: Organ, place_code: str) -> int | None:
    """Length of the longest matching prefix, 0 for the whole jurisdiction, None: no match."""
    prefixes = organ.place_prefixes()
    if not prefixes:
        return 0
    if not place_code:
        return 0  # no place given: not a reason to leave it out
    hits = [len(p) for p in prefixes if place_code.startswith(p)]
    return max(hits) if hits else None


def search_filter(q: str) -> Q:
    q = clean_line(q)[:Q_LIMIT]  # controls out: a NUL is a PostgreSQL error, not a search
    if not q:
        return Q()
    return (
        Q(name__icontains=q)
        | Q(address__icontains=q)
        | Q(notes__icontains=q)
        | Q(categories__name__icontains=q)
        | Q(unit__name__icontains=q)
    )


def competent_organs(
    category_id: int | None,
    place_code: str = "",
    q: str = "",
    *,
    kind: str = "",
    legal_only: bool = False,
) -> list[Organ]:
    """Active organs competent for a matter of ``category_id`` at ``place_code``, most
    specific first (deepest matching category, then longest place prefix, then ``sort``).
    ``q`` narrows by keyword (name, address, notes, category, linked unit); ``kind`` by type."""
    place_code = (place_code or "").strip()[:12]
    qs = Organ.objects.filter(is_active=True).filter(search_filter(q))
    if kind:
        qs = qs.filter(kind=kind)
    if legal_only:
        qs = qs.filter(legal_route=True)
    organs = list(qs.distinct().prefetch_related("categories").select_related("unit"))
    depths = _category_depths(category_id) if category_id else {}
    ranked: list[tuple[tuple[int, int, int, int], Organ]] = []
    for organ in organs:
        cats = [c.pk for c in organ.categories.all()]
        if category_id and cats:
            matched = [depths[c] for c in cats if c in depths]
            if not matched:
                continue
            cat_score = max(matched)
        else:
            cat_score = 0
        place_score = _place_score(organ, place_code)
        if place_score is None:
            continue
        ranked.append(((-cat_score, -place_score, organ.sort, organ.pk), organ))
    ranked.sort(key=lambda item: item[0])
    return [organ for _key, organ in ranked]


def organ_snapshot(organ: Organ) -> dict[str, Any]:
    """What the ``inform`` event keeps of the organ (the 告知单 prints it; a later edit of the
    directory does not change an issued notice)."""
    return {
        "id": organ.pk,
        "name": organ.name,
        "kind": organ.kind,
        "kind_label": organ.get_kind_display(),  # type: ignore[attr-defined]
        "address": organ.address,
        "phone": organ.phone,
        "hours": organ.hours,
        "website": organ.website,
        "notes": organ.notes,
        "legal_route": bool(organ.legal_route or organ.kind in LEGAL_KINDS),
        "remedy": remedy_text(organ),
    }
