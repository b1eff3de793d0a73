"""Official documents (公文, GB/T 9704-2012) issued for case events.

One ``IssuedDocument`` per event (交办单 for an ``assign``, 答复意见书 for a ``reply`` …): the
发文字号 is drawn once from a gap-free ``DocumentCounter`` and the whole rendered body is kept
as a JSON snapshot, so a reprint years later is the same document even if the case, the unit's
name or the templates have changed since.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.cases.models import Case, CaseEvent
from xinfang.org.models import Unit


class DocumentCounter(models.Model):
    """Last sequence number per 发文字号 prefix (机关代字 + kind, e.g. "示范区信访交") and year.

    Keyed by the prefix text, not the unit: two units sharing a 机关代字 share one sequence, so
    the same 发文字号 is never issued twice."""

    prefix = models.CharField("机关代字", max_length=60)
    year = models.PositiveSmallIntegerField("年份")
    last = models.PositiveIntegerField("最后序号", default=0)

    class Meta:
        verbose_name = "发文字号计数"
        verbose_name_plural = "发文字号计数"
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="doc_counter_prefix_year"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.last}号"


class IssuedDocument(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    event = models.OneToOneField(CaseEvent, on_delete=models.PROTECT, related_name="document")
    kind = models.CharField("文种", max_length=30, db_index=True)
    number = models.CharField("发文字号", max_length=80, unique=True)
    title = models.CharField("标题", max_length=200)
    issuing_unit = models.ForeignKey(
        Unit, verbose_name="发文机关", on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("生成时间")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="生成人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.JSONField("正文快照", default=dict)

    class Meta:
        verbose_name = "公文"
        verbose_name_plural = "公文"
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
