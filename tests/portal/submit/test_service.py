"""``portal.submission``: the checks, the pending step, the confirmation (one case however
often and however concurrently it is sent), the SMS after the commit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import VALID_ID
from tests.portal.submit.conftest import PHONE
from tests.threads import in_threads, needs_server_db
from xinfang.cases.models import Case, CaseEvent
from xinfang.notify.models import OutboundMessage
from xinfang.portal import services
from xinfang.portal import submission as S
from xinfang.portal.models import PendingSubmission, PortalSubmission

SESSION = "s" * 64


def _sub(**overrides: Any) -> S.Submission:
    values: dict[str, Any] = {
        "principal": S.Signer(name="张三", id_number=VALID_ID, phone=PHONE, address="幸福路1号"),
        "purpose": "appeal",
        "summary": "反映物业费上涨",
        "content": "物业公司未经业主大会同意上调物业费。",
        "consent": True,
    }
    values.update(overrides)
    return S.normalised(S.Submission(**values))


def _pending(**overrides: Any) -> PendingSubmission:
    sub = _sub(**overrides)
    assert S.submission_errors(sub) == {}
    return S.pending_create(session=SESSION, sub=sub, files=[])


def test_errors_are_all_reported_at_once(world: Any) -> None:
    sub = _sub(
        principal=S.Signer(name="", id_number="110105194912310021", phone="123"),
        purpose="",
        summary="",
        content="",
        consent=False,
        cosigners=[S.Signer(name="", phone="1")],
    )
    errors = S.submission_errors(sub)
    assert set(errors) >= {
        "name",
        "id_number",
        "phone",
        "purpose",
        "summary",
        "content",
        "consent",
        "cosigners.0.name",
        "cosigners.0.phone",
    }
    assert "第18位" in errors["id_number"]


def test_principal_needs_id_and_phone_cosigners_do_not(world: Any) -> None:
    errors = S.submission_errors(_sub(principal=S.Signer(name="张三")))
    assert "id_number" in errors and "phone" in errors
    ok = _sub(cosigners=[S.Signer(name="李四")])
    assert S.submission_errors(ok) == {}


def test_hmt_permit_and_other_ids_use_the_desk_validation(world: Any) -> None:
    bad = _sub(
        principal=S.Signer(name="陈大文", id_type="hmt_permit", id_number="H123", phone=PHONE)
    )
    assert "id_number" in S.submission_errors(bad)
    other = _sub(
        principal=S.Signer(name="John", id_type="other", id_number="E1234567", phone=PHONE)
    )
    assert S.submission_errors(other) == {}
    assert "id_type" in S.submission_errors(
        _sub(principal=S.Signer(name="某", id_type="passport", id_number="E1", phone=PHONE))
    )


def test_six_signers_refused(world: Any) -> None:
    sub = _sub(cosigners=[S.Signer(name=f"联名人{i}") for i in range(5)])
    assert S.submission_errors(sub)["cosigners"] == S.SIGNERS_MESSAGE
    assert "cosigners" not in S.submission_errors(_sub(cosigners=sub.cosigners[:4]))


def test_place_must_be_in_the_jurisdiction(world: Any) -> None:
    assert "place_code" in S.submission_errors(_sub(place_code="440300"))
    codes = dict(S.place_choices())
    assert "110105" in codes and "110105001" in codes


def test_category_groups_cover_the_tree(world: Any) -> None:
    from xinfang.cases.models import Category

    groups = S.category_groups()
    values = {int(v) for _, options in groups for v, _ in options}
    assert values == set(Category.objects.filter(is_active=True).values_list("pk", flat=True))
    assert all(options[0][1].endswith("（其他）") for _, options in groups)


def test_payload_is_encrypted_and_round_trips(world: Any) -> None:
    pending = _pending(summary="反映𠀀问题")
    assert "反映" not in pending.payload_enc and VALID_ID not in pending.payload_enc
    assert S.pending_submission(pending).summary == "反映𠀀问题"


def test_other_session_cannot_confirm(world: Any) -> None:
    pending = _pending()
    with pytest.raises(S.PendingNotFound):
        S.pending_confirm("x" * 64, pending.token, ip="10.0.0.1")
    assert not Case.objects.exists()


def test_confirm_registers_once(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    pending = _pending()
    with django_capture_on_commit_callbacks(execute=True):
        case = S.pending_confirm(SESSION, pending.token, ip="10.0.0.1")
    assert S.pending_confirm(SESSION, pending.token, ip="10.0.0.1") == case
    assert Case.objects.count() == 1 and PortalSubmission.objects.count() == 1
    assert case.idempotency_key == f"portal:{pending.token}"
    assert case.office_unit == services.portal_office() and case.channel == "online"
    event = CaseEvent.objects.get(case=case, kind="register")
    assert event.actor == services.portal_user()
    # the SMS went out after the commit, by nobody (the portal itself)
    message = OutboundMessage.objects.get(case=case)
    assert message.channel == "sms" and message.created_by is None
    assert "查询码" + case.query_code in message.body
    assert CaseEvent.objects.get(case=case, kind="petitioner_message").actor is None


def test_sms_failure_does_not_undo_the_case(
    world: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    import xinfang.notify.petitioner as petitioner

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("SMS gateway down")

    monkeypatch.setattr(petitioner, "send_to_petitioner", broken)
    pending = _pending()
    with django_capture_on_commit_callbacks(execute=True):
        case = S.pending_confirm(SESSION, pending.token, ip="10.0.0.1")
    assert Case.objects.filter(pk=case.pk).exists()
    assert "submission SMS" in caplog.text


def test_expired_pending_is_refused_and_purged(world: Any, settings: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    pending = _pending()
    folder = settings.MEDIA_ROOT / "portal_pending" / pending.token
    folder.mkdir(parents=True)
    PendingSubmission.objects.filter(pk=pending.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(S.PendingExpired):
        S.pending_confirm(SESSION, pending.token, ip="10.0.0.1")
    S.pending_purge()
    pending.refresh_from_db()
    assert pending.payload_enc == "" and not folder.exists()
    S.pending_purge(timezone.now() + dt.timedelta(days=2))
    assert not PendingSubmission.objects.exists()


def test_rate_limits_count_confirmations(world: Any, settings: Any) -> None:
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES, portal_submit_ip="2/1h")
    tokens = [_pending().token for _ in range(3)]
    S.pending_confirm(SESSION, tokens[0], ip="10.0.0.9")
    S.pending_confirm(SESSION, tokens[1], ip="10.0.0.9")
    with pytest.raises(S.RateLimited) as exc:
        S.pending_confirm(SESSION, tokens[2], ip="10.0.0.9")
    assert exc.value.retry_after > 0
    assert S.rate_blocked("10.0.0.9") > 0 and S.rate_blocked("10.0.0.10") == 0
    S.pending_confirm(SESSION, tokens[0], ip="10.0.0.9")  # a retry: not refused
    assert Case.objects.count() == 2


def test_api_submit_is_idempotent_by_client_token(world: Any) -> None:
    case, created = S.api_submit(_sub(), client_token="token-0001", ip="10.0.0.1")
    again, created_again = S.api_submit(_sub(), client_token="token-0001", ip="10.0.0.1")
    assert created and not created_again and again == case
    assert case.idempotency_key == "portal-api:token-0001"
    long_token = "t" * 64
    long_case, _ = S.api_submit(_sub(), client_token=long_token, ip="10.0.0.1")
    assert len(long_case.idempotency_key or "") <= 64
    assert S.api_submit(_sub(), client_token=long_token, ip="10.0.0.1")[0] == long_case


@needs_server_db
@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_give_one_case(world: Any, settings: Any, tmp_path: Any) -> None:
    """Two threads (a double click that reached two workers) confirm at the same moment."""
    pending = _pending()

    def confirm(i: int) -> int:
        return S.pending_confirm(SESSION, pending.token, ip=f"10.0.0.{i}").pk

    results = in_threads(4, confirm)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert Case.objects.count() == 1 and PortalSubmission.objects.count() == 1


@needs_server_db
@pytest.mark.django_db(transaction=True)
def test_concurrent_api_retries_give_one_case(world: Any) -> None:
    def send(i: int) -> tuple[int, bool]:
        case, created = S.api_submit(_sub(), client_token="same-token-42", ip="10.0.0.1")
        return case.pk, created

    results = in_threads(4, send)
    assert all(isinstance(r, tuple) for r in results), results
    assert len({pk for pk, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert Case.objects.count() == 1
