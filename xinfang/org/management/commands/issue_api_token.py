"""``manage.py issue_api_token USERNAME --name NAME``: issue a personal API token.

The raw token is printed once, alone on stdout (so a script can capture it); only its SHA-256 is
stored. The token acts with exactly the user's own posts (units and roles) — nothing more.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.org.models import ApiToken


class Command(BaseCommand):
    help = "为用户签发 API 令牌（原文只显示这一次）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="用户名")
        parser.add_argument("--name", required=True, help="用途，如“市平台对接”")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("请用 --name 说明令牌用途")
        if len(name) > 60:
            raise CommandError(f"用途最多60字，当前{len(name)}字")
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"用户“{options['username']}”不存在")
        if not user.is_active:
            raise CommandError(f"用户“{user.username}”已停用，不能签发令牌")
        token, raw = ApiToken.issue(user=user, name=name)
        self.stdout.write(raw)
        self.stderr.write(
            f"已为 {user.username} 签发令牌「{token.name}」（前缀 {token.prefix}）。"
            "令牌原文只显示这一次，请妥善保存；调用时使用请求头 Authorization: Bearer <令牌>。"
        )
