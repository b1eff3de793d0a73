"""manage.py load_demo [--if-empty] [--cases N] [--seed S]: the demo jurisdiction and its cases."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinfang.cases.models import Case
from xinfang.org.demo import DISTRICT_NAME, existing_logins, load_demo, login_table


class Command(BaseCommand):
    help = (
        "载入演示辖区（示范区）：单位、各角色用户，以及通过业务服务生成的一年信访事项。"
        "所有演示账号的密码为 Demo-2026。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="已有信访事项时什么也不做（make run 可重复执行）",
        )
        parser.add_argument("--cases", type=int, default=5000, help="生成的事项数（默认5000）")
        parser.add_argument("--seed", type=int, default=42, help="随机种子（默认42）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Case.objects.exists():
            self.stdout.write("已有信访事项，跳过演示数据（--if-empty）。")
            logins = existing_logins()
            if logins:
                self.stdout.write("\n演示账号：")
                self.stdout.write(login_table(logins))
            return
        if Case.objects.exists():
            self.stdout.write(self.style.WARNING("数据库中已有信访事项，将在其后追加演示事项。"))
        started = time.monotonic()
        self.stdout.write(f"载入演示辖区「{DISTRICT_NAME}」：{options['cases']} 件事项…")
        org, summary = load_demo(
            cases=options["cases"], seed=options["seed"], progress=self.stdout.write
        )
        self.stdout.write(
            f"单位 {len(org.units)} 个，用户 {len(org.users)} 个，"
            f"共用时 {time.monotonic() - started:.1f} 秒。"
        )
        if summary:
            counts = "，".join(f"{k} {v}" for k, v in summary["statuses"].items() if v)
            self.stdout.write(f"事项状态：{counts}")
            for error in summary["errors"][:20]:
                self.stdout.write(self.style.WARNING(f"未执行的办理步骤：{error}"))
        self.stdout.write("")
        self.stdout.write("演示账号：")
        self.stdout.write(login_table(org.logins))
