"""领导批示: a leader's written instruction on a case, its report back and its 催办 rows.

An instruction is addressed to one unit (the handling unit, else the registering office), has
its own due date, and moves 待落实 (open) → 已报告 (reported) → 已办结 (closed, the leader
accepted the report); the leader may send a report back (reported → open). Every step is a
``CaseEvent`` on the case (``instruct``, ``instruction_report``, ``instruction_close``,
``instruction_return``, ``instruction_urge``). None of them is public.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models


class InstructionState(models.TextChoices):
    OPEN = "open", "待落实"
    REPORTED = "reported", "已报告"
    CLOSED = "closed", "已办结"


class Instruction(models.Model):
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="instructions", verbose_name="事项"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="instructions_given",
        verbose_name="批示领导",
    )
    leader_unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="领导所在单位"
    )
    text = models.TextField("批示内容")
    due_on = models.DateField("落实期限")
    target_unit = models.ForeignKey(
        "org.Unit",
        on_delete=models.PROTECT,
        related_name="instructions_received",
        verbose_name="落实单位",
    )
    state = models.CharField(
        "状态", max_length=10, choices=InstructionState.choices, default=InstructionState.OPEN
    )
    created_at = models.DateTimeField("批示时间")
    report_text = models.TextField("落实情况", blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="报告人",
    )
    reported_at = models.DateTimeField("报告时间", null=True, blank=True)
    returned_count = models.PositiveSmallIntegerField("退回次数", default=0)
    last_return_note = models.TextField("退回意见", blank=True)
    close_note = models.TextField("办结意见", blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="办结人",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = "领导批示"
        verbose_name_plural = "领导批示"
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["state", "due_on"], name="instr_state_due"),
            models.Index(fields=["target_unit", "state"], name="instr_unit_state"),
            models.Index(fields=["leader", "state"], name="instr_leader_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["open", "reported", "closed"]),
                name="instr_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"批示 #{self.pk}（{self.get_state_display()}）"

    def days_overdue(self, today: dt.date) -> int:
        """Days past the due date while still 待落实 (0 otherwise)."""
        if self.state != InstructionState.OPEN or today <= self.due_on:
            return 0
        return (today - self.due_on).days

    def urgency_label(self, today: dt.date) -> str:
        late = self.days_overdue(today)
        if late:
            return f"超期 {late} 天"
        return str(self.get_state_display())


class InstructionUrge(models.Model):
    """One 催办 per instruction and overdue stage (days past due): the unique index makes the
    sweep idempotent even when two sweeps race."""

    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="urges")
    stage = models.PositiveSmallIntegerField("催办档（超期天数）")
    days_overdue = models.PositiveIntegerField("超期天数")
    event = models.ForeignKey(
        "cases.CaseEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField("催办时间")

    class Meta:
        verbose_name = "批示催办"
        verbose_name_plural = "批示催办"
        constraints = [
            models.UniqueConstraint(fields=["instruction", "stage"], name="instr_urge_once"),
        ]

    def __str__(self) -> str:
        return f"批示催办 #{self.instruction_id}（超期 {self.stage} 天档）"
