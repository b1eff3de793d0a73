"""Encrypt the existing plaintext ID numbers and phones under the current key (keys from the
environment through xinfang.core.crypto); the reverse decrypts them back."""

from typing import Any

from django.db import migrations

from xinfang.people import pii

BATCH = 1000


def encrypt_rows(apps: Any, schema_editor: Any) -> None:
    Petitioner = apps.get_model("people", "Petitioner")
    rows = Petitioner.objects.exclude(id_number__isnull=True, phone="").order_by("pk")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        for p in batch:
            for column, value in {**pii.id_columns(p.id_number), **pii.phone_columns(p.phone)}.items():
                setattr(p, column, value)
        Petitioner.objects.bulk_update(
            batch,
            ["id_number_enc", "id_number_bidx", "id_tail_bidx", "phone_enc", "phone_bidx"],
        )
        last = batch[-1].pk


def decrypt_rows(apps: Any, schema_editor: Any) -> None:
    Petitioner = apps.get_model("people", "Petitioner")
    rows = Petitioner.objects.exclude(id_number_enc="", phone_enc="").order_by("pk")
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        for p in batch:
            p.id_number = pii.decrypt_id(p.id_number_enc)
            p.phone = pii.decrypt_phone(p.phone_enc)
        Petitioner.objects.bulk_update(batch, ["id_number", "phone"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("people", "0002_petitioner_encrypted_columns")]

    operations = [migrations.RunPython(encrypt_rows, decrypt_rows)]
