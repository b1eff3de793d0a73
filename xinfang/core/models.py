"""Editable working calendar.

Why: statutory deadlines (受理 15 日、办理 60 日 …) depend on the State Council's holiday
arrangement, which is published each November for the next year. The bundled
``chinesecalendar`` library only knows the years it shipped with; these tables let an
administrator enter a new year's arrangement (or correct a local exception) without a
software release. ``xinfang.core.workcalendar`` is the only reader.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class CalendarDay(models.Model):
    """One day whose status overrides the library: a holiday on a weekday or a 调休 workday.

    Only exceptions need rows; every other day follows the library, or Monday–Friday for years
    the library does not cover.
    """

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField(
        "是否上班",
        help_text="勾选表示当天上班（如周末调休上班）；不勾选表示当天休息（如法定节假日）。",
    )
    name = models.CharField(
        "名称",
        max_length=50,
        blank=True,
        help_text="例如“国庆节”“春节”“调休上班”，便于核对。",
    )

    class Meta:
        verbose_name = "工作日历调整"
        verbose_name_plural = "工作日历调整"
        ordering = ["date"]

    def __str__(self) -> str:
        status = "上班" if self.is_workday else "休息"
        label = f" {self.name}" if self.name else ""
        return f"{self.date.isoformat()}{label}（{status}）"


class CalendarYear(models.Model):
    """An administrator's statement that a year's full holiday arrangement has been entered.

    Deadlines falling in a year that is neither covered by the library nor listed here are
    computed with weekends only and flagged as provisional, so this row is what turns the
    warning off.
    """

    year = models.PositiveSmallIntegerField(
        "年份",
        unique=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
    )
    note = models.CharField(
        "备注",
        max_length=200,
        blank=True,
        help_text="例如依据的文件：国务院办公厅关于2027年部分节假日安排的通知。",
    )

    class Meta:
        verbose_name = "已录入节假日的年份"
        verbose_name_plural = "已录入节假日的年份"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}年节假日安排已录入"


class IdempotencyRecord(models.Model):
    """One accepted submission: a retry with the same key gets this answer, not a second effect.

    Written in the same transaction as the effect (``xinfang.core.idempotency``), so a crash
    leaves either both or neither. Purged after ``IDEMPOTENCY_RETENTION_DAYS``
    (``manage.py purge_idempotency``).
    """

    key = models.CharField("提交标识", max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="用户"
    )
    scope = models.CharField("操作", max_length=200)
    fingerprint = models.CharField("内容摘要", max_length=64)
    status_code = models.PositiveSmallIntegerField("状态码", default=0)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "幂等提交记录"
        verbose_name_plural = "幂等提交记录"
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_once")
        ]

    def __str__(self) -> str:
        return f"{self.scope} · {self.key}"


class RateCounter(models.Model):
    """One fixed-window counter of the rate limits (``xinfang.core.ratelimit``): requests of
    one ``scope`` (e.g. ``portal_track_ip``) by one identity (an HMAC of the IP address, phone
    or query code — never the value itself) in the window starting at ``window`` (epoch
    seconds). Incremented by one atomic upsert, so every worker process shares the count."""

    scope = models.CharField(max_length=40)
    ident = models.CharField(max_length=64)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = "访问频率计数"
        verbose_name_plural = "访问频率计数"
        constraints = [
            models.UniqueConstraint(fields=["scope", "ident", "window"], name="rate_counter_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.window} {self.count}"
