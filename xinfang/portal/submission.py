"""网上信访 submission: check → pending (the review page) → confirm → case (docs/portal.md).

The form (``submit_views``) and the JSON API (``api/portal_submit``) describe a petition as a
``Submission``; ``submission_errors`` checks all of it at once (every person through
``people.services.clean_petitioner``, the desk's own validation) so a form shows every mistake
together. A checked form becomes a ``PendingSubmission``: the payload encrypted, the attachments
already checked (``cases.attachments.check_upload``) and stored under
``MEDIA_ROOT/portal_pending/<token>/``. ``pending_confirm`` turns it into a case through
``cases.registration.case_register_online`` — which validates once more — under a row lock on
the pending, so a confirmation sent twice (double click, a retry after a dropped connection,
two threads) yields one case. The API registers directly, idempotent by its client token.

Rate limits (``portal_submit_ip``, ``portal_submit_phone``) count confirmed submissions, not
review pages: a retry of a confirmed submission is never refused or counted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from xinfang.cases.attachments import CheckedUpload, check_upload, clean_name, human_size
from xinfang.cases.models import Case, Category, Purpose
from xinfang.cases.registration import Registration, case_register_online
from xinfang.core import ratelimit
from xinfang.core.crypto import decrypt, encrypt
from xinfang.core.errors import DomainError, IdempotencyConflict
from xinfang.core.masking import normalise_phone
from xinfang.core.refcache import ReferenceCache
from xinfang.core.text import clean_line, clean_text
from xinfang.org.models import Unit
from xinfang.people import pii
from xinfang.people.models import IdType
from xinfang.people.services import PetitionerInput, clean_petitioner
from xinfang.portal import services
from xinfang.portal.models import PAYLOAD_CONTEXT, PendingSubmission, PortalSubmission

log = logging.getLogger(__name__)

MAX_COSIGNERS = 4
MAX_SIGNERS = MAX_COSIGNERS + 1
SIGNERS_MESSAGE = "联名信访最多5人（提交人和4名联名人）；人数更多的，请推选不超过5名代表提交"
GENERIC_FAILURE = "提交失败，请稍后重试"
SUMMARY_MAX = 300
NAME_MAX = 60
ADDRESS_MAX = 200
PLACE_DETAIL_MAX = 80
ACCUSED_MAX = 1000
PENDING_TTL = dt.timedelta(hours=2)
PENDING_KEEP = dt.timedelta(days=1)  # rows (no payload, no files) kept after expiry/confirmation
PENDING_DIR = "portal_pending"
PURGE_PROBABILITY = 0.02
ID_TYPES: list[tuple[str, str]] = [
    (IdType.RESIDENT, "居民身份证"),
    (IdType.HMT_PERMIT, "港澳台居民居住证/通行证"),
    (IdType.OTHER, "其他证件"),
]
PURPOSES: list[tuple[str, str, str]] = [
    (Purpose.SUGGESTION, "建议意见", "对政府和有关部门的工作提出建议、意见"),
    (Purpose.ACCUSATION, "检举控告", "检举、控告公职人员或单位的违法失职行为"),
    (Purpose.APPEAL, "申诉求决", "反映自身合法权益受到侵害，请求解决具体问题"),
]
SMS_TEXT = (
    "您的信访事项已提交，事项编号{number}，查询码{code}，可凭查询码和手机号码在网上查询办理进展。"
)


class RateLimited(Exception):
    """Too many submissions from this address or phone; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class PendingNotFound(Exception):
    """No such pending submission in this browser session (the view answers 404)."""


class PendingExpired(Exception):
    """The review page was left too long; the citizen starts again."""


@dataclass
class Signer:
    name: str = ""
    id_type: str = IdType.RESIDENT
    id_number: str = ""
    phone: str = ""
    address: str = ""

    def is_blank(self) -> bool:
        return not (self.name.strip() or self.id_number.strip() or self.phone.strip())


@dataclass
class Submission:
    """What a citizen states. Field errors are keyed by these names; a co-signer's by
    ``cosigners.<i>.<field>``, the number of signers by ``cosigners``."""

    principal: Signer
    purpose: str = ""
    summary: str = ""
    content: str = ""
    category_id: int | None = None
    place_code: str = ""
    place_detail: str = ""
    accused_text: str = ""
    cosigners: list[Signer] = field(default_factory=list)
    consent: bool = False

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Submission:
        data = json.loads(text)
        data["principal"] = Signer(**data["principal"])
        data["cosigners"] = [Signer(**c) for c in data.get("cosigners", [])]
        return cls(**data)


def max_text() -> int:
    return int(settings.XINFANG_PORTAL_MAX_TEXT)


def max_files() -> int:
    return int(settings.XINFANG_PORTAL_MAX_FILES)


def max_body_bytes() -> int:
    """Largest request body the form accepts: every attachment at its limit plus the text."""
    return max_files() * int(settings.ATTACHMENT_MAX_BYTES) + int(
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )


def size_message(size: int) -> str:
    return (
        f"提交的内容过大（{human_size(size)}）：每个附件不超过"
        f"{human_size(int(settings.ATTACHMENT_MAX_BYTES))}，最多{max_files()}个，"
        "文字内容不超过" + f"{max_text()}字。请删减后重新选择附件再提交"
    )


# --- choices ---------------------------------------------------------------------------------


def jurisdiction() -> Unit:
    """The unit whose tree the places are chosen from: the portal office if it has a division
    code, else its nearest ancestor with one (the district of a 区信访局)."""
    office = services.portal_office()
    unit: Unit | None = office
    while unit is not None and not unit.division_code:
        unit = unit.parent
    return unit or office


class _Choices:
    """One generation of the form's choice lists (``core.refcache``: cleared when a unit or a
    category is saved, at most a minute old in other processes)."""

    __slots__ = ("categories", "places")

    def __init__(self) -> None:
        self.places: list[tuple[str, str]] | None = None
        self.categories: list[tuple[str, list[tuple[str, str]]]] | None = None


_choices: ReferenceCache[_Choices] = ReferenceCache(
    _Choices, name="portal-submit-choices", watch=[Unit, Category]
)


def place_choices() -> list[tuple[str, str]]:
    """(division code, indented name) of the active units with a code under the jurisdiction."""
    cached = _choices.get()
    if cached.places is None:
        cached.places = _place_choices()
    return cached.places


def _place_choices() -> list[tuple[str, str]]:
    try:
        root = jurisdiction()
    except Unit.DoesNotExist:
        return []
    units = (
        Unit.objects.filter(path__startswith=root.path, is_active=True)
        .exclude(division_code="")
        .order_by("path")
        .values_list("division_code", "name", "path")
    )
    base = root.path.count(".")
    return [(code, "　" * (path.count(".") - base) + name) for code, name, path in units]


def category_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The 3-level category tree as optgroups: one group per first level, its second and third
    levels as options ("二级 › 三级"), so a plain ``<select>`` works without JavaScript."""
    cached = _choices.get()
    if cached.categories is None:
        cached.categories = _category_groups()
    return cached.categories


def _category_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    rows = list(
        Category.objects.filter(is_active=True)
        .order_by("sort", "id")
        .values_list("pk", "name", "parent_id", "level")
    )
    by_id = {pk: (name, parent, level) for pk, name, parent, level in rows}
    groups: dict[int, list[tuple[str, str]]] = {}
    order: list[int] = []
    for pk, _name, _parent, level in rows:
        if level == 1:
            groups.setdefault(pk, [])
            order.append(pk)
    for pk, name, parent, level in rows:
        if level == 2 and parent in groups:
            groups[parent].append((str(pk), name))
        elif level == 3 and parent in by_id:
            top = by_id[parent][1]
            if top in groups:
                groups[top].append((str(pk), f"{by_id[parent][0]} › {name}"))
    # level-3 options directly after their level-2 parent
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for top in order:
        options = groups[top]
        seconds = [o for o in options if " › " not in o[1]]
        ordered: list[tuple[str, str]] = [(str(top), f"{by_id[top][0]}（其他）")]
        for value, label in seconds:
            ordered.append((value, label))
            ordered += [o for o in options if o[1].startswith(label + " › ")]
        out.append((by_id[top][0], ordered))
    return out


# --- checking --------------------------------------------------------------------------------


def normalised(sub: Submission) -> Submission:
    """The submission with the text cleaned as registration will clean it (controls and bidi
    overrides out, NFC; emoji and CJK extension characters kept), so counts agree."""

    def person(s: Signer) -> Signer:
        return Signer(
            name=clean_line(s.name),
            id_type=(s.id_type or IdType.RESIDENT).strip(),
            id_number=clean_line(s.id_number),
            phone=clean_line(s.phone),
            address=clean_line(s.address),
        )

    out = dataclasses.replace(
        sub,
        principal=person(sub.principal),
        purpose=(sub.purpose or "").strip(),
        summary=clean_line(sub.summary),
        content=clean_text(sub.content).strip(),
        place_code=clean_line(sub.place_code),
        place_detail=clean_line(sub.place_detail),
        accused_text=clean_text(sub.accused_text).strip(),
        cosigners=[person(c) for c in sub.cosigners if not c.is_blank()],
    )
    if out.purpose != Purpose.ACCUSATION:
        out.accused_text = ""  # typed, then another purpose chosen: not part of this petition
    return out


def _person_errors(s: Signer, prefix: str, *, principal: bool) -> dict[str, str]:
    """Every error of one person: each field through ``clean_petitioner`` on its own, so the
    form shows them all at once."""
    errors: dict[str, str] = {}
    if not s.name:
        errors[f"{prefix}name"] = (
            "请填写姓名" if principal else "请填写联名人姓名（不联名请清空本栏）"
        )
    elif len(s.name) > NAME_MAX:
        errors[f"{prefix}name"] = f"姓名最多{NAME_MAX}字，当前{len(s.name)}字"
    if s.id_type not in dict(ID_TYPES):
        errors[f"{prefix}id_type"] = "请选择证件类型"
    elif not s.id_number and principal:
        errors[f"{prefix}id_number"] = "请填写证件号码"
    elif s.id_number:
        try:
            clean_petitioner(PetitionerInput(name="-", id_type=s.id_type, id_number=s.id_number))
        except DomainError as exc:
            errors[f"{prefix}id_number"] = exc.message
        if len(s.id_number) > 30:
            errors[f"{prefix}id_number"] = "证件号码过长，请核对"
    if not s.phone and principal:
        errors[f"{prefix}phone"] = "请填写手机号码：它是查询办理进展的凭证，也用于接收短信告知"
    elif s.phone:
        try:
            clean_petitioner(PetitionerInput(name="-", phone=s.phone))
        except DomainError as exc:
            errors[f"{prefix}phone"] = exc.message
    if len(s.address) > ADDRESS_MAX:
        errors[f"{prefix}address"] = f"联系地址最多{ADDRESS_MAX}字，当前{len(s.address)}字"
    return errors


def submission_errors(sub: Submission, *, cosigner_rows: int | None = None) -> dict[str, str]:
    """All errors of a normalised submission, keyed by field (empty: it may be registered).
    ``cosigner_rows``: how many co-signer rows were sent (a crafted form may send more than
    the page offers)."""
    errors = _person_errors(sub.principal, "", principal=True)
    if sub.purpose not in Purpose.values:
        errors["purpose"] = "请选择信访目的（建议意见 / 检举控告 / 申诉求决）"
    if (
        sub.category_id is not None
        and not Category.objects.filter(pk=sub.category_id, is_active=True).exists()
    ):
        errors["category"] = "内容分类不存在，请重新选择"
    if sub.place_code and sub.place_code not in dict(place_choices()):
        errors["place_code"] = "请从列表中选择问题属地"
    if len(sub.place_detail) > PLACE_DETAIL_MAX:
        errors["place_detail"] = f"详细地点最多{PLACE_DETAIL_MAX}字，当前{len(sub.place_detail)}字"
    if not sub.summary:
        errors["summary"] = "请用一句话说明您的诉求"
    elif len(sub.summary) > SUMMARY_MAX:
        errors["summary"] = f"诉求摘要最多{SUMMARY_MAX}字，当前{len(sub.summary)}字，请精简"
    if not sub.content:
        errors["content"] = "请填写信访事项的具体内容（事实、经过和诉求）"
    elif len(sub.content) > max_text():
        errors["content"] = (
            f"具体内容最多{max_text()}字，当前{len(sub.content)}字，"
            f"请精简{len(sub.content) - max_text()}字或作为附件上传"
        )
    if len(sub.accused_text) > ACCUSED_MAX:
        errors["accused_text"] = f"被检举控告对象最多{ACCUSED_MAX}字，当前{len(sub.accused_text)}字"
    if len(sub.cosigners) > MAX_COSIGNERS or (cosigner_rows or 0) > MAX_COSIGNERS:
        errors["cosigners"] = SIGNERS_MESSAGE
    else:
        seen = {pii.normalise_id(sub.principal.id_number): "提交人"}
        for i, c in enumerate(sub.cosigners):
            errors |= _person_errors(c, f"cosigners.{i}.", principal=False)
            key = pii.normalise_id(c.id_number)
            if key and key in seen and f"cosigners.{i}.id_number" not in errors:
                errors[f"cosigners.{i}.id_number"] = (
                    f"与{seen[key]}的证件号码相同，同一人只需填写一次"
                )
            elif key:
                seen[key] = f"第{i + 1}位联名人"
    if not sub.consent:
        errors["consent"] = "请阅读并同意《个人信息保护告知》后再提交"
    return errors


def place_name(sub: Submission) -> str:
    unit = dict(place_choices()).get(sub.place_code, "").strip("　") if sub.place_code else ""
    return " ".join(p for p in (unit, sub.place_detail) if p)[:100]


def to_registration(sub: Submission, received_at: dt.datetime) -> Registration:
    def person(s: Signer, address: str = "") -> PetitionerInput:
        return PetitionerInput(
            name=s.name, id_type=s.id_type, id_number=s.id_number, phone=s.phone, address=address
        )

    return Registration(
        channel="online",
        purpose=sub.purpose,
        summary=sub.summary,
        content=sub.content,
        petitioners=[person(sub.principal, sub.principal.address)]
        + [person(c) for c in sub.cosigners],
        received_at=received_at,
        category_id=sub.category_id,
        place_code=sub.place_code,
        place_name=place_name(sub),
        accused_text=sub.accused_text if sub.purpose == Purpose.ACCUSATION else "",
    )


def check_files(uploads: list[Any], *, already: int = 0) -> tuple[list[dict[str, Any]], list[str]]:
    """Each upload checked (kind by content, size, images re-encoded): ``(checked, errors)``
    where checked items are ``{"name", "content", "label"}``."""
    errors: list[str] = []
    checked: list[dict[str, Any]] = []
    if already + len(uploads) > max_files():
        errors.append(
            f"最多上传{max_files()}个附件，当前{already + len(uploads)}个，请删减后重新选择"
        )
        return [], errors
    for upload in uploads:
        try:
            ok: CheckedUpload = check_upload(upload)
        except DomainError as exc:
            errors.append(exc.message)
            continue
        checked.append(
            {"name": clean_name(upload.name or ""), "content": ok.content, "label": ok.kind.label}
        )
    return checked, errors


# --- rate limits -----------------------------------------------------------------------------


def _rate_identities(ip: str, phone: str) -> list[tuple[str, str]]:
    return [("portal_submit_ip", ip), ("portal_submit_phone", normalise_phone(phone) or phone)]


def rate_check(ip: str, phone: str) -> None:
    """Count one submission; ``RateLimited`` when over a limit."""
    for scope, ident in _rate_identities(ip, phone):
        result = ratelimit.rate_hit(scope, ident)
        if not result.allowed:
            raise RateLimited(result.retry_after)


def rate_blocked(ip: str) -> int:
    """Seconds to wait when this address has used up its submissions (checked, not counted,
    before a review page is made), else 0."""
    rule = ratelimit.rule("portal_submit_ip")
    if rule.limit <= 0 or ratelimit.rate_peek("portal_submit_ip", ip) < rule.limit:
        return 0
    now = int(time.time())
    return max(1, (now // rule.seconds + 1) * rule.seconds - now)


# --- pending submissions ---------------------------------------------------------------------


def _pending_root() -> Path:
    return Path(settings.MEDIA_ROOT) / PENDING_DIR


def _pending_dir(token: str) -> Path:
    return _pending_root() / token


def _remove_files(token: str) -> None:
    shutil.rmtree(_pending_dir(token), ignore_errors=True)


def pending_files(pending: PendingSubmission) -> list[dict[str, Any]]:
    return list(pending.files or [])


def _store(token: str, items: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    folder = _pending_dir(token)
    if items:
        folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for i, item in enumerate(items, start=start):
        stem = f"{i:02d}-{hashlib.sha256(item['content']).hexdigest()[:16]}"
        (folder / stem).write_bytes(item["content"])
        stored.append(
            {
                "name": item["name"],
                "file": stem,
                "size": len(item["content"]),
                "label": item["label"],
            }
        )
    return stored


def _hash_of(session: Any) -> str:
    return session if isinstance(session, str) else services.session_hash(session)


def pending_create(
    *, session: Any, sub: Submission, files: list[dict[str, Any]], account: Any = None
) -> PendingSubmission:
    """A checked submission waiting on the review page for two hours (files stored)."""
    import secrets

    if random.random() < PURGE_PROBABILITY:
        pending_purge()
    now = timezone.now()
    token = secrets.token_urlsafe(24)
    stored = _store(token, files, 0)
    return PendingSubmission.objects.create(
        token=token,
        session_hash=_hash_of(session),
        payload_enc=encrypt(sub.to_json(), context=PAYLOAD_CONTEXT),
        files=stored,
        account=account,
        created_at=now,
        expires_at=now + PENDING_TTL,
    )


def pending_update(
    *, pending: PendingSubmission, sub: Submission, files: list[dict[str, Any]], keep: list[str]
) -> PendingSubmission:
    """The review page's 返回修改: the same pending with the new text, the attachments the
    citizen kept (``keep``: stored file names) and the new ones; two more hours."""
    with transaction.atomic():
        row = PendingSubmission.objects.select_for_update().get(pk=pending.pk)
        if row.case_id is not None:
            return row
        kept = [f for f in pending_files(row) if f["file"] in keep]
        for gone in pending_files(row):
            if gone not in kept:
                (_pending_dir(row.token) / gone["file"]).unlink(missing_ok=True)
        start = 1 + max((int(f["file"][:2]) for f in kept), default=-1)
        row.files = kept + _store(row.token, files, start)
        row.payload_enc = encrypt(sub.to_json(), context=PAYLOAD_CONTEXT)
        row.expires_at = timezone.now() + PENDING_TTL
        row.save(update_fields=["files", "payload_enc", "expires_at"])
        return row


_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def pending_for(session: Any, token: str) -> PendingSubmission:
    """This browser session's pending submission ``token``, else ``PendingNotFound`` (a token
    alone, from another browser, shows nothing)."""
    token = token or ""
    # Tokens are ``secrets.token_urlsafe``: anything else (a NUL byte, which PostgreSQL refuses
    # in a query) is no submission, without asking the database.
    if not _TOKEN_RE.fullmatch(token):
        raise PendingNotFound(token)
    pending = PendingSubmission.objects.filter(token=token).first()
    if pending is None or not hmac.compare_digest(pending.session_hash, _hash_of(session)):
        raise PendingNotFound(token)
    return pending


def is_expired(pending: PendingSubmission) -> bool:
    return pending.case_id is None and pending.expires_at <= timezone.now()


def pending_submission(pending: PendingSubmission) -> Submission:
    return Submission.from_json(decrypt(pending.payload_enc, context=PAYLOAD_CONTEXT))


def pending_confirm(session: Any, token: str, *, ip: str) -> Case:
    """The citizen's 确认提交. ``session``: the request or its ``services.session_hash``.

    Guard: the same browser session (else ``PendingNotFound``), not expired
    (``PendingExpired``), the rate limits (``RateLimited``; a retry of a confirmed submission is
    neither refused nor counted). Effect, in one transaction with the pending row locked: the
    case (``case_register_online`` by the portal account at the portal office, received now,
    idempotency key ``portal:<token>``), its attachments, the ``PortalSubmission`` row, the
    pending marked with the case and its payload wiped. After the commit: the pending's files
    removed; an SMS with the number and query code (a failure is logged, the case stays).
    Events: ``register``, ``attachment`` per file, ``petitioner_message`` (the SMS).
    Idempotent: confirming again returns the same case.
    """
    pending = pending_for(session, token)
    if pending.case_id is not None:
        return Case.objects.get(pk=pending.case_id)
    if is_expired(pending):
        raise PendingExpired(token)
    sub = pending_submission(pending)
    try:
        rate_check(ip, sub.principal.phone)
    except RateLimited:
        # A double click: the other request may be registering this very submission (and
        # was counted). Wait for its lock; if it made the case, that is the answer.
        with transaction.atomic():
            row = PendingSubmission.objects.select_for_update().get(pk=pending.pk)
        if row.case_id is not None:
            return Case.objects.get(pk=row.case_id)
        raise
    with transaction.atomic():
        pending = PendingSubmission.objects.select_for_update().get(pk=pending.pk)
        if pending.case_id is not None:  # the other click won while we waited for the lock
            return Case.objects.get(pk=pending.case_id)
        files = [
            (f["name"], (_pending_dir(pending.token) / f["file"]).read_bytes())
            for f in pending_files(pending)
        ]
        case, _created = _register(
            sub, key=f"portal:{pending.token}", account=pending.account, files=files
        )
        pending.case = case
        pending.payload_enc = ""
        pending.save(update_fields=["case", "payload_enc"])
        done_token = pending.token
        transaction.on_commit(lambda: _remove_files(done_token))
    return case


def _register(
    sub: Submission, *, key: str, account: Any, files: list[tuple[str, bytes]]
) -> tuple[Case, bool]:
    """Register (or find the case of a replayed key); attachments, ``PortalSubmission`` and the
    SMS only for a new case. Runs inside the caller's transaction."""
    from xinfang.cases.attachments import attachment_add

    now = timezone.now()
    user = services.portal_user()
    case = case_register_online(
        by=user,
        office=services.portal_office(),
        reg=to_registration(sub, now),
        idempotency_key=key,
        at=now,
    )
    if PortalSubmission.objects.filter(case=case).exists():
        return case, False
    for name, data in files:
        attachment_add(case=case, by=user, upload=ContentFile(data, name=name))
    PortalSubmission.objects.create(
        case=case, account=account, submitted_at=now, consent_version=services.CONSENT_VERSION
    )
    case_id = case.pk
    transaction.on_commit(lambda: notify_submitted(case_id))
    return case, True


def notify_submitted(case_id: int) -> None:
    """After the commit: the SMS with the number and query code to the submitter. A failure is
    logged; the committed case is not touched."""
    from xinfang.notify.petitioner import send_to_petitioner

    try:
        case = Case.objects.get(pk=case_id)
        send_to_petitioner(
            case=case,
            by=None,
            channel="sms",
            text=SMS_TEXT.format(number=case.number, code=case.query_code),
        )
    except DomainError as exc:  # e.g. no phone on file (an API client's choice)
        log.info("portal: no submission SMS for case %s: %s", case_id, exc.message)
    except Exception:
        log.exception("portal: submission SMS for case %s failed", case_id)


def sms_sent_to(case: Case) -> str:
    """The masked phone the submission SMS went to, or "" when none was sent."""
    from xinfang.core.masking import mask_phone
    from xinfang.notify.models import OutboundMessage

    message = (
        OutboundMessage.objects.filter(case=case, channel="sms")
        .exclude(status=OutboundMessage.State.FAILED)
        .select_related("petitioner")
        .order_by("id")
        .first()
    )
    return mask_phone(message.petitioner.phone) if message is not None else ""


def api_key(client_token: str) -> str:
    """The case's idempotency key for an API submission (≤ 64 characters: a long token, or one
    with control characters, is replaced by its hash)."""
    key = f"portal-api:{client_token}"
    if len(key) <= 64 and client_token.isprintable():  # a NUL byte: PostgreSQL refuses it
        return key
    return "portal-api:#" + hashlib.sha256(client_token.encode()).hexdigest()[:52]


def api_submit(sub: Submission, *, client_token: str, ip: str) -> tuple[Case, bool]:
    """An API submission (no attachments): ``(case, created)``. The same ``client_token`` with
    the same phone returns the first case (``created`` False, nothing counted); with another
    phone it is refused (the token does not reveal someone else's query code)."""
    sub = normalised(sub)
    key = api_key(client_token)
    existing = Case.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _replay(existing, sub), False
    errors = submission_errors(sub)
    if errors:
        first = next(iter(errors))
        raise SubmissionInvalid(errors[first], field=first, errors=errors)
    rate_check(ip, sub.principal.phone)
    with transaction.atomic():
        case, created = _register(sub, key=key, account=None, files=[])
    if not created:
        return _replay(case, sub), False
    return case, True


def _replay(case: Case, sub: Submission) -> Case:
    from xinfang.people.selectors import with_phone

    principal = case.parties.order_by("order").values_list("petitioner_id", flat=True).first()
    if principal is None or not with_phone(sub.principal.phone).filter(pk=principal).exists():
        raise IdempotencyConflict("该提交标识（client_token）已被使用，请为新的提交生成新的标识")
    return case


class SubmissionInvalid(DomainError):
    """The first error as a ``DomainError``; ``errors`` holds all of them."""

    def __init__(self, message: str, *, field: str, errors: dict[str, str]) -> None:
        super().__init__(message, field=field)
        self.errors = errors


def pending_purge(now: dt.datetime | None = None) -> int:
    """Remove what the review step left behind: expired unconfirmed pendings (payload and
    files) and, a day on, the rows themselves. Returns the number of rows deleted."""
    now = now or timezone.now()
    stale = PendingSubmission.objects.filter(expires_at__lt=now, case__isnull=True).exclude(
        payload_enc=""
    )
    for token in stale.values_list("token", flat=True):
        _remove_files(token)
    stale.update(payload_enc="", files=[])
    old = PendingSubmission.objects.filter(expires_at__lt=now - PENDING_KEEP)
    deleted, _ = old.delete()
    return int(deleted)
