from django.db import migrations

from xinfang.org.roles import SEED_ROLES


def seed(apps, schema_editor):
    Role = apps.get_model("org", "Role")
    for code, name, description in SEED_ROLES:
        Role.objects.update_or_create(
            code=code, defaults={"name": name, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
