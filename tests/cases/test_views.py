"""Staff UI views: who may and who may not, and what a person sees."""

import pytest
from django.urls import reverse

from tests.conftest import register_form
from xinfang.cases import services as S
from xinfang.cases.models import Case, Status


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", ["home", "case_list", "case_register"])
def test_anonymous_is_sent_to_login(client, world, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_case_detail_permission_matrix(client, world, register):
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    url = reverse("case_detail", args=[case.pk])
    expected = {
        "alice": 200,
        "rita": 200,
        "hank": 200,
        "uma": 200,
        "leo": 200,
        "bob": 404,
        "sam": 404,
    }
    for username, status in expected.items():
        client.logout()
        login(client, getattr(world, username))
        assert client.get(url).status_code == status, username
    client.logout()
    assert client.get(url).status_code == 302


def test_list_does_not_leak_other_units(client, world, register):
    case = register(summary="西山街道看不到的事项")
    login(client, world.bob)
    page = client.get(reverse("case_list"), {"q": "看不到"}).content.decode()
    assert case.number not in page
    assert "共 0 件" in page
    client.logout()
    login(client, world.alice)
    page = client.get(reverse("case_list"), {"q": "看不到"}).content.decode()
    assert case.number in page and "共 1 件" in page


def test_list_masks_phone(client, world, register):
    register()
    login(client, world.alice)
    page = client.get(reverse("case_list")).content.decode()
    assert "138****5678" in page
    assert "13812345678" not in page


def test_action_by_other_unit_is_404(client, world, register):
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    login(client, world.bob)
    response = client.post(reverse("case_act", args=[case.pk, "sign_in"]))
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == Status.ASSIGNED


def test_action_wrong_role_shows_chinese_error(client, world, register):
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    login(client, world.leo)  # sees the case, may not sign it in for the unit
    response = client.post(reverse("case_act", args=[case.pk, "sign_in"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "您没有权限执行「签收」" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.ASSIGNED


def test_route_via_ui_and_stale_second_click(client, world, register):
    case = register()
    login(client, world.alice)
    url = reverse("case_act", args=[case.pk, "assign"])
    data = {"a_assign-unit": world.street.pk, "a_assign-note": "请依法办理"}
    assert client.post(url, data).status_code == 200
    assert Case.objects.get(pk=case.pk).status == Status.ASSIGNED
    second = client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "不能执行「交办」" in second


def test_register_form_keeps_input_on_bad_id(client, world):
    login(client, world.rita)
    data = register_form(
        "k1",
        **{"p-0-name": "李四", "p-0-id_number": "110105194912310021", "p-0-phone": "13900001111"},
    )
    page = client.post(reverse("case_register"), data).content.decode()
    assert "第18位校验码应为X" in page
    assert "反映拖欠工资" in page and "13900001111" in page
    assert Case.objects.count() == 0
    data["p-0-id_number"] = "11010519491231002X"
    response = client.post(reverse("case_register"), data)
    assert response.status_code == 302
    again = client.post(reverse("case_register"), data)  # double submit
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert Case.objects.count() == 1


def test_register_refuses_bad_attachment(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, world.rita)
    data = register_form(
        "k2",
        channel="letter",
        purpose="suggestion",
        summary="建议增设公交线路",
        attachments=SimpleUploadedFile("virus.exe", b"MZ\x90\x00", "application/octet-stream"),
        **{"p-0-name": "王五"},
    )
    page = client.post(reverse("case_register"), data).content.decode()
    assert "类型不允许上传" in page and "建议增设公交线路" in page
    data["attachments"] = SimpleUploadedFile("fake.pdf", b"MZ\x90\x00", "application/pdf")
    page = client.post(reverse("case_register"), data).content.decode()
    assert "内容与扩展名.pdf不符" in page
    assert Case.objects.count() == 0


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"]["ok"] is True


def test_sysadmin_cannot_register(client, world):
    login(client, world.sam)
    assert client.get(reverse("case_register")).status_code == 404


def test_register_refuses_too_large_attachment_and_keeps_form(client, world, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    settings.ATTACHMENT_MAX_BYTES = 2048
    login(client, world.rita)
    data = register_form(
        "k3",
        channel="letter",
        purpose="suggestion",
        summary="建议修缮社区道路",
        attachments=SimpleUploadedFile("scan.pdf", b"%PDF-1.4" + b"0" * 4096, "application/pdf"),
        **{"p-0-name": "赵六"},
    )
    page = client.post(reverse("case_register"), data).content.decode()
    assert "超过上限2KB" in page and "建议修缮社区道路" in page
    assert Case.objects.count() == 0
    data["attachments"] = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 small", "application/pdf")
    assert client.post(reverse("case_register"), data).status_code == 302
    case = Case.objects.get()
    assert case.attachments.get().original_name == "scan.pdf"
    assert case.events.filter(kind="attachment").exists()


def test_register_place_picker_fills_place_name(client, world):
    login(client, world.rita)
    page = client.get(reverse("case_register")).content.decode()
    assert "东湖街道（110105001）" in page  # the office's jurisdiction is offered
    data = register_form(
        "k4",
        channel="phone",
        summary="反映噪音扰民",
        place_code="110105001",
        place_name="",
        **{"p-0-name": "钱七"},
    )
    assert client.post(reverse("case_register"), data).status_code == 302
    assert Case.objects.get().place_name == "东湖街道"


def test_category_filter_includes_subcategories(client, world, register):
    from xinfang.cases.models import Category

    leaf = Category.objects.filter(level=3).select_related("parent__parent").first()
    assert leaf is not None and leaf.parent is not None and leaf.parent.parent is not None
    inside = register(category_id=leaf.pk, summary="分类内的事项")
    outside = register(summary="未分类的事项")
    login(client, world.alice)
    page = client.get(reverse("case_list"), {"category": leaf.parent.parent.pk}).content.decode()
    assert inside.number in page and outside.number not in page


def test_note_is_a_new_event_and_needs_a_post(client, world, register):
    case = register()
    login(client, world.leo)  # sees the case, holds no post in its units
    client.post(reverse("case_note", args=[case.pk]), {"text": "领导关注"})
    assert not case.events.filter(kind="note").exists()
    client.logout()
    login(client, world.rita)
    page = client.post(reverse("case_note", args=[case.pk]), {"text": "信访人补充了联系电话"})
    assert "信访人补充了联系电话" in page.content.decode()
    assert case.events.filter(kind="note", actor=world.rita).count() == 1
    client.logout()
    login(client, world.bob)
    assert client.post(reverse("case_note", args=[case.pk]), {"text": "x"}).status_code == 404


def test_action_that_takes_the_case_out_of_view_goes_back_to_the_list(client, world, register):
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    login(client, world.hank)
    url = reverse("case_act", args=[case.pk, "return"])
    plain = client.post(url, {"a_return-reason": "不属于本街道职责范围"})
    assert plain.status_code == 302 and plain["Location"] == reverse("case_list")
    case.refresh_from_db()
    assert case.status == Status.RETURNED
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    htmx = client.post(url, {"a_return-reason": "仍不属于本街道"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == reverse("case_list")
