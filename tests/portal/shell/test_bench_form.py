"""bench/bench_portal.py reads the submit form's fields from the HTML and fills them by name:
the values it produces pass the real form (a review page follows, then a case), so the load
bench keeps working when the form changes. Its ID numbers carry correct check digits."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from xinfang.cases.models import Case
from xinfang.core.idcard import validate_id_number

pytestmark = pytest.mark.django_db
BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_portal.py"


def bench() -> ModuleType:
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_portal", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_portal"] = module  # its dataclasses resolve their annotations there
    spec.loader.exec_module(module)
    return module


def test_generated_id_numbers_are_valid() -> None:
    b = bench()
    rng = random.Random(7)
    for _ in range(200):
        validate_id_number(b.valid_id_number(rng))  # raises on a wrong check digit


def test_the_bench_fills_the_real_submit_form(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.XINFANG_RATES = {name: "0" for name in settings.XINFANG_RATES}
    b = bench()
    client = Client()
    page = client.get(reverse("portal:submit"))
    form = b.main_post_form(page.content.decode(), "summary")
    data = b.fill_submit(form, random.Random(1), "压测T-000-00001", "13812340000")
    assert data["hp"] == "" and data["consent"]
    response = client.post(reverse("portal:submit"), data)
    assert response.status_code in (302, 303), response.content.decode()[:2000]
    review = client.get(response["Location"])
    confirm = b.main_post_form(review.content.decode())
    fields = {i["name"]: i.get("value", "") for i in confirm.inputs if i.get("name")}
    done = client.post(response["Location"], fields)
    assert done.status_code in (302, 303)
    done_page = client.get(done["Location"]).content.decode()
    number = b.NUMBER_RE.search(done_page)
    assert number is not None
    case = Case.objects.get(number=number.group(0))
    assert case.summary.startswith("压测T-000-00001 ")
