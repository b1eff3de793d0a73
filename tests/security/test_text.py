"""Free text: GB18030 extension characters and emoji round-trip (form → database → page, API →
database → JSON), control and bidi characters are stripped, HTML is escaped everywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.conftest import registration_body
from tests.conftest import register_form
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.services import case_add_note
from xinfang.core.text import clean_line, clean_text

EXT_B = "𠀀𪚥"  # U+20000, U+2A6A5 (CJK extension B)
EXT_G = "𰻞"  # U+30EDE (extension G: biáng)
FAMILY = "👨‍👩‍👧"  # ZWJ sequence
FLAG = "🏴󠁧󠁢󠁳󠁣󠁴󠁿"  # tag sequence (Scotland)
HEART = "❤️"  # with VS16
RARE = EXT_B + EXT_G + FAMILY + FLAG + HEART + "😀"
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


# --- clean_text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("张三\x00\x07\x1b[31m", "张三[31m"),
        ("第一行\r\n第二行\r第三行", "第一行\n第二行\n第三行"),
        ("a\tb\nc", "a\tb\nc"),
        ("\x85\x9b金额", "金额"),  # C1 controls
        ("金额\u202e0001\u202c元", "金额0001元"),  # RLO … PDF (Trojan Source)
        ("\u2066\u2067\u2068名字\u2069", "名字"),  # isolates
        ("\u200e\u200f\u061c名", "名"),  # direction marks
        ("零\u200b宽\u2060连\ufeff字\u00ad符", "零宽连字符"),  # ZWSP, WJ, BOM, soft hyphen
        ("坏\ud800的", "坏的"),  # lone surrogate (invalid UTF-8, refused by PostgreSQL)
        ("\ufdd0非字符\uffff", "非字符"),
        ("e\u0301", "é"),  # NFC
        (RARE, RARE),  # ext-B/G, ZWJ family, tag flag, VS16, emoji: unchanged
        ("", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_keeps_every_cjk_extension_character() -> None:
    ranges = [(0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x30000, 0x3134F)]  # B, C, G
    for start, end in ranges:
        sample = "".join(chr(c) for c in range(start, end + 1, 37))
        assert clean_text(sample) == sample


def test_clean_line_makes_one_line() -> None:
    assert clean_line("  张\n三\t \x00") == "张 三"
    assert clean_text(None) == ""


# --- round trips --------------------------------------------------------------------------


def _form_case(client: Client, world: Any, **fields: Any) -> Case:
    client.force_login(world.rita)
    response = client.post(reverse("case_register"), register_form("sec-text", **fields))
    assert response.status_code == 302, response.content.decode()[:3000]
    return Case.objects.get()


def test_form_round_trips_rare_characters_and_strips_controls(client: Client, world: Any) -> None:
    case = _form_case(
        client,
        world,
        summary=f"反映{EXT_B}问题{FAMILY}\u202e倒序\x07",
        content=f"内容{EXT_G}{HEART}\r\n第二行\x1b",  # (NUL: Django forms refuse it)
        place_name=f"幸福里{EXT_B}",
        **{"p-0-name": f"王{EXT_B}{EXT_G}", "p-0-address": f"东湖{EXT_G}路{FLAG}号"},
    )
    case.refresh_from_db()
    assert case.summary == f"反映{EXT_B}问题{FAMILY}倒序"
    assert case.content == f"内容{EXT_G}{HEART}\n第二行"
    assert case.place_name == f"幸福里{EXT_B}"
    person = case.parties.get().petitioner
    assert person.name == f"王{EXT_B}{EXT_G}"
    assert person.address == f"东湖{EXT_G}路{FLAG}号"

    detail = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    for shown in (case.summary, f"内容{EXT_G}{HEART}", person.name, person.address):
        assert shown in detail
    assert "\u202e" not in detail
    listing = client.get(reverse("case_list")).content.decode()
    assert case.summary in listing


def test_api_round_trips_rare_characters(world: Any, as_user: Any) -> None:
    rita = as_user(world.rita)
    body = registration_body(
        world,
        summary=f"诉求{EXT_B}{FAMILY}\u2066",
        content=f"详情{EXT_G}{FLAG}\x1b",
        petitioners=[{"name": f"李{EXT_B}", "address": f"{EXT_G}村"}],
    )
    created = rita.post("/cases", body)
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    detail = rita.get(f"/cases/{cid}").json()
    assert detail["summary"] == f"诉求{EXT_B}{FAMILY}"
    assert detail["content"] == f"详情{EXT_G}{FLAG}"
    stored = Case.objects.get(pk=cid)
    assert stored.summary == detail["summary"]
    assert stored.parties.get().petitioner.name == f"李{EXT_B}"
    session = Client()
    session.force_login(world.rita)
    note = session.post(reverse("case_note", args=[cid]), {"text": f"备注{EXT_G}{HEART}\x08"})
    assert note.status_code in (200, 302)
    assert CaseEvent.objects.get(case_id=cid, kind="note").text == f"备注{EXT_G}{HEART}"


def test_note_and_action_texts_are_cleaned(world: Any, register: Any) -> None:
    case = register()
    event = case_add_note(case=case, by=world.rita, text=f"  核实\u202e中\r\n{EXT_B}\x00  ")
    assert event.text == f"核实中\n{EXT_B}"
    from xinfang.cases.services import case_assign

    assigned = case_assign(
        case=case, by=world.alice, unit=world.street, note=f"请\u200b办理{EXT_G}\x07"
    )
    assert assigned.text == f"请办理{EXT_G}"


# --- HTML escaping ------------------------------------------------------------------------


def test_script_in_every_text_field_is_escaped_on_list_detail_and_api(
    client: Client, world: Any, as_user: Any
) -> None:
    case = _form_case(
        client,
        world,
        summary=f"摘要{XSS}",
        content=f"内容{XSS}",
        place_name=f"属地{XSS}",
        place_code=XSS[:12],
        group_name=f"群体{XSS}",
        **{
            "p-0-name": f"名{XSS}",
            "p-0-address": f"址{XSS}",
            "p-0-occupation": f"职{XSS}",
            "p-0-education": f"学{XSS}",
            "p-0-ethnic_group": f"族{XSS}",
        },
    )
    case_add_note(case=case, by=world.rita, text=f"备注{XSS}")
    pages = {
        "detail": client.get(reverse("case_detail", args=[case.pk])),
        "list": client.get(reverse("case_list")),
        "search": client.get(reverse("case_list"), {"q": "摘要"}),
        "home": client.get(reverse("home")),
    }
    for name, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, name
        assert "<script>alert" not in html, name
    detail = pages["detail"].content.decode()
    for label in ("摘要", "内容", "属地", "名", "址", "备注"):
        assert f"{label}{ESCAPED}" in detail, label
    assert f"摘要{ESCAPED}" in pages["list"].content.decode()

    api = as_user(world.rita).get(f"/cases/{case.pk}")
    assert api["Content-Type"].startswith("application/json")
    assert api.json()["summary"] == f"摘要{XSS}"  # data as typed, JSON-encoded, never HTML
    rows = as_user(world.rita).get("/cases").json()
    assert json.dumps(rows, ensure_ascii=False).count("<script>") >= 1
    assert as_user(world.rita).get("/cases").headers["Content-Type"].startswith("application/json")
