"""Case counters keyed by number prefix (division code) and year instead of by unit; the open
deadline index leads with ``kind``.

Counters: offices without their own division code share their ancestor's code, hence the
number prefix, so per-unit counters issued the same number twice. The data step rebuilds the
counters from the case numbers themselves (highest sequence per prefix and year — the numbers
are the truth) and never lowers a value an old counter already reached for that prefix, so no
number can be issued twice. Reversible: going back rebuilds per-unit counters from the cases
each unit registered.
"""

import re

from django.db import migrations, models

NUMBER = re.compile(r"^XF-(\d{6,12})-(\d{4})-(\d+)$")


def _numbers(Case):
    """(prefix, year, seq, office_unit_id) of every well-formed case number."""
    rows = Case.objects.order_by().values_list("number", "office_unit_id")
    for number, office_id in rows.iterator(chunk_size=5000):
        m = NUMBER.match(number)
        if m:
            yield m.group(1), int(m.group(2)), int(m.group(3)), office_id


def _effective_codes(Unit):
    """unit id → nearest division code up the tree ("000000" at the top without one)."""
    units = {pk: (parent, code) for pk, parent, code in Unit.objects.values_list(
        "pk", "parent_id", "division_code"
    )}
    out = {}
    for pk in units:
        node, code = pk, ""
        while node is not None and not code:
            node, code = units[node]
        out[pk] = code or "000000"
    return out


def _checks_now(schema_editor):
    """PostgreSQL: run the deferred foreign-key checks of the rows just written, so that the
    ALTER TABLE that follows in this transaction finds no pending trigger events."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def counters_by_code(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseCounter = apps.get_model("cases", "CaseCounter")
    Unit = apps.get_model("org", "Unit")
    last = {}
    for prefix, year, seq, _office in _numbers(Case):
        last[(prefix, year)] = max(seq, last.get((prefix, year), 0))
    codes = _effective_codes(Unit)
    for unit_id, year, value in CaseCounter.objects.values_list("unit_id", "year", "last"):
        key = (codes.get(unit_id, "000000"), year)
        last[key] = max(value, last.get(key, 0))
    CaseCounter.objects.all().delete()
    CaseCounter.objects.bulk_create(
        CaseCounter(code=code, year=year, last=value, unit_id=None)
        for (code, year), value in sorted(last.items())
    )
    _checks_now(schema_editor)


def counters_by_unit(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseCounter = apps.get_model("cases", "CaseCounter")
    last = {}
    for _prefix, year, seq, office in _numbers(Case):
        last[(office, year)] = max(seq, last.get((office, year), 0))
    CaseCounter.objects.all().delete()
    CaseCounter.objects.bulk_create(
        CaseCounter(unit_id=unit_id, year=year, last=value, code="")
        for (unit_id, year), value in sorted(last.items())
    )
    _checks_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_seed_reference_data"),
        ("org", "0002_seed_roles"),
    ]

    operations = [
        # 1. Counters: add the new key beside the old one, rebuild, drop the old one.
        migrations.AddField(
            model_name="casecounter",
            name="code",
            field=models.CharField(
                default="", max_length=12, verbose_name="编号前缀（行政区划代码）"
            ),
            preserve_default=False,
        ),
        migrations.RemoveConstraint(model_name="casecounter", name="case_counter_unique"),
        migrations.AlterField(
            model_name="casecounter",
            name="unit",
            field=models.ForeignKey(
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="org.unit",
            ),
        ),
        migrations.RunPython(counters_by_code, counters_by_unit, elidable=False),
        migrations.RemoveField(model_name="casecounter", name="unit"),
        migrations.AddConstraint(
            model_name="casecounter",
            constraint=models.UniqueConstraint(
                fields=("code", "year"), name="case_counter_code_year"
            ),
        ),
        # 2. Open deadlines by kind first: the request windows never close, obligations do.
        migrations.RemoveIndex(model_name="deadline", name="deadline_open_due"),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("cancelled_at__isnull", True), ("met_at__isnull", True)),
                fields=["kind", "due_on", "case"],
                name="deadline_open_kind_due",
            ),
        ),
    ]
