"""答复意见书 drafts: drafted by the handling unit, approved by its head, checked by the
registering petition office, then served (``cases.services.case_reply``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.cases.models import Case, Purpose, ServeMethod


class DraftState(models.TextChoices):
    DRAFT = "draft", "起草中"
    SUBMITTED = "submitted", "待审批"
    APPROVED = "approved", "待审核"
    CHECKED = "checked", "待送达"
    SERVED = "served", "已送达"


# States of the one draft a case may have open at a time (everything before it is served).
LIVE_STATES = (DraftState.DRAFT, DraftState.SUBMITTED, DraftState.APPROVED, DraftState.CHECKED)


def _user_fk(label: str) -> models.ForeignKey:  # type: ignore[type-arg]
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=label,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )


class ReplyDraft(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reply_drafts")
    state = models.CharField(
        "状态", max_length=12, choices=DraftState.choices, default=DraftState.DRAFT
    )
    template = models.CharField("模板", max_length=12, choices=Purpose.choices)
    title = models.CharField("标题", max_length=200)
    facts = models.TextField("查明的事实")
    basis = models.TextField("处理依据")
    decision = models.TextField("处理意见")
    extra = models.TextField("其他事项", blank=True)
    review_organ = models.CharField("复查机关", max_length=100)

    drafted_by = _user_fk("起草人")
    drafted_at = models.DateTimeField("起草时间", null=True, blank=True)
    submitted_by = _user_fk("提交人")
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    approved_by = _user_fk("审批人（单位负责人）")
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    checked_by = _user_fk("审核人（信访机构）")
    checked_at = models.DateTimeField("审核时间", null=True, blank=True)
    served_by = _user_fk("送达人")
    served_at = models.DateTimeField("送达登记时间", null=True, blank=True)
    served_on = models.DateField("送达日期", null=True, blank=True)
    method = models.CharField(
        "送达方式", max_length=12, choices=ServeMethod.choices, blank=True, default=""
    )
    rejected_by = _user_fk("退回人")
    rejected_at = models.DateTimeField("退回时间", null=True, blank=True)
    reject_note = models.TextField("退回意见", blank=True)

    class Meta:
        verbose_name = "答复意见书"
        verbose_name_plural = "答复意见书"
        ordering = ["-id"]
        constraints = [
            # At most one live (not yet served) draft per case.
            models.UniqueConstraint(
                fields=["case"],
                condition=~models.Q(state="served"),
                name="reply_draft_one_live",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.title}（{self.get_state_display()}）"
