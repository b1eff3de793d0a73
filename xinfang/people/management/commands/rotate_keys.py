"""``manage.py rotate_keys``: re-encrypt personal data under the current data key, and with
``--reindex`` recompute the blind indexes under a new index key.

Rotation of the data key: put the new key FIRST in ``XINFANG_DATA_KEYS`` and keep the old ones
after it (``"b:…,a:…"``), restart the application (new writes use ``b``), run this command,
then remove ``a`` from the ring. Rotation of the index key: set ``XINFANG_INDEX_KEY`` to the new
key and ``XINFANG_OLD_INDEX_KEY`` to the old one (lookups try both meanwhile), restart, run
``rotate_keys --reindex``, then unset ``XINFANG_OLD_INDEX_KEY``.

Work goes in batches by primary key, each in its own transaction; an interrupted run is simply
started again — only values not yet under the current key (or index) are rewritten. One
``key_rotate`` audit row records the counts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from xinfang.audit.services import audit_record
from xinfang.core import crypto
from xinfang.people import pii


def key_counts() -> dict[str, dict[str, int]]:
    """Per encrypted column: how many tokens are under each key id (``?`` = unreadable)."""
    result: dict[str, dict[str, int]] = {}
    for col in pii.ENCRYPTED_COLUMNS:
        model = apps.get_model(col.model)
        counts: Counter[str] = Counter()
        tokens = model.objects.exclude(**{col.column: ""}).values_list(col.column, flat=True)
        for token in tokens.iterator(chunk_size=2000):
            try:
                counts[crypto.key_id_of(token)] += 1
            except crypto.CryptoError:
                counts["?"] += 1
        result[f"{col.model}.{col.column}"] = dict(sorted(counts.items()))
    return result


class Command(BaseCommand):
    help = "用当前数据密钥重新加密个人信息；--reindex 用新的索引密钥重算盲索引"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="每批行数（每批一个事务）")
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="XINFANG_INDEX_KEY 已更换时重算盲索引（旧密钥放在 XINFANG_OLD_INDEX_KEY）",
        )

    def handle(self, *args: Any, batch: int, reindex: bool, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch 至少为 1")
        old_index = settings.XINFANG_OLD_INDEX_KEY
        if reindex and not old_index:
            raise CommandError(
                "--reindex 需要 XINFANG_OLD_INDEX_KEY（更换前的索引密钥），"
                "以便重算期间查询仍能找到尚未重算的记录"
            )
        ring = crypto.parse_key_ring(settings.XINFANG_DATA_KEYS)
        before = key_counts()
        self._print_counts("轮换前", before)
        self.stdout.write(f"当前数据密钥：{ring.current}")
        reencrypted = 0
        for col in pii.ENCRYPTED_COLUMNS:
            reencrypted += self._reencrypt(col, ring, batch)
        reindexed = self._reindex(batch) if reindex else 0
        after = key_counts()
        self._print_counts("轮换后", after)
        with transaction.atomic():
            audit_record(
                action="key_rotate",
                actor="manage.py rotate_keys",
                object_type="key_ring",
                object_id=ring.current,
                summary=f"个人信息密钥轮换：重新加密 {reencrypted} 个值，重算索引 {reindexed} 行",
                detail={
                    "current_key": ring.current,
                    "before": before,
                    "after": after,
                    "reencrypted": reencrypted,
                    "reindexed": reindexed,
                },
            )
        self.stdout.write(
            self.style.SUCCESS(f"完成：重新加密 {reencrypted} 个值，重算盲索引 {reindexed} 行")
        )

    def _print_counts(self, title: str, counts: dict[str, dict[str, int]]) -> None:
        self.stdout.write(f"{title}（各密钥下的密文数）：")
        for column, per_key in counts.items():
            shown = "，".join(f"{k}: {n}" for k, n in per_key.items()) or "无"
            self.stdout.write(f"  {column:<32} {shown}")

    def _batches(self, model: Any, batch: int, columns: list[str]) -> Any:
        """Yield lists of rows (pk order), each inside its own transaction, rows locked."""
        last = 0
        done = 0
        while True:
            with transaction.atomic():
                qs = model.objects.filter(pk__gt=last).order_by("pk").only("pk", *columns)
                if connection.features.has_select_for_update:
                    qs = qs.select_for_update()
                rows = list(qs[:batch])
                if not rows:
                    return
                yield rows
                last = rows[-1].pk
            done += len(rows)
            self.stdout.write(f"  {model._meta.label}：已处理 {done} 行", ending="\r")
            self.stdout.flush()

    def _reencrypt(self, col: pii.EncryptedColumn, ring: crypto.KeyRing, batch: int) -> int:
        model = apps.get_model(col.model)
        changed_total = 0
        for rows in self._batches(model, batch, [col.column]):
            changed = []
            for row in rows:
                token = getattr(row, col.column)
                if not token or crypto.key_id_of(token) == ring.current:
                    continue
                plain = crypto.decrypt(token, context=col.context, ring=ring)
                setattr(row, col.column, crypto.encrypt(plain, context=col.context, ring=ring))
                changed.append(row)
            if changed:
                model.objects.bulk_update(changed, [col.column])
            changed_total += len(changed)
        self.stdout.write(f"\n  {col.model}.{col.column}：重新加密 {changed_total} 个值")
        return changed_total

    def _reindex(self, batch: int) -> int:
        from xinfang.people.models import Petitioner

        columns = [*Petitioner.ID_NUMBER_COLUMNS, *Petitioner.PHONE_COLUMNS]
        changed_total = 0
        for rows in self._batches(Petitioner, batch, columns):
            changed = []
            for person in rows:
                fresh: dict[str, Any] = {}
                if person.id_number:
                    fresh.update(pii.id_indexes(person.id_number))
                if person.phone:
                    fresh["phone_bidx"] = pii.phone_index(person.phone)
                if any(getattr(person, k) != v for k, v in fresh.items()):
                    for k, v in fresh.items():
                        setattr(person, k, v)
                    changed.append(person)
            if changed:
                Petitioner.objects.bulk_update(
                    changed, ["id_number_bidx", "id_tail_bidx", "phone_bidx"]
                )
            changed_total += len(changed)
        self.stdout.write(f"\n  people.Petitioner：重算盲索引 {changed_total} 行")
        return changed_total
