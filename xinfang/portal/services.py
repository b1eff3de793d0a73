"""The portal's shared core: the office that receives online petitions, the portal's system
account, the query-code check and the browser session's access to cases (docs/portal.md).

The feature modules build on these: ``submission.py`` (submit → review → confirm),
``tracking.py`` (the public timeline, 评价, 复查/复核 requests), ``accounts.py`` (the optional
citizen account). Every state change goes through the ``cases`` services with a
``cases.policy.PetitionerPrincipal`` as ``by``.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from xinfang.cases.models import Case, PetitionerRole, Status
from xinfang.cases.policy import PetitionerPrincipal
from xinfang.core.crypto import blind_index
from xinfang.org.models import Unit
from xinfang.people import pii
from xinfang.people.selectors import with_id_tail, with_phone

PORTAL_USERNAME = "portal"
PORTAL_USER_NAME = "网上信访平台"
CONSENT_VERSION = "2026-11"
SESSION_CASES = "portal_cases"
SESSION_TTL_SECONDS = 30 * 60  # a tracked case stays open in this browser for 30 minutes
MAX_SESSION_CASES = 20
CODE_CHARS = set("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")
# Roles whose phone / ID tail opens a case on the portal: the persons who signed the petition.
SIGNER_ROLES = (PetitionerRole.PRINCIPAL, PetitionerRole.COSIGNER, PetitionerRole.REPRESENTATIVE)


def portal_office() -> Unit:
    """The petition office that receives online petitions: ``XINFANG_PORTAL_OFFICE`` (a unit's
    division code or id), else the topmost active petition office."""
    wanted = settings.XINFANG_PORTAL_OFFICE
    offices = Unit.objects.filter(is_petition_office=True, is_active=True)
    if wanted:
        found = offices.filter(
            Q(division_code=wanted) | Q(pk=int(wanted) if wanted.isdigit() else -1)
        ).first()
        if found is not None:
            return found
    office = min(offices, key=lambda u: (u.path.count("."), u.path), default=None)
    if office is None:
        raise Unit.DoesNotExist("no active petition office")
    return office


def portal_user() -> Any:
    """The portal's system account: the 首问责任人 of record of online petitions until the office
    routes them. It cannot log in (inactive, unusable password) and holds no post."""
    User = get_user_model()
    user = User.objects.filter(username=PORTAL_USERNAME).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(username=PORTAL_USERNAME, first_name=PORTAL_USER_NAME, is_active=False)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:
        return User.objects.get(username=PORTAL_USERNAME)


def normalise_code(raw: str) -> str:
    """A query code as typed: spaces/hyphens out, upper case, full-width folded; "" when it
    cannot be one (wrong length or characters)."""
    import unicodedata

    code = unicodedata.normalize("NFKC", raw or "").upper()
    code = "".join(ch for ch in code if not ch.isspace() and ch != "-")
    if not 8 <= len(code) <= 16 or not set(code) <= CODE_CHARS:
        return ""
    return code


def verify_access(code: str, secret: str) -> Case | None:
    """The case with query ``code`` when ``secret`` is the phone (any spelling) or the last six
    characters of the ID number of one of its signers; None otherwise — the same None for an
    unknown code, a wrong secret or a merged-away case, so answers cannot enumerate codes."""
    from xinfang.cases.models import CasePetitioner

    code = normalise_code(code)
    secret = (secret or "").strip()
    case = Case.objects.filter(query_code=code).first() if code else None
    # The same work whether or not the code exists (indexes computed, one signer query run —
    # against no case when the code is unknown), so the time taken does not tell codes apart.
    tail = pii.normalise_id(secret)
    by_tail = with_id_tail(tail) if len(tail) == pii.ID_TAIL_LENGTH else None
    by_phone = with_phone(secret) if sum(c.isdigit() for c in secret) >= 7 else None
    people = [qs.values("pk") for qs in (by_phone, by_tail) if qs is not None]
    if not people:
        return None
    match = Q(petitioner_id__in=people[0])
    for more in people[1:]:
        match |= Q(petitioner_id__in=more)
    signed = (
        CasePetitioner.objects.filter(case_id=case.pk if case is not None else -1)
        .filter(role__in=SIGNER_ROLES)
        .filter(match)
        .exists()
    )
    return case if case is not None and signed else None


def code_identity(code: str) -> str:
    """What the per-code rate limit counts (the normalised code, or the raw text when it is
    not one)."""
    return normalise_code(code) or (code or "").strip()[:32]


# --- the browser session's access ---------------------------------------------------------


def grant(request: Any, case: Case) -> None:
    """Remember in this browser session that the petitioner proved access to ``case``."""
    held = _held(request)
    held[str(case.pk)] = int(time.time())
    if len(held) > MAX_SESSION_CASES:
        for key in sorted(held, key=held.__getitem__)[: len(held) - MAX_SESSION_CASES]:
            del held[key]
    request.session[SESSION_CASES] = held


def granted(request: Any, case_id: int) -> bool:
    return str(case_id) in _held(request)


def granted_ids(request: Any) -> list[int]:
    return [int(k) for k in _held(request)]


def revoke_all(request: Any) -> None:
    """退出查询 / 退出登录: the cases proved here and the submission waiting for confirmation
    (its browser id) are forgotten (a shared computer)."""
    request.session.pop(SESSION_CASES, None)
    request.session.pop(SESSION_BROWSER, None)


def _held(request: Any) -> dict[str, int]:
    raw = request.session.get(SESSION_CASES) or {}
    now = int(time.time())
    return {
        k: v
        for k, v in raw.items()
        if isinstance(v, int) and now - v < SESSION_TTL_SECONDS and k.isdigit()
    }


def principal(case: Case, account: Any = None) -> PetitionerPrincipal:
    """The petitioner of ``case`` as the actor of the ``cases`` services."""
    return PetitionerPrincipal(
        case_id=case.pk, channel="portal", account_id=getattr(account, "pk", None)
    )


SESSION_BROWSER = "portal_browser"


def session_hash(request: Any) -> str:
    """A keyed hash of this browser session's random id (ties a pending submission to its
    browser). The id is kept in the session's data, not taken from the session key: the key
    changes (``cycle_key``) when the petitioner proves a query code or logs in, and the
    submission on the review page must stay theirs."""
    browser = request.session.get(SESSION_BROWSER)
    if not isinstance(browser, str) or len(browser) < 32:
        browser = secrets.token_urlsafe(32)
        request.session[SESSION_BROWSER] = browser
    return blind_index("portal.session", browser)


def same_session(request: Any, stored: str) -> bool:
    return hmac.compare_digest(session_hash(request), stored)


# --- the logged-in citizen account (optional; accounts.py logs in and out) -------------------

SESSION_ACCOUNT = "portal_account"


def current_account(request: Any) -> Any:
    """The ``PortalAccount`` logged in on this browser session, or None (also when the account
    was deactivated or its sessions ended by a password change: ``session_epoch``)."""
    from xinfang.portal.models import PortalAccount

    cached = getattr(request, "_portal_account", False)
    if cached is not False:
        return cached
    held = request.session.get(SESSION_ACCOUNT) if hasattr(request, "session") else None
    account = None
    if isinstance(held, dict) and isinstance(held.get("id"), int):
        account = PortalAccount.objects.filter(
            pk=held["id"], is_active=True, session_epoch=held.get("epoch", -1)
        ).first()
    request._portal_account = account
    return account


# --- what a petitioner reads as the state -------------------------------------------------

# Internal states (签收, 退回 …) are the office's business; the petitioner reads where the
# matter stands. MERGED: the case was merged into another (the petitioner is told which).
PUBLIC_STATUS: dict[str, str] = {
    Status.REGISTERED: "已收到，待受理",
    Status.FORWARDED: "已转送有权处理机关",
    Status.ASSIGNED: "已交办有权处理机关",
    Status.SIGNED: "有权处理机关审查中",
    Status.RETURNED: "信访部门审查中",
    Status.ACCEPTED: "已受理，办理中",
    Status.INFORMED: "已告知（不予受理）",
    Status.REFUSED: "不予受理",
    Status.REPLIED: "已答复",
    Status.EVALUATED: "已答复（已评价）",
    Status.CLOSED: "已办结",
    Status.REVIEW_REQUESTED: "复查中",
    Status.REVIEWED: "已复查",
    Status.REREVIEW_REQUESTED: "复核中",
    Status.FINAL: "已复核（终结）",
    Status.MERGED: "已与同一事项合并办理",
}


def public_status(case: Case) -> str:
    return PUBLIC_STATUS.get(case.status, case.get_status_display())


# The state as a code for API clients: the internal ones (签收, 退回) folded into what the
# petitioner is told, like ``PUBLIC_STATUS``.
_FOLDED = {
    Status.REGISTERED: "received",
    Status.RETURNED: "received",
    Status.FORWARDED: "routed",
    Status.ASSIGNED: "routed",
    Status.SIGNED: "routed",
}
PUBLIC_CODE: dict[str, str] = {str(s.value): _FOLDED.get(s, str(s.value)) for s in Status}


def public_code(case: Case) -> str:
    return PUBLIC_CODE.get(case.status, "received")


# --- the per-code limit: failed proofs only --------------------------------------------------


def code_blocked(code: str) -> Any:
    """A ``RateResult`` refusing the attempt when ``code`` has used up its failed proofs in the
    window (``portal_track_code``), else None. Only failures count (``code_failed``): the
    owner's own look-ups never use up the limit, while guessing the phone / ID tail of a known
    code stops after the limit of wrong answers."""
    from xinfang.core.ratelimit import RateResult, rate_peek, retry_after, rule

    limit = rule("portal_track_code")
    failures = rate_peek("portal_track_code", code_identity(code), limit)
    if limit.limit and failures >= limit.limit:
        return RateResult(False, failures, retry_after(limit))
    return None


def code_failed(code: str) -> None:
    from xinfang.core.ratelimit import rate_hit

    rate_hit("portal_track_code", code_identity(code))
