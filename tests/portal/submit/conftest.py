"""Fixtures for the portal submission tests: uploaded files under a temporary MEDIA_ROOT,
rate limits off unless a test sets them, and the POST data of a complete form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import VALID_ID

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _media_and_rates(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.XINFANG_RATES = {name: "0" for name in settings.XINFANG_RATES}
    settings.XINFANG_MESSAGE_BACKEND = "database"


def form_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid submission form (one empty co-signer block, as the page shows)."""
    data: dict[str, Any] = {
        "name": "张三",
        "id_type": "resident",
        "id_number": VALID_ID,
        "phone": PHONE,
        "address": "示范区幸福路1号",
        "purpose": "appeal",
        "category": "",
        "place_code": "110105001",
        "place_detail": "幸福小区",
        "summary": "反映小区物业费上涨问题",
        "content": "小区物业公司未经业主大会同意上调物业费，请求依法处理。",
        "accused_text": "",
        "consent": "on",
        "hp": "",
        "c-TOTAL_FORMS": "1",
        "c-0-name": "",
        "c-0-id_type": "resident",
        "c-0-id_number": "",
        "c-0-phone": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def submit_form(client: Any, world: Any) -> Callable[..., Any]:
    """POST the form (``files``: name → bytes) and return the response."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def _post(files: dict[str, bytes] | None = None, **overrides: Any) -> Any:
        data = form_data(**overrides)
        if files:
            data["attachments"] = [SimpleUploadedFile(n, b) for n, b in files.items()]
        return client.post("/portal/submit/", data)

    return _post
