"""督查督办: escalation rules as data, the steps a sweep (or a supervisor) took, and sweep runs.

``SupervisionStep`` is the idempotency key of the sweep: one row per (deadline, rule), inserted
with ON CONFLICT DO NOTHING, so a re-run, an interrupted run re-run or two sweeps at once never
act twice on the same deadline for the same rule.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Stage(models.TextChoices):
    REMIND = "remind", "临期提醒"
    URGE = "urge", "催办"
    SUPERVISE = "supervise", "督办"
    ESCALATE = "escalate", "提级督办"


class Recipient(models.TextChoices):
    UNIT_STAFF = "unit_staff", "责任单位工作人员"
    UNIT_HEADS = "unit_heads", "责任单位负责人"
    LEADERS = "leaders", "上级领导"
    OFFICE = "office", "登记机构办案员"
    SUPERVISORS = "supervisors", "督查员"


# Deadline kinds a rule may watch: the obligation kinds, plus the special "sign_in" (a routed
# case not signed in: the accept deadline's start date + offset, while the case is 已交办/已转送).
SIGN_IN = "sign_in"
RULE_KINDS: dict[str, str] = {
    "route": "登记转送交办",
    "accept": "受理告知",
    "handle": "办理答复",
    "review_decide": "复查办理",
    "rereview_decide": "复核办理",
    SIGN_IN: "签收（交办/转送后未签收）",
}


class EscalationRule(models.Model):
    """One escalation step: which deadlines it watches, when (due date ± offset) and whom."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    stage = models.CharField("阶段", max_length=12, choices=Stage.choices)
    kinds = models.JSONField(
        "适用期限",
        default=list,
        help_text="期限种类代码列表：route、accept、handle、review_decide、rereview_decide，"
        "或 sign_in（交办/转送后未签收，按起算日计算）",
    )
    offset_days = models.SmallIntegerField(
        "相对届满日（天）", default=0, help_text="负数为届满前，正数为届满后；sign_in 为起算后天数"
    )
    working_days = models.BooleanField("按工作日计算", default=True)
    recipients = models.JSONField(
        "通知对象",
        default=list,
        help_text="unit_staff 责任单位工作人员、unit_heads 负责人、leaders 上级领导、"
        "office 登记机构办案员、supervisors 督查员",
    )
    issues_document = models.BooleanField("出具督办单/催办单", default=False)
    email = models.BooleanField("同时发送邮件", default=False)
    active = models.BooleanField("启用", default=True)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "督办规则"
        verbose_name_plural = "督办规则"
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        kinds = self.kinds if isinstance(self.kinds, list) else []
        bad = [k for k in kinds if k not in RULE_KINDS]
        if not kinds or bad:
            raise ValidationError(
                {
                    "kinds": f"请填写期限种类代码列表（{'、'.join(RULE_KINDS)}）"
                    + (f"；无效：{'、'.join(map(str, bad))}" if bad else "")
                }
            )
        if SIGN_IN in kinds and len(kinds) > 1:
            raise ValidationError({"kinds": "签收提醒（sign_in）须单独设一条规则"})
        recipients = self.recipients if isinstance(self.recipients, list) else []
        wrong = [r for r in recipients if r not in Recipient.values]
        if not recipients or wrong:
            raise ValidationError(
                {
                    "recipients": f"请填写通知对象代码列表（{'、'.join(Recipient.values)}）"
                    + (f"；无效：{'、'.join(map(str, wrong))}" if wrong else "")
                }
            )
        if SIGN_IN in kinds and self.offset_days < 0:
            raise ValidationError({"offset_days": "签收提醒的天数须为交办/转送后的天数（不小于0）"})

    @property
    def event_kind(self) -> str:
        return "sign_in_remind" if SIGN_IN in (self.kinds or []) else self.stage

    def kinds_display(self) -> str:
        return "、".join(RULE_KINDS.get(k, k) for k in self.kinds or [])

    def recipients_display(self) -> str:
        labels = dict(Recipient.choices)
        return "、".join(labels.get(r, r) for r in self.recipients or [])

    def offset_display(self) -> str:
        unit = "个工作日" if self.working_days else "日"
        if SIGN_IN in (self.kinds or []):
            return f"交办/转送后{self.offset_days}{unit}"
        if self.offset_days < 0:
            return f"届满前{-self.offset_days}{unit}"
        if self.offset_days == 0:
            return "届满当日"
        return f"超期{self.offset_days}{unit}"


class SupervisionStep(models.Model):
    """One escalation step taken on one deadline (sweep) or on one case (manual, no rule)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    deadline = models.ForeignKey(
        "cases.Deadline", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(
        EscalationRule, null=True, blank=True, on_delete=models.PROTECT, related_name="steps"
    )
    stage = models.CharField("阶段", max_length=12, choices=Stage.choices)
    unit = models.ForeignKey(
        "org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField("届满日", null=True, blank=True)
    days_overdue = models.IntegerField("超期天数", default=0)
    event = models.ForeignKey(
        "cases.CaseEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="督办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "督办记录"
        verbose_name_plural = "督办记录"
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "rule"], name="supervision_step_once"),
        ]
        indexes = [models.Index(fields=["stage", "at"], name="supervision_step_stage_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage}"


class SweepRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        STOPPED = "stopped", "已中止"
        FAILED = "failed", "失败"

    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.QUEUED)
    today = models.DateField("检查日期", null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    queued_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    examined = models.PositiveIntegerField("检查期限数", default=0)
    created = models.PositiveIntegerField("新增督办数", default=0)
    skipped = models.PositiveIntegerField("跳过数", default=0)
    notified = models.PositiveIntegerField("通知数", default=0)
    counts = models.JSONField("各阶段数", default=dict, blank=True)
    error = models.TextField("错误", blank=True)

    class Meta:
        verbose_name = "督办扫描"
        verbose_name_plural = "督办扫描"
        ordering = ["-queued_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_state_display()}"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
