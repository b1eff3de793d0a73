"""Seed the default escalation rules (临期提醒 −3, 催办 0, 督办 +3, 提级督办 +7 working days,
签收提醒 1 working day after routing)."""

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    from xinfang.supervision.seed import seed_rules

    seed_rules(apps.get_model("supervision", "EscalationRule"))


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
