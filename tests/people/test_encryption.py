"""Personal data at rest: no plaintext in the table, lookups through the blind indexes, the
audited reveal (UI and API), and key rotation."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings

from tests.api.conftest import token_client
from tests.conftest import VALID_ID, World
from xinfang.audit.models import AuditEntry
from xinfang.cases.selectors import CaseFilter, case_list
from xinfang.core import crypto
from xinfang.people.models import Petitioner
from xinfang.people.selectors import with_id_number, with_id_tail, with_phone
from xinfang.people.services import PetitionerInput

PHONE = "13812345678"


def _raw_rows() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM people_petitioner")
        return list(cursor.fetchall())


def test_no_plaintext_id_or_phone_in_the_table(world: World, register: Any) -> None:
    register(petitioners=[PetitionerInput(name="张三", id_number=VALID_ID, phone=PHONE)])
    register(petitioners=[PetitionerInput(name="李四", phone="010-62345678")])
    dump = repr(_raw_rows())
    for secret in (VALID_ID, VALID_ID[:17], VALID_ID[-8:], PHONE, PHONE[-8:], "62345678"):
        assert secret not in dump
    person = with_id_number(VALID_ID).get()
    assert person.id_number == VALID_ID and person.phone == PHONE  # the properties decrypt
    assert crypto.key_id_of(person.id_number_enc) == "dev"
    # Derived, non-identifying fields stay as they were.
    assert str(person.birth_date) == "1949-12-31" and person.sex == "F"


def test_swapped_columns_do_not_decrypt(world: World, register: Any) -> None:
    register()
    Petitioner.objects.update(phone_enc=Petitioner.objects.get().id_number_enc)
    with pytest.raises(crypto.CryptoError, match="不属于该字段"):
        _ = Petitioner.objects.get().phone


def test_exact_lookups_through_the_blind_indexes(world: World, register: Any) -> None:
    register()
    register(petitioners=[PetitionerInput(name="李四", phone="010-62345678")])
    assert with_id_number(VALID_ID.lower()).get().name == "张三"
    assert with_id_number(" ".join(VALID_ID)).get().name == "张三"
    assert not with_id_number(VALID_ID[:17] + "1").exists()
    assert with_id_tail(VALID_ID[-6:].lower()).get().name == "张三"
    assert not with_id_tail(VALID_ID[-5:]).exists()
    assert with_phone("138 1234 5678").get().name == "张三"
    assert with_phone("01062345678").get().name == "李四"
    assert not with_phone("").exists()
    # The case search finds the person's cases by ID number and by phone, in any spelling.
    for q in (VALID_ID, VALID_ID.lower(), "138-1234-5678", "010 6234 5678"):
        assert case_list(world.alice, CaseFilter(q=q)).count() == 1, q


def test_registration_form_finds_the_person_by_blind_index(world: World, register: Any) -> None:
    register(petitioners=[PetitionerInput(name="张三", id_number=VALID_ID)])
    register(petitioners=[PetitionerInput(name="张三", id_number=VALID_ID.lower(), phone=PHONE)])
    person = Petitioner.objects.get()
    assert person.phone == PHONE  # contact data updated on the one row
    assert person.parties.count() == 2


# --- reveal ------------------------------------------------------------------------------------


def _reveal_ui(client: Client, person: Petitioner, field: str, case: Any = None) -> Any:
    data = {"field": field, **({"case": str(case.pk)} if case else {})}
    return client.post(f"/people/{person.pk}/reveal/", data, headers={"HX-Request": "true"})


def test_detail_page_shows_masks_and_reveal_buttons(world: World, register: Any) -> None:
    case = register()
    client = Client()
    client.force_login(world.alice)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert VALID_ID not in page and PHONE not in page
    assert "110105********002X" in page and "138****5678" in page
    assert page.count("/reveal/") == 2 and "显示" in page


def test_reveal_in_scope_returns_the_value_and_one_audit_row(world: World, register: Any) -> None:
    case = register()
    person = Petitioner.objects.get()
    client = Client()
    client.force_login(world.alice)
    before = AuditEntry.objects.filter(action="reveal").count()
    answer = _reveal_ui(client, person, "id_number", case)
    assert answer.status_code == 200
    assert VALID_ID in answer.content.decode()
    assert "no-store" in answer["Cache-Control"]
    rows = AuditEntry.objects.filter(action="reveal").order_by("seq")
    assert rows.count() == before + 1
    row = rows.last()
    assert row is not None
    assert row.actor_id == world.alice.pk and row.object_id == str(person.pk)
    assert row.detail == {"field": "id_number", "case": case.number}
    assert VALID_ID not in repr(row.__dict__)  # the value itself is never logged
    answer = _reveal_ui(client, person, "phone")
    assert PHONE in answer.content.decode()
    assert AuditEntry.objects.filter(action="reveal").count() == before + 2


@pytest.mark.parametrize("who", ["bob", "hank", "sam"])
def test_reveal_out_of_scope_is_404_and_not_audited(world: World, register: Any, who: str) -> None:
    case = register()  # registered at 区信访局, not routed: bob and hank cannot see it
    person = Petitioner.objects.get()
    client = Client()
    client.force_login(getattr(world, who))
    before = AuditEntry.objects.count()
    answer = _reveal_ui(client, person, "id_number", case)
    assert answer.status_code == 404
    assert VALID_ID not in answer.content.decode()
    assert AuditEntry.objects.count() == before


def test_reveal_needs_post_login_and_a_known_field(world: World, register: Any) -> None:
    register()
    person = Petitioner.objects.get()
    anonymous = Client()
    assert _reveal_ui(anonymous, person, "id_number").status_code == 302
    client = Client()
    client.force_login(world.alice)
    assert client.get(f"/people/{person.pk}/reveal/").status_code == 405
    before = AuditEntry.objects.count()
    bad = _reveal_ui(client, person, "address")
    assert bad.status_code == 400 and "只能查看完整的证件号码或联系电话" in bad.content.decode()
    assert AuditEntry.objects.count() == before


def test_reveal_for_a_case_of_someone_else_is_404(world: World, register: Any) -> None:
    register()
    other = register(petitioners=[PetitionerInput(name="李四", phone="13700000000")])
    person = with_id_number(VALID_ID).get()
    client = Client()
    client.force_login(world.alice)
    assert _reveal_ui(client, person, "id_number", other).status_code == 404


def test_api_reveal(world: World, register: Any) -> None:
    case = register()
    person = Petitioner.objects.get()
    before = AuditEntry.objects.filter(action="reveal").count()
    answer = token_client(world.alice).post(
        f"/petitioners/{person.pk}/reveal", {"field": "phone", "case_id": case.pk}
    )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "petitioner_id": person.pk,
        "field": "phone",
        "value": PHONE,
        "case_number": case.number,
    }
    assert "no-store" in answer["Cache-Control"]
    assert AuditEntry.objects.filter(action="reveal").count() == before + 1
    before_all = AuditEntry.objects.count()
    denied = token_client(world.bob).post(f"/petitioners/{person.pk}/reveal", {"field": "phone"})
    assert denied.status_code == 404
    assert AuditEntry.objects.count() == before_all
    bad = token_client(world.alice).post(f"/petitioners/{person.pk}/reveal", {"field": "name"})
    assert bad.status_code == 422


# --- rotation ----------------------------------------------------------------------------------

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()
INDEX_1 = base64.b64encode(b"1" * 32).decode()
INDEX_2 = base64.b64encode(b"2" * 32).decode()


def _rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_keys", *args, "--batch", "2", stdout=out)
    return out.getvalue()


def test_rotate_to_a_new_data_key(world: World, register: Any) -> None:
    with override_settings(XINFANG_DATA_KEYS=KEY_A):
        for i in range(5):
            phone = f"1390000000{i}"
            register(petitioners=[PetitionerInput(name=f"王{i}", phone=phone)])
        register()
        tokens = {p.pk: p.phone_enc for p in Petitioner.objects.all()}
    with override_settings(XINFANG_DATA_KEYS=f"{KEY_B},{KEY_A}"):
        output = _rotate()
    assert "a: 6" in output and "b: 6" in output  # phones before and after
    assert "重新加密 7 个值" in output  # 6 phones + 1 ID number
    entry = AuditEntry.objects.filter(action="key_rotate").get()
    assert entry.detail["reencrypted"] == 7
    assert entry.detail["before"]["people.Petitioner.phone_enc"] == {"a": 6}
    assert entry.detail["after"]["people.Petitioner.phone_enc"] == {"b": 6}
    with override_settings(XINFANG_DATA_KEYS=KEY_B):  # the old key is gone
        people = list(Petitioner.objects.all())
        assert all(p.phone_enc != tokens[p.pk] for p in people)
        assert sorted(p.phone for p in people) == sorted(
            [f"1390000000{i}" for i in range(5)] + [PHONE]
        )
        assert with_id_number(VALID_ID).get().id_number == VALID_ID
        assert with_phone("139 0000 0003").get().name == "王3"
        again = _rotate()  # resumable: nothing left to do
    assert "重新加密 0 个值" in again


def test_reindex_after_a_new_index_key(world: World, register: Any) -> None:
    with override_settings(XINFANG_INDEX_KEY=INDEX_1):
        register()
        old_bidx = Petitioner.objects.get().id_number_bidx
    with override_settings(XINFANG_INDEX_KEY=INDEX_2, XINFANG_OLD_INDEX_KEY=""):
        assert not with_id_number(VALID_ID).exists()  # what --reindex is for
        with pytest.raises(CommandError, match="XINFANG_OLD_INDEX_KEY"):
            _rotate("--reindex")
    with override_settings(XINFANG_INDEX_KEY=INDEX_2, XINFANG_OLD_INDEX_KEY=INDEX_1):
        assert with_id_number(VALID_ID).exists()  # found under the old index meanwhile
        assert "重算盲索引 1 行" in _rotate("--reindex")
    with override_settings(XINFANG_INDEX_KEY=INDEX_2, XINFANG_OLD_INDEX_KEY=""):
        person = with_id_number(VALID_ID).get()
        assert person.id_number_bidx != old_bidx
        assert with_phone(PHONE).get() == person
        assert with_id_tail(VALID_ID[-6:]).get() == person


@pytest.mark.parametrize("pk", [0, -1, 2**63, 10**30])
def test_reveal_of_an_impossible_id_is_404(world: World, register: Any, pk: int) -> None:
    case = register()
    api = token_client(world.alice)
    assert api.post(f"/petitioners/{pk}/reveal", {"field": "phone"}).status_code in (404, 422)
    person = Petitioner.objects.get()
    big = api.post(f"/petitioners/{person.pk}/reveal", {"field": "phone", "case_id": 2**63})
    assert big.status_code in (404, 422)
    client = Client()
    client.force_login(world.alice)
    answer = client.post(f"/people/{person.pk}/reveal/", {"field": "phone", "case": "9" * 18})
    assert answer.status_code == 404 and case.pk < 10**17
