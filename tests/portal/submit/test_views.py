"""The submission pages: form → review → confirm → result, the no-JavaScript paths, the
refusals (6th signer, lying attachment, honeypot, consent, size, rate limits) and who may see
a pending submission (its own browser session only)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import VALID_ID
from tests.portal.submit.conftest import PDF, PHONE, form_data
from xinfang.cases.models import Attachment, Case
from xinfang.notify.models import OutboundMessage
from xinfang.portal import services
from xinfang.portal.models import PendingSubmission, PortalSubmission
from xinfang.portal.submission import SIGNERS_MESSAGE

OTHER_ID = "110101199003070011"


def _token(response: Any) -> str:
    assert response.status_code == 303, response.content.decode()[:2000]
    match = re.fullmatch(r"/portal/submit/([\w-]+)/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def _confirm(client: Client, token: str) -> Any:
    return client.post(f"/portal/submit/{token}/")


def test_form_renders_every_field_with_a_label(client: Client, world: Any) -> None:
    response = client.get("/portal/submit/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    for name in ("name", "id_type", "id_number", "phone", "address", "category", "place_code"):
        assert f'name="{name}"' in html and f'for="id_{name}"' in html
    for name in ("summary", "content", "accused_text", "place_detail", "consent", "attachments"):
        assert f'for="id_{name}"' in html
    # three purposes with a one-line explanation each
    assert html.count('name="purpose"') == 3 and "检举、控告" in html
    # the category picker works without JavaScript: optgroups in one select
    assert "<optgroup" in html
    # places: the jurisdiction's units with division codes
    assert 'value="110105001"' in html and 'value="110105002"' in html
    # honeypot: hidden from people, not from robots
    hp = re.search(
        r'<div class="hp" aria-hidden="true"><label for="id_hp">请勿填写</label>(.*?)</div>', html
    )
    assert hp and 'tabindex="-1"' in hp.group(1) and 'autocomplete="off"' in hp.group(1)
    # one empty co-signer block and the no-JS add button
    assert 'name="c-0-name"' in html and 'name="c-1-name"' not in html
    assert 'name="add_cosigner"' in html and "已选择的附件需要重新选择" in html
    assert 'href="/portal/privacy/"' in html and services.CONSENT_VERSION in html
    assert "<script>" not in html and 'style="' not in html and " onclick=" not in html


def test_happy_path_creates_one_online_case(
    client: Client, world: Any, submit_form: Any, django_capture_on_commit_callbacks: Any
) -> None:
    png = _png()
    response = submit_form(files={"证明.pdf": PDF, "照片.png": png})
    token = _token(response)
    assert Case.objects.count() == 0  # nothing registered before the confirmation
    pending = PendingSubmission.objects.get(token=token)
    assert "张三" not in pending.payload_enc and VALID_ID not in pending.payload_enc
    assert [f["name"] for f in pending.files] == ["证明.pdf", "照片.png"]

    review = client.get(f"/portal/submit/{token}/")
    html = review.content.decode()
    assert review.status_code == 200
    assert "110105********002X" in html and VALID_ID not in html
    assert "138****5678" in html and PHONE not in html
    assert "反映小区物业费上涨问题" in html and "证明.pdf" in html
    assert f'href="/portal/submit/?edit={token}"' in html and "data-once" in html

    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(client, token)
    assert done.status_code == 303 and done["Location"] == f"/portal/submit/{token}/done/"
    case = Case.objects.get()
    assert case.channel == "online"
    assert case.office_unit == services.portal_office()
    assert case.registered_by == services.portal_user()
    assert case.place_code == "110105001" and "幸福小区" in case.place_name
    assert case.parties.get().petitioner.phone == PHONE
    sub = PortalSubmission.objects.get(case=case)
    assert sub.consent_version == services.CONSENT_VERSION and sub.account is None
    assert sorted(Attachment.objects.filter(case=case).values_list("original_name", flat=True)) == [
        "照片.png",
        "证明.pdf",
    ]
    sms = OutboundMessage.objects.get(case=case, channel="sms")
    assert case.number in sms.body and case.query_code in sms.body
    pending.refresh_from_db()
    assert pending.case == case and pending.payload_enc == ""
    from django.conf import settings

    assert not (settings.MEDIA_ROOT / "portal_pending" / token).exists()

    page = client.get(done["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert case.number in text and case.query_code in text and 'class="pt-code"' in text
    assert "138****5678" in text  # the SMS note
    assert f"/portal/track/?code={case.query_code}" in text
    assert "data-draft-clear" in text
    assert services.granted(page.wsgi_request, case.pk)  # 查看办理进展 works at once


def test_confirm_twice_gives_one_case(client: Client, world: Any, submit_form: Any) -> None:
    token = _token(submit_form())
    first = _confirm(client, token)
    second = _confirm(client, token)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1
    # the review page of a confirmed submission leads to its result
    assert client.get(f"/portal/submit/{token}/")["Location"].endswith("/done/")


def test_another_session_cannot_review_confirm_or_see_the_result(
    client: Client, world: Any, submit_form: Any
) -> None:
    token = _token(submit_form())
    stranger = Client()
    assert stranger.get(f"/portal/submit/{token}/").status_code == 404
    assert stranger.post(f"/portal/submit/{token}/").status_code == 404
    assert Case.objects.count() == 0
    assert _confirm(client, token).status_code == 303
    assert stranger.get(f"/portal/submit/{token}/done/").status_code == 404
    assert stranger.get(f"/portal/submit/?edit={token}").content.decode().count(VALID_ID) == 0
    assert Client().get("/portal/submit/nonexistent-token/").status_code == 404


def test_expired_review_says_so(client: Client, world: Any, submit_form: Any) -> None:
    import datetime as dt

    token = _token(submit_form())
    PendingSubmission.objects.filter(token=token).update(
        expires_at=_now() - dt.timedelta(minutes=1)
    )
    for response in (client.get(f"/portal/submit/{token}/"), _confirm(client, token)):
        assert response.status_code == 410
        assert (
            "已过期" in response.content.decode()
            and 'href="/portal/submit/"' in response.content.decode()
        )
    assert Case.objects.count() == 0


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def test_sixth_signer_is_refused_with_the_exact_words(
    client: Client, world: Any, submit_form: Any
) -> None:
    rows = {"c-TOTAL_FORMS": "5"}
    for i in range(5):
        rows |= {f"c-{i}-name": f"联名人{i}", f"c-{i}-id_type": "resident"}
    response = submit_form(**rows)
    assert response.status_code == 200
    assert SIGNERS_MESSAGE in response.content.decode()
    assert not PendingSubmission.objects.exists()
    # a crafted form claiming more rows than the page allows: the same answer
    crafted = submit_form(**({"c-TOTAL_FORMS": "500"} | {f"c-{i}-name": "某" for i in range(6)}))
    assert SIGNERS_MESSAGE in crafted.content.decode()
    assert not PendingSubmission.objects.exists()
    # four co-signers are fine: five signers in all, a 联名 case
    ok = {"c-TOTAL_FORMS": "4"} | {f"c-{i}-name": f"联名人{i}" for i in range(4)}
    token = _token(submit_form(**ok))
    _confirm(client, token)
    case = Case.objects.get()
    assert case.is_joint and case.parties.count() == 5


def test_lying_attachment_is_refused_and_nothing_stored(
    client: Client, world: Any, submit_form: Any
) -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
    response = submit_form(files={"证明材料.pdf": exe})
    html = response.content.decode()
    assert response.status_code == 200
    assert "证明材料.pdf" in html and "不允许" in html and "与扩展名.pdf不符" in html
    assert 'id="id_attachments"' in html and 'aria-invalid="true"' in html
    assert "张三" in html  # what was typed is kept
    assert not PendingSubmission.objects.exists()


def test_too_many_files_and_oversized_file(
    client: Client, world: Any, submit_form: Any, settings: Any
) -> None:
    settings.XINFANG_PORTAL_MAX_FILES = 1
    response = submit_form(files={"a.pdf": PDF, "b.pdf": PDF})
    assert "最多上传1个附件" in response.content.decode()
    settings.XINFANG_PORTAL_MAX_FILES = 5
    settings.ATTACHMENT_MAX_BYTES = 1000
    big = submit_form(files={"大文件.pdf": PDF + b"0" * 70_000})
    assert "附件「大文件.pdf」超过大小上限" in big.content.decode()
    assert not PendingSubmission.objects.exists()


def test_body_over_the_limit_is_refused_before_reading(client: Client, world: Any) -> None:
    response = client.post("/portal/submit/", form_data(), CONTENT_LENGTH=str(10**10))
    assert response.status_code == 413
    assert "提交的内容过大" in response.content.decode()
    assert not PendingSubmission.objects.exists()


def test_text_fields_over_the_upload_memory_limit(
    client: Client, world: Any, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = client.post("/portal/submit/", form_data(content="长" * 3000))
    assert response.status_code == 413 and "提交的内容过大" in response.content.decode()


def test_honeypot_creates_nothing(
    client: Client, world: Any, submit_form: Any, caplog: Any
) -> None:
    response = submit_form(hp="http://spam.example/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "提交失败，请稍后重试" in html
    assert not PendingSubmission.objects.exists() and not Case.objects.exists()
    assert "honeypot" in caplog.text


def test_consent_is_required(client: Client, world: Any, submit_form: Any) -> None:
    response = submit_form(consent="")
    html = response.content.decode()
    assert "请阅读并同意《个人信息保护告知》后再提交" in html
    assert 'href="#id_consent"' in html and 'id="id_consent_error"' in html
    assert not PendingSubmission.objects.exists()


def test_errors_are_linked_kept_and_summarised(
    client: Client, world: Any, submit_form: Any
) -> None:
    response = submit_form(id_number="110105194912310021", phone="12345", summary="", purpose="")
    html = response.content.decode()
    assert 'id="pt-errors"' in html and "请修改以下4处内容" in html
    for anchor in ("id_id_number", "id_phone", "id_summary", "id_purpose_0"):
        assert f'href="#{anchor}"' in html
    # the field says it is invalid and points at its message
    assert re.search(r'<input[^>]*name="id_number"[^>]*aria-invalid="true"', html)
    assert re.search(
        r'<input[^>]*aria-describedby="id_id_number_helptext id_id_number_error"', html
    )
    assert "第18位" in html  # the desk's own check-digit message
    assert 'value="110105194912310021"' in html and 'value="张三"' in html  # kept as typed


def test_cosigner_errors_point_at_the_row(client: Client, world: Any, submit_form: Any) -> None:
    response = submit_form(**{"c-TOTAL_FORMS": "2", "c-1-name": "李四", "c-1-id_number": VALID_ID})
    html = response.content.decode()
    assert "与提交人的证件号码相同" in html and 'href="#id_c-1-id_number"' in html


def test_rate_limit_at_confirmation_answers_429(
    client: Client, world: Any, submit_form: Any, settings: Any
) -> None:
    first, second = _token(submit_form()), _token(submit_form())
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES, portal_submit_phone="1/1h")
    assert _confirm(client, first).status_code == 303
    limited = _confirm(client, second)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "提交过于频繁" in limited.content.decode()
    assert Case.objects.count() == 1
    # a retry of the confirmed one is neither refused nor counted
    assert _confirm(client, first).status_code == 303


def test_rate_limited_address_keeps_the_form(
    client: Client, world: Any, submit_form: Any, settings: Any
) -> None:
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES, portal_submit_ip="1/1h")
    _confirm(client, _token(submit_form()))
    response = submit_form(summary="第二件事")
    assert response.status_code == 429 and "提交过于频繁" in response.content.decode()
    assert 'value="第二件事"' in response.content.decode()
    assert PendingSubmission.objects.count() == 1


def test_emoji_and_extension_b_are_kept(client: Client, world: Any, submit_form: Any) -> None:
    rare = "𠀀𪚥😀"
    token = _token(
        submit_form(name=f"张{rare}", summary=f"反映{rare}问题", content=f"具体内容{rare}👨‍👩‍👧")
    )
    assert rare in client.get(f"/portal/submit/{token}/").content.decode()
    _confirm(client, token)
    case = Case.objects.get()
    assert case.summary == f"反映{rare}问题"
    assert case.content == f"具体内容{rare}👨‍👩‍👧"
    assert case.parties.get().petitioner.name == f"张{rare}"


def test_text_over_the_limit_says_the_count(
    client: Client, world: Any, submit_form: Any, settings: Any
) -> None:
    settings.XINFANG_PORTAL_MAX_TEXT = 50
    response = submit_form(content="𠀀" * 61)
    html = response.content.decode()
    assert "具体内容最多50字，当前61字" in html
    too_long = submit_form(summary="字" * 301)
    assert "诉求摘要最多300字，当前301字" in too_long.content.decode()


def test_no_js_add_cosigner_keeps_everything(client: Client, world: Any, submit_form: Any) -> None:
    response = submit_form(
        files={"a.pdf": PDF}, add_cosigner="1", **{"c-0-name": "李四", "c-0-phone": "13900000000"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="c-1-name"' in html and 'name="c-TOTAL_FORMS" value="2"' in html
    assert 'value="李四"' in html and 'value="张三"' in html and 'value="13900000000"' in html
    assert "附件没有上传，提交前请重新选择" in html
    assert 'aria-invalid="true"' not in html  # not validated yet: no error marks
    assert not PendingSubmission.objects.exists()
    # up to four co-signer blocks, then the button is gone
    four = submit_form(add_cosigner="1", **{"c-TOTAL_FORMS": "4"})
    assert (
        'name="c-3-name"' in four.content.decode()
        and 'name="c-4-name"' not in four.content.decode()
    )


def test_back_to_edit_prefills_and_updates_the_same_pending(
    client: Client, world: Any, submit_form: Any
) -> None:
    token = _token(submit_form(files={"a.pdf": PDF, "b.pdf": PDF + b"%b"}))
    form = client.get(f"/portal/submit/?edit={token}").content.decode()
    assert 'value="张三"' in form and f'name="edit" value="{token}"' in form
    assert "保留“a.pdf”" in form and "反映小区物业费上涨问题" in form
    keep = PendingSubmission.objects.get(token=token).files[0]["file"]
    again = client.post("/portal/submit/", form_data(edit=token, summary="改过的摘要", keep=[keep]))
    assert _token(again) == token
    pending = PendingSubmission.objects.get(token=token)
    assert [f["name"] for f in pending.files] == ["a.pdf"]
    _confirm(client, token)
    case = Case.objects.get()
    assert case.summary == "改过的摘要" and case.attachments.count() == 1


def test_accusation_keeps_the_accused_text_other_purposes_drop_it(
    client: Client, world: Any, submit_form: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _confirm(client, _token(submit_form(purpose="suggestion", accused_text="某局某科长")))
    assert Case.objects.get().accused_text == ""
    token = _token(submit_form(purpose="accusation", accused_text="某局某科长"))
    assert "某局某科长" in client.get(f"/portal/submit/{token}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _confirm(client, token)
    case = Case.objects.get(purpose="accusation")
    assert case.accused_text == "某局某科长" and case.is_confidential
    # the SMS names the case by number and code only, so the 检举控告 guard lets it through
    assert OutboundMessage.objects.filter(case=case, channel="sms").exists()


def test_logged_in_account_is_recorded(client: Client, world: Any, submit_form: Any) -> None:
    from django.utils import timezone

    from xinfang.portal.models import PortalAccount

    account = PortalAccount.objects.create(
        phone_enc="x", phone_bidx="b" * 64, password="!", created_at=timezone.now()
    )
    session = client.session
    session[services.SESSION_ACCOUNT] = {"id": account.pk, "epoch": account.session_epoch}
    session.save()
    _confirm(client, _token(submit_form()))
    assert PortalSubmission.objects.get().account == account


@pytest.mark.parametrize("method", ["put", "delete"])
def test_other_methods_are_refused(client: Client, world: Any, method: str) -> None:
    assert getattr(client, method)("/portal/submit/").status_code == 405


def test_csrf_is_checked(world: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/portal/submit/", form_data())
    assert response.status_code == 403
    assert not PendingSubmission.objects.exists()
