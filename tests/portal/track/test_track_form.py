"""The tracking form: one uniform failure, the accepted spellings of the secret, co-signers,
rate limits per address and per code, who may open a case page, leaving."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import VALID_ID, World
from tests.portal.track.conftest import ID_TAIL, PHONE, normalised, opened, track
from xinfang.cases.models import Case
from xinfang.people.services import PetitionerInput

FAILED = "查询码或验证信息不正确，请核对后重试"


def test_form_prefills_the_code_from_the_receipt_qr(world: World) -> None:
    response = Client().get("/portal/track/?code=ABCD2345EF")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="ABCD2345EF"' in html
    assert "手机号码或身份证号后6位" in html
    assert response["Cache-Control"] == "no-store"
    # the receipt's short link keeps the code
    short = Client().get("/track/?code=ABCD2345EF")
    assert short.status_code == 302 and short["Location"] == "/portal/track/?code=ABCD2345EF"


def test_failures_are_identical_apart_from_the_echoed_code(world: World, register: Any) -> None:
    case = register()
    unknown = "ABCD2345EFGH" if case.query_code != "ABCD2345EFGH" else "ABCD2345EFGJ"
    attempts = {
        "wrong code": (unknown, PHONE),
        "wrong secret": (case.query_code, "13900000000"),
        "wrong id tail": (case.query_code, "123456"),
        "malformed code": ("NOT-A-CODE-0!", PHONE),
        "empty": ("", ""),
    }
    pages = {}
    for name, (code, secret) in attempts.items():
        response = track(Client(), code, secret)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert FAILED in html, name
        assert secret not in html or not secret, name  # the secret is never echoed
        echoed = f'name="code" value="{code}"'
        assert echoed in html, name
        pages[name] = normalised(html).replace(echoed, 'name="code" value="CODE"')
    first = pages["wrong code"]
    for name, html in pages.items():
        assert html == first, f"{name} differs from an unknown code"


@pytest.mark.parametrize(
    "secret", [PHONE, "138 1234 5678", "138-1234-5678", "+86 13812345678", ID_TAIL, "31002x"]
)
def test_phone_in_any_spelling_or_id_tail_opens_the_case(
    world: World, register: Any, secret: str
) -> None:
    case = register()
    client = Client()
    response = track(client, case.query_code.lower(), secret)
    assert response.status_code == 303
    assert response["Location"] == f"/portal/cases/{case.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert case.number in page.content.decode()


def test_code_typed_with_spaces_and_hyphens(world: World, register: Any) -> None:
    case = register()
    code = case.query_code
    spaced = f" {code[:4]}-{code[4:8]} {code[8:]} ".lower()
    assert track(Client(), spaced, PHONE).status_code == 303


def test_co_signer_phone_opens_the_joint_case(world: World, register: Any) -> None:
    case = register(
        channel="letter",
        petitioners=[
            PetitionerInput(name="张三", id_number=VALID_ID, phone=PHONE),
            PetitionerInput(name="李四", phone="13987654321"),
        ],
    )
    assert case.is_joint
    assert track(Client(), case.query_code, "139 8765 4321").status_code == 303


def test_success_cycles_the_session_key(world: World, register: Any) -> None:
    case = register()
    client = Client()
    client.get("/portal/track/")
    client.session.save()
    before = client.cookies.get("sessionid")
    opened(client, case)
    after = client.cookies["sessionid"].value
    assert before is None or before.value != after


def test_rate_limit_per_address(world: World, register: Any, settings: Any) -> None:
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES) | {
        "portal_track_ip": "3/10m",
        "portal_track_code": "100/1h",
    }
    case = register()
    client = Client()
    for i in range(3):
        assert track(client, f"ABCD2345EF{i}", PHONE).status_code == 200
    blocked = track(client, case.query_code, PHONE)  # even the right answer
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert "操作过于频繁" in blocked.content.decode()
    # another address is not affected
    assert track(Client(REMOTE_ADDR="10.0.0.9"), case.query_code, PHONE).status_code == 303


def test_rate_limit_per_code_across_addresses(world: World, register: Any, settings: Any) -> None:
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES) | {
        "portal_track_ip": "100/10m",
        "portal_track_code": "2/1h",
    }
    case = register()
    for i in range(2):
        client = Client(REMOTE_ADDR=f"10.0.1.{i}")
        assert track(client, case.query_code, f"1390000000{i}").status_code == 200
    # guessing the phone of one code from a third address: stopped, also in another spelling
    blocked = track(Client(REMOTE_ADDR="10.0.1.9"), case.query_code.lower(), PHONE)
    assert blocked.status_code == 429
    other = register(idempotency_key="k2", summary="另一件事")
    assert track(Client(REMOTE_ADDR="10.0.1.9"), other.query_code, PHONE).status_code == 303


def test_case_page_needs_proof_and_is_a_uniform_404(world: World, register: Any) -> None:
    case = register()
    other = register(idempotency_key="k2", summary="别人的事项")
    anonymous = Client().get(f"/portal/cases/{case.pk}/")
    assert anonymous.status_code == 404
    missing = Client().get(f"/portal/cases/{other.pk + 1000}/")
    assert missing.status_code == 404
    assert normalised(anonymous.content.decode()) == normalised(missing.content.decode())
    client = opened(Client(), case)
    assert client.get(f"/portal/cases/{case.pk}/").status_code == 200
    # proof of one case is not proof of another (same phone: the same person, but not proved)
    assert client.get(f"/portal/cases/{other.pk}/").status_code == 404
    # staff logged in to the workbench are not the petitioner either
    staff = Client()
    staff.force_login(world.alice)
    assert staff.get(f"/portal/cases/{case.pk}/").status_code == 404


def test_leave_forgets_the_cases(world: World, register: Any) -> None:
    case = register()
    client = opened(Client(), case)
    assert "退出查询" in client.get(f"/portal/cases/{case.pk}/").content.decode()
    response = client.post("/portal/leave/")
    assert response.status_code == 303 and response["Location"] == "/portal/"
    assert client.get(f"/portal/cases/{case.pk}/").status_code == 404
    assert Client().get("/portal/leave/").status_code == 405


def _account(phone: str) -> Any:
    from django.utils import timezone

    from xinfang.core.crypto import blind_index, encrypt
    from xinfang.portal.models import PHONE_CONTEXT, PHONE_PURPOSE, PortalAccount

    return PortalAccount.objects.create(
        phone_enc=encrypt(phone, context=PHONE_CONTEXT),
        phone_bidx=blind_index(PHONE_PURPOSE, phone),
        password="!",
        created_at=timezone.now(),
    )


def _logged_in(account: Any) -> Client:
    from xinfang.portal.services import SESSION_ACCOUNT

    client = Client()
    session = client.session
    session[SESSION_ACCOUNT] = {"id": account.pk, "epoch": account.session_epoch}
    session.save()
    return client


def test_account_sees_own_cases_without_the_code(world: World, register: Any) -> None:
    from django.utils import timezone

    from xinfang.portal.models import PortalSubmission
    from xinfang.portal.tracking import account_may_see

    mine = _account("138 1234 5678")  # made before the case: a phone match links it
    stranger = _account("13700000000")
    case = register()  # 张三's phone
    assert account_may_see(mine, case) and not account_may_see(stranger, case)
    assert _logged_in(mine).get(f"/portal/cases/{case.pk}/").status_code == 200
    assert _logged_in(stranger).get(f"/portal/cases/{case.pk}/").status_code == 404
    # a case the account submitted, whatever phone was typed in it
    PortalSubmission.objects.create(
        case=case, account=stranger, submitted_at=timezone.now(), consent_version="2026-11"
    )
    assert _logged_in(stranger).get(f"/portal/cases/{case.pk}/").status_code == 200
    assert not account_may_see(None, case)


def test_merged_away_case_is_tracked_and_names_the_other_number(
    world: World, register: Any
) -> None:
    from xinfang.cases.handling import case_merge

    survivor = register(idempotency_key="k1", summary="幸存事项的具体内容描述")
    duplicate = register(idempotency_key="k2")
    case_merge(case=duplicate, by=world.alice, into=survivor)
    client = opened(Client(), Case.objects.get(pk=duplicate.pk))
    html = client.get(f"/portal/cases/{duplicate.pk}/").content.decode()
    assert "合并办理" in html and survivor.number in html
    assert "幸存事项的具体内容描述" not in html
    assert 'href="/portal/track/"' in html  # the other case needs its own code
    assert client.get(f"/portal/cases/{survivor.pk}/").status_code == 404


def test_account_check_uses_the_accounts_rule(world: World, register: Any) -> None:
    """``tracking.account_may_see`` is ``portal.accounts.account_may_see``: a signer's phone."""
    from xinfang.portal.tracking import account_may_see

    mine, stranger = _account("138-1234-5678"), _account("13700000000")
    case = register()
    assert account_may_see(mine, case)
    assert not account_may_see(stranger, case)
    assert not account_may_see(None, case)


@pytest.mark.parametrize(
    ("code", "secret"),
    [("\x00ABCD2345", "\x00138"), ("😀𠀀" * 40, "𪚥" * 100), ("ABCD2345EF", "1" * 5000)],
)
def test_odd_input_is_the_uniform_failure(world: World, code: str, secret: str) -> None:
    response = track(Client(), code, secret)
    assert response.status_code == 200
    assert FAILED in response.content.decode()
