"""Merging a person registered without ID into the identified record, through the API."""

from __future__ import annotations

from typing import Any

from tests.conftest import VALID_ID, World
from xinfang.cases.models import CaseEvent, CasePetitioner
from xinfang.people.models import Petitioner, PetitionerMerge
from xinfang.people.selectors import with_id_number, without_id_number
from xinfang.people.services import PetitionerInput


def _two_records(register: Any) -> tuple[Petitioner, Petitioner]:
    register(petitioners=[PetitionerInput(name="王五", phone="13600000000")])
    register(petitioners=[PetitionerInput(name="王五", id_number=VALID_ID)])
    return (
        without_id_number().get(),
        with_id_number(VALID_ID).get(),
    )


def test_case_officer_merges_and_it_is_recorded(world: World, register: Any, as_user: Any):
    source, target = _two_records(register)
    r = as_user(world.alice).post(
        f"/petitioners/{source.pk}/merge", {"target_id": target.pk, "reason": "同一人，未带证件"}
    )
    assert r.status_code == 200, r.content
    assert r.json() == {"source_id": source.pk, "target_id": target.pk, "cases_moved": 1}
    assert CasePetitioner.objects.filter(petitioner=target).count() == 2
    assert Petitioner.objects.get(pk=source.pk).merged_into_id == target.pk
    assert PetitionerMerge.objects.get().merged_by == world.alice
    assert CaseEvent.objects.filter(kind="person_merge").count() == 2


def test_merge_refused_with_chinese_reasons(world: World, register: Any, as_user: Any):
    source, target = _two_records(register)
    r = as_user(world.rita).post(
        f"/petitioners/{source.pk}/merge", {"target_id": target.pk, "reason": "同一人"}
    )
    assert r.status_code == 403 and "办案员" in r.json()["detail"]
    r = as_user(world.alice).post(
        f"/petitioners/{target.pk}/merge", {"target_id": source.pk, "reason": "反向"}
    )
    assert r.status_code == 400 and "有证件号码" in r.json()["detail"]
    assert not PetitionerMerge.objects.exists()


def test_people_of_other_units_do_not_exist(world: World, register: Any, as_user: Any):
    source, target = _two_records(register)
    r = as_user(world.bob).post(
        f"/petitioners/{source.pk}/merge", {"target_id": target.pk, "reason": "同一人"}
    )
    assert r.status_code == 404
    assert Petitioner.objects.get(pk=source.pk).merged_into_id is None
