"""Helpers of the 重点人员/群体 and dashboard tests (tag key)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tests.conftest import VALID_ID, World, make_user, registration
from xinfang.cases.models import CasePetitioner, PetitionerRole
from xinfang.cases.registration import case_register
from xinfang.org import roles as R
from xinfang.people.models import KeyPerson, Petitioner
from xinfang.people.services import PetitionerInput
from xinfang.prevention import keypersons as K


@dataclass
class KeyWorld:
    w: World
    person: Petitioner  # 张三: parties of case_a (office), case_b (检举控告 of 东湖街道), case_c
    case_a: Any
    case_b: Any
    case_c: Any
    sue: Any  # 东湖街道 领导
    sid: Any  # 东湖街道 接待员 (registers case_c at the street's petition office)
    stranger: Petitioner  # only on a 检举控告 case


def build(w: World) -> KeyWorld:
    sue = make_user("sue", w.street, R.LEADER, "苏")
    sid = make_user("sid", w.street, R.RECEPTIONIST, "席德")
    case_a = case_register(
        by=w.rita,
        office=w.office,
        reg=registration(
            petitioners=[PetitionerInput(name="张三", id_number=VALID_ID, phone="13812345678")]
        ),
    )
    person = case_a.parties.get().petitioner
    case_b = case_register(
        by=w.rita,
        office=w.office,
        reg=registration(
            purpose="accusation",
            summary="检举东湖街道某干部",
            petitioners=[],
            known_petitioner_ids=[person.pk],
            accused_unit_ids=[w.street.pk],
        ),
    )
    case_c = case_register(
        by=sid,
        office=w.street,
        reg=registration(
            summary="反映拆迁补偿", petitioners=[PetitionerInput(name="王五", phone="13700001111")]
        ),
    )
    # the street's desk does not know 张三: link him as a co-signer (test setup only)
    CasePetitioner.objects.create(
        case=case_c, petitioner=person, role=PetitionerRole.COSIGNER, order=1
    )
    case_d = case_register(
        by=w.rita,
        office=w.office,
        reg=registration(
            purpose="accusation",
            summary="检举某单位",
            petitioners=[PetitionerInput(name="李四", phone="13900002222")],
            accused_unit_ids=[w.sibling.pk],
        ),
    )
    stranger = case_d.parties.get().petitioner
    return KeyWorld(w, person, case_a, case_b, case_c, sue, sid, stranger)


def flag(kw: KeyWorld, **overrides: Any) -> KeyPerson:
    values: dict[str, Any] = {
        "reason": "多次赴区集体访，情绪激动",
        "since": timezone.localdate() - dt.timedelta(days=30),
        "unit": kw.w.street,
        "leader": kw.sue,
        "plan": "街道每周走访一次；协调拆迁补偿。",
        "review_on": timezone.localdate() + dt.timedelta(days=30),
    }
    by = overrides.pop("by", kw.w.alice)
    person = overrides.pop("person", kw.person)
    values.update(overrides)
    return K.key_person_add(by, person, **values)
