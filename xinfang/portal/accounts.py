"""The optional citizen account (docs/portal.md "公众账号"): phone + password, all own petitions.

Nothing on the portal needs an account; it only saves typing query codes. The account is a
``PortalAccount`` (not a staff ``auth.User``: no staff rule, role or lockout applies, and
``request.user`` stays anonymous). The phone is proved by a 6-digit code (``PhoneChallenge``,
only its hash kept, 10 minutes, 5 tries); registration and password reset share that step.

Enumeration: no answer says whether a phone has an account. Asking for a code always makes a
challenge and shows the same page; only the text message differs (an already registered
phone is told so and pointed to 找回密码, and gets no code). A wrong code reads the same for
either, and login failures are one sentence.

Sending: there is no SMS gateway. ``send_code`` logs the text (phone masked) on the
``xinfang.notify.messages`` logger when ``XINFANG_MESSAGE_BACKEND`` is ``"console"``; a real
gateway is called there. Tests install a list as ``outbox`` to read what was sent.

What an account sees (``account_cases``): the cases submitted on the portal while logged in
(``PortalSubmission.account``) and every case one of whose signers (信访人、联名人、代表) has the
account's proved phone.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import get_password_validators, validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from xinfang.cases.models import OPEN_STATUSES, Case, CasePetitioner, Purpose, Status
from xinfang.core.crypto import CryptoError, blind_index, blind_indexes, decrypt, encrypt
from xinfang.core.errors import DomainError
from xinfang.core.masking import mask_phone, validate_phone
from xinfang.core.ratelimit import RateResult, rate_hit
from xinfang.core.text import clean_line
from xinfang.people.selectors import with_phone
from xinfang.portal import services
from xinfang.portal.models import (
    PHONE_CONTEXT,
    PHONE_PURPOSE,
    AccountCase,
    PhoneChallenge,
    PortalAccount,
)

log = logging.getLogger("xinfang.notify.messages")

CODE_DIGITS = 6
CODE_TTL = dt.timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
STALE_AFTER = dt.timedelta(days=1)  # expired challenges are deleted after this
PASSWORD_MAX_LENGTH = 128  # hashing a megabyte of "password" is a denial of service
NAME_MAX_LENGTH = 60
PAGE_SIZE = 20
API_MAX_CASES = 200

CODE_SENT = "验证码已发送（如该号码可用）"
LOGIN_FAILED = "手机号码或密码不正确"
ALREADY_REGISTERED = "该手机号码已注册，请直接登录；忘记密码可以找回密码。"
CODE_INVALID = "验证码已失效，请重新获取验证码"
CODE_EXHAUSTED = "验证码输入错误次数过多，已失效，请重新获取验证码"
HIDDEN_SUMMARY = "检举控告事项（内容保密）"

# Citizens' passwords: length, not all digits, not a common or pattern password. The staff
# list (settings.AUTH_PASSWORD_VALIDATORS) also demands 3 character classes and keeps a
# history per auth.User — staff rules that do not fit a citizen's optional account.
CITIZEN_PASSWORD_VALIDATORS: list[dict[str, Any]] = [
    {"NAME": "xinfang.accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "xinfang.accounts.validators.ChinesePatternValidator"},
]

# The filter on the "我的信访" page: group key → (label, statuses).
STATUS_GROUPS: dict[str, tuple[str, frozenset[str]]] = {
    "open": ("办理中", frozenset(OPEN_STATUSES)),
    "replied": (
        "已答复",
        frozenset(
            {Status.REPLIED, Status.EVALUATED, Status.REVIEWED, Status.INFORMED, Status.REFUSED}
        ),
    ),
    "closed": ("已办结", frozenset({Status.CLOSED, Status.FINAL, Status.MERGED})),
}

# Test hook: a list installed here receives (phone, text) of every message ``send_code``
# sends; None (the default) keeps nothing in memory.
outbox: list[tuple[str, str]] | None = None


class AlreadyRegistered(DomainError):
    """The proved phone has an account already (only said after the code was proved)."""


# --- phones -------------------------------------------------------------------------------


def mobile(raw: str) -> str:
    """The canonical mobile number (``13812345678``) or a DomainError on field ``phone``:
    accounts are opened by a code sent as a text message, so only mobiles qualify."""
    try:
        phone = validate_phone(raw)
    except ValueError as exc:
        raise DomainError(str(exc).replace("联系电话", "手机号码"), field="phone") from None
    if len(phone) != 11 or not phone.startswith("1"):
        raise DomainError(
            "账号只能使用手机号码（11位，以13–19开头），不能使用固定电话", field="phone"
        )
    return phone


def phone_index(phone: str) -> str:
    return blind_index(PHONE_PURPOSE, phone)


def account_by_phone(phone: str) -> PortalAccount | None:
    """The account of this (canonical) mobile number, active or not."""
    return PortalAccount.objects.filter(phone_bidx__in=blind_indexes(PHONE_PURPOSE, phone)).first()


def account_phone(account: PortalAccount) -> str:
    return decrypt(account.phone_enc, context=PHONE_CONTEXT)


# --- sending a text message -----------------------------------------------------------------


def send_code(phone: str, text: str) -> None:
    """Send ``text`` to the mobile ``phone``. The one place a real SMS gateway plugs in (its
    failure should raise). Without one: logged with the phone masked when
    ``XINFANG_MESSAGE_BACKEND`` is ``"console"`` (demonstrations), otherwise not delivered."""
    if outbox is not None:
        outbox.append((phone, text))
    if getattr(settings, "XINFANG_MESSAGE_BACKEND", "") == "console":
        # the code itself never goes into a log (anyone reading logs could take the account)
        log.info("验证短信 to=%s: %s", mask_phone(phone), re.sub(r"\d{6}", "******", text))
    else:
        log.info("验证短信 to=%s 未发送：未配置短信网关", mask_phone(phone))


# --- rate limits --------------------------------------------------------------------------


def throttled(*hits: tuple[str, str]) -> RateResult | None:
    """Count one request under each (scope, identity); the first result over its limit, or
    None. Every scope is counted even when an earlier one is already over."""
    over = None
    for scope, identity in hits:
        result = rate_hit(scope, identity)
        if not result.allowed and over is None:
            over = result
    return over


def throttled_message(result: RateResult) -> str:
    minutes = max(1, (result.retry_after + 59) // 60)
    return f"操作过于频繁，请在{minutes}分钟后再试。"


# --- verification codes ---------------------------------------------------------------------


def challenge_send(*, phone: str, purpose: str, at: dt.datetime | None = None) -> None:
    """Make a code for ``phone`` (canonical mobile) and ``purpose`` and send what fits.

    A challenge is made in every case, so a wrong code reads the same whether or not the
    phone has an account. Registration of a registered phone: the text says so and points to
    找回密码, no code. Reset of an unregistered phone: nothing is sent. The caller shows
    ``CODE_SENT`` either way."""
    now = at or timezone.now()
    # Spent and expired codes are of no use after a day: this phone's go now, everyone's now
    # and then (the table stays small without a scheduled job).
    stale = PhoneChallenge.objects.filter(expires_at__lt=now - STALE_AFTER)
    if secrets.randbelow(100) == 0:
        stale.delete()
    else:
        stale.filter(phone_bidx=phone_index(phone)).delete()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    PhoneChallenge.objects.create(
        phone_bidx=phone_index(phone),
        purpose=purpose,
        code_hash=make_password(code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    exists = account_by_phone(phone) is not None
    minutes = int(CODE_TTL.total_seconds() // 60)
    if purpose == PhoneChallenge.Purpose.REGISTER:
        if exists:
            send_code(
                phone,
                "【网上信访】您的手机号码已注册网上信访账号，无需再次注册。忘记密码请在登录页"
                "选择“找回密码”。如非本人操作，请忽略。",
            )
        else:
            send_code(
                phone,
                f"【网上信访】验证码 {code}，用于注册网上信访账号，{minutes}分钟内有效。"
                "请勿告诉他人。",
            )
    elif exists:
        send_code(
            phone,
            f"【网上信访】验证码 {code}，用于重设网上信访账号的密码，{minutes}分钟内有效。"
            "请勿告诉他人。",
        )


def challenge_verify(
    *, phone: str, purpose: str, code: str, at: dt.datetime | None = None
) -> PhoneChallenge:
    """Use up the newest open challenge of ``phone`` × ``purpose`` with ``code``.

    Each try is counted by a conditional UPDATE committed on its own (two tries at once
    cannot both be the fifth); the code is marked used the same way, so it opens one
    registration or reset. Errors are DomainErrors on field ``code``."""
    now = at or timezone.now()
    code = "".join((code or "").split())
    if not (len(code) == CODE_DIGITS and code.isdigit()):
        raise DomainError(f"请填写短信中的{CODE_DIGITS}位数字验证码", field="code")
    challenge = (
        PhoneChallenge.objects.filter(
            phone_bidx__in=blind_indexes(PHONE_PURPOSE, phone),
            purpose=purpose,
            used_at__isnull=True,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if challenge is None or challenge.expires_at <= now:
        raise DomainError(CODE_INVALID, field="code")
    counted = PhoneChallenge.objects.filter(
        pk=challenge.pk, attempts__lt=CODE_MAX_ATTEMPTS, used_at__isnull=True
    ).update(attempts=F("attempts") + 1)
    if not counted:
        raise DomainError(CODE_EXHAUSTED, field="code")
    if not check_password(code, challenge.code_hash):
        left = CODE_MAX_ATTEMPTS - challenge.attempts - 1
        if left <= 0:
            raise DomainError(CODE_EXHAUSTED, field="code")
        raise DomainError(f"验证码不正确，还可以再试{left}次", field="code")
    used = PhoneChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(used_at=now)
    if not used:
        raise DomainError(CODE_INVALID, field="code")
    return challenge


# --- passwords ------------------------------------------------------------------------------


def check_new_password(password: str, *, phone: str = "", field: str = "password") -> None:
    """A citizen's new password (``CITIZEN_PASSWORD_VALIDATORS``), or a DomainError."""
    if len(password) > PASSWORD_MAX_LENGTH:
        raise DomainError(f"密码最多{PASSWORD_MAX_LENGTH}个字符", field=field)
    if phone and phone in password:
        raise DomainError("密码不能包含手机号码", field=field)
    try:
        validate_password(password, None, get_password_validators(CITIZEN_PASSWORD_VALIDATORS))
    except ValidationError as exc:
        raise DomainError(" ".join(str(m) for m in exc.messages), field=field) from None


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return make_password(secrets.token_urlsafe(16))


def account_authenticate(phone: str, password: str) -> PortalAccount | None:
    """The active account with this (canonical) phone and password, or None — the same None
    for an unknown phone, a wrong password or a deactivated account; an unknown phone costs a
    hash check too."""
    account = account_by_phone(phone) if phone else None
    if account is None or len(password) > PASSWORD_MAX_LENGTH:
        check_password(password[:PASSWORD_MAX_LENGTH], _dummy_hash())
        return None
    if not check_password(password, account.password) or not account.is_active:
        return None
    return account


# --- account writes ------------------------------------------------------------------------


def account_register(
    *, phone: str, code: str, password: str, name: str = "", at: dt.datetime | None = None
) -> PortalAccount:
    """Open an account for ``phone`` proved by ``code``.

    Guard: the password and name are checked before the code is used (fixing them costs no
    try); then the code. A phone with an account already → ``AlreadyRegistered`` (also when
    two registrations race: the unique phone index decides)."""
    now = at or timezone.now()
    check_new_password(password, phone=phone)
    name = clean_line(name)
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError(f"称呼最多{NAME_MAX_LENGTH}个字", field="name")
    challenge_verify(phone=phone, purpose=PhoneChallenge.Purpose.REGISTER, code=code, at=now)
    if account_by_phone(phone) is not None:
        raise AlreadyRegistered(ALREADY_REGISTERED, field="phone")
    try:
        with transaction.atomic():
            return PortalAccount.objects.create(
                phone_enc=encrypt(phone, context=PHONE_CONTEXT),
                phone_bidx=phone_index(phone),
                password=make_password(password),
                name=name,
                created_at=now,
            )
    except IntegrityError:
        raise AlreadyRegistered(ALREADY_REGISTERED, field="phone") from None


def account_reset_password(
    *, phone: str, code: str, password: str, at: dt.datetime | None = None
) -> PortalAccount:
    """Set a new password for the account of ``phone`` proved by ``code``; every session of
    the account ends (``session_epoch`` + 1)."""
    now = at or timezone.now()
    check_new_password(password, phone=phone)
    challenge_verify(phone=phone, purpose=PhoneChallenge.Purpose.RESET, code=code, at=now)
    account = account_by_phone(phone)
    if account is None or not account.is_active:
        # Only reachable by guessing a code never sent: the answer of a spent code.
        raise DomainError(CODE_INVALID, field="code")
    return _set_password(account, password)


def account_change_password(
    *, account: PortalAccount, old_password: str, new_password: str
) -> PortalAccount:
    """Change the password of the logged-in ``account``; its other sessions end."""
    if len(old_password) > PASSWORD_MAX_LENGTH or not check_password(
        old_password, account.password
    ):
        raise DomainError("原密码不正确", field="old_password")
    if new_password == old_password:
        raise DomainError("新密码不能与原密码相同", field="new_password")
    check_new_password(new_password, phone=account_phone(account), field="new_password")
    return _set_password(account, new_password)


def _set_password(account: PortalAccount, password: str) -> PortalAccount:
    PortalAccount.objects.filter(pk=account.pk).update(
        password=make_password(password), session_epoch=F("session_epoch") + 1
    )
    account.refresh_from_db()
    return account


# --- the browser session ---------------------------------------------------------------------


def session_login(request: Any, account: PortalAccount) -> None:
    """Log ``account`` in on this browser session (a new session key: no fixation). Staff
    authentication is not touched: ``request.user`` stays what it was."""
    request.session.cycle_key()
    request.session[services.SESSION_ACCOUNT] = {"id": account.pk, "epoch": account.session_epoch}
    request._portal_account = account
    now = timezone.now()
    PortalAccount.objects.filter(pk=account.pk).update(last_login_at=now)
    account.last_login_at = now


def session_logout(request: Any) -> None:
    """Log the account out of this browser session and drop the cases opened in it."""
    request.session.pop(services.SESSION_ACCOUNT, None)
    services.revoke_all(request)
    request.session.cycle_key()
    request._portal_account = None


def safe_next(request: Any, raw: str | None) -> str:
    """``raw`` when it is a relative path on this portal (``/portal/…``), else ""."""
    target = (raw or "").strip()
    if (
        not target.startswith("/portal/")
        or target.startswith("//")
        or "\\" in target
        or ".." in target
        or any(ch.isspace() or ord(ch) < 32 for ch in target)
        or target.startswith("/portal/logout/")
    ):
        return ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return target


# --- reads -------------------------------------------------------------------------------------


def account_cases(account: PortalAccount) -> QuerySet[Case]:
    """The account's petitions: submitted on the portal while logged in; proved with their
    query code while logged in (``AccountCase``); or, registered after the account was made,
    signed (信访人、联名人、代表) by a person with the account's proved phone."""
    try:
        people = with_phone(account_phone(account))
    except CryptoError:  # a key lost from the ring: only what was submitted while logged in
        people = with_phone("")
    signed = CasePetitioner.objects.filter(
        role__in=services.SIGNER_ROLES, petitioner__in=people
    ).values("case_id")
    linked = AccountCase.objects.filter(account=account).values("case_id")
    # A phone match alone: only cases registered since the account was made (a recycled
    # number must not open its previous holder's petitions) and never a 检举控告 — those are
    # linked by proving the query code while logged in (``link_case``).
    by_phone = (
        Q(pk__in=signed) & Q(registered_at__gte=account.created_at) & ~Q(purpose=Purpose.ACCUSATION)
    )
    return Case.objects.filter(Q(portal_submission__account=account) | Q(pk__in=linked) | by_phone)


def link_case(account: PortalAccount, case: Case) -> None:
    """Link ``case`` to ``account`` after the query code was proved while logged in."""
    from django.utils import timezone

    AccountCase.objects.get_or_create(
        account=account, case=case, defaults={"linked_at": timezone.now()}
    )


def account_may_see(account: PortalAccount | None, case: Case | int) -> bool:
    """May the logged-in ``account`` open ``case`` on the portal (without a query code)?"""
    if account is None or not getattr(account, "is_active", False):
        return False
    case_id = case.pk if isinstance(case, Case) else int(case)
    return account_cases(account).filter(pk=case_id).exists()


def account_case_list(account: PortalAccount, group: str = "") -> QuerySet[Case]:
    """``account_cases`` newest first, optionally of one ``STATUS_GROUPS`` group."""
    cases = account_cases(account)
    if group in STATUS_GROUPS:
        cases = cases.filter(status__in=STATUS_GROUPS[group][1])
    return cases.order_by("-received_at", "-pk")


def public_summary(case: Case) -> str | None:
    """What the petitioner's list shows of the matter: nothing of a 检举控告 (None)."""
    return None if case.purpose == Purpose.ACCUSATION else case.summary


def case_row(case: Case) -> dict[str, Any]:
    summary = public_summary(case)
    return {
        "id": case.pk,
        "number": case.number,
        "received_at": case.received_at,
        "summary": summary,
        "summary_text": HIDDEN_SUMMARY if summary is None else summary,
        "hidden": summary is None,
        "status_label": services.public_status(case),
    }
