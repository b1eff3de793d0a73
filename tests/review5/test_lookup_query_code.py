"""Review of issue 5: a query code without digits (about 1 in 18 codes: 24 of the 32 characters
are letters) is looked up as a query code, not as pinyin initials — the lookup test was flaky
for that reason."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from xinfang.cases.models import Case
from xinfang.people.lookup import classify, lookup


@pytest.mark.parametrize("code", ["ABCDEFGHJK", "abcdefghjk", "2345678923", "AB23CD45EF"])
def test_every_query_code_shape_is_a_query_code(code: str) -> None:
    q = classify(code)
    assert (q.kind, q.value) == ("query_code", code.upper())


def test_initials_and_hints_unchanged() -> None:
    assert classify("zs").kind == "initials"
    assert classify("ZSF").kind == "initials"
    assert classify("12345").kind == "hint"
    assert classify("13812345678").kind == "phone"


def test_a_letters_only_query_code_finds_its_case(world: World, register: Any) -> None:
    case = register()
    Case.objects.filter(pk=case.pk).update(query_code="ABCDEFGHJK")
    result = lookup(world.rita, "abcdefghjk")
    assert [c.person.name for c in result.cards] == ["张三"]
    assert result.cards[0].cases[0].case.pk == case.pk
