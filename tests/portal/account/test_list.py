"""我的信访: the account's own cases (submitted while logged in, or signed with its phone), not
anyone else's; 检举控告 summaries hidden; filters and pages; the API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import World, reply_case
from tests.portal.account.conftest import (
    OTHER_PHONE,
    PASSWORD,
    PHONE,
    login,
    make_account,
    online_case,
)
from xinfang.cases.models import Case, PetitionerRole
from xinfang.people.services import PetitionerInput
from xinfang.portal import accounts
from xinfang.portal.models import PortalAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(world: World, register: Any) -> dict[str, Case]:
    """An account (phone PHONE) and cases around it:

    - ``signed``: 张三 (phone PHONE) at the desk — matched by the phone;
    - ``submitted``: submitted on the portal by the account with another phone typed;
    - ``cosigned``: 李四's letter, 张三 (PHONE) 联名人;
    - ``accusation``: 张三's 检举控告 (summary hidden);
    - ``others``: someone else's case; ``other_submitted``: another account's submission;
    - ``participant``: 张三 only 在场人员 of a 集体访 (not a signer: not listed).
    """
    account = make_account(PHONE, name="张先生")
    other_account = make_account(OTHER_PHONE)
    now = timezone.now()
    lisi = PetitionerInput(name="李四", phone="13700007777")
    out = {
        "signed": register(
            summary="反映小区物业费上涨问题", received_at=now - dt.timedelta(days=5)
        ),
        "submitted": online_case(
            world,
            "portal:a1",
            account,
            summary="网上提交的诉求",
            petitioners=[PetitionerInput(name="张三", phone="13600006666")],
            received_at=now - dt.timedelta(days=1),
        ),
        "cosigned": register(
            channel="letter",
            summary="联名反映道路破损",
            petitioners=[lisi, PetitionerInput(name="张三", phone=PHONE)],
            received_at=now - dt.timedelta(days=3),
        ),
        "accusation": register(
            purpose="accusation",
            summary="检举某单位负责人违规收费",
            received_at=now - dt.timedelta(days=2),
        ),
        "others": register(
            summary="别人的事项", petitioners=[lisi], received_at=now - dt.timedelta(hours=2)
        ),
        "other_submitted": online_case(
            world,
            "portal:b1",
            other_account,
            summary="另一个账号提交的事项",
            petitioners=[PetitionerInput(name="王五", phone="13500005555")],
        ),
    }
    participant = register(
        summary="集体反映征地补偿",
        petitioners=[PetitionerInput(name="赵六", phone="13300003333")],
        received_at=now - dt.timedelta(hours=3),
    )
    from xinfang.cases.models import CasePetitioner
    from xinfang.people.selectors import with_phone

    zhang = with_phone(PHONE).order_by("pk").first()
    assert zhang is not None
    CasePetitioner.objects.create(
        case=participant,
        petitioner=zhang,
        role=PetitionerRole.PARTICIPANT,
        order=9,
    )
    out["participant"] = participant
    return out


def test_account_cases_are_linked_and_phone_matched_only(cases: dict[str, Case]) -> None:
    account = PortalAccount.objects.get(name="张先生")
    mine = set(accounts.account_cases(account).values_list("pk", flat=True))
    # a 检举控告 is never opened by the phone alone: it needs its query code (link_case)
    assert mine == {cases[k].pk for k in ("signed", "submitted", "cosigned")}
    accounts.link_case(account, cases["accusation"])
    accounts.link_case(account, cases["accusation"])  # once
    mine = set(accounts.account_cases(account).values_list("pk", flat=True))
    assert mine == {cases[k].pk for k in ("signed", "submitted", "cosigned", "accusation")}
    for key in ("others", "other_submitted", "participant"):
        assert not accounts.account_may_see(account, cases[key])
    assert accounts.account_may_see(account, cases["submitted"])
    assert accounts.account_may_see(account, cases["cosigned"].pk)
    assert not accounts.account_may_see(None, cases["signed"])
    PortalAccount.objects.filter(pk=account.pk).update(is_active=False)
    account.refresh_from_db()
    assert not accounts.account_may_see(account, cases["signed"])


def test_the_list_page(client: Client, cases: dict[str, Case]) -> None:
    login(client)
    # proving the 检举控告's query code while logged in links it to the account
    proved = client.post(
        "/portal/track/", {"code": cases["accusation"].query_code, "secret": PHONE}
    )
    assert proved.status_code == 303
    page = client.get("/portal/account/")
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "张先生，您好" in html and "138****5678" in html and PHONE not in html
    assert "共4件" in html
    for key in ("signed", "submitted", "cosigned", "accusation"):
        assert cases[key].number in html
        assert f'href="/portal/cases/{cases[key].pk}/"' in html
    for key in ("others", "other_submitted", "participant"):
        assert cases[key].number not in html
    assert "别人的事项" not in html and "另一个账号" not in html
    # 检举控告: number, date and state only
    assert "检举某单位负责人违规收费" not in html
    assert accounts.HIDDEN_SUMMARY in html
    assert "网上提交的诉求" in html and "联名反映道路破损" in html
    assert "已收到，待受理" in html  # the public wording of the state
    # newest first
    order = [cases[k].number for k in ("submitted", "accusation", "cosigned", "signed")]
    positions = [html.index(n) for n in order]
    assert positions == sorted(positions)


def test_status_filter(client: Client, world: World, cases: dict[str, Case]) -> None:
    reply_case(world, cases["signed"])
    login(client)
    replied = client.get("/portal/account/?status=replied").content.decode()
    assert cases["signed"].number in replied and cases["submitted"].number not in replied
    assert "已答复" in replied and "共1件" in replied
    open_ = client.get("/portal/account/?status=open").content.decode()
    assert cases["signed"].number not in open_ and cases["submitted"].number in open_
    closed = client.get("/portal/account/?status=closed").content.decode()
    assert "没有处于这一状态的事项" in closed
    anything = client.get("/portal/account/?status=bogus").content.decode()
    assert "共3件" in anything  # the 检举控告 is not linked in this test


def test_pages_of_twenty(client: Client, world: World) -> None:
    account = make_account()
    for i in range(23):
        online_case(
            world,
            f"portal:p{i}",
            account,
            summary=f"事项{i:02d}",
            petitioners=[PetitionerInput(name="张三", phone="13600006666")],
            received_at=timezone.now() - dt.timedelta(hours=i + 1),
        )
    login(client)
    first = client.get("/portal/account/").content.decode()
    assert (
        first.count('class="pt-acc-case"') == 20 and "事项00" in first and "第1页，共2页" in first
    )
    second = client.get("/portal/account/?page=2").content.decode()
    assert second.count('class="pt-acc-case"') == 3 and "事项22" in second
    assert client.get("/portal/account/?page=99").status_code == 200  # the last page


def test_a_case_submitted_while_logged_in_is_listed_whatever_phone_was_typed(
    client: Client, world: World
) -> None:
    account = make_account()
    case = online_case(
        world,
        "portal:x",
        account,
        petitioners=[PetitionerInput(name="张三", phone="13600006666")],
    )
    login(client)
    assert case.number in client.get("/portal/account/").content.decode()


def test_the_list_is_for_the_logged_in_account_only(cases: dict[str, Case]) -> None:
    other = Client()
    login(other, phone=OTHER_PHONE)
    html = other.get("/portal/account/").content.decode()
    assert cases["other_submitted"].number in html
    for key in ("signed", "submitted", "cosigned", "accusation"):
        assert cases[key].number not in html


# --- the API -------------------------------------------------------------------------------


def _api(client: Client, phone: str, password: str) -> Any:
    return client.post(
        "/api/portal/account/cases",
        json.dumps({"phone": phone, "password": password}),
        content_type="application/json",
    )


def test_api_lists_the_accounts_cases(cases: dict[str, Case]) -> None:
    accounts.link_case(PortalAccount.objects.get(name="张先生"), cases["accusation"])
    response = _api(Client(), "138-1234-5678", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    numbers = [item["number"] for item in body["items"]]
    assert numbers == [cases[k].number for k in ("submitted", "accusation", "cosigned", "signed")]
    by_number = {item["number"]: item for item in body["items"]}
    assert by_number[cases["accusation"].number]["summary"] is None
    assert by_number[cases["signed"].number]["summary"] == "反映小区物业费上涨问题"
    assert by_number[cases["signed"].number]["status_label"] == "已收到，待受理"
    assert set(body["items"][0]) == {"number", "received_at", "status_label", "summary"}


def test_api_failures_are_uniform(cases: dict[str, Case]) -> None:
    wrong = _api(Client(), PHONE, "Wrong-pass-1")
    unknown = _api(Client(), "13900009999", "Wrong-pass-1")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "detail": accounts.LOGIN_FAILED,
            "field": None,
            "code": "unauthenticated",
        }
    )
    bad = _api(Client(), "010-12345678", PASSWORD)
    assert bad.status_code == 400 and bad.json()["field"] == "phone"
    assert Client().get("/api/portal/account/cases").status_code == 405


def test_api_is_rate_limited_like_login(settings: Any, cases: dict[str, Case]) -> None:
    settings.XINFANG_RATES = settings.XINFANG_RATES | {"portal_login_phone": "2/1h"}
    _api(Client(), PHONE, "Wrong-pass-1")
    _api(Client(), PHONE, "Wrong-pass-2")
    blocked = _api(Client(), PHONE, PASSWORD)
    assert blocked.status_code == 429 and blocked.json()["code"] == "throttled"
    assert int(blocked["Retry-After"]) > 0


def test_api_is_in_the_schema(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "/api/portal/account/cases" in schema["paths"]


def test_the_view_link_opens_the_case_for_the_account(
    client: Client, cases: dict[str, Case]
) -> None:
    """The track pages accept the account's ownership (no query code in this browser)."""
    login(client)
    mine = client.get(f"/portal/cases/{cases['signed'].pk}/")
    assert mine.status_code == 200 and cases["signed"].number in mine.content.decode()
    theirs = client.get(f"/portal/cases/{cases['others'].pk}/")
    assert cases["others"].number not in theirs.content.decode()
    client.post("/portal/logout/")
    gone = client.get(f"/portal/cases/{cases['signed'].pk}/")
    assert cases["signed"].number not in gone.content.decode()


def test_a_recycled_number_does_not_open_earlier_cases(
    client: Client, world: World, register: Any
) -> None:
    """Cases registered before the account was made are not listed by the phone alone (the
    number may have had another holder); proving the query code while logged in links one."""
    earlier = register(summary="号码前一位使用人的事项")
    PortalAccount.objects.all().delete()
    account = make_account(PHONE, name="新用户")
    assert not accounts.account_may_see(account, earlier)
    later = register(summary="注册账号以后登记的事项")
    assert accounts.account_may_see(account, later)
    login(client)
    assert client.get(f"/portal/cases/{earlier.pk}/").status_code == 404
    proved = client.post("/portal/track/", {"code": earlier.query_code, "secret": PHONE})
    assert proved.status_code == 303
    assert accounts.account_may_see(account, earlier)
