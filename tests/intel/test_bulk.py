"""Bulk loads (the demo, imports): per-case intel work is held back inside
``cases.signals.registrations_in_bulk`` and done once, in batches, at its end."""

from __future__ import annotations

from typing import Any

import pytest

from xinfang.cases.models import CaseEvent
from xinfang.cases.signals import registrations_in_bulk
from xinfang.intel.models import CaseSignature, CaseTopicTerms, CaseVector

pytestmark = pytest.mark.django_db

LETTER = (
    "我们是阳光花园小区的业主，物业公司未经业主大会同意擅自把物业费从每平方米1.2元上调到1.8元，"
    "多次找物业协商没有结果，请求有关部门依法查处并责令退还多收的物业费。"
)


def test_bulk_block_defers_then_indexes_in_batches(
    world: Any, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from xinfang.cases.services import case_assign

    with registrations_in_bulk():
        with django_capture_on_commit_callbacks(execute=True):
            cases = [register(summary="物业费上调", content=LETTER) for _ in range(3)]
            for c in cases:  # routed too: no suggestion event either
                case_assign(case=c, by=world.alice, unit=world.street)
            other = register(
                summary="学校食堂卫生差", content="学校食堂饭菜不卫生，学生吃了拉肚子。"
            )
        # Held back: nothing indexed while the block runs.
        assert not CaseVector.objects.exists() and not CaseSignature.objects.exists()
    ids = [c.pk for c in [*cases, other]]
    assert set(CaseVector.objects.values_list("case_id", flat=True)) == set(ids)
    assert set(CaseSignature.objects.values_list("case_id", flat=True)) == set(ids)
    assert set(CaseTopicTerms.objects.values_list("case_id", flat=True)) == set(ids)
    groups = set(CaseSignature.objects.filter(case__in=cases).values_list("group_id", flat=True))
    assert len(groups) == 1 and None not in groups  # the three copies: one group
    assert CaseSignature.objects.get(case=other).group_id is None
    # Nobody was shown a suggestion for a bulk-loaded case.
    assert not CaseEvent.objects.filter(kind="intel_suggest").exists()


def test_outside_the_block_each_registration_is_indexed_at_once(
    register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = register(summary="物业费上调", content=LETTER)
    assert CaseVector.objects.filter(case=case).exists()
    assert CaseSignature.objects.filter(case=case).exists()
