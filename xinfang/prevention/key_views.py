"""重点人员/群体 pages (helper D): the register (two tabs), add a person / a group, detail pages
with the contact log, edit and removal.

Restricted: the pages exist only for 领导, 办案员 and 单位负责人 (``policy.may_use_key_register``);
a subject outside ``key_persons_visible_to`` / ``key_groups_visible_to`` is a 404. Every GET of
a detail page writes a ``keyperson_view`` audit row; every change goes through ``keypersons``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.masking import mask_id, mask_phone
from xinfang.core.paging import paginate
from xinfang.org.models import Unit
from xinfang.people.models import KeyPerson, Petitioner, PetitionerGroup
from xinfang.prevention import keypersons as K
from xinfang.prevention import policy
from xinfang.prevention.key_forms import ContactForm, KeyFactsForm, KeyGroupForm, RemoveForm
from xinfang.prevention.models import KeyGroup

PAGE_SIZE = 30
NOT_FOUND = K.NOT_FOUND


def _gate(request: HttpRequest) -> Any:
    user = request.user
    if not policy.may_use_key_register(user):
        raise Http404(NOT_FOUND)
    return user


def _units(user: Any) -> QuerySet[Unit]:
    return Unit.objects.filter(pk__in=policy.key_scope_ids(user), is_active=True).order_by("path")


def _form_kwargs(user: Any) -> dict[str, Any]:
    units = list(_units(user))
    return {"units": units, "leaders": list(K.leader_choices([u.pk for u in units]))}


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    """An act refused inside the scope: 403 with the Chinese message, on the register's frame."""
    return render(
        request, "prevention/keys/refused.html", {"pv_tab": "keys", "error": message}, status=403
    )


def _form_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- the register ----------------------------------------------------------------------------


def record_list_view(
    user: Any, *, tab: str, count: int, filters: dict[str, Any], via: str, request: Any = None
) -> None:
    """One ``keyperson_view`` audit row per list request (page, HTMX partial, API): what was
    listed and how many, the filters — never the search words (only their length)."""
    from xinfang.audit.services import audit_record

    shown = {
        k: (v.isoformat() if isinstance(v, dt.date) else v[:30] if isinstance(v, str) else v)
        for k, v in filters.items()
        if v not in ("", None, False)
    }
    if shown.get("q"):
        shown["q"] = f"（检索词已隐去，{len(str(filters['q']))}字）"
    kind = "重点群体" if tab == "group" else "重点人员"
    audit_record(
        action="keyperson_view",
        actor=user,
        object_type="keygroup" if tab == "group" else "keyperson",
        summary=f"查看{kind}名单（{count}条）",
        detail={"list": True, "count": count, "filters": shown, "via": via},
        request=request,
    )


@login_required
@never_cache
def key_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    user = _gate(request)
    tab = "group" if request.GET.get("tab") == "group" else "person"
    today = timezone.localdate()
    q = request.GET.get("q", "").strip()[:50]
    status = request.GET.get("status", "active")
    review = request.GET.get("review", "")
    unit_raw = request.GET.get("unit", "")
    leader_raw = request.GET.get("leader", "")
    base: QuerySet[Any]
    if tab == "person":
        base = policy.key_persons_visible_to(user).select_related("petitioner", "unit", "leader")
    else:
        base = policy.key_groups_visible_to(user).select_related("group", "unit", "leader")
    leader_ids = base.filter(removed_at__isnull=True, leader__isnull=False).values("leader_id")
    leaders = list(get_user_model().objects.filter(pk__in=leader_ids).order_by("username"))
    rows = base
    if status == "removed":
        rows = rows.filter(removed_at__isnull=False)
    elif status != "all":
        status = "active"
        rows = rows.filter(removed_at__isnull=True)
    if review == "overdue":
        rows = rows.filter(review_on__lt=today, removed_at__isnull=True)
    elif review == "due":
        rows = rows.filter(review_on__lte=today + dt.timedelta(days=7))
    if unit_raw.isdigit() and len(unit_raw) < 19:
        unit = Unit.objects.filter(pk=int(unit_raw)).only("path").first()
        rows = rows.filter(unit__path__startswith=unit.path) if unit else rows.none()
    if leader_raw.isdigit() and len(leader_raw) < 19:
        rows = rows.filter(leader_id=int(leader_raw))
    if q:
        rows = rows.filter(
            Q(petitioner__name__icontains=q) | Q(reason__icontains=q)
            if tab == "person"
            else Q(group__name__icontains=q) | Q(reason__icontains=q)
        )
    rows = rows.order_by("removed_at", "review_on", "-since", "-pk")
    if tab == "group":
        rows = rows.annotate(contact_count=Count("contacts"))
    page, query = paginate(request, rows, PAGE_SIZE)
    partial = bool(
        request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results"
    )
    record_list_view(
        user,
        tab=tab,
        count=page.paginator.count,
        filters={
            "tab": tab,
            "q": q,
            "status": status,
            "review": review,
            "unit": unit_raw,
            "leader": leader_raw,
            "page": page.number,
        },
        via="htmx" if partial else "page",
        request=request,
    )
    active = policy.key_persons_visible_to(user).filter(removed_at__isnull=True)
    groups_active = policy.key_groups_visible_to(user).filter(removed_at__isnull=True)
    context = {
        "pv_tab": "keys",
        "tab": tab,
        "page": page,
        "query": query,
        "rows": page.object_list,
        "today": today,
        "q": q,
        "status": status,
        "review": review,
        "unit_value": unit_raw,
        "leader_value": leader_raw,
        "units": _units(user),
        "leaders": leaders,
        "person_count": active.count(),
        "group_count": groups_active.count(),
        "may_add": bool(policy.key_scope_ids(user)),
    }
    if partial:
        return render(request, "prevention/keys/_list_table.html", context)
    return render(request, "prevention/keys/list.html", context)


# --- add a person -----------------------------------------------------------------------------


def _flaggable_or_404(user: Any, raw: str) -> Petitioner | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Http404(NOT_FOUND)
    person = K.flaggable_petitioners(user).filter(pk=int(raw)).first()
    if person is None:
        raise Http404("未找到该信访人（不在您可查看的信访事项中）")
    return person


@login_required
@never_cache
def person_new(request: HttpRequest, **kwargs: object) -> HttpResponse:
    user = _gate(request)
    if not policy.key_scope_ids(user):
        return _refused(request, "只有领导、办案员可以登记重点人员")
    raw = (request.POST.get("petitioner") or request.GET.get("petitioner") or "").strip()
    person = _flaggable_or_404(user, raw)
    q = request.GET.get("q", "").strip()[:40]
    results = K.search_petitioners(user, q) if q and person is None else []
    existing = None
    if person is not None:
        existing = (
            policy.key_persons_visible_to(user)
            .filter(petitioner=person, removed_at__isnull=True)
            .first()
        )
    form: KeyFactsForm | None = None
    if person is not None:
        if request.method == "POST":
            form = KeyFactsForm(request.POST, **_form_kwargs(user))
            key, fp = form_key(request), post_fingerprint(request)
            scope = f"keyperson:{person.pk}"
            if replay_of(user=user, key=key, scope=scope, fingerprint=fp):
                done = KeyPerson.objects.filter(petitioner=person, removed_at__isnull=True).first()
                if done is not None:
                    return redirect("prevention_key_person", pk=done.pk)
            if form.is_valid():
                try:
                    kp = run_once(
                        user=user,
                        key=key,
                        scope=scope,
                        fingerprint=fp,
                        effect=lambda: K.key_person_add(
                            user,
                            person,
                            request=request,
                            **form.facts(),  # type: ignore[union-attr]
                        ),
                    ).value
                except DomainError as exc:
                    _form_error(form, exc)
                else:
                    if kp is None:
                        kp = KeyPerson.objects.get(petitioner=person, removed_at__isnull=True)
                    messages.success(request, f"已将{person.name}列为重点人员")
                    return redirect("prevention_key_person", pk=kp.pk)
        else:
            form = KeyFactsForm(initial={"since": timezone.localdate()}, **_form_kwargs(user))
    status = 400 if form is not None and form.errors else 200
    return render(
        request,
        "prevention/keys/person_new.html",
        {
            "pv_tab": "keys",
            "person": person,
            "existing": existing,
            "form": form,
            "q": q,
            "results": [
                {
                    "person": p,
                    "id_masked": mask_id(p.id_number),
                    "phone_masked": mask_phone(p.phone),
                }
                for p in results
            ],
            "searched": bool(q),
            "case_id": request.GET.get("case", ""),
        },
        status=status,
    )


# --- detail pages ----------------------------------------------------------------------------


def _masked_person(person: Petitioner) -> dict[str, Any]:
    return {
        "person": person,
        "id_masked": person.id_masked,
        "phone_masked": person.phone_masked,
    }


def _detail(
    request: HttpRequest,
    subject: Any,
    *,
    kind: str,
    facts_form: Any = None,
    contact_form: Any = None,
    remove_form: Any = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    cases = K.linked_cases(user, subject)
    disputes = K.linked_disputes(user, subject)
    may_manage = K.may_manage(user, subject.unit_id) and subject.removed_at is None
    may_contact = subject.removed_at is None and K.may_log_contact(user, subject)
    contacts = list(subject.contacts.select_related("by").order_by("-at", "-pk")[:100])
    if may_manage and facts_form is None:
        initial = {
            "reason": subject.reason,
            "since": subject.since,
            "unit": str(subject.unit_id or ""),
            "leader": str(subject.leader_id or ""),
            "plan": subject.plan,
            "review_on": subject.review_on,
        }
        form_cls = KeyGroupForm if kind == "group" else KeyFactsForm
        if kind == "group":
            initial["headcount"] = subject.headcount
        facts_form = form_cls(initial=initial, **_form_kwargs(user))
    context: dict[str, Any] = {
        "pv_tab": "keys",
        "kind": kind,
        "subject": subject,
        "today": timezone.localdate(),
        "cases": cases,
        "disputes": disputes,
        "contacts": contacts,
        "may_manage": may_manage,
        "may_contact": may_contact,
        "facts_form": facts_form if may_manage else None,
        "contact_form": (contact_form or ContactForm()) if may_contact else None,
        "remove_form": (remove_form or RemoveForm()) if may_manage else None,
        "error": error,
        "open_edit": bool(facts_form is not None and facts_form.errors),
        "open_remove": bool(remove_form is not None and remove_form.errors),
    }
    if kind == "person":
        person = subject.petitioner
        context["who"] = _masked_person(person)
        # the existing audited reveal goes through a visible, non-confidential case
        context["reveal_case"] = next((c for c in cases if not c.is_confidential), None)
        context["groups"] = list(person.groups.order_by("name")[:20])
    else:
        members = list(subject.group.members.order_by("name", "pk")[:200])
        context["members"] = [_masked_person(p) for p in members]
        context["member_total"] = subject.group.members.count()
    return render(request, "prevention/keys/detail.html", context, status=status)


def _post_action(request: HttpRequest, subject: Any, kind: str) -> HttpResponse:
    user = request.user
    op = request.POST.get("op", "")
    url = request.path
    try:
        if op == "contact":
            cform = ContactForm(request.POST)
            if not cform.is_valid():
                return _detail(request, subject, kind=kind, contact_form=cform, status=400)
            key, fp = form_key(request), post_fingerprint(request)
            scope = f"keycontact:{kind}:{subject.pk}"
            if replay_of(user=user, key=key, scope=scope, fingerprint=fp):
                messages.info(request, "该联系记录已保存，未重复登记")
                return redirect(url)
            try:
                run_once(
                    user=user,
                    key=key,
                    scope=scope,
                    fingerprint=fp,
                    effect=lambda: K.key_contact_add(
                        user,
                        subject,
                        method=cform.cleaned_data["method"],
                        note=cform.cleaned_data["note"],
                        at=cform.cleaned_data.get("at"),
                        request=request,
                    ),
                )
            except DomainError as exc:
                if isinstance(exc, PermissionDenied):
                    raise
                _form_error(cform, exc)
                return _detail(request, subject, kind=kind, contact_form=cform, status=400)
            messages.success(request, "已登记联系记录")
            return redirect(url)
        if op in ("edit", "remove"):
            # Refuse before reading the form: a reader without the right (the unit head) gets
            # the 403 and its message, not a form error on choices she is not offered.
            K._require_manage(user, subject.unit_id)
        if op == "edit":
            form_cls = KeyGroupForm if kind == "group" else KeyFactsForm
            fform = form_cls(request.POST, **_form_kwargs(user))
            if not fform.is_valid():
                return _detail(request, subject, kind=kind, facts_form=fform, status=400)
            fields = fform.facts()
            if fform.cleaned_data["unit"] and fields["unit"] is None:
                fform.add_error("unit", "所选责任单位不在您的范围内")
                return _detail(request, subject, kind=kind, facts_form=fform, status=400)
            try:
                if kind == "group":
                    K.key_group_update(
                        user,
                        subject,
                        request=request,
                        headcount=fform.cleaned_data["headcount"],
                        **fields,
                    )
                else:
                    K.key_person_update(user, subject, request=request, **fields)
            except DomainError as exc:
                if isinstance(exc, PermissionDenied):
                    raise
                _form_error(fform, exc)
                return _detail(request, subject, kind=kind, facts_form=fform, status=400)
            messages.success(request, "已保存修改")
            return redirect(url)
        if op == "remove":
            rform = RemoveForm(request.POST)
            if not rform.is_valid():
                return _detail(request, subject, kind=kind, remove_form=rform, status=400)
            try:
                if kind == "group":
                    K.key_group_remove(user, subject, rform.cleaned_data["reason"], request=request)
                else:
                    K.key_person_remove(
                        user, subject, rform.cleaned_data["reason"], request=request
                    )
            except DomainError as exc:
                if isinstance(exc, PermissionDenied):
                    raise
                _form_error(rform, exc)
                return _detail(request, subject, kind=kind, remove_form=rform, status=400)
            messages.success(request, "已撤销，记录保留在历史中")
            return redirect(url)
    except PermissionDenied as exc:
        return _detail(request, subject, kind=kind, error=exc.message, status=403)
    return _detail(request, subject, kind=kind, error="未知的操作", status=400)


@login_required
@never_cache
def person_detail(request: HttpRequest, pk: int, **kwargs: object) -> HttpResponse:
    _gate(request)
    kp = get_object_or_404(
        policy.key_persons_visible_to(request.user).select_related(
            "petitioner", "unit", "leader", "added_by", "removed_by"
        ),
        pk=pk,
    )
    if request.method == "POST":
        return _post_action(request, kp, "person")
    K.record_view(request.user, kp, request=request)
    return _detail(request, kp, kind="person")


@login_required
@never_cache
def group_detail(request: HttpRequest, pk: int, **kwargs: object) -> HttpResponse:
    _gate(request)
    kg = get_object_or_404(
        policy.key_groups_visible_to(request.user).select_related(
            "group", "unit", "leader", "added_by", "removed_by"
        ),
        pk=pk,
    )
    if request.method == "POST":
        return _post_action(request, kg, "group")
    K.record_view(request.user, kg, request=request)
    return _detail(request, kg, kind="group")


# --- add a group -----------------------------------------------------------------------------


@login_required
@never_cache
def group_new(request: HttpRequest, **kwargs: object) -> HttpResponse:
    user = _gate(request)
    if not policy.key_scope_ids(user):
        return _refused(request, "只有领导、办案员可以登记重点群体")
    q = request.GET.get("q", "").strip()[:40]
    candidates = K.flaggable_groups(user)
    if q:
        candidates = candidates.filter(name__icontains=q)
    groups = list(candidates.annotate(member_count=Count("members")).order_by("name")[:50])
    active = set(
        KeyGroup.objects.filter(
            group_id__in=[g.pk for g in groups], removed_at__isnull=True
        ).values_list("group_id", flat=True)
    )
    raw = (request.POST.get("group") or request.GET.get("group") or "").strip()
    picked: PetitionerGroup | None = None
    if raw and raw != "new":
        if not raw.isdigit() or len(raw) > 18:
            raise Http404(NOT_FOUND)
        picked = K.flaggable_groups(user).filter(pk=int(raw)).first()
        if picked is None:
            raise Http404("未找到该群体（不在您可查看的信访事项或矛盾纠纷中）")
    new_name = request.POST.get("new_name", "") if request.method == "POST" else ""
    form = None
    if picked is not None or raw == "new":
        if request.method == "POST":
            form = KeyGroupForm(request.POST, **_form_kwargs(user))
            key, fp = form_key(request), post_fingerprint(request)
            scope = "keygroup:new"
            if form.is_valid():
                target: PetitionerGroup | str = picked if picked is not None else new_name
                try:
                    kg = run_once(
                        user=user,
                        key=key,
                        scope=scope,
                        fingerprint=fp,
                        effect=lambda: K.key_group_add(
                            user,
                            target,
                            request=request,
                            headcount=form.cleaned_data["headcount"],  # type: ignore[union-attr]
                            **form.facts(),  # type: ignore[union-attr]
                        ),
                    ).value
                except DomainError as exc:
                    if exc.field == "group" and "group" not in form.fields:
                        form.add_error(None, exc.message)
                    else:
                        _form_error(form, exc)
                else:
                    if kg is None:  # a replay: the group registered by the first submission
                        kg = (
                            KeyGroup.objects.filter(added_by=user)
                            .order_by("-created_at", "-pk")
                            .first()
                        )
                    if kg is not None:
                        messages.success(request, "已列为重点群体")
                        return redirect("prevention_key_group", pk=kg.pk)
        else:
            initial: dict[str, Any] = {"since": timezone.localdate()}
            if picked is not None:
                initial["headcount"] = picked.members.count() or None
            form = KeyGroupForm(initial=initial, **_form_kwargs(user))
    status = 400 if form is not None and form.errors else 200
    return render(
        request,
        "prevention/keys/group_new.html",
        {
            "pv_tab": "keys",
            "q": q,
            "groups": groups,
            "active_ids": active,
            "picked": picked,
            "is_new": raw == "new",
            "new_name": new_name,
            "form": form,
        },
        status=status,
    )
