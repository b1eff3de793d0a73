"""Near-duplicate linking through the real registration service, counts, visibility, catch-up."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import World, registration
from tests.threads import in_threads, needs_server_db
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.registration import case_register
from xinfang.cases.services import case_assign
from xinfang.intel import neardup
from xinfang.intel.models import CaseSignature, DuplicateGroup, LshBucket
from xinfang.intel.neardup_eval import build_set, perturb, rows_at, score
from xinfang.people.services import PetitionerInput

BASE = (
    "我们是幸福小区的全体业主，小区物业公司未经业主大会同意，擅自将物业费从每平方米一元二角"
    "上调到两元，同时停车费也翻了一倍。业主多次向物业和社区反映，至今无人理睬。"
    "恳请有关部门依法调查处理，责令物业公司恢复原收费标准。"
)
# A light edit: other punctuation, full-width digits, a synonym, a sentence moved, a greeting.
EDIT = (
    "领导您好！小区物业公司未经业主大会同意,私自将物业费从每平方米一元二角上调到两元;"
    "同时停车费也翻了一倍。业主多次向物业和社区反映，至今无人理睬。"
    "我们是幸福小区的全体业主。恳请有关部门依法调查处理，责令物业公司恢复原收费标准！！"
)
OTHER = (
    "学校食堂饭菜价格连续上涨，质量却越来越差，学生和家长意见很大。学校对家长委员会的意见"
    "置之不理，希望教育局督促学校公开食堂账目，整改饭菜质量，保障学生的饮食安全。"
)


def person(n: int) -> PetitionerInput:
    return PetitionerInput(name=f"业主{n}", phone=f"1381234{n:04d}")


@pytest.fixture
def reg(world: World, django_capture_on_commit_callbacks: Any):  # type: ignore[no-untyped-def]
    """Register through ``case_register`` and run the after-commit receivers, as in production."""

    def _reg(content: str, *, people: list[int] | None = None, **kw: Any) -> Case:
        by = kw.pop("by", world.rita)
        kw.setdefault("summary", "反映小区物业费上涨问题")
        kw.setdefault("petitioners", [person(n) for n in (people or [1])])
        with django_capture_on_commit_callbacks(execute=True):
            case = case_register(
                by=by, office=world.office, reg=registration(content=content, **kw)
            )
        return case

    return _reg


def group_of(case: Case) -> int | None:
    return CaseSignature.objects.get(case=case).group_id


def test_copy_with_light_edits_joins_the_first_case(reg: Any) -> None:
    first = reg(BASE)
    assert CaseSignature.objects.get(case=first).group_id is None
    assert LshBucket.objects.filter(case=first).count() == 32
    second = reg(EDIT, people=[2])
    group = DuplicateGroup.objects.get()
    assert group_of(first) == group_of(second) == group.pk
    assert group.first_case_id == first.pk and group.case_count == 2
    ev = CaseEvent.objects.get(case=second, kind="near_duplicate")
    assert ev.data["group_id"] == group.pk
    assert ev.data["matched_number"] == first.number
    assert 0.5 <= ev.data["similarity"] <= 1.0
    assert "疑似重复/群发组" in ev.text
    assert not CaseEvent.objects.filter(case=first, kind="near_duplicate").exists()


def test_unrelated_and_short_texts_are_not_linked(reg: Any) -> None:
    reg(BASE)
    other = reg(OTHER)
    assert group_of(other) is None
    a = reg("", summary="反映拖欠工资")
    b = reg("", summary="反映拖欠工资", people=[2])  # the same bare summary: no evidence
    assert group_of(a) is None and group_of(b) is None
    assert not LshBucket.objects.filter(case__in=[a, b]).exists()
    assert not CaseEvent.objects.filter(kind="near_duplicate").exists()


def test_campaign_counts_cases_headcount_and_distinct_persons(reg: Any) -> None:
    """联名/群发: 4 cases, 1+3+1+2 = 7 人次; persons 1,2,3,4,5 with 1 writing twice → 5."""
    c1 = reg(BASE, people=[1])
    c2 = reg(EDIT, people=[2, 3, 4], headcount=3)
    c3 = reg(BASE + "附：相关收费通知照片。", people=[1], channel="letter")
    c4 = reg(EDIT.replace("领导您好！", ""), people=[5], headcount=2, channel="online")
    reg(OTHER, people=[9])
    groups = {group_of(c) for c in (c1, c2, c3, c4)}
    assert len(groups) == 1 and None not in groups
    counts = neardup.group_counts([c1.pk, c2.pk, c3.pk, c4.pk])
    assert counts == neardup.GroupCounts(cases=4, headcount=7, persons=5)
    assert DuplicateGroup.objects.get().case_count == 4
    per_group = neardup.campaign_counts(Case.objects.all())
    assert per_group == [(groups.pop(), counts)]


def test_detail_page_shows_only_visible_members(
    reg: Any, world: World, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = reg(BASE)
    b = reg(EDIT, people=[2])
    c = reg(BASE + "情况属实。", people=[3])
    for case in (b, c):
        case_assign(case=case, by=world.alice, unit=world.street)
    # alice (petition office) sees all three members.
    client.force_login(world.alice)
    page = client.get(f"/cases/{b.pk}/").content.decode()
    assert "疑似重复/群发" in page and a.number in page and c.number in page
    assert "3</strong> 件" in page
    # hank (东湖街道) sees b and c, never a (still with the petition office).
    client.force_login(world.hank)
    page = client.get(f"/cases/{b.pk}/").content.decode()
    assert c.number in page and a.number not in page
    assert "2</strong> 件" in page
    # bob (sibling street) sees none of them.
    client.force_login(world.bob)
    assert client.get(f"/cases/{b.pk}/").status_code == 404


def test_api_hides_matched_number_of_an_invisible_case(reg: Any, world: World) -> None:
    from tests.api.conftest import token_client

    a = reg(BASE)
    b = reg(EDIT, people=[2])
    case_assign(case=b, by=world.alice, unit=world.street)
    hank_view = token_client(world.hank).get(f"/cases/{b.pk}").json()
    ev = next(e for e in hank_view["events"] if e["kind"] == "near_duplicate")
    assert ev["data"]["matched_number"] is None and ev["data"]["matched_case_id"] is None
    assert a.number not in str(hank_view)
    alice_view = token_client(world.alice).get(f"/cases/{b.pk}").json()
    ev = next(e for e in alice_view["events"] if e["kind"] == "near_duplicate")
    assert ev["data"]["matched_number"] == a.number


def test_catch_up_command_links_cases_without_signature(register: Any) -> None:
    """Cases registered without the receiver (no commit in this test) are found by the
    command; ``--rebuild`` recomputes the same groups without a second timeline event."""
    cases = [
        register(content=BASE),
        register(content=OTHER),
        register(content=EDIT),
        register(content=BASE + "请尽快答复。"),
    ]
    assert not CaseSignature.objects.exists()
    err, out = io.StringIO(), io.StringIO()
    call_command("intel_neardup", stdout=out, stderr=err)
    assert "已处理 4/4 件" in err.getvalue()
    assert "新归组 2 件" in out.getvalue()
    assert CaseSignature.objects.count() == 4
    group = DuplicateGroup.objects.get()
    assert {group_of(c) for c in (cases[0], cases[2], cases[3])} == {group.pk}
    assert group_of(cases[1]) is None
    assert CaseEvent.objects.filter(kind="near_duplicate").count() == 2
    # Nothing left to do: a second run processes nothing.
    call_command("intel_neardup", stdout=io.StringIO(), stderr=io.StringIO())
    assert CaseEvent.objects.filter(kind="near_duplicate").count() == 2
    call_command("intel_neardup", "--rebuild", stdout=io.StringIO(), stderr=io.StringIO())
    regrouped = DuplicateGroup.objects.get()
    assert {group_of(c) for c in (cases[0], cases[2], cases[3])} == {regrouped.pk}
    assert CaseEvent.objects.filter(kind="near_duplicate").count() == 2


@pytest.mark.parametrize(
    "content",
    [
        "",
        "。。。！！！？？？，，，……",
        "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(50_000)),  # 50,000 characters
        "😀😀😀🎉🎉👍" * 10,
        "小区物业费上涨😀😀，业主意见很大🎉，请有关部门调查处理，责令物业公司恢复原收费标准👍",
    ],
    ids=["empty", "punctuation", "50k", "emoji", "emoji-mixed"],
)
def test_bad_input_registers_and_never_crashes(reg: Any, content: str) -> None:
    first = reg(content)
    second = reg(content, people=[2])
    sig = CaseSignature.objects.get(case=second)
    if len(content) > 1000:  # two 50k copies are the same text: linked
        assert sig.group_id == group_of(first) is not None
    elif content.startswith("小区"):
        assert sig.group_id is not None
    else:  # nothing but the short summary to compare
        assert sig.group_id is None


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_copies_end_in_one_group(world: World) -> None:
    """Four copies registered at the same moment (real commits, receivers after commit)."""
    texts = [BASE, EDIT, BASE + "情况紧急。", EDIT.replace("领导您好！", "")]

    def work(i: int) -> int:
        case = case_register(
            by=world.rita,
            office=world.office,
            reg=registration(content=texts[i], petitioners=[person(i + 1)]),
        )
        return case.pk

    ids = in_threads(4, work)
    assert all(isinstance(i, int) for i in ids), ids
    assert connection.vendor == "postgresql"
    groups = set(CaseSignature.objects.filter(case_id__in=ids).values_list("group_id", flat=True))
    assert len(groups) == 1 and None not in groups
    group = DuplicateGroup.objects.get()
    assert group.case_count == 4
    assert CaseEvent.objects.filter(kind="near_duplicate").count() == 3


def test_eval_command_prints_tables_on_a_small_fixture() -> None:
    fixture = Path(__file__).parent / "fixtures" / "train_sample.jsonl"
    out = io.StringIO()
    call_command("intel_neardup_eval", "--data", str(fixture), stdout=out)
    text = out.getvalue()
    for heading in ("| insert |", "| reorder |", "| overall (light + real) |", "candidates/query"):
        assert heading in text
    # The perturbations do change the text, and the light ones are still found.
    records = [json.loads(x) for x in fixture.read_text(encoding="utf-8").splitlines()][:30]
    es = build_set(records, seed=1)
    sample = es.originals[0]
    rnd = random.Random(3)
    assert all(perturb(sample, kind, rnd) != sample for kind in ("insert", "delete", "punct"))
    overall = rows_at(es, score(es), 0.5)[-1]
    assert overall.recall > 0.8 and overall.precision > 0.9


def test_confidential_member_is_not_shown_to_the_accused(
    reg: Any, world: World, client: Any
) -> None:
    """A 检举控告 copy naming leo (领导, sees the whole district) as accused is in the group;
    leo neither sees it listed nor counted, alice (petition office) does."""
    from xinfang.cases.policy import cases_visible_to

    a = reg(BASE)
    b = reg(EDIT, people=[2])
    d = reg(
        BASE + "请纪检部门调查。",
        people=[3],
        purpose="accusation",
        accused_person_ids=[world.leo.pk],
    )
    assert group_of(d) == group_of(a) == group_of(b) is not None
    visible = set(cases_visible_to(world.leo).values_list("pk", flat=True))
    assert {a.pk, b.pk} <= visible and d.pk not in visible  # the policy's rule, as precondition
    client.force_login(world.leo)
    page = client.get(f"/cases/{a.pk}/").content.decode()
    assert b.number in page and d.number not in page
    assert "2</strong> 件" in page
    client.force_login(world.alice)
    page = client.get(f"/cases/{a.pk}/").content.decode()
    assert b.number in page and d.number in page
    assert "3</strong> 件" in page
