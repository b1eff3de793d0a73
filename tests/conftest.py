"""Shared fixtures: a small jurisdiction with named users in each position.

district 示范区 (root)
├── 区信访局 (petition office)            alice: 办案员, rita: 接待员
├── 东湖街道 (street, petition office)    hank: 承办人, uma: 单位负责人
│   └── 东湖社区
└── 西山街道 (sibling street)             bob: 承办人
区领导 leo: 领导 at the district root; sam: 系统管理员 at the root (sees no cases).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from xinfang.cases.registration import Registration, case_register
from xinfang.org import roles as R
from xinfang.org.models import Membership, Role, Unit, UnitType
from xinfang.people.services import PetitionerInput

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in tests

VALID_ID = "11010519491231002X"


def pytest_configure(config: Any) -> None:
    """Tests create many users: a fast hasher (production keeps Django's PBKDF2 default)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # client.login()/force_login() have no request for axes, and most tests log in admin-role
    # users without a TOTP device: lockout and the TOTP mandate are off here and switched on
    # by the dedicated tests in tests/accounts (and tests/e2e/test_accounts_flow.py).
    settings.AXES_ENABLED = False
    settings.ACCOUNTS_OTP_ENFORCED = False


@dataclass
class World:
    district: Unit
    office: Unit
    street: Unit
    community: Unit
    sibling: Unit
    alice: User
    rita: User
    hank: User
    uma: User
    bob: User
    leo: User
    sam: User


def make_user(username: str, unit: Unit, role: str, full_name: str = "") -> User:
    user = User.objects.create_user(username, password="Xf-test-pass-1")
    user.first_name = full_name or username
    user.save()
    Membership.objects.create(user=user, unit=unit, role=Role.objects.get(code=role))
    return user


def ensure_reference_data() -> None:
    """Data migrations seed roles and rules; a TransactionTestCase flush removes them."""
    from xinfang.cases.models import Category, DeadlineRule
    from xinfang.cases.seed import seed_categories, seed_deadline_rules
    from xinfang.org.roles import SEED_ROLES

    for code, name, description in SEED_ROLES:
        Role.objects.get_or_create(code=code, defaults={"name": name, "description": description})
    seed_deadline_rules(DeadlineRule)
    if not Category.objects.exists():  # the real category tree (a data migration, too)
        seed_categories(Category)
    from xinfang.prevention.seeds import ensure_rules

    ensure_rules()  # 排查周期 and 预警规则 (prevention migration 0002)


@pytest.fixture
def world(db: Any) -> World:
    ensure_reference_data()
    district = Unit.objects.create(
        name="示范区", unit_type=UnitType.DISTRICT, division_code="110105"
    )
    office = Unit.objects.create(
        name="区信访局", unit_type=UnitType.DEPARTMENT, parent=district, is_petition_office=True
    )
    street = Unit.objects.create(
        name="东湖街道",
        unit_type=UnitType.STREET,
        parent=district,
        division_code="110105001",
        is_petition_office=True,
    )
    community = Unit.objects.create(name="东湖社区", unit_type=UnitType.COMMUNITY, parent=street)
    sibling = Unit.objects.create(
        name="西山街道", unit_type=UnitType.STREET, parent=district, division_code="110105002"
    )
    w = World(
        district=district,
        office=office,
        street=street,
        community=community,
        sibling=sibling,
        alice=make_user("alice", office, R.CASE_OFFICER, "艾丽"),
        rita=make_user("rita", office, R.RECEPTIONIST, "芮塔"),
        hank=make_user("hank", street, R.HANDLER, "韩克"),
        uma=make_user("uma", street, R.UNIT_HEAD, "乌玛"),
        bob=make_user("bob", sibling, R.HANDLER, "鲍勃"),
        leo=make_user("leo", district, R.LEADER, "黎奥"),
        sam=make_user("sam", district, R.SYSADMIN, "萨姆"),
    )
    # 东湖社区 gets its own handler so cases can be routed to it (routing needs someone to sign
    # in); cora is not part of the named cast of the permission matrices.
    make_user("cora", community, R.HANDLER, "柯拉")
    return w


def registration(**overrides: Any) -> Registration:
    values: dict[str, Any] = {
        "channel": "visit",
        "purpose": "appeal",
        "summary": "反映小区物业费上涨问题",
        "content": "小区物业公司未经业主大会同意上调物业费。",
        "petitioners": [PetitionerInput(name="张三", id_number=VALID_ID, phone="13812345678")],
        "received_at": timezone.now() - dt.timedelta(hours=1),
    }
    values.update(overrides)
    return Registration(**values)


def register_form(key: str, **fields: Any) -> dict[str, Any]:
    """The staff registration form's POST data: one petitioner row, no representatives;
    ``fields`` override or add (e.g. ``p-0-id_number``, ``attachments``)."""
    data: dict[str, Any] = {
        "idempotency_key": key,
        "channel": "visit",
        "purpose": "appeal",
        "received_at": "2026-01-05T09:30",
        "headcount": "1",
        "summary": "反映拖欠工资",
        "p-TOTAL_FORMS": "1",
        "p-INITIAL_FORMS": "0",
        "p-MIN_NUM_FORMS": "1",
        "p-MAX_NUM_FORMS": "50",
        "p-0-name": "某人",
        "p-0-id_type": "resident",
        "r-TOTAL_FORMS": "0",
        "r-INITIAL_FORMS": "0",
        "r-MIN_NUM_FORMS": "0",
        "r-MAX_NUM_FORMS": "50",
    }
    data.update(fields)
    return data


@pytest.fixture
def register(world: World):  # type: ignore[no-untyped-def]
    def _register(**overrides: Any):  # type: ignore[no-untyped-def]
        by = overrides.pop("by", world.rita)
        key = overrides.pop("idempotency_key", None)
        return case_register(
            by=by, office=world.office, reg=registration(**overrides), idempotency_key=key
        )

    return _register


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():  # type: ignore[no-untyped-def]
    """Rolled-back test transactions fire no signals; drop cached calendar overrides, deadline
    rules and registration's reference data (categories, 越级 answers)."""
    from xinfang.cases import deadlines, registration
    from xinfang.core import workcalendar
    from xinfang.stats import rules as stats_rules

    def clear() -> None:
        workcalendar.clear_cache()
        stats_rules.clear_reference_cache()
        deadlines.clear_rule_cache()
        registration.clear_reference_cache()

    clear()
    yield
    clear()


def reply_case(world: World, case: Any, text: str = "经调查核实，已协调有关部门处理。") -> Any:
    """Take a registered case to 已答复 through the lifecycle services, as the office and
    东湖街道 would: 交办 → 签收 → 受理 → 答复意见书 (hank drafts with ``text`` as the 处理意见,
    uma approves, alice checks) → 送达 (served today, in person)."""
    from xinfang.cases import services as S

    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    serve_reply(world, case, decision=text)
    return case


def serve_reply(
    world: World, case: Any, decision: str = "经调查核实，已协调有关部门处理。", **serve: Any
) -> Any:
    """The 答复意见书 workflow on an accepted case of 东湖街道: draft → submit (hank) → approve
    (uma) → check (alice) → serve (uma; today in person unless ``serve`` says otherwise)."""
    from xinfang.replies import services as RS

    RS.draft_save(
        case=case,
        by=world.hank,
        facts="经调查核实，信访人反映的情况基本属实。",
        basis="依据《信访工作条例》及有关政策规定。",
        decision=decision if len(decision) >= 10 else decision + "（处理意见见上文所述）",
        review_organ="示范区人民政府",
    )
    RS.draft_submit(case=case, by=world.hank)
    RS.draft_approve(case=case, by=world.uma)
    RS.draft_check(case=case, by=world.alice)
    by = serve.pop("by", world.uma)
    values = {"served_on": timezone.localdate(), "method": "in_person", **serve}
    return RS.draft_serve(case=case, by=by, **values)


def checked_draft(case: Any) -> Any:
    """A checked 答复意见书 row written directly (no workflow events): for tests of
    ``case_reply`` itself, which requires one (``case_reply(draft=checked_draft(case), …)``)."""
    from xinfang.replies.services import record_checked_draft

    return record_checked_draft(case, decision="经调查核实，已依法依规处理完毕。")


INTEL_FIXTURE = os.path.join(os.path.dirname(__file__), "intel", "fixtures", "train_sample.jsonl")


@pytest.fixture
def intel_models(settings: Any, tmp_path: Any) -> Any:
    """Model registry in a temporary directory, bundled data = the small shipped fixture, no
    reload delay; the per-process active-model cache is dropped before and after."""
    from pathlib import Path

    from xinfang.intel import registry

    settings.INTEL_MODEL_DIR = tmp_path / "models"
    settings.INTEL_BUNDLED_DATA = Path(INTEL_FIXTURE)
    settings.INTEL_MODEL_CHECK_SECONDS = 0
    registry.forget_active()
    yield settings
    registry.forget_active()
