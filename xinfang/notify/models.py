"""In-app notifications (站内消息) and the messages sent to petitioners (短信/邮件/信函/网上)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One message in one staff member's inbox. ``dedupe_key`` makes a sender idempotent: the
    same key for the same recipient is stored once (a sweep run twice notifies nobody twice)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField("类别", max_length=30)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name="信访事项",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    url = models.CharField("链接", max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField("时间", db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "created_at"], name="notif_inbox"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notif_dedupe",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"


class MessageChannel(models.TextChoices):
    PORTAL = "portal", "网上信访平台"
    SMS = "sms", "短信"
    LETTER = "letter", "信函"
    EMAIL = "email", "电子邮件"


class OutboundMessage(models.Model):
    """One message to one petitioner on one channel (进展告知、延期告知 …).

    The recipient is the ``Petitioner`` row, never a copy of the phone number or address: those
    are encrypted on the person, and the backend reads them only when it sends
    (``notify.backends``). Every message belongs to a timeline event (``event``)."""

    class State(models.TextChoices):
        QUEUED = "queued", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    case = models.ForeignKey(
        "cases.Case", verbose_name="信访事项", on_delete=models.PROTECT, related_name="messages"
    )
    petitioner = models.ForeignKey(
        "people.Petitioner", verbose_name="信访人", on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField("渠道", max_length=10, choices=MessageChannel.choices)
    kind = models.CharField("类别", max_length=30)
    body = models.TextField("内容")
    status = models.CharField(
        "状态", max_length=10, choices=State.choices, default=State.QUEUED, db_index=True
    )
    backend = models.CharField("发送方式", max_length=30, blank=True)
    error = models.CharField("失败原因", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发送人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间")
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    event = models.ForeignKey(
        "cases.CaseEvent",
        verbose_name="事项动态",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
    )

    class Meta:
        verbose_name = "信访人消息"
        verbose_name_plural = "信访人消息"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "created_at"], name="outmsg_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_channel_display()} {self.get_status_display()}"
