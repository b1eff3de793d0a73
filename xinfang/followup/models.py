"""After the reply: the office's review task on 不满意, 回访 after closing, 听证 (public hearing).

Every row hangs off a case; nothing is deleted (``PROTECT``), changes are recorded as timeline
events by ``services.py`` / ``hearings.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.cases.models import Case, CaseEvent
from xinfang.org.models import Unit

USER = settings.AUTH_USER_MODEL


class OfficeTask(models.Model):
    """A task for the registering petition office (e.g. look again at a 不满意 evaluation)."""

    class Kind(models.TextChoices):
        DISSATISFIED = "dissatisfied", "不满意复核"

    class State(models.TextChoices):
        OPEN = "open", "待处理"
        DONE = "done", "已办结"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="office_tasks")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.OPEN)
    # The evaluation (or 回访) event that raised it: one task per event, by the database.
    source_event = models.OneToOneField(
        CaseEvent, on_delete=models.PROTECT, related_name="office_task", verbose_name="来源动态"
    )
    office_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    summary = models.CharField("事由", max_length=300)
    assignee = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.TextField("处理结果", blank=True)
    created_at = models.DateTimeField("创建时间")
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField("办结时间", null=True, blank=True)
    done_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "信访机构任务"
        verbose_name_plural = "信访机构任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["office_unit", "state", "created_at"], name="otask_unit")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id}"


class FollowUpMethod(models.TextChoices):
    PHONE = "phone", "电话回访"
    VISIT = "visit", "上门回访"


class FollowUpResult(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"
    UNREACHED = "unreached", "未联系上"


class FollowUp(models.Model):
    """回访: planned N working days after 办结, recorded once."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="followups_planned")
    # The 办结 event it was planned for: exactly one 回访 per closing.
    close_event = models.OneToOneField(
        CaseEvent, on_delete=models.PROTECT, related_name="followup", verbose_name="办结动态"
    )
    due_on = models.DateField("回访期限")
    method = models.CharField(
        "回访方式", max_length=8, choices=FollowUpMethod.choices, default=FollowUpMethod.PHONE
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(
        "回访结果", max_length=12, choices=FollowUpResult.choices, blank=True, default=""
    )
    outcome = models.TextField("回访情况", blank=True)
    created_at = models.DateTimeField("安排时间")
    done_at = models.DateTimeField("回访时间", null=True, blank=True)
    done_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "回访"
        verbose_name_plural = "回访"
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(
                fields=["unit", "due_on"],
                name="followup_open_due",
                condition=models.Q(done_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"回访 {self.case_id} {self.due_on}"


class HearingMemberKind(models.TextChoices):
    DEPUTY = "deputy", "人大代表"
    CPPCC = "cppcc", "政协委员"
    LAWYER = "lawyer", "律师"
    EXPERT = "expert", "专家"
    PUBLIC = "public", "群众代表"


class HearingMember(models.Model):
    """The pool of 听证员 (managed in the admin)."""

    name = models.CharField("姓名", max_length=60)
    affiliation = models.CharField("单位/身份", max_length=120, blank=True)
    kind = models.CharField("类别", max_length=8, choices=HearingMemberKind.choices)
    is_active = models.BooleanField("可选", default=True)

    class Meta:
        verbose_name = "听证员"
        verbose_name_plural = "听证员库"
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"


class Hearing(models.Model):
    class State(models.TextChoices):
        SCHEDULED = "scheduled", "已安排"
        HELD = "held", "已举行"
        CANCELLED = "cancelled", "已取消"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="hearings")
    scheduled_at = models.DateTimeField("听证时间")
    place = models.CharField("地点", max_length=200)
    host = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name="主持人"
    )
    members = models.ManyToManyField(HearingMember, related_name="hearings", verbose_name="听证员")
    parties = models.TextField("参加人", blank=True)
    record = models.TextField("听证记录", blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SCHEDULED)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "听证"
        verbose_name_plural = "听证"
        ordering = ["-scheduled_at", "-id"]
        constraints = [
            # At most one hearing waiting to be held per case.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state="scheduled"),
                name="hearing_one_scheduled",
            )
        ]

    def __str__(self) -> str:
        return f"听证 {self.case_id} {self.scheduled_at:%Y-%m-%d}"


class Vote(models.TextChoices):
    AGREE = "agree", "同意"
    DISAGREE = "disagree", "不同意"
    ABSTAIN = "abstain", "弃权"


class HearingVote(models.Model):
    hearing = models.ForeignKey(Hearing, on_delete=models.PROTECT, related_name="votes")
    member = models.ForeignKey(HearingMember, on_delete=models.PROTECT, related_name="votes")
    vote = models.CharField("表决", max_length=8, choices=Vote.choices)
    opinion = models.TextField("意见", blank=True)

    class Meta:
        verbose_name = "听证表决"
        verbose_name_plural = "听证表决"
        constraints = [
            models.UniqueConstraint(fields=["hearing", "member"], name="hearing_vote_once")
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.vote}"
