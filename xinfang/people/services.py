"""Writes for petitioners: find-or-create by identity, and recorded merges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from pypinyin import Style, lazy_pinyin

from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.idcard import IdNumberError, validate_hk_mo_tw_permit, validate_id_number
from xinfang.core.masking import validate_phone
from xinfang.people.models import AgeBand, IdType, Petitioner, PetitionerMerge
from xinfang.people.selectors import with_id_number, with_phone, without_id_number


@dataclass
class PetitionerInput:
    name: str
    id_type: str = IdType.RESIDENT
    id_number: str = ""
    phone: str = ""
    address: str = ""
    sex: str = ""
    age_band: str = ""
    education: str = ""
    occupation: str = ""
    ethnic_group: str = ""


def name_initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()[:20]


def age_band_of(age: int) -> str:
    if age < 18:
        return AgeBand.UNDER_18
    if age <= 35:
        return AgeBand.A18_35
    if age <= 60:
        return AgeBand.A36_60
    return AgeBand.OVER_60


def clean_petitioner(data: PetitionerInput, *, prefix: str = "") -> dict[str, Any]:
    """Validate and normalise one person's fields; DomainError names the offending field."""
    import datetime as dt

    from xinfang.core.text import clean_fields  # control/bidi/format characters out, NFC

    data = clean_fields(
        data, "name", "id_number", "phone", "address", "education", "occupation", "ethnic_group"
    )

    name = data.name.strip()
    if not name:
        raise DomainError("请填写信访人姓名", field=f"{prefix}name")
    values: dict[str, Any] = {
        "name": name,
        "id_type": data.id_type or IdType.RESIDENT,
        "address": data.address.strip(),
        "sex": data.sex,
        "age_band": data.age_band,
        "education": data.education.strip(),
        "occupation": data.occupation.strip(),
        "ethnic_group": data.ethnic_group.strip(),
        "id_number": None,
        "birth_date": None,
    }
    raw_id = data.id_number.strip().replace(" ", "")
    if raw_id:
        try:
            if values["id_type"] == IdType.RESIDENT:
                info = validate_id_number(raw_id)
            elif values["id_type"] == IdType.HMT_PERMIT:
                info = validate_hk_mo_tw_permit(raw_id)
            else:
                info = None
        except IdNumberError as exc:
            raise DomainError(str(exc), field=f"{prefix}id_number") from exc
        if info is not None:
            values["id_number"] = info.number
            values["birth_date"] = info.birth_date
            values["sex"] = info.sex
            today = dt.date.today()
            b = info.birth_date
            age = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
            values["age_band"] = age_band_of(age)
        else:
            values["id_number"] = raw_id.upper()
    phone = data.phone.strip()
    if phone:
        try:
            values["phone"] = validate_phone(phone)
        except ValueError as exc:
            raise DomainError(str(exc), field=f"{prefix}phone") from exc
    else:
        values["phone"] = ""
    return values


def petitioner_resolve(values: dict[str, Any]) -> Petitioner:
    """The person these cleaned values describe: by ID number when given (one row per ID,
    updating contact data that is new), else by exact name + phone, else a new row. Both
    lookups go through the blind indexes (``people.selectors``)."""
    id_number = values.get("id_number")
    if id_number:
        existing = with_id_number(id_number).first()
        if existing is None:
            try:
                with transaction.atomic():
                    return Petitioner.objects.create(
                        **values, name_initials=name_initials(values["name"])
                    )
            except IntegrityError:
                # Another clerk registered the same ID number a moment ago.
                existing = with_id_number(id_number).get()
        _refresh_contact(existing, values)
        return existing
    if values.get("phone"):
        same = without_id_number(with_phone(values["phone"])).filter(name=values["name"]).first()
        if same is not None:
            _refresh_contact(same, values)
            return same
    return Petitioner.objects.create(**values, name_initials=name_initials(values["name"]))


def _refresh_contact(person: Petitioner, values: dict[str, Any]) -> None:
    changed: list[str] = []
    for field in ("phone", "address", "education", "occupation", "ethnic_group"):
        new = values.get(field)
        if new and new != getattr(person, field):
            setattr(person, field, new)
            changed.extend(Petitioner.PHONE_COLUMNS if field == "phone" else [field])
    if changed:
        person.save(update_fields=changed)


def petitioner_merge(*, source: Petitioner, target: Petitioner, by: Any, reason: str) -> None:
    """Merge a person registered without ID into another row. Guard: ``by`` is a 办案员;
    source has no ID number, is not already merged, differs from target. Effect: source's case
    links move to target; the source row stays (nothing is deleted) with ``merged_into`` set;
    a merge record is kept. Event: ``person_merge`` on every case of the target."""
    from django.utils import timezone

    from xinfang.cases.models import CaseEvent, CasePetitioner
    from xinfang.org.policy import role_codes
    from xinfang.org.roles import CASE_OFFICER

    if CASE_OFFICER not in role_codes(by):
        raise PermissionDenied("只有信访机构的办案员可以合并信访人记录")
    if source.pk == target.pk:
        raise DomainError("不能把信访人合并到自己")
    if source.id_number_bidx is not None:
        raise DomainError("有证件号码的信访人不能被合并，请合并无证件号码的记录")
    if source.merged_into_id:
        raise DomainError("该记录已合并过")
    if not reason.strip():
        raise DomainError("请填写合并原因", field="reason")
    from xinfang.cases.policy import cases_visible_to

    both = CasePetitioner.objects.filter(petitioner__in=[source, target])
    if both.exclude(case__in=cases_visible_to(by)).exists():
        # A merge rewrites every case of both people; only someone who sees them all may.
        raise PermissionDenied("这两条记录涉及您无权查看的信访事项，请由上级信访机构合并")
    with transaction.atomic():
        won = Petitioner.objects.filter(pk=source.pk, merged_into__isnull=True).update(
            merged_into=target
        )
        if not won:
            raise ConcurrentChange("该记录刚被他人合并，请刷新后查看")
        for link in CasePetitioner.objects.filter(petitioner=source):
            if CasePetitioner.objects.filter(case=link.case, petitioner=target).exists():
                continue  # already a party under the identified record; the old link stays
            CasePetitioner.objects.filter(pk=link.pk).update(petitioner=target)
        PetitionerMerge.objects.create(source=source, target=target, reason=reason, merged_by=by)
        now = timezone.now()
        for link in CasePetitioner.objects.filter(petitioner=target).select_related("case"):
            CaseEvent.objects.create(
                case=link.case,
                kind="person_merge",
                actor=by,
                at=now,
                from_status=link.case.status,
                to_status=link.case.status,
                text=f"信访人记录合并：{source.name}（无证件记录）并入{target.name}。原因：{reason}",
                data={"source": source.pk, "target": target.pk},
            )


REVEALABLE_FIELDS = {"id_number": "证件号码", "phone": "联系电话"}


def petitioner_reveal(
    *, person: Petitioner, case: Any, field: str, by: Any, request: HttpRequest | None = None
) -> str:
    """The full ID number or phone of a person, for someone who may see them. Guard: the
    caller fetched ``person`` and ``case`` through ``selectors.petitioner_in_view(by, …)`` (a
    case-reading post that sees a case of this person); ``field`` is ``id_number`` or ``phone``
    and the person has one. Effect: nothing changes. Event: one ``reveal`` audit row (field,
    case number, never the value) in the same transaction as the read."""
    from xinfang.audit.services import audit_record

    label = REVEALABLE_FIELDS.get(field)
    if label is None:
        raise DomainError("只能查看完整的证件号码或联系电话", field="field")
    value = person.id_number if field == "id_number" else person.phone
    if not value:
        raise DomainError(f"该信访人没有登记{label}", field="field")
    audit_record(
        action="reveal",
        actor=by,
        obj=person,
        summary=f"查看信访人完整{label}（{case.number}）",
        detail={"field": field, "case": case.number},
        request=request,
    )
    return value
