"""Drop the plaintext ID number and phone columns (now encrypted, see 0003)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("people", "0003_encrypt_existing")]

    operations = [
        migrations.RemoveField(model_name="petitioner", name="id_number"),
        migrations.RemoveField(model_name="petitioner", name="phone"),
    ]
