"""网上信访: the form → the review page → 确认提交 → the result page (docs/portal.md).

Thin views over ``portal.submission``. The form works without JavaScript: a co-signer block is
added by a submit button that re-renders the page with everything typed (files must be chosen
again); errors come back beside the fields and in a summary at the top. The review and result
pages belong to the browser session that made the submission (anyone else: 404).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from xinfang.cases.attachments import ALLOWED_EXTS, ALLOWED_LABEL, clean_name, human_size
from xinfang.core.errors import DomainError
from xinfang.core.masking import mask_id, mask_phone
from xinfang.core.ratelimit import client_ip, rate_hit
from xinfang.portal import services
from xinfang.portal import submission as S
from xinfang.portal.forms import COSIGNER_PREFIX, CosignerForm, SubmitForm, submission_from
from xinfang.portal.forms import initial_from as form_initial
from xinfang.portal.views import render_portal

log = logging.getLogger(__name__)

TOTAL_FIELD = f"{COSIGNER_PREFIX}-TOTAL_FORMS"


# --- the form --------------------------------------------------------------------------------


class _SizeLimitedUpload(FileUploadHandler):
    """Stops reading a file past ``ATTACHMENT_MAX_BYTES`` (the file is skipped and named in
    the page's error), instead of writing it all to disk first."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.limit = int(settings.ATTACHMENT_MAX_BYTES)
        request._portal_skipped = []  # type: ignore[attr-defined]

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.request._portal_skipped.append(clean_name(self.file_name or ""))  # type: ignore[union-attr]
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@csrf_exempt  # checked by ``_submit`` after the upload handlers are set (Django's documented way)
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        if size > S.max_body_bytes():
            return _too_big(request, size)
        request.upload_handlers.insert(0, _SizeLimitedUpload(request))
    try:
        return _submit(request)
    except RequestDataTooBig:
        return _too_big(request, int(request.META.get("CONTENT_LENGTH") or 0))
    except (TooManyFieldsSent, TooManyFilesSent):
        return _form_page(request, SubmitForm(), [], banner=S.GENERIC_FAILURE, status=400)


def _too_big(request: HttpRequest, size: int) -> HttpResponse:
    form, rows = SubmitForm(), [_cosigner(0)]
    return _form_page(request, form, rows, banner=S.size_message(size), status=413)


@csrf_protect
def _submit(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _blank_or_edit(request)
    data = request.POST.copy()
    pending = _editable(request, data.get("edit", ""))
    if isinstance(pending, HttpResponse):
        return pending
    form = SubmitForm(data)
    rows = _posted_rows(data)
    if data.get("add_cosigner"):
        return _add_cosigner(request, form, rows, pending, files=bool(request.FILES))
    ip = client_ip(request)
    if (data.get("hp") or "").strip():
        # A robot filled the hidden field: a generic failure, nothing stored.
        log.warning("portal: honeypot field filled (submission refused, ip hash only)")
        return _form_page(request, *_unbound(form, rows), banner=S.GENERIC_FAILURE, pending=pending)
    wait = S.rate_blocked(ip)
    if wait:  # the form again, everything kept: nothing is lost by waiting
        minutes = max(1, (wait + 59) // 60)
        banner = f"提交过于频繁，请在约{minutes}分钟后再试；您填写的内容已保留在本页。"
        response = _form_page(
            request, *_unbound(form, rows), banner=banner, pending=pending, status=429
        )
        response["Retry-After"] = str(wait)
        return response
    return _check_and_store(request, form, rows, pending, raw_total=_raw_total(data))


def _blank_or_edit(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("edit", "")
    if token:
        pending = _editable(request, token)
        if isinstance(pending, HttpResponse):
            return pending
        if pending is not None:
            main, cosigners = form_initial(S.pending_submission(pending))
            rows = [_cosigner(i, initial=r) for i, r in enumerate(cosigners)] or [_cosigner(0)]
            return _form_page(request, SubmitForm(initial=main), rows, pending=pending)
    return _form_page(request, SubmitForm(), [_cosigner(0)], fresh=True)


def _editable(request: HttpRequest, token: str) -> Any:
    """The pending submission being changed (返回修改), None for a new one, or a response
    (confirmed already → its result page; expired → start again)."""
    if not token:
        return None
    try:
        pending = S.pending_for(request, token)
    except S.PendingNotFound:
        return None
    if pending.case_id is not None:
        return redirect("portal:submit_done", token=pending.token, permanent=False)
    if S.is_expired(pending):
        return _expired(request)
    return pending


def _cosigner(i: int, data: Any = None, initial: dict[str, Any] | None = None) -> CosignerForm:
    return CosignerForm(data, prefix=f"{COSIGNER_PREFIX}-{i}", initial=initial)


def _raw_total(data: QueryDict) -> int:
    try:
        return max(0, int(data.get(TOTAL_FIELD) or 0))
    except ValueError:
        return 0


def _posted_rows(data: QueryDict) -> list[CosignerForm]:
    # A crafted form may claim thousands of rows; one past the limit is enough to refuse.
    count = min(_raw_total(data), S.MAX_COSIGNERS + 1)
    return [_cosigner(i, data) for i in range(count)]


def _unbound(form: SubmitForm, rows: list[CosignerForm]) -> tuple[SubmitForm, list[CosignerForm]]:
    """The same values as fresh forms (shown again without error marks)."""
    main = {name: form[name].data for name in form.fields if name != "hp"}
    return SubmitForm(initial=main), [_cosigner(i, initial=r.raw()) for i, r in enumerate(rows)]


def _add_cosigner(
    request: HttpRequest,
    form: SubmitForm,
    rows: list[CosignerForm],
    pending: Any,
    *,
    files: bool,
) -> HttpResponse:
    """The no-JavaScript 再添加一位联名人: the page again with one more empty block."""
    main, kept = _unbound(form, rows[: S.MAX_COSIGNERS])
    note = ""
    if len(kept) < S.MAX_COSIGNERS:
        kept.append(_cosigner(len(kept)))
        note = f"已添加第{len(kept)}位联名人，请在下方填写。"
    else:
        note = S.SIGNERS_MESSAGE
    if files:
        note += "您选择的附件没有上传，提交前请重新选择。"
    return _form_page(request, main, kept, pending=pending, notice=note, focus=len(kept) - 1)


def _check_and_store(
    request: HttpRequest,
    form: SubmitForm,
    rows: list[CosignerForm],
    pending: Any,
    *,
    raw_total: int,
) -> HttpResponse:
    form.is_valid()
    for row in rows:
        row.is_valid()
    sub = submission_from(form, [r for r in rows if hasattr(r, "cleaned_data")])
    # Blank rows are dropped by ``normalised``; a row's index in the errors is its index among
    # the filled rows, so map it back to the row on the page.
    filled = [i for i, r in enumerate(rows) if not r.signer().is_blank()]
    errors = S.submission_errors(
        sub, cosigner_rows=raw_total if raw_total > S.MAX_COSIGNERS + 1 else len(filled)
    )
    keep = [f for f in request.POST.getlist("keep") if f]
    already = len([f for f in S.pending_files(pending) if f["file"] in keep]) if pending else 0
    uploads = request.FILES.getlist("attachments")
    checked, file_errors = S.check_files(uploads, already=already)
    for name in getattr(request, "_portal_skipped", []):
        file_errors.append(
            f"附件「{name}」超过大小上限{human_size(int(settings.ATTACHMENT_MAX_BYTES))}，"
            "请压缩或拆分后重新选择"
        )
    extra: dict[str, str] = {}
    for key, message in errors.items():
        if key.startswith("cosigners."):
            _, index, field = key.split(".", 2)
            target = rows[filled[int(index)]]
            if field in target.fields and field not in target.errors:
                target.add_error(field, message)
        elif key in form.fields:
            if key not in form.errors:
                form.add_error(key, message)
        else:
            extra[key] = message
    if form.errors or any(r.errors for r in rows) or extra or file_errors:
        if uploads and not file_errors:
            file_errors.append("附件已通过检查，但因其他内容需要修改未能保存，提交前请重新选择")
        return _form_page(
            request, form, rows, extra=extra, file_errors=file_errors, pending=pending, keep=keep
        )
    # Each review page stores the attachments (up to the file limit × the size limit) for
    # hours: counted per address, so a script cannot fill the disk with unconfirmed ones.
    hit = rate_hit("portal_pending_ip", client_ip(request))
    if not hit.allowed:
        minutes = max(1, (hit.retry_after + 59) // 60)
        banner = f"提交过于频繁，请在约{minutes}分钟后再试；您填写的内容已保留在本页。"
        response = _form_page(
            request, *_unbound(form, rows), banner=banner, pending=pending, status=429
        )
        response["Retry-After"] = str(hit.retry_after)
        return response
    account = services.current_account(request)
    if pending is not None:
        pending = S.pending_update(pending=pending, sub=sub, files=checked, keep=keep)
    else:
        pending = S.pending_create(session=request, sub=sub, files=checked, account=account)
    return redirect_303(reverse("portal:submit_review", args=[pending.token]))


def redirect_303(url: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def _error_summary(
    form: SubmitForm, rows: list[CosignerForm], extra: dict[str, str], file_errors: list[str]
) -> list[tuple[str, str]]:
    """(anchor, text) for every error, in page order."""
    items: list[tuple[str, str]] = []
    order = ["name", "id_type", "id_number", "phone", "address", "purpose", "category"]
    order += ["place_code", "place_detail", "summary", "content", "accused_text"]
    for name in order:
        for message in form.errors.get(name, []):
            anchor = "id_purpose_0" if name == "purpose" else f"id_{name}"
            items.append((anchor, f"{form.fields[name].label}：{message!s}"))
    for message in file_errors:
        items.append(("id_attachments", message))
    for i, row in enumerate(rows):
        for name, messages in row.errors.items():
            label = row.fields[name].label if name in row.fields else ""
            for message in messages:
                items.append((f"id_{row.prefix}-{name}", f"第{i + 1}位联名人{label}：{message!s}"))
    if "cosigners" in extra:
        items.append(("cosigners", extra["cosigners"]))
    for message in form.errors.get("consent", []):
        items.append(("id_consent", str(message)))
    return items


def _form_page(
    request: HttpRequest,
    form: SubmitForm,
    rows: list[CosignerForm],
    *,
    extra: dict[str, str] | None = None,
    file_errors: list[str] | None = None,
    banner: str = "",
    notice: str = "",
    pending: Any = None,
    keep: list[str] | None = None,
    fresh: bool = False,
    focus: int | None = None,
    status: int = 200,
) -> HttpResponse:
    extra = extra or {}
    file_errors = file_errors or []
    purpose = form["purpose"].value() or ""
    files = S.pending_files(pending) if pending is not None else []
    kept = set(keep) if keep is not None else {f["file"] for f in files}
    ctx = {
        "form": form,
        "rows": rows,
        "row_total": len(rows),
        "can_add": len(rows) < S.MAX_COSIGNERS,
        "max_cosigners": S.MAX_COSIGNERS,
        "empty_row": CosignerForm(prefix=f"{COSIGNER_PREFIX}-__prefix__"),
        "purposes": [
            {"value": v, "label": label, "hint": hint, "checked": v == purpose, "i": i}
            for i, (v, label, hint) in enumerate(S.PURPOSES)
        ],
        "purpose_errors": form.errors.get("purpose", []),
        "errors": _error_summary(form, rows, extra, file_errors),
        "cosigner_error": extra.get("cosigners", ""),
        "file_errors": file_errors,
        "banner": banner,
        "notice": notice,
        "pending": pending,
        "pending_files": [f | {"kept": f["file"] in kept} for f in files],
        "max_files": S.max_files(),
        "max_file_size": human_size(int(settings.ATTACHMENT_MAX_BYTES)),
        "allowed_label": ALLOWED_LABEL,
        "allowed_exts": ",".join("." + e for e in ALLOWED_EXTS.split("、")),
        "fresh": fresh,
        "focus_row": focus,
        "consent_version": services.CONSENT_VERSION,
        "max_text": S.max_text(),
    }
    return render_portal(request, "portal/submit.html", ctx, nav="submit", status=status)


# --- review and confirmation -----------------------------------------------------------------


def _pending_or_404(request: HttpRequest, token: str) -> Any:
    try:
        return S.pending_for(request, token)
    except S.PendingNotFound:
        raise Http404("no such submission in this session") from None


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, token: str) -> HttpResponse:
    pending = _pending_or_404(request, token)
    if pending.case_id is not None:
        return redirect_303(reverse("portal:submit_done", args=[pending.token]))
    if S.is_expired(pending):
        return _expired(request)
    error = ""
    if request.method == "POST":
        try:
            S.pending_confirm(request, token, ip=client_ip(request))
        except S.PendingExpired:
            return _expired(request)
        except S.RateLimited as exc:
            return _limited(request, exc.retry_after)
        except DomainError as exc:
            log.info("portal: confirmation refused by registration: %s", exc.field)
            error = exc.message
        else:
            return redirect_303(reverse("portal:submit_done", args=[pending.token]))
    sub = S.pending_submission(pending)
    return render_portal(
        request,
        "portal/submit_review.html",
        {"pending": pending, "review": _review_rows(sub), "sub": sub, "error": error}
        | {"files": S.pending_files(pending)},
        nav="submit",
        status=400 if error else 200,
    )


def _review_rows(sub: S.Submission) -> dict[str, Any]:
    """What the review page shows: ID numbers and phones masked."""
    from xinfang.cases.models import Category

    id_types = dict(S.ID_TYPES)

    def person(s: S.Signer) -> dict[str, str]:
        return {
            "name": s.name,
            "id_type": id_types.get(s.id_type, s.id_type) if s.id_number else "",
            "id_number": mask_id(s.id_number),
            "phone": mask_phone(s.phone),
            "address": s.address,
        }

    category = Category.objects.filter(pk=sub.category_id).first() if sub.category_id else None
    purposes = {v: label for v, label, _ in S.PURPOSES}
    return {
        "principal": person(sub.principal),
        "cosigners": [person(c) for c in sub.cosigners],
        "purpose": purposes.get(sub.purpose, sub.purpose),
        "category": category.full_name if category else "",
        "place": S.place_name(sub),
        "summary": sub.summary,
        "content": sub.content,
        "accused_text": sub.accused_text,
    }


@require_GET
def done(request: HttpRequest, token: str) -> HttpResponse:
    pending = _pending_or_404(request, token)
    if pending.case_id is None:
        if S.is_expired(pending):
            return _expired(request)
        return redirect_303(reverse("portal:submit_review", args=[pending.token]))
    case = pending.case
    assert case is not None
    services.grant(request, case)  # 查看办理进展 works at once in this browser
    from xinfang.cases.models import DeadlineKind, DeadlineRule

    rules = dict(DeadlineRule.objects.values_list("kind", "days"))
    route = case.deadlines.filter(kind=DeadlineKind.ROUTE, cancelled_at__isnull=True).first()
    return render_portal(
        request,
        "portal/submit_done.html",
        {
            "case": case,
            "sms_to": S.sms_sent_to(case),
            "rules": rules,
            "route_due": route.due_on if route is not None else None,
        },
        nav="submit",
    )


def _expired(request: HttpRequest) -> HttpResponse:
    return render_portal(
        request,
        "portal/submit_expired.html",
        {"hours": int(S.PENDING_TTL.total_seconds() // 3600)},
        nav="submit",
        status=410,
    )


def _limited(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render_portal(
        request,
        "portal/submit_limited.html",
        {"minutes": max(1, (retry_after + 59) // 60)},
        nav="submit",
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response
