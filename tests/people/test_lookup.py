"""The desk lookup (people.lookup): normalisation, each kind, scope, masking, hints, views, API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import VALID_ID
from xinfang.audit.models import AuditEntry
from xinfang.cases import services as S
from xinfang.cases.models import CaseEvent
from xinfang.people.lookup import classify, lookup, normalise
from xinfang.people.models import KeyPerson, Petitioner, PetitionerGroup
from xinfang.people.services import PetitionerInput

OTHER_ID = "110105198001010016"  # checksum-valid


def _names(result):
    return [c.shown_name for c in result.cards]


# --- normalisation and classification -------------------------------------------------------


def test_normalise_full_width_and_dots():
    assert normalise("１３８ １２３４ ５６７８") == "138 1234 5678"
    assert normalise("  阿依古丽•买买提 ") == "阿依古丽·买买提"
    assert normalise("阿依古丽．买买提") == "阿依古丽·买买提"
    assert normalise("阿依古丽・买买提") == "阿依古丽·买买提"


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("11010519491231002x", "id_full", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "id_full", "11010519491231002X"),
        ("110105 19491231 002X", "id_full", "11010519491231002X"),
        ("31002x", "id_tail", "31002X"),
        ("+86 138 1234 5678", "phone", "13812345678"),
        ("0086-138-1234-5678", "phone", "13812345678"),
        ("１３８１２３４５６７８", "phone", "13812345678"),
        ("010-12345678", "phone", "010-12345678"),
        ("xf-110105-2026-000001", "case_number", "XF-110105-2026-000001"),
        ("2026-000123", "case_number", "-2026-000123"),
        ("2026-123", "case_number", "-2026-000123"),
        ("AB23CD45EF", "query_code", "AB23CD45EF"),
        ("张三", "name", "张三"),
        ("阿依古丽•买买提", "name", "阿依古丽·买买提"),
        ("ZS", "initials", "zs"),
        ("幸福路", "name", "幸福路"),
    ],
)
def test_classify(typed, kind, value):
    q = classify(typed)
    assert q.searchable, q.message
    assert (q.kind, q.value) == (kind, value)


def test_classify_words():
    q = classify("张 幸福路")
    assert q.kind == "words"
    assert q.words == ["张", "幸福路"]


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("", "请输入姓名"),
        ("   ", "请输入姓名"),
        ("11010519491231002", "应为18位，您输入了17位"),
        ("12345", "身份证后6位"),
        ("1234", "身份证后6位"),
        ("1381234567", "手机号应为11位"),
        ("z", "至少输入2个字母"),
        ("%%%", "无法识别"),
        ("999", "无法识别这串数字"),
        ("8号 9号", "至少输入3个字"),
        ("xf-1", "更完整的事项编号"),
    ],
)
def test_hints_for_bad_input(typed, hint, world, django_assert_num_queries):
    q = classify(typed)
    assert not q.searchable
    assert hint in q.message
    with django_assert_num_queries(0):
        result = lookup(world.rita, typed)
    assert hint in result.message and not result.cards


# --- finding --------------------------------------------------------------------------------


@pytest.fixture
def zhang(world, register):
    """张三 (ID VALID_ID, 13812345678, 东湖街道幸福路88号) with a case at the office, and 张三丰
    elsewhere; 李四 on a case assigned to 西山街道 (the sibling)."""
    case = register(
        petitioners=[
            PetitionerInput(
                name="张三", id_number=VALID_ID, phone="13812345678", address="东湖街道幸福路88号"
            )
        ]
    )
    other = register(
        petitioners=[
            PetitionerInput(
                name="张三丰", id_number=OTHER_ID, phone="13900001111", address="西山街道和平路1号"
            )
        ],
        summary="反映道路积水",
    )
    return case, other


@pytest.mark.parametrize(
    "typed",
    [
        VALID_ID,
        VALID_ID.lower(),
        "31002X",
        "13812345678",
        "+86 138-1234-5678",
        "张三",
        "zs",
        "幸福路",
        "张 幸福路",
        "东湖街道",
    ],
)
def test_each_kind_finds_zhang(zhang, world, typed):
    result = lookup(world.rita, typed)
    assert "张三" in _names(result), (typed, result.message)
    card = next(c for c in result.cards if c.shown_name == "张三")
    assert card.id_masked == "110105********002X"
    assert card.phone_masked == "138****5678"
    assert [r.case.pk for r in card.cases] == [zhang[0].pk]


def test_name_prefix_exact_first(zhang, world):
    assert _names(lookup(world.rita, "张三"))[:2] == ["张三", "张三丰"]
    assert _names(lookup(world.rita, "张三丰")) == ["张三丰"]


def test_mixed_words_intersect(zhang, world):
    assert _names(lookup(world.rita, "张 和平路")) == ["张三丰"]
    assert _names(lookup(world.rita, "李 幸福路")) == []
    # two-character words filter beside a name (no trigram index for them)
    assert _names(lookup(world.rita, "张 东湖")) == ["张三"]
    assert _names(lookup(world.rita, "东湖 张")) == ["张三"]
    assert _names(lookup(world.rita, "张三 88号")) == ["张三"]


def test_case_number_and_query_code(zhang, world):
    case = zhang[0]
    for typed in (case.number, case.number.lower(), case.number[-11:], case.query_code):
        result = lookup(world.rita, typed)
        assert _names(result) == ["张三"], typed
    assert "没有找到" in lookup(world.rita, "XF-999999-2026-000001").message


def test_no_match_message_masks_sensitive_values(zhang, world):
    result = lookup(world.rita, "13700000000")
    assert "137****0000" in result.message
    assert "13700000000" not in result.message


def test_card_lists_status_deadline_reply_and_final(zhang, world):
    case = zhang[0]
    result = lookup(world.rita, "张三")
    row = next(c for c in result.cards if c.shown_name == "张三").cases[0]
    assert row.deadline_state in {"normal", "due_soon", "overdue"}
    assert row.next_due is not None
    CaseEvent.objects.create(
        case=case, kind="reply", at=timezone.now(), text="经调查，物业费调整已依法公示。" * 10
    )
    case.__class__.objects.filter(pk=case.pk).update(status="final")
    row = next(c for c in lookup(world.rita, "张三").cards if c.shown_name == "张三").cases[0]
    assert row.is_final and row.last_reply.startswith("经调查") and row.last_reply.endswith("…")


def test_group_cases_are_listed(world, register):
    register(petitioners=[PetitionerInput(name="王五", phone="13600000000")])
    other = register(
        petitioners=[PetitionerInput(name="赵六", phone="13600000001")],
        group_name="某厂退休职工",
        headcount=6,
    )
    group = PetitionerGroup.objects.get(name="某厂退休职工")
    wang = Petitioner.objects.get(name="王五")
    group.members.add(wang)
    card = lookup(world.rita, "王五").cards[0]
    assert card.groups == ["某厂退休职工"]
    assert other.pk in [r.case.pk for r in card.cases]
    assert next(r for r in card.cases if r.case.pk == other.pk).via_group == "某厂退休职工"


def test_key_person_flag_for_office_and_leaders_only(zhang, world):
    person = Petitioner.objects.get(name="张三")
    KeyPerson.objects.create(
        petitioner=person, reason="多次越级走访", since=dt.date(2026, 1, 1), added_by=world.alice
    )
    S.case_assign(case=zhang[0], by=world.alice, unit=world.street)
    for user in (world.rita, world.alice, world.leo):
        card = next(c for c in lookup(user, "张三").cards if c.shown_name == "张三")
        assert card.key_reason == "多次越级走访"
    card = lookup(world.hank, "张三").cards[0]
    assert card.key_reason is None


# --- scope and confidentiality ----------------------------------------------------------------


def test_scope_other_unit_never_sees(zhang, world):
    case, _other = zhang
    S.case_assign(case=case, by=world.alice, unit=world.street)
    assert _names(lookup(world.hank, "张三")) == ["张三"]  # the street handles 张三's case
    assert _names(lookup(world.bob, "张三")) == []  # the sibling street sees nobody
    assert _names(lookup(world.bob, case.number)) == []
    assert _names(lookup(world.bob, VALID_ID)) == []
    # 张三丰's case stays at the office: never listed for the street
    card = lookup(world.hank, "张三").cards[0]
    assert [r.case.pk for r in card.cases] == [case.pk]


def test_roles_without_cases_get_404(zhang, world, client):
    client.force_login(world.sam)
    assert client.get("/people/lookup/").status_code == 404
    assert client.post("/people/lookup/results/", {"q": "张三"}).status_code == 404


def test_confidential_case_masked_and_guarded(world, register):
    acc = register(
        purpose="accusation",
        summary="检举某单位负责人",
        petitioners=[PetitionerInput(name="钱七", phone="13500000000")],
    )
    S.case_assign(case=acc, by=world.alice, unit=world.street)
    # the office desk finds the accuser by name; the card is masked, no summary, no reveal
    card = lookup(world.rita, "钱七").cards[0]
    assert card.masked and card.shown_name == "钱**" and card.reveal_case is None
    assert card.phone_masked == "" and card.latest_case is None
    # the handling unit cannot find it by person search, only by number (masked)
    assert lookup(world.hank, "钱七").cards == []
    assert lookup(world.hank, "13500000000").cards == []
    card = lookup(world.hank, acc.number).cards[0]
    assert card.masked and card.shown_name == "钱**"
    assert [r.case.pk for r in card.cases] == [acc.pk]


def test_confidential_person_other_cases_hidden_from_number_lookup(world, register):
    acc = register(
        purpose="accusation", petitioners=[PetitionerInput(name="孙八", phone="13500000001")]
    )
    plain = register(petitioners=[PetitionerInput(name="孙八", phone="13500000001")])
    S.case_assign(case=acc, by=world.alice, unit=world.street)
    S.case_assign(case=plain, by=world.alice, unit=world.street)
    card = lookup(world.hank, acc.number).cards[0]
    assert card.masked and [r.case.pk for r in card.cases] == [acc.pk]
    # the office sees both, the person by name (a non-confidential case names them)
    card = lookup(world.rita, "孙八").cards[0]
    assert not card.masked and card.reveal_case.pk == plain.pk
    assert {r.case.pk for r in card.cases} == {acc.pk, plain.pk}


# --- views, reveal, API ------------------------------------------------------------------------


def test_page_and_fragment(zhang, world, client):
    client.force_login(world.rita)
    page = client.get("/people/lookup/")
    assert page.status_code == 200 and "来访人查询" in page.content.decode()
    r = client.post("/people/lookup/results/", {"q": "张三", "visit": "7"})
    html = r.content.decode()
    person = Petitioner.objects.get(name="张三")
    assert f"/cases/new/?person={person.pk}&amp;related={zhang[0].pk}&amp;visit=7" in html
    assert "110105********002X" in html and VALID_ID not in html
    assert "138****5678" in html and "13812345678" not in html
    r = client.get("/people/lookup/results/", {"q": "12345"})
    assert "身份证后6位" in r.content.decode()
    r = client.get("/people/lookup/", {"q": "张三"})
    assert "为此人登记新来访" in r.content.decode()
    # without JavaScript the box posts to the page: the typed ID stays out of the URL
    r = client.post("/people/lookup/", {"q": VALID_ID})
    html = r.content.decode()
    assert r.status_code == 200 and f'id="person-{person.pk}"' in html
    assert f'value="{VALID_ID}"' in html  # what was typed is kept in the box


def test_reveal_from_card_is_audited_and_needs_visible_case(zhang, world, client):
    person = Petitioner.objects.get(name="张三")
    client.force_login(world.rita)
    before = AuditEntry.objects.filter(action="reveal").count()
    r = client.post(f"/people/{person.pk}/reveal/", {"field": "phone", "case": str(zhang[0].pk)})
    assert r.status_code == 200 and "13812345678" in r.content.decode()
    assert AuditEntry.objects.filter(action="reveal").count() == before + 1
    client.force_login(world.bob)
    r = client.post(f"/people/{person.pk}/reveal/", {"field": "phone", "case": str(zhang[0].pk)})
    assert r.status_code == 404
    assert AuditEntry.objects.filter(action="reveal").count() == before + 1


def test_api_lookup(zhang, world, client):
    client.force_login(world.rita)
    r = client.get("/api/people/lookup", {"q": "张三"})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "name"
    first = body["persons"][0]
    assert first["name"] == "张三" and first["id_number"] == "110105********002X"
    assert first["cases"][0]["number"] == zhang[0].number
    assert client.get("/api/people/lookup", {"q": "12345"}).json()["message"]
    client.force_login(world.bob)
    assert client.get("/api/people/lookup", {"q": "张三"}).json()["persons"] == []
    client.force_login(world.sam)
    assert client.get("/api/people/lookup", {"q": "张三"}).status_code == 404
    client.force_login(world.rita)
    assert client.get("/api/people/lookup", {"q": "x" * 500}).status_code == 422


def test_demo_key_persons(world, register):
    from types import SimpleNamespace

    from xinfang.people.demo import load_key_persons

    for _ in range(3):
        register()  # 张三 three times: the most frequent petitioner
    org = SimpleNamespace(user=lambda username: world.alice)
    assert load_key_persons(org) == 1
    assert load_key_persons(org) == 0  # idempotent
    flag = KeyPerson.objects.get()
    assert flag.petitioner.name == "张三" and flag.is_active


def test_one_active_key_flag_per_person(zhang, world):
    from django.db import IntegrityError, transaction

    person = Petitioner.objects.get(name="张三")
    first = KeyPerson.objects.create(
        petitioner=person, reason="甲", since=dt.date(2026, 1, 1), added_by=world.alice
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        KeyPerson.objects.create(
            petitioner=person, reason="乙", since=dt.date(2026, 1, 2), added_by=world.alice
        )
    KeyPerson.objects.filter(pk=first.pk).update(
        removed_at=timezone.now(), removed_by=world.alice, removed_reason="已息访"
    )
    KeyPerson.objects.create(
        petitioner=person, reason="乙", since=dt.date(2026, 1, 2), added_by=world.alice
    )
    card = next(c for c in lookup(world.rita, "张三").cards if c.shown_name == "张三")
    assert card.key_reason == "乙"


def test_many_persons_list_three_cases_each_one_person_ten(world, register):
    """While the clerk is still picking the person (more than 3 found) each card lists the newest
    3 cases and says there are more; a query that finds one person lists up to 10."""
    from xinfang.people.lookup import CASES_WHEN_MANY, MAX_CASES_PER_PERSON

    for i in range(4):
        for j in range(5):
            register(
                petitioners=[PetitionerInput(name=f"欧阳{'甲乙丙丁'[i]}", phone=f"1370000000{i}")],
                summary=f"第{j}次反映",
            )
    many = lookup(world.rita, "欧阳")
    assert len(many.cards) == 4
    assert all(len(c.cases) == CASES_WHEN_MANY and c.more_cases for c in many.cards)
    jia = next(c for c in many.cards if c.person.name == "欧阳甲")
    newest = sorted(jia.person.cases.all(), key=lambda c: (c.received_at, c.pk))[::-1][:3]
    assert [r.case for r in jia.cases] == newest  # the newest three, newest first
    one = lookup(world.rita, "13700000000")
    assert len(one.cards) == 1
    assert len(one.cards[0].cases) == 5 <= MAX_CASES_PER_PERSON
    assert not one.cards[0].more_cases
