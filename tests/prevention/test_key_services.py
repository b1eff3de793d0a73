"""重点人员/群体 services: who may flag whom, the one-active rule, audit, linked cases, reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import World
from tests.prevention._key_util import build, flag
from xinfang.audit.models import AuditEntry
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.notify.models import Notification
from xinfang.people.models import KeyPerson, PetitionerGroup
from xinfang.prevention import keypersons as K
from xinfang.prevention import policy
from xinfang.prevention.models import KeyContact, KeyGroup

pytestmark = pytest.mark.django_db


def test_add_writes_row_and_audit(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    assert kp.unit == world.street and kp.leader == kw.sue and kp.is_active
    rows = AuditEntry.objects.filter(action="keyperson_change", object_id=str(kp.pk))
    assert rows.count() == 1
    assert rows.get().detail["op"] == "add"
    assert "张三" in rows.get().summary


def test_second_add_names_existing_flag(world: World) -> None:
    kw = build(world)
    flag(kw)
    with pytest.raises(DomainError) as exc:
        flag(kw, by=world.leo, reason="另一原因")
    assert "已被列为重点人员" in exc.value.message and "多次赴区集体访" in exc.value.message
    assert exc.value.field == "petitioner"
    assert KeyPerson.objects.filter(petitioner=kw.person, removed_at__isnull=True).count() == 1


def test_remove_keeps_row_and_allows_new_flag(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    K.key_person_remove(world.alice, kp, "情况稳定，诉求已解决")
    kp.refresh_from_db()
    assert kp.removed_at is not None and kp.removed_reason == "情况稳定，诉求已解决"
    with pytest.raises(DomainError, match="已被撤销"):
        K.key_person_remove(world.alice, kp, "再撤一次")
    again = flag(kw, reason="再次聚集")
    assert again.pk != kp.pk
    assert KeyPerson.objects.filter(petitioner=kw.person).count() == 2


def test_remove_needs_reason(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    with pytest.raises(DomainError) as exc:
        K.key_person_remove(world.alice, kp, "  ")
    assert exc.value.field == "reason"


@pytest.mark.parametrize("who", ["hank", "rita", "bob", "uma"])
def test_who_may_not_flag(world: World, who: str) -> None:
    kw = build(world)
    with pytest.raises((PermissionDenied, DomainError)):
        flag(kw, by=getattr(world, who))
    assert not KeyPerson.objects.exists()


def test_stranger_cannot_be_flagged(world: World) -> None:
    kw = build(world)
    # 李四 is only on a 检举控告 case: not flaggable even by the office that sees the case
    with pytest.raises(DomainError) as exc:
        flag(kw, person=kw.stranger)
    assert exc.value.field == "petitioner"
    # sue (东湖街道 领导) sees case_c only: 张三 is flaggable by her, for her street
    flag(kw, by=kw.sue, leader=None)


def test_leader_must_be_above_unit(world: World) -> None:
    kw = build(world)
    with pytest.raises(DomainError) as exc:
        flag(kw, leader=world.alice)  # 办案员, not a leader
    assert exc.value.field == "leader"
    with pytest.raises(DomainError) as exc:
        flag(kw, unit=world.sibling)  # sue leads 东湖街道, not 西山街道
    assert exc.value.field == "leader"
    flag(kw, unit=world.community)  # 东湖社区 is below 东湖街道: fine


def test_bad_input_messages(world: World) -> None:
    kw = build(world)
    today = timezone.localdate()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"reason": ""}, "reason"),
        ({"since": today + dt.timedelta(days=1)}, "since"),
        ({"unit": None}, "unit"),
        ({"review_on": today - dt.timedelta(days=400)}, "review_on"),
    ]
    for overrides, field in cases:
        with pytest.raises(DomainError) as exc:
            flag(kw, **overrides)
        assert exc.value.field == field, overrides


def test_update_audits_changes(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    new_review = timezone.localdate() + dt.timedelta(days=60)
    K.key_person_update(world.alice, kp, review_on=new_review, plan="每两周走访")
    kp.refresh_from_db()
    assert kp.review_on == new_review and kp.plan == "每两周走访"
    entry = AuditEntry.objects.filter(action="keyperson_change").order_by("-seq").first()
    assert entry is not None and entry.detail["op"] == "update"
    assert set(entry.detail["changes"]) == {"review_on", "plan"}
    with pytest.raises(PermissionDenied):
        K.key_person_update(world.hank, kp, plan="x")
    with pytest.raises(DomainError):
        K.key_person_update(world.alice, kp, petitioner=kw.stranger)


def test_contact_log(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    c = K.key_contact_add(kw.sue, kp, method="visit", note="上门走访，情绪平稳")
    assert KeyContact.objects.get().key_person == kp and c.by == kw.sue
    # uma (单位负责人 of the responsible unit) reads and logs too
    K.key_contact_add(world.uma, kp, method="phone", note="电话回访")
    with pytest.raises(PermissionDenied):
        K.key_contact_add(world.hank, kp, method="phone", note="x")
    with pytest.raises(DomainError) as exc:
        K.key_contact_add(world.alice, kp, method="fax", note="x")
    assert exc.value.field == "method"
    with pytest.raises(DomainError) as exc:
        K.key_contact_add(
            world.alice, kp, method="visit", note="x", at=timezone.now() + dt.timedelta(days=1)
        )
    assert exc.value.field == "at"
    ops = list(
        AuditEntry.objects.filter(action="keyperson_change").values_list("detail__op", flat=True)
    )
    assert ops.count("contact") == 2


def test_visibility_matrix(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    for user in (world.alice, world.leo, kw.sue, world.uma):
        assert policy.key_persons_visible_to(user).filter(pk=kp.pk).exists(), user
    for user in (world.hank, world.rita, world.bob, kw.sid):
        assert not policy.key_persons_visible_to(user).filter(pk=kp.pk).exists(), user


def test_linked_cases_follow_visibility(world: World) -> None:
    kw = build(world)
    kp = flag(kw)
    alice = {c.pk for c in K.linked_cases(world.alice, kp)}
    assert alice == {kw.case_a.pk, kw.case_b.pk, kw.case_c.pk}
    # 东湖街道 is accused in case_b: its people never see it; case_a is the district office's
    assert {c.pk for c in K.linked_cases(world.uma, kp)} == {kw.case_c.pk}
    assert {c.pk for c in K.linked_cases(kw.sue, kp)} == {kw.case_c.pk}


def test_linked_disputes_follow_visibility(world: World, pv) -> None:  # type: ignore[no-untyped-def]
    kw = build(world)
    kp = flag(kw)
    mine = pv.dispute(petitioners=[kw.person])
    other = pv.dispute(
        by=world.bob, place_unit=world.sibling, unit=world.sibling, petitioners=[kw.person]
    )
    assert {d.pk for d in K.linked_disputes(world.alice, kp)} == {mine.pk, other.pk}
    assert {d.pk for d in K.linked_disputes(world.uma, kp)} == {mine.pk}


def test_groups(world: World) -> None:
    build(world)
    from tests.conftest import registration
    from xinfang.cases.registration import case_register

    case_register(
        by=world.rita,
        office=world.office,
        reg=registration(group_name="某厂退休职工", headcount=6),
    )
    group = PetitionerGroup.objects.get(name="某厂退休职工")
    assert K.flaggable_groups(world.alice).filter(pk=group.pk).exists()
    assert not K.flaggable_groups(world.bob).filter(pk=group.pk).exists()
    kg = K.key_group_add(
        world.alice,
        group,
        reason="拟集体赴市上访",
        since=timezone.localdate(),
        unit=world.street,
        headcount=30,
        leader=world.leo,
        plan="",
        review_on=None,
    )
    with pytest.raises(DomainError, match="已被列为重点群体"):
        K.key_group_add(
            world.leo,
            group,
            reason="x",
            since=timezone.localdate(),
            unit=world.street,
            headcount=3,
        )
    with pytest.raises(DomainError) as exc:
        K.key_group_add(
            world.alice, "新群体", reason="x", since=timezone.localdate(), unit=world.street
        )
    assert exc.value.field == "headcount"
    new = K.key_group_add(
        world.alice,
        "东湖拆迁户",
        reason="补偿争议",
        since=timezone.localdate(),
        unit=world.street,
        headcount=12,
    )
    assert new.group.name == "东湖拆迁户"
    with pytest.raises(DomainError, match="同名"):
        K.key_group_add(
            world.alice,
            "东湖拆迁户",
            reason="x",
            since=timezone.localdate(),
            unit=world.street,
            headcount=1,
        )
    K.key_group_update(world.alice, kg, headcount=40)
    kg.refresh_from_db()
    assert kg.headcount == 40
    K.key_contact_add(world.leo, kg, method="talk", note="约谈代表")
    K.key_group_remove(world.alice, kg, "诉求解决")
    assert KeyGroup.objects.filter(removed_at__isnull=True).count() == 1
    with pytest.raises(DomainError):
        K.key_contact_add(world.leo, kg, method="talk", note="再约谈")


def test_reviews_due_notify_leader_once(world: World) -> None:
    kw = build(world)
    today = timezone.localdate()
    kp = flag(kw, review_on=today)
    KeyPerson.objects.filter(pk=kp.pk).update(review_on=today - dt.timedelta(days=3))
    sweep = K.key_reviews_due(today)
    assert sweep.notified == 1 and [s.pk for s in sweep.overdue] == [kp.pk]
    n = Notification.objects.get(kind="key_review")
    assert n.recipient == kw.sue and "逾期" in n.title
    assert K.key_reviews_due(today).notified == 0  # once per subject × review date
    # a new review date reminds again once it comes due
    KeyPerson.objects.filter(pk=kp.pk).update(review_on=today)
    again = K.key_reviews_due(today)
    assert again.notified == 1 and again.overdue == []
    # no reminders for removed subjects
    K.key_person_remove(world.alice, kp, "稳定")
    assert K.key_reviews_due(today + dt.timedelta(days=5)).due == []


def test_review_without_leader_goes_to_leaders_over(world: World) -> None:
    kw = build(world)
    today = timezone.localdate()
    flag(kw, leader=None, review_on=today, unit=world.sibling)
    K.key_reviews_due(today)
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["leo"]


def test_search_petitioners(world: World) -> None:
    kw = build(world)
    assert [p.pk for p in K.search_petitioners(world.alice, "张")] == [kw.person.pk]
    assert [p.pk for p in K.search_petitioners(world.alice, "002X")] == [kw.person.pk]
    assert [p.pk for p in K.search_petitioners(world.alice, "31002x")] == [kw.person.pk]
    assert K.search_petitioners(world.alice, "李四") == []  # only on a 检举控告 case
    assert K.search_petitioners(world.bob, "张") == []
