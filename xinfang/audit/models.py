"""Append-only, hash-chained audit log.

Each row carries ``seq`` (1, 2, 3 … without gaps), the hash of the row before it and its own
hash over a canonical serialisation of its fields (``chain.entry_hash``). ``AuditHead`` is a
single row holding the last ``seq`` and hash: it serialises writers (row lock) and anchors the
tail, so deleting the newest rows is detected too. Rows are never updated or deleted by the
application; database triggers refuse it (migration 0003, ``triggers.py``).
"""

from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    seq = models.BigIntegerField("序号", unique=True)
    at = models.DateTimeField("时间", db_index=True)
    # No foreign key: a row must never change when a user or case changes or goes away.
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True, db_index=True)
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("操作", max_length=40, db_index=True)
    object_type = models.CharField("对象类型", max_length=40, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    summary = models.CharField("摘要", max_length=300, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    ip = models.CharField("IP地址", max_length=45, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.actor_name}"


class AuditHead(models.Model):
    """The chain's tip: one row (pk=1)."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"审计链头 #{self.seq}"
