"""Encrypted ID number and phone with blind indexes, beside the plaintext columns for now
(0003 fills them, 0004 drops the plaintext): three steps, three transactions."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="petitioner",
            name="id_number_enc",
            field=models.TextField(
                blank=True, default="", editable=False, verbose_name="证件号码（密文）"
            ),
        ),
        migrations.AddField(
            model_name="petitioner",
            name="id_number_bidx",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                null=True,
                unique=True,
                verbose_name="证件号码索引",
            ),
        ),
        migrations.AddField(
            model_name="petitioner",
            name="id_tail_bidx",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                max_length=64,
                verbose_name="证件号码后六位索引",
            ),
        ),
        migrations.AddField(
            model_name="petitioner",
            name="phone_enc",
            field=models.TextField(
                blank=True, default="", editable=False, verbose_name="联系电话（密文）"
            ),
        ),
        migrations.AddField(
            model_name="petitioner",
            name="phone_bidx",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                max_length=64,
                verbose_name="联系电话索引",
            ),
        ),
    ]
