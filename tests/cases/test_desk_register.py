"""The reception desk at registration (xinfang.cases.desk): known persons, 终结 → 告知,
分类接待, collective visits with ≤5 ticked representatives, 首问 hand-over, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.conftest import VALID_ID, World, make_user, register_form, registration, serve_reply
from xinfang.cases import desk
from xinfang.cases import services as S
from xinfang.cases.models import (
    Case,
    CaseEvent,
    Category,
    PetitionerRole,
    Purpose,
    Status,
)
from xinfang.cases.registration import case_register
from xinfang.cases.signals import desk_case_registered
from xinfang.cases.transitions import PUBLIC_EVENT_KINDS
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.org import roles as R
from xinfang.people.models import Petitioner
from xinfang.people.services import PetitionerInput

OPINION = "经复核，维持复查意见，本事项终结。"


def final_case(world: World, category_id: int | None) -> Case:
    case = case_register(
        by=world.rita, office=world.office, reg=registration(category_id=category_id)
    )
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    serve_reply(world, case)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，请求复查")
    S.case_decide_review(case=case, by=world.alice, text="经复查，维持原答复意见，理由如下。")
    S.case_request_rereview(case=case, by=world.rita, reason="对复查意见不服")
    S.case_decide_rereview(case=case, by=world.alice, text=OPINION)
    case.refresh_from_db()
    assert case.status == Status.FINAL
    return case


def category() -> int:
    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    return cat.pk


def person_of(case: Case) -> Petitioner:
    return case.parties.get(order=0).petitioner


def no_people_form(key: str, **fields: Any) -> dict[str, Any]:
    """The registration POST with one empty person row (known persons only)."""
    data = register_form(key, **fields)
    data["p-0-name"] = ""
    return data


# --- known persons ------------------------------------------------------------------------


def test_register_from_a_known_person_without_retyping(world: World, register: Any) -> None:
    first = register()
    person = person_of(first)
    again = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(petitioners=[], known_petitioner_ids=[person.pk], related_to_id=first.pk),
    )
    assert list(again.parties.values_list("petitioner_id", flat=True)) == [person.pk]
    assert again.is_repeat and again.related_to_id == first.pk


def test_a_known_person_out_of_sight_is_refused(world: World) -> None:
    stranger = Petitioner.objects.create(name="路人")
    with pytest.raises(DomainError) as err:
        case_register(
            by=world.rita,
            office=world.office,
            reg=registration(petitioners=[], known_petitioner_ids=[stranger.pk]),
        )
    assert err.value.message == "信访人不存在或不在您的权限范围内"
    assert not Case.objects.exists()


def test_prefilled_form_shows_masked_cards_and_registers(
    world: World, register: Any, client: Any
) -> None:
    first = register()
    person = person_of(first)
    client.force_login(world.rita)
    url = reverse("case_register") + f"?person={person.pk}&related={first.pk}&channel=visit"
    page = client.get(url).content.decode()
    assert f'name="known_person" value="{person.pk}"' in page
    assert person.id_masked in page and VALID_ID not in page
    assert first.number in page and 'name="related"' in page
    response = client.post(
        reverse("case_register"),
        no_people_form("k-known", known_person=str(person.pk), related=str(first.pk)),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.exclude(pk=first.pk).get()
    assert case.related_to_id == first.pk and case.is_repeat
    assert list(case.parties.values_list("petitioner_id", flat=True)) == [person.pk]


def test_invisible_known_person_keeps_the_form(world: World, client: Any) -> None:
    stranger = Petitioner.objects.create(name="路人")
    client.force_login(world.rita)
    page = client.post(
        reverse("case_register"),
        register_form("k-x", known_person=str(stranger.pk), summary="我写的摘要"),
    ).content.decode()
    assert "信访人不存在或不在您的权限范围内" in page
    assert "我写的摘要" in page and not Case.objects.exists()


def test_desk_signal_sent_once_with_visit_and_booking(world: World, client: Any) -> None:
    got: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        got.append(kwargs)

    desk_case_registered.connect(receiver, weak=False)
    try:
        client.force_login(world.rita)
        data = register_form("k-visit", visit="12", booking="34")
        assert client.post(reverse("case_register"), data).status_code == 302
        assert client.post(reverse("case_register"), data).status_code == 302  # replay
        assert client.post(reverse("case_register"), register_form("k-2")).status_code == 302
        booking_only = register_form("k-3", booking="7")
        assert client.post(reverse("case_register"), booking_only).status_code == 302
    finally:
        desk_case_registered.disconnect(receiver)
    assert len(got) == 2
    assert got[1]["visit_id"] is None and got[1]["booking_id"] == 7
    assert got[0]["visit_id"] == 12 and got[0]["booking_id"] == 34
    assert got[0]["by"] == world.rita
    assert got[0]["case"].pk == Case.objects.get(idempotency_key="k-visit").pk


# --- 终结 → 告知 -----------------------------------------------------------------------------


def test_repeat_of_final_matter_is_registered_and_informed(world: World) -> None:
    final = final_case(world, category())
    case = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(category_id=final.category_id, final_inform=True),
    )
    case.refresh_from_db()
    assert case.status == Status.INFORMED and case.related_to_id == final.pk
    kinds = list(case.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["register", "final_repeat", "inform"]
    inform = case.events.get(kind="inform")
    assert final.number in inform.text and OPINION in inform.text
    assert "inform" in PUBLIC_EVENT_KINDS and "final_override" not in PUBLIC_EVENT_KINDS


def test_clerk_override_registers_as_new_matter(world: World) -> None:
    final = final_case(world, category())
    case = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(category_id=final.category_id, final_inform=False),
    )
    assert case.status == Status.REGISTERED
    ev = case.events.get(kind="final_override")
    assert ev.data["final_case_id"] == final.pk and final.number in ev.text


def test_without_a_choice_only_flagged(world: World) -> None:
    final = final_case(world, category())
    case = case_register(
        by=world.rita, office=world.office, reg=registration(category_id=final.category_id)
    )
    assert case.status == Status.REGISTERED and case.events.filter(kind="final_repeat").exists()


def test_panel_shows_final_guidance_with_the_opinion(world: World, client: Any) -> None:
    final = final_case(world, category())
    person = person_of(final)
    client.force_login(world.rita)
    url = reverse("case_register_desk_panel")
    html = client.post(url, {"known_person": str(person.pk), "related": str(final.pk)}).content
    page = html.decode()
    assert "已终结，不再受理" in page and OPINION in page
    assert 'name="final_inform"' in page and "checked" in page
    # The clerk unticked it: the re-rendered panel keeps it unticked.
    page = client.post(
        url, {"known_person": str(person.pk), "related": str(final.pk), "final_seen": final.pk}
    ).content.decode()
    assert 'id="id_final_inform" value="on" >' in page
    # By typed ID number, no related case, no category: shown, but not ticked by default.
    page = client.post(url, {"p-0-id_number": VALID_ID}).content.decode()
    assert final.number in page and "尚未确认是同一事项" in page
    assert 'value="on" >' in page
    page = client.post(
        url, {"p-0-id_number": VALID_ID, "category": str(final.category_id)}
    ).content.decode()
    assert 'value="on" checked>' in page
    # Someone who registers nothing sees no panel.
    client.force_login(world.leo)
    assert client.post(url, {"related": str(final.pk)}).status_code == 404


def test_form_post_informs_and_related_is_the_final_case(world: World, client: Any) -> None:
    final = final_case(world, category())
    person = person_of(final)
    client.force_login(world.rita)
    response = client.post(
        reverse("case_register"),
        no_people_form(
            "k-final", known_person=str(person.pk), final_seen=str(final.pk), final_inform="on"
        ),
    )
    assert response.status_code == 302
    case = Case.objects.exclude(pk=final.pk).get()
    assert case.status == Status.INFORMED and case.related_to_id == final.pk
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "告知（不予受理）" in page and "已终结事项再次信访" in page


# --- 分类接待 ---------------------------------------------------------------------------------


def test_desk_purpose_visitor_type_and_counselling(world: World, client: Any) -> None:
    client.force_login(world.rita)
    page = client.get(reverse("case_register")).content.decode()
    assert "desk-guidance-data" in page and '"not_ours"' in page
    assert 'name="desk_purpose"' in page and 'name="visitor_type"' in page
    # Referral ticked without a note: refused, what was typed kept.
    data = register_form(
        "k-psych",
        desk_purpose="agitated_mind",
        visitor_type="agitated",
        psych_referral="on",
        summary="情绪激动反映邻里纠纷",
    )
    page = client.post(reverse("case_register"), data).content.decode()
    assert "请填写转介心理疏导的情况说明" in page and "情绪激动反映邻里纠纷" in page
    data["psych_note"] = "来访人情绪偏激，建议社区心理服务站疏导"
    assert client.post(reverse("case_register"), data).status_code == 302
    case = Case.objects.get()
    assert case.desk_purpose == "agitated_mind" and case.visitor_type == "agitated"
    ev = case.events.get(kind="psych_referral")
    assert "心理服务站" in ev.text and "psych_referral" not in PUBLIC_EVENT_KINDS


def test_bad_desk_choices_are_refused(world: World) -> None:
    with pytest.raises(DomainError) as err:
        case_register(by=world.rita, office=world.office, reg=registration(desk_purpose="x"))
    assert err.value.field == "desk_purpose"
    with pytest.raises(DomainError) as err:
        case_register(by=world.rita, office=world.office, reg=registration(visitor_type="x"))
    assert err.value.field == "visitor_type"


def test_purpose_map_matches_the_seed_rules() -> None:
    assert desk.PURPOSE_MAP["accuse_official"] == Purpose.ACCUSATION
    assert desk.PURPOSE_MAP["suggestion"] == Purpose.SUGGESTION
    assert {desk.PURPOSE_MAP[k] for k in ("hardship", "vent", "agitated_mind", "not_ours")} == {
        Purpose.APPEAL
    }
    data = desk.guidance_data()
    assert set(data["purpose"]) == set(desk.PURPOSE_GUIDANCE)
    assert data["visitor"]["collective"]["label"] == "集体访"


def test_refer_counselling_later_from_the_case_page(world: World, register: Any, client) -> None:  # type: ignore[no-untyped-def]
    case = register()
    with pytest.raises(PermissionDenied):
        desk.case_refer_counselling(case=case, by=world.hank, note="转介")
    with pytest.raises(DomainError):
        desk.case_refer_counselling(case=case, by=world.rita, note=" ")
    client.force_login(world.rita)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "转介心理疏导" in page and "当前接待责任人" in page
    page = client.post(reverse("case_counselling", args=[case.pk]), {"note": "x"}).content
    assert "请填写转介心理疏导的情况说明" in page.decode()
    r = client.post(reverse("case_counselling", args=[case.pk]), {"note": "请心理专家疏导"})
    assert r.status_code == 302 and case.events.filter(kind="psych_referral").count() == 1


# --- collective visits --------------------------------------------------------------------


def collective_form(key: str, ticks: int, people: int = 7, **fields: Any) -> dict[str, Any]:
    data = register_form(
        key,
        channel="collective_visit",
        headcount=str(people),
        group_name="东湖小区业主",
        summary="集体反映小区停车位问题",
        **fields,
    )
    data["p-TOTAL_FORMS"] = str(people)
    for i in range(people):
        data[f"p-{i}-name"] = f"业主{i + 1}"
        data[f"p-{i}-id_type"] = "resident"
        if i < ticks:
            data[f"p-{i}-rep"] = "on"
    return data


def test_collective_visit_five_ticked_others_present(world: World, client: Any) -> None:
    client.force_login(world.rita)
    assert client.post(reverse("case_register"), collective_form("k-c", 5)).status_code == 302
    case = Case.objects.get()
    roles = list(case.parties.order_by("order").values_list("role", flat=True))
    assert roles.count(PetitionerRole.REPRESENTATIVE) == 5
    assert roles.count(PetitionerRole.PARTICIPANT) == 2
    assert case.headcount == 7 and case.is_collective and case.group is not None
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert page.count("<td>代表</td>") == 5 and page.count("<td>在场人员</td>") == 2


def test_a_sixth_representative_is_refused_and_the_form_kept(world: World, client: Any) -> None:
    client.force_login(world.rita)
    page = client.post(reverse("case_register"), collective_form("k-6", 6)).content.decode()
    assert "集体访最多登记5名代表（当前6名），其余人员计入人数即可" in page
    assert "业主7" in page and not Case.objects.exists()


def test_headcount_counts_everyone_entered(world: World) -> None:
    people = [PetitionerInput(name=f"人{i}") for i in range(3)]
    case = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(
            petitioners=[],
            representatives=people[:1],
            participants=people[1:],
            headcount=1,
        ),
    )
    assert case.headcount == 3


# --- 首问负责 hand-over --------------------------------------------------------------------


def test_hand_over_to_a_colleague_and_to_a_unit(world: World, register: Any) -> None:
    case = register()
    assert desk.desk_owner(case) == world.rita
    with pytest.raises(DomainError) as err:
        desk.case_hand_over(case=case, by=world.rita, to_user=world.alice, reason=" ")
    assert err.value.message == "请填写移交原因"
    with pytest.raises(DomainError) as err:
        desk.case_hand_over(case=case, by=world.rita, to_user=world.hank, reason="换人")
    assert err.value.field == "to_user"
    with pytest.raises(PermissionDenied):
        desk.case_hand_over(case=case, by=world.hank, to_user=world.alice, reason="换人")
    ev = desk.case_hand_over(case=case, by=world.rita, to_user=world.alice, reason="午休换班")
    case.refresh_from_db()
    assert case.desk_owner == world.alice and desk.desk_owner(case) == world.alice
    assert ev.kind == "handover" and "午休换班" in ev.text and ev.data["to_user"] == world.alice.pk
    ev = desk.case_hand_over(case=case, by=world.alice, to_unit=world.street, reason="属街道管辖")
    assert ev.data["to_unit"] == world.street.pk
    case.refresh_from_db()
    assert case.desk_owner == world.alice and case.status == Status.REGISTERED
    assert "handover" not in PUBLIC_EVENT_KINDS


def test_hand_over_form_on_the_case_page(world: World, register: Any, client: Any) -> None:
    case = register()
    client.force_login(world.rita)
    url = reverse("case_handover", args=[case.pk])
    page = client.post(url, {"to_user": world.alice.pk, "reason": ""}).content.decode()
    assert "请填写移交原因" in page
    assert client.post(url, {"to_user": world.alice.pk, "reason": "换班"}).status_code == 302
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "首问移交" in page and "换班" in page
    # A resent form (double click): recorded once.
    data = {"to_unit": world.street.pk, "reason": "属街道管辖", "idempotency_key": "0f" * 16}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert case.events.filter(kind="handover", data__to_unit=world.street.pk).count() == 1
    client.force_login(world.bob)  # another unit: the case does not exist for them
    assert client.post(url, {"to_user": world.alice.pk, "reason": "x"}).status_code == 404


def test_desk_api(world: World, register: Any) -> None:
    from tests.api.conftest import token_client

    case = register()
    api = token_client(world.rita)
    r = api.post(f"/cases/{case.pk}/handover", {"reason": "换班", "to_user_id": world.alice.pk})
    assert r.status_code == 200, r.content
    assert r.json()["event"]["kind"] == "handover"
    r = api.post(f"/cases/{case.pk}/handover", {"reason": "", "to_user_id": world.rita.pk})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = api.post(f"/cases/{case.pk}/counselling", {"note": "请心理专家疏导"})
    assert r.status_code == 200 and r.json()["event"]["kind"] == "psych_referral"
    assert (
        token_client(world.bob).post(f"/cases/{case.pk}/counselling", {"note": "x"}).status_code
        == 404
    )
    r = api.post(f"/cases/{case.pk}/handover", {"reason": "x", "to_user_id": 2**62})
    assert r.status_code == 400


# --- bad input ----------------------------------------------------------------------------


def test_full_width_digits_plus86_phone_and_middle_dot_names(world: World) -> None:
    wide = "１１０１０５１９９００１０１０１０９"
    case = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(
            petitioners=[
                PetitionerInput(name="阿依古丽·买买提", id_number=wide, phone="+86 138 1234 5678")
            ]
        ),
    )
    p = person_of(case)
    assert p.name == "阿依古丽·买买提"
    assert p.id_number == "110105199001010109"
    assert p.phone == "13812345678"
    # The same person typed with half-width digits is the same petitioner.
    again = case_register(
        by=world.rita,
        office=world.office,
        reg=registration(
            petitioners=[PetitionerInput(name="阿依古丽·买买提", id_number="110105199001010109")]
        ),
    )
    assert person_of(again).pk == p.pk


def test_other_office_clerk_cannot_use_a_person_they_cannot_see(world: World, register) -> None:  # type: ignore[no-untyped-def]
    first = register()
    other = make_user("sue", world.street, R.RECEPTIONIST)
    with pytest.raises(DomainError):
        case_register(
            by=other,
            office=world.street,
            reg=registration(petitioners=[], known_petitioner_ids=[person_of(first).pk]),
        )
    assert CaseEvent.objects.filter(kind="register").count() == 1


def test_api_registration_with_desk_fields(world: World) -> None:
    from tests.api.conftest import registration_body, token_client

    final = final_case(world, category())
    person = person_of(final)
    api = token_client(world.rita)
    body = registration_body(
        world,
        petitioners=[],
        known_petitioner_ids=[person.pk],
        related_to_id=final.pk,
        desk_purpose="hardship",
        visitor_type="repeat",
        final_inform=True,
    )
    r = api.post("/cases", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["status"]["code"] == "informed"
    assert out["desk_purpose"]["code"] == "hardship" and out["visitor_type"]["label"] == "重复访"
    assert out["desk_owner"] == "芮塔"
    stranger = Petitioner.objects.create(name="路人")
    r = api.post("/cases", registration_body(world, known_petitioner_ids=[stranger.pk]))
    assert r.status_code == 400 and "权限范围" in r.json()["detail"]
    r = api.post("/cases", registration_body(world, desk_purpose="nonsense"))
    assert r.status_code == 400 and r.json()["field"] == "desk_purpose"


def test_untick_survives_a_form_error(world: World, client: Any) -> None:
    final = final_case(world, category())
    person = person_of(final)
    client.force_login(world.rita)
    # The form came back with an error after the clerk unticked: the panel keeps it unticked.
    page = client.post(
        reverse("case_register"),
        no_people_form("k-err", known_person=str(person.pk), final_seen=str(final.pk), summary=""),
    ).content.decode()
    assert "final_seen_prev" in page
    html = client.post(
        reverse("case_register_desk_panel"),
        {"related": str(final.pk), "final_seen_prev": str(final.pk), "final_inform_prev": ""},
    ).content.decode()
    assert 'id="id_final_inform" value="on" >' in html


def test_register_page_shows_the_final_matter_without_javascript(world: World, client: Any) -> None:
    """The 口径一致 panel is rendered with the page for a known person: the 已终结 guidance and
    the ticked 告知 choice are part of the form as served, so a browser without JavaScript
    posts them back and the repeat is informed."""
    final = final_case(world, category())
    person = person_of(final)
    client.force_login(world.rita)
    page = client.get(
        reverse("case_register") + f"?person={person.pk}&related={final.pk}"
    ).content.decode()
    panel = page[page.index('id="desk-panel"') :]
    assert "已终结，不再受理" in panel and OPINION in panel
    assert 'value="on" checked>' in panel and f'name="final_seen" value="{final.pk}"' in panel
    # A form error (no summary) re-renders the panel from what was posted, the choice kept.
    data = no_people_form(
        "k-nojs", known_person=str(person.pk), related=str(final.pk), final_seen=str(final.pk)
    )
    data["summary"] = ""
    page = client.post(reverse("case_register"), data).content.decode()
    panel = page[page.index('id="desk-panel"') :]
    assert "已终结，不再受理" in panel and 'id="id_final_inform" value="on" >' in panel
