"""Seed the screening cadence (seed 004) and the early-warning rules (data, editable)."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from xinfang.prevention.seeds import SCREENING_RULES, WARNING_RULES

    ScreeningRule = apps.get_model("prevention", "ScreeningRule")
    WarningRule = apps.get_model("prevention", "WarningRule")
    for row in SCREENING_RULES:
        if not ScreeningRule.objects.filter(name=row["name"]).exists():
            ScreeningRule.objects.create(**row)
    for code, name, severity, params, description in WARNING_RULES:
        WarningRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "severity": severity,
                "params": params,
                "description": description,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("prevention", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
