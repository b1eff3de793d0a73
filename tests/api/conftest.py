"""API test helpers: clients authenticated by token or by session, and a registration body."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.conftest import VALID_ID, World
from xinfang.org.models import ApiToken


class ApiClient:
    """A Django test client speaking JSON to /api/, authenticated by an API token."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api{path}", params)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.client.post(
            f"/api{path}",
            data=json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=headers,
        )

    def act(self, case_id: int, action: str, body: Any = None) -> Any:
        return self.post(f"/cases/{case_id}/actions/{action}", body)

    def upload(self, case_id: int, name: str, content: bytes, **headers: str) -> Any:
        """``multipart/form-data`` with one file in the ``file`` field."""
        return self.client.post(
            f"/api/cases/{case_id}/attachments",
            {"file": SimpleUploadedFile(name, content)},
            headers=headers,
        )


def token_client(user: User) -> ApiClient:
    _, raw = ApiToken.issue(user=user, name="测试")
    # CSRF is enforced as in a browser: a token caller must get through without one.
    return ApiClient(Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"}))


@pytest.fixture
def as_user(world: World) -> Callable[[User], ApiClient]:
    cache: dict[int, ApiClient] = {}

    def _as(user: User) -> ApiClient:
        if user.pk not in cache:
            cache[user.pk] = token_client(user)
        return cache[user.pk]

    return _as


def registration_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "office_unit_id": world.office.pk,
        "channel": "visit",
        "purpose": "appeal",
        "summary": "反映小区物业费上涨问题",
        "content": "小区物业公司未经业主大会同意上调物业费。",
        "petitioners": [{"name": "张三", "id_number": VALID_ID, "phone": "13812345678"}],
        "received_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
    }
    body.update(overrides)
    return body
