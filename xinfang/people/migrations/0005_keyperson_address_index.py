"""重点人员 (KeyPerson) and the address index of the desk lookup (``people.lookup``).

Address words are matched as substrings ("幸福路" in "东湖街道幸福路88号"): a B-tree cannot
serve that. PostgreSQL: a pg_trgm GIN index on ``address`` (``LIKE '%词%'`` uses it for words of
3+ characters; pg_trgm is a trusted extension, and ``show_trgm`` splits CJK text in our
C.UTF-8 clusters). SQLite: an FTS5 ``trigram`` table over ``address`` (external content, kept by
triggers), queried with ``LIKE`` on the FTS table. Shorter words cannot use trigrams; the lookup
uses them only as a filter beside an indexed term (see ``people/lookup.py``).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SQLITE_UP = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS people_petitioner_addr USING fts5("
    "address, content='people_petitioner', content_rowid='id', tokenize='trigram')",
    "INSERT INTO people_petitioner_addr(people_petitioner_addr) VALUES ('rebuild')",
    "CREATE TRIGGER IF NOT EXISTS people_petitioner_addr_ai AFTER INSERT ON people_petitioner "
    "BEGIN INSERT INTO people_petitioner_addr(rowid, address) VALUES (new.id, new.address); END",
    "CREATE TRIGGER IF NOT EXISTS people_petitioner_addr_ad AFTER DELETE ON people_petitioner "
    "BEGIN INSERT INTO people_petitioner_addr(people_petitioner_addr, rowid, address) "
    "VALUES ('delete', old.id, old.address); END",
    "CREATE TRIGGER IF NOT EXISTS people_petitioner_addr_au AFTER UPDATE OF address "
    "ON people_petitioner BEGIN "
    "INSERT INTO people_petitioner_addr(people_petitioner_addr, rowid, address) "
    "VALUES ('delete', old.id, old.address); "
    "INSERT INTO people_petitioner_addr(rowid, address) VALUES (new.id, new.address); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS people_petitioner_addr_ai",
    "DROP TRIGGER IF EXISTS people_petitioner_addr_ad",
    "DROP TRIGGER IF EXISTS people_petitioner_addr_au",
    "DROP TABLE IF EXISTS people_petitioner_addr",
]
PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS people_petitioner_addr_trgm "
    "ON people_petitioner USING gin (address gin_trgm_ops)",
]
PG_DOWN = ["DROP INDEX IF EXISTS people_petitioner_addr_trgm"]


def _run(schema_editor, statements):  # type: ignore[no-untyped-def]
    for sql in statements:
        schema_editor.execute(sql)


def create_address_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_UP)
    elif vendor == "postgresql":
        _run(schema_editor, PG_UP)


def drop_address_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_DOWN)
    elif vendor == "postgresql":
        _run(schema_editor, PG_DOWN)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_drop_plaintext"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="KeyPerson",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(max_length=200, verbose_name="列为重点人员的原因")),
                ("since", models.DateField(verbose_name="起始日期")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="登记时间")),
                (
                    "removed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="撤销时间"),
                ),
                (
                    "removed_reason",
                    models.CharField(blank=True, max_length=200, verbose_name="撤销原因"),
                ),
                (
                    "added_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="登记人",
                    ),
                ),
                (
                    "petitioner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="key_flags",
                        to="people.petitioner",
                        verbose_name="信访人",
                    ),
                ),
                (
                    "removed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="撤销人",
                    ),
                ),
            ],
            options={
                "verbose_name": "重点人员",
                "verbose_name_plural": "重点人员",
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("removed_at__isnull", True)),
                        fields=("petitioner",),
                        name="keyperson_one_active",
                    )
                ],
            },
        ),
        migrations.RunPython(create_address_index, drop_address_index),
    ]
