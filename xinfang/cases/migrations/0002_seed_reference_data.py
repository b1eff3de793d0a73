from django.db import migrations

from xinfang.cases.seed import seed_categories, seed_deadline_rules


def seed(apps, schema_editor):
    seed_deadline_rules(apps.get_model("cases", "DeadlineRule"))
    seed_categories(apps.get_model("cases", "Category"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
