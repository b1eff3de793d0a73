"""Who the user is in the organisation: their memberships, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from xinfang.org.models import Membership, Unit


@dataclass(frozen=True)
class Post:
    unit_id: int
    unit_path: str
    role: str
    # The subtree this post reads cases in. Usually the unit itself; for the desk and case
    # officers of a petition office without its own division code (区信访局, a department
    # beside the streets) it is the jurisdiction the office serves (the district).
    scope_path: str = ""


def jurisdiction_of(unit: Unit) -> Unit:
    """The unit itself if it has a division code, else its nearest ancestor with one."""
    if unit.division_code or unit.parent_id is None:
        return unit
    ancestor_ids = [int(part) for part in unit.path.split(".") if part][:-1]
    ancestors = {u.pk: u for u in Unit.objects.filter(pk__in=ancestor_ids)}
    for pk in reversed(ancestor_ids):
        candidate = ancestors.get(pk)
        if candidate is not None and candidate.division_code:
            return candidate
    return unit


def posts_of(user: Any) -> list[Post]:
    """The user's (unit, role) posts, cached on the user object for the request."""
    from xinfang.org.roles import OFFICE_STAFF

    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_xf_posts", None)
    if cached is None:
        cached = []
        memberships = Membership.objects.filter(user=user, unit__is_active=True).select_related(
            "unit", "role"
        )
        for m in memberships:
            scope = m.unit.path
            if m.role.code in OFFICE_STAFF and m.unit.is_petition_office:
                scope = jurisdiction_of(m.unit).path
            cached.append(Post(m.unit_id, m.unit.path, m.role.code, scope))
        user._xf_posts = cached
    return cached


def role_codes(user: Any) -> set[str]:
    return {p.role for p in posts_of(user)}


def subtree_roots(user: Any, roles: frozenset[str] | set[str]) -> list[str]:
    """Scope paths of the user's posts with one of ``roles``, minus those covered by another."""
    paths = sorted({p.scope_path or p.unit_path for p in posts_of(user) if p.role in roles})
    roots: list[str] = []
    for path in paths:
        if not any(path.startswith(r) for r in roots):
            roots.append(path)
    return roots


def visible_unit_ids(user: Any, roles: frozenset[str] | set[str]) -> list[int]:
    """Ids of every unit in the user's reading scopes (cached for the request). An id list
    lets the database use the plain foreign-key indexes on cases instead of joining units."""
    key = "_xf_scope_ids_" + "_".join(sorted(roles))
    cached = getattr(user, key, None)
    if cached is None:
        roots = subtree_roots(user, roles)
        cached = []
        if roots:
            condition = Q()
            for path in roots:
                condition |= Q(path__startswith=path)
            cached = list(Unit.objects.filter(condition).values_list("pk", flat=True))
        setattr(user, key, cached)
    return cached


def holds_role_over(user: Any, unit: Unit | None, roles: frozenset[str] | set[str]) -> bool:
    """True when the user holds one of ``roles`` in ``unit`` itself (not merely above it)."""
    if unit is None:
        return False
    return any(p.unit_id == unit.pk and p.role in roles for p in posts_of(user))


def units_with_role(user: Any, roles: frozenset[str] | set[str]) -> list[Unit]:
    ids = {p.unit_id for p in posts_of(user) if p.role in roles}
    return list(Unit.objects.filter(pk__in=ids).order_by("path"))
