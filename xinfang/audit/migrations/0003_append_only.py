"""Append-only at the database level: triggers refuse UPDATE and DELETE of audit entries
(``xinfang.audit.triggers``; SQLite ``RAISE(ABORT)``, PostgreSQL a plpgsql function)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from xinfang.audit import triggers

    triggers.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from xinfang.audit import triggers

    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_head")]
    operations = [migrations.RunPython(forwards, backwards)]
