"""The portal shell: home, 办事须知 and 个人信息保护告知 — public, never cached, time limits read
from the rule table (no number of it hard-coded), the organ list with public fields only, the
privacy notice's version, and markup that fits the CSP and the heading outline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from xinfang.cases.models import DeadlineKind, DeadlineRule
from xinfang.directory.models import Organ, OrganKind
from xinfang.directory.services import REMEDY_TEXT
from xinfang.portal import services as P

pytestmark = pytest.mark.django_db

PAGES = ["portal:home", "portal:guide", "portal:privacy"]


class Outline(HTMLParser):
    """Headings, inline scripts/styles/handlers, and the text of <main>."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.inline: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        names = {name for name, _ in attrs}
        values = dict(attrs)
        if "style" in names or any(n.startswith("on") for n in names):
            self.inline.append(f"<{tag} {sorted(names)}>")
        if tag == "script" and not values.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        if values.get("id"):
            self.ids.append(str(values["id"]))


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def get(client: Client, name: str) -> Any:
    response = client.get(reverse(name))
    assert response.status_code == 200, name
    return response


def main_text(response: Any) -> str:
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"<[^>]+>", "", main)


# --- who may see the pages: everyone, the same page -----------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_and_staff_see_the_same_public_page(world: World, name: str) -> None:
    anonymous = get(Client(), name)
    staff = Client()
    staff.force_login(world.alice)
    assert get(staff, name).content == anonymous.content  # no staff menu, no staff data
    assert anonymous["Cache-Control"] == "no-store"
    assert '<html lang="zh-CN">' in anonymous.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_pages_answer_get_only(world: World, client: Client, name: str) -> None:
    assert client.post(reverse(name)).status_code == 405


@pytest.mark.parametrize("name", PAGES)
def test_pages_without_a_petition_office_still_render(db: Any, client: Client, name: str) -> None:
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_markup_fits_the_csp_and_the_heading_outline(
    world: World, client: Client, name: str
) -> None:
    page = outline(get(client, name).content.decode())
    assert page.inline == []
    assert page.headings.count(1) == 1 and page.headings[0] == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}"
    assert len(page.ids) == len(set(page.ids)), "duplicate id"


def test_nav_marks_the_current_page(world: World, client: Client) -> None:
    html = get(client, "portal:guide").content.decode()
    assert f'href="{reverse("portal:guide")}" aria-current="page"' in html
    html = get(client, "portal:privacy").content.decode()
    assert f'href="{reverse("portal:privacy")}" aria-current="page"' in html


# --- time limits come from the rule table ----------------------------------------------------


def test_guide_states_the_national_limits_of_the_seeded_rules(world: World, client: Client) -> None:
    text = main_text(get(client, "portal:guide"))
    assert "收到后15日内，转送、交办" in text
    assert "自受理之日起60日内办结" in text
    assert "延长不超过30日" in text
    assert "自收到书面答复之日起30日内请求" in text
    for rule in DeadlineRule.objects.all():  # the table lists every row with its basis
        assert rule.get_kind_display() in text and rule.basis in text


def test_changed_rules_change_every_page_and_no_old_number_is_left(
    world: World, client: Client
) -> None:
    new = {
        DeadlineKind.ROUTE: 11,
        DeadlineKind.ACCEPT: 12,
        DeadlineKind.HANDLE: 45,
        DeadlineKind.EXTENSION: 21,
        DeadlineKind.REVIEW_REQUEST: 22,
        DeadlineKind.REVIEW_DECIDE: 23,
        DeadlineKind.REREVIEW_REQUEST: 24,
        DeadlineKind.REREVIEW_DECIDE: 25,
    }
    for kind, days in new.items():
        DeadlineRule.objects.filter(kind=kind).update(
            days=days, working_days=kind == DeadlineKind.HANDLE, basis=f"本地规定{days}"
        )
    guide = main_text(get(client, "portal:guide"))
    home = main_text(get(client, "portal:home"))
    assert "自受理之日起45个工作日内办结" in guide
    assert "一般在45个工作日内办结" in home
    assert "延长不超过21日" in guide and "最长不超过21日" in home
    assert "收到复核请求之日起25日内" in guide
    for text in (guide, home):
        assert not re.search(r"(?<!\d)(15|60|30)(日|个工作日)", text), "a hard-coded time limit"


def test_a_removed_rule_falls_back_to_the_national_limit(world: World, client: Client) -> None:
    DeadlineRule.objects.filter(kind=DeadlineKind.HANDLE).delete()
    text = main_text(get(client, "portal:guide"))
    assert "自受理之日起60日内办结" in text  # what the deadline module uses too


# --- what belongs elsewhere, and the organ list ---------------------------------------------


def test_guide_explains_the_legal_routes_in_the_directory_wording(
    world: World, client: Client
) -> None:
    text = main_text(get(client, "portal:guide"))
    for kind in (
        OrganKind.COURT,
        OrganKind.ARBITRATION,
        OrganKind.RECONSIDERATION,
        OrganKind.PROCURATORATE,
        OrganKind.DISCIPLINE,
        OrganKind.POLICE,
    ):
        assert REMEDY_TEXT[kind] in text
    for word in ("建议意见", "检举控告", "申诉求决", "如实反映", "缠访闹访", "不超过5人"):
        assert word in text


def test_guide_lists_active_organs_with_public_fields_only(world: World, client: Client) -> None:
    Organ.objects.create(
        name="示范区人民法院",
        kind=OrganKind.COURT,
        unit=None,
        address="示范区法院路8号",
        phone="010-69981200",
        hours="周一至周五 9:00—17:00",
        notes="内部须知ZZ",
        remedy="自定义表述YY",
        website="court.example",
        legal_route=True,
    )
    Organ.objects.create(
        name="东湖街道办事处", kind=OrganKind.STREET, unit=world.street, address="东湖路1号"
    )
    Organ.objects.create(name="已停用的机关", kind=OrganKind.OTHER, is_active=False)
    response = get(client, "portal:guide")
    text = main_text(response)
    for shown in ("示范区人民法院", "示范区法院路8号", "010-69981200", "周一至周五 9:00—17:00"):
        assert shown in text
    assert "东湖街道办事处" in text and "乡镇街道" in text
    for hidden in ("内部须知ZZ", "自定义表述YY", "court.example", "已停用的机关"):
        assert hidden not in text
    organs = response.context["organs"]
    assert {frozenset(o) for o in organs} == {
        frozenset({"name", "kind", "address", "phone", "hours", "kind_label"})
    }
    assert [o["kind"] for o in organs] == [OrganKind.COURT, OrganKind.STREET]  # legal routes first


def test_guide_shows_the_office_contact_when_it_has_one(world: World, client: Client) -> None:
    world.office.address = "示范区人民路1号"
    world.office.phone = "010-69980000"
    world.office.save()
    text = main_text(get(client, "portal:guide"))
    assert "区信访局（受理网上信访）" in text and "010-69980000" in text


# --- the privacy notice ----------------------------------------------------------------------


def test_privacy_notice_shows_its_version_and_says_what_it_must(
    world: World, client: Client
) -> None:
    world.office.phone = "010-69980000"
    world.office.save()
    response = get(client, "portal:privacy")
    text = main_text(response)
    assert response.context["version"] == P.CONSENT_VERSION
    assert f"告知版本：{P.CONSENT_VERSION}" in text
    for said in (
        "个人信息保护法",
        "证件号码和手机号码加密存储",
        "检举控告事项严格保密",
        "被检举控告的单位和个人",
        "查阅",
        "更正",
        "档案",
        "010-69980000",
        "区信访局",
    ):
        assert said in text, said


def test_holiday_note_follows_the_rule(world: World, client: Client) -> None:
    note = "顺延到节假日后的第一个工作日"
    assert note in main_text(get(client, "portal:guide"))
    DeadlineRule.objects.filter(kind=DeadlineKind.HANDLE).update(roll_to_workday=False)
    assert note not in main_text(get(client, "portal:guide"))
