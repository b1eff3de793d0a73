"""Petitioners: one row per ID number; persons without ID merged later, recorded."""

import pytest

from tests.conftest import VALID_ID
from xinfang.cases.models import CasePetitioner
from xinfang.core.errors import DomainError
from xinfang.people.models import Petitioner, PetitionerMerge
from xinfang.people.selectors import with_id_number, without_id_number
from xinfang.people.services import PetitionerInput, name_initials, petitioner_merge


def test_one_row_per_id_number(world, register):
    register()
    register(petitioners=[PetitionerInput(name="张三", id_number=VALID_ID, phone="13900000000")])
    person = with_id_number(VALID_ID).get()
    assert person.phone == "13900000000"  # newer contact data kept
    assert str(person.birth_date) == "1949-12-31"
    assert person.sex == "F"
    assert Petitioner.objects.count() == 1


def test_same_name_and_phone_without_id_is_same_person(world, register):
    nobody = [PetitionerInput(name="李四", phone="13700000000")]
    register(petitioners=nobody)
    register(petitioners=nobody)
    assert Petitioner.objects.filter(name="李四").count() == 1


def test_merge_moves_cases_and_keeps_record(world, register):
    register(petitioners=[PetitionerInput(name="王五", phone="13600000000")])
    register(petitioners=[PetitionerInput(name="王五", id_number=VALID_ID)])
    source = without_id_number().get()
    target = with_id_number(VALID_ID).get()
    petitioner_merge(source=source, target=target, by=world.alice, reason="同一人，来访时未带证件")
    source.refresh_from_db()
    assert source.merged_into == target  # the row stays; nothing is deleted
    assert CasePetitioner.objects.filter(petitioner=target).count() == 2
    assert PetitionerMerge.objects.get().reason.startswith("同一人")
    with pytest.raises(DomainError, match="已合并过"):
        petitioner_merge(source=source, target=target, by=world.alice, reason="再次")
    with pytest.raises(DomainError, match="有证件号码"):
        petitioner_merge(source=target, target=source, by=world.alice, reason="反向")


def test_name_initials():
    assert name_initials("张三丰") == "zsf"
