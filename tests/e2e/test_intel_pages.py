"""The leader-facing intelligence pages as a person uses them: hotspots (the start page's lazy
summary and the ranked page) and the model versions page (retrain → the queued task is worked by
the database worker → the table, polling, shows the new version as 当前)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.e2e.conftest import login
from xinfang.intel.models import ModelVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FEE = [
    (
        "反映阳光花园小区物业公司上调物业费",
        "阳光花园物业公司未经业主大会同意，将物业费上调至每平方米1.8元。",
    ),
    ("阳光花园物业费上调不合理", "阳光花园小区物业公司擅自上调物业费，业主大会没有表决。"),
    ("阳光花园小区物业公司乱涨物业费", "物业公司上调物业费，阳光花园业主强烈反对。"),
]


def test_hotspots_on_start_page_and_hotspot_page(page, live_server, world, register, shot):
    when = timezone.now() - dt.timedelta(days=2)
    cases = [
        register(summary=t, content=c, received_at=when, place_code="110105001") for t, c in FEE
    ]
    register(summary="学校食堂饭菜质量差", content="学校食堂饭菜不卫生，学生吃了拉肚子。")
    login(page, live_server, "leo")
    page.wait_for_selector(".home-hotspots >> text=近30天热点")
    assert page.is_visible(".home-hotspots >> text=3件")
    shot("01-start-page")
    page.click(".home-hotspots >> text=查看全部热点")
    page.wait_for_selector("h1 >> text=热点发现")
    for c in cases:
        assert page.is_visible(f"text={c.number}")
    shot("02-hotspots")


def test_retrain_through_the_worker(page, live_server, world, intel_models, shot):
    login(page, live_server, "leo")
    page.goto(f"{live_server.url}/intel/models/")
    page.wait_for_selector("h1 >> text=分类模型版本")
    page.click("button >> text=重新训练")
    page.wait_for_selector("text=训练中")
    shot("01-training")
    assert ModelVersion.objects.get().state == ModelVersion.State.TRAINING
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    # The table polls every 3 s and stops once the row is ready.
    page.wait_for_selector("#model-versions >> text=训练中……", state="detached", timeout=15_000)
    mv = ModelVersion.objects.get()
    assert mv.state == ModelVersion.State.READY and mv.is_active
    assert page.is_visible(f"#mv-{mv.pk} >> text={mv.version[:12]}")
    assert page.is_visible(f"#mv-{mv.pk} >> text=当前")
    shot("02-ready")
