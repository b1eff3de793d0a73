"""预防排查 (issue 10): the dispute register with 销号, screening rounds on a cadence, the
informant network and its urgent reports, key groups (key persons extend ``people.KeyPerson``),
early-warning rules and their alerts.

Every change goes through ``services`` / ``screening`` / ``informants`` / ``keypersons`` /
``warning`` (one function per state change, conditional UPDATE on the state, a timeline row);
nothing is deleted — struck-off disputes, closed alerts and removed key groups stay as history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

USER = settings.AUTH_USER_MODEL


class RiskLevel(models.TextChoices):
    """The rubric (what makes an item low … critical) is data in ``rubric.py``."""

    LOW = "low", "低"
    MEDIUM = "medium", "中"
    HIGH = "high", "高"
    CRITICAL = "critical", "重大"


RISK_ORDER = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2, RiskLevel.CRITICAL: 3}


class DisputeSource(models.TextChoices):
    SCREENING = "screening", "排查发现"
    INFORMANT = "informant", "信息员报告"
    PETITION = "petition", "信访事项"
    HOTLINE = "hotline", "热线"
    VISIT = "visit", "走访/下访"
    OTHER = "other", "其他"


class DisputeState(models.TextChoices):
    OPEN = "open", "化解中"
    PENDING = "pending", "待审核销号"
    STRUCK = "struck", "已销号"


class DisputeCounter(models.Model):
    """Gap-free register numbers per year (``MD2026-00001``), like ``cases.CaseCounter``."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "台账编号计数"
        verbose_name_plural = "台账编号计数"

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Dispute(models.Model):
    """矛盾纠纷排查台账: one item of the register."""

    number = models.CharField("台账编号", max_length=20, unique=True)
    title = models.CharField("纠纷名称", max_length=100)
    description = models.TextField("基本情况")
    source = models.CharField("来源", max_length=12, choices=DisputeSource.choices)
    source_note = models.CharField("来源说明", max_length=200, blank=True)
    # Where it came from (at most one of these is set, by the source).
    round_report = models.ForeignKey(
        "prevention.ScreeningReport",
        verbose_name="排查报告",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="new_disputes",
    )
    informant_report = models.ForeignKey(
        "prevention.InformantReport",
        verbose_name="信息员报告",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name="信访事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
    )
    parties = models.TextField("当事人", help_text="每行一方：姓名/单位及联系方式")
    headcount = models.PositiveIntegerField("涉及人数", default=1)
    petitioners = models.ManyToManyField(
        "people.Petitioner", verbose_name="关联信访人", blank=True, related_name="disputes"
    )
    group = models.ForeignKey(
        "people.PetitionerGroup",
        verbose_name="关联群体",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
    )
    place_unit = models.ForeignKey(
        "org.Unit", verbose_name="发生地（村/社区）", on_delete=models.PROTECT, related_name="+"
    )
    place_text = models.CharField("具体地点", max_length=200, blank=True)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name="纠纷类别",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    risk_level = models.CharField("风险等级", max_length=10, choices=RiskLevel.choices)
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name="责任单位",
        on_delete=models.PROTECT,
        related_name="disputes",
    )
    owner = models.ForeignKey(
        USER,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    leader = models.ForeignKey(
        USER,
        verbose_name="包案领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    plan = models.TextField("化解方案/稳控措施", blank=True)
    due_on = models.DateField("化解期限")
    state = models.CharField(
        "状态", max_length=10, choices=DisputeState.choices, default=DisputeState.OPEN
    )
    resolution = models.TextField("化解情况", blank=True)
    evidence = models.TextField("化解佐证", blank=True, help_text="协议、回访记录、当事人签字等")
    requested_by = models.ForeignKey(
        USER,
        verbose_name="报请人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField("报请销号时间", null=True, blank=True)
    struck_by = models.ForeignKey(
        USER,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    struck_unit = models.ForeignKey(
        "org.Unit",
        verbose_name="审核单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    struck_at = models.DateTimeField("销号时间", null=True, blank=True)
    created_by = models.ForeignKey(
        USER, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间")
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = "矛盾纠纷"
        verbose_name_plural = "矛盾纠纷排查台账"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "due_on"], name="dispute_state_due"),
            models.Index(fields=["unit", "state"], name="dispute_unit_state"),
            models.Index(fields=["place_unit", "state"], name="dispute_place_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["open", "pending", "struck"]),
                name="dispute_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(risk_level__in=["low", "medium", "high", "critical"]),
                name="dispute_risk_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class DisputeEvent(models.Model):
    """The item's timeline (append-only). Kinds: ``create``, ``update`` (changed fields in
    ``data.changes``), ``contact`` (联系/走访 log: ``data.method``, ``data.person``), ``risk``,
    ``strike_request``, ``strike`` (销号), ``strike_reject``, ``round_update`` (reported in a
    screening round: ``report`` set), ``link``."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("事件", max_length=20)
    actor = models.ForeignKey(
        USER,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_unit = models.ForeignKey(
        "org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间")
    text = models.TextField("说明", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)
    report = models.ForeignKey(
        "prevention.ScreeningReport",
        verbose_name="排查报告",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
    )

    class Meta:
        verbose_name = "台账动态"
        verbose_name_plural = "台账动态"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.kind}"


def dispute_file_path(instance: DisputeAttachment, filename: str) -> str:
    return f"prevention/{instance.dispute_id}/{instance.stored_name}"


class DisputeAttachment(models.Model):
    """Evidence files (化解协议, 回访记录…), checked by content like case attachments."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=dispute_file_path)
    original_name = models.CharField("文件名", max_length=200)
    stored_name = models.CharField(max_length=80)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = "台账附件"
        verbose_name_plural = "台账附件"

    def __str__(self) -> str:
        return self.original_name


# --- screening rounds ---------------------------------------------------------------------


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "每周"
    HALF_MONTHLY = "half_monthly", "每半月"
    MONTHLY = "monthly", "每月"


class ScreeningRule(models.Model):
    """Who screens how often (seed 004: 社区居委会和辖区单位每周，街道和部门每半月，区信访办每月).
    A unit follows the first active rule (lowest ``priority``) whose ``unit_types`` contain its
    type and, with ``petition_office_only``, that is a petition office."""

    name = models.CharField("规则名称", max_length=60)
    cadence = models.CharField("排查周期", max_length=15, choices=Cadence.choices)
    unit_types = models.JSONField("适用单位类型", default=list)
    petition_office_only = models.BooleanField("仅信访工作机构", default=False)
    priority = models.PositiveSmallIntegerField("优先级（小者先）", default=10)
    due_workdays = models.PositiveSmallIntegerField(
        "报送期限（周期结束后工作日）",
        default=1,
        help_text="周期最后一天之后第几个工作日内报送；0 = 周期最后一个工作日",
    )
    is_active = models.BooleanField("启用", default=True)
    basis = models.CharField("依据", max_length=200, blank=True)

    class Meta:
        verbose_name = "排查规则"
        verbose_name_plural = "排查规则"
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_cadence_display()}）"


class ScreeningRound(models.Model):
    """One period of one rule. Opened by the sweep with one pending ``ScreeningReport`` per
    unit that must report (the units are fixed when the round opens)."""

    rule = models.ForeignKey(ScreeningRule, on_delete=models.PROTECT, related_name="rounds")
    label = models.CharField("轮次", max_length=40)
    period_start = models.DateField("周期开始")
    period_end = models.DateField("周期结束")
    due_on = models.DateField("报送期限")
    opened_at = models.DateTimeField("开启时间")

    class Meta:
        verbose_name = "排查轮次"
        verbose_name_plural = "排查轮次"
        ordering = ["-period_start", "rule__priority"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "period_start"], name="round_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.name} {self.label}"


class ReportState(models.TextChoices):
    PENDING = "pending", "待报送"
    SUBMITTED = "submitted", "已报送"


class ScreeningReport(models.Model):
    """A unit's report in a round: pending until submitted (conditional UPDATE, so a report
    submitted twice is refused with who and when). ``nothing_new`` is the explicit 无新情况."""

    round = models.ForeignKey(ScreeningRound, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        "状态", max_length=10, choices=ReportState.choices, default=ReportState.PENDING
    )
    nothing_new = models.BooleanField("无新情况", default=False)
    note = models.TextField("排查情况说明", blank=True)
    new_count = models.PositiveIntegerField("新增纠纷", default=0)
    changed_count = models.PositiveIntegerField("情况变化", default=0)
    submitted_by = models.ForeignKey(
        USER,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    is_late = models.BooleanField("逾期报送", default=False)
    reminded_at = models.DateTimeField("最近提醒", null=True, blank=True)
    remind_count = models.PositiveSmallIntegerField("提醒次数", default=0)

    class Meta:
        verbose_name = "排查报告"
        verbose_name_plural = "排查报告"
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="round_report_once"),
        ]
        indexes = [models.Index(fields=["unit", "state"], name="round_report_unit_state")]

    def __str__(self) -> str:
        return f"{self.round} · {self.unit_id}"


# --- informants ----------------------------------------------------------------------------


class Informant(models.Model):
    """信息员: a user reporting for a village/community/unit (a user may serve several units).
    Creating one also grants the 信息员 role in that unit (``informants.informant_add``)."""

    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="informant_posts")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="informants")
    phone = models.CharField("联系电话", max_length=20, blank=True)
    since = models.DateField("聘任日期")
    is_active = models.BooleanField("在岗", default=True)
    note = models.CharField("备注", max_length=200, blank=True)
    ended_at = models.DateTimeField("解聘时间", null=True, blank=True)

    class Meta:
        verbose_name = "信息员"
        verbose_name_plural = "信息员"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit"],
                condition=models.Q(is_active=True),
                name="informant_active_once",
            ),
        ]

    def __str__(self) -> str:
        return f"信息员 {self.user_id} @ {self.unit_id}"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "日常报告"
    URGENT = "urgent", "紧急报告"


class Signal(models.TextChoices):
    """What an urgent report warns of."""

    COLLECTIVE = "collective", "拟集体上访"
    CAPITAL = "capital", "进京/赴省上访苗头"
    GATHERING = "gathering", "聚集/群体性事件苗头"
    EXTREME = "extreme", "个人极端行为苗头"
    OTHER = "other", "其他紧急情况"


class InformantReportState(models.TextChoices):
    NEW = "new", "待确认"
    ACKNOWLEDGED = "acknowledged", "已确认处置中"
    CLOSED = "closed", "已办结"


class InformantReport(models.Model):
    informant = models.ForeignKey(Informant, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey(
        "org.Unit", verbose_name="涉及单位", on_delete=models.PROTECT, related_name="+"
    )
    urgency = models.CharField("类别", max_length=10, choices=Urgency.choices)
    signal = models.CharField("紧急情形", max_length=12, choices=Signal.choices, blank=True)
    title = models.CharField("标题", max_length=100)
    text = models.TextField("情况")
    place_text = models.CharField("地点", max_length=200, blank=True)
    headcount = models.PositiveIntegerField("预计人数", null=True, blank=True)
    expected_at = models.DateTimeField("预计时间", null=True, blank=True)
    destination = models.CharField("去向（如赴区、赴市、进京）", max_length=100, blank=True)
    created_at = models.DateTimeField("报告时间")
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    state = models.CharField(
        "状态",
        max_length=14,
        choices=InformantReportState.choices,
        default=InformantReportState.NEW,
    )
    acknowledged_by = models.ForeignKey(
        USER,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField("确认时间", null=True, blank=True)
    handling = models.TextField("处置情况", blank=True)
    closed_by = models.ForeignKey(
        USER,
        verbose_name="办结人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = "信息员报告"
        verbose_name_plural = "信息员报告"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["urgency", "state"], name="informant_rep_urg_state"),
            models.Index(fields=["unit", "created_at"], name="informant_rep_unit_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_urgency_display()}：{self.title}"


class InformantReportEvent(models.Model):
    """Handling timeline of a report: ``create``, ``ack``, ``note``, ``dispute``, ``close``."""

    report = models.ForeignKey(InformantReport, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "报告处置动态"
        verbose_name_plural = "报告处置动态"

    def __str__(self) -> str:
        return f"{self.report_id} {self.kind}"


# --- key groups and the contact log --------------------------------------------------------


class KeyGroup(models.Model):
    """重点群体: a ``people.PetitionerGroup`` the office watches. At most one active row per
    group; removing keeps the row (``removed_*``)."""

    group = models.ForeignKey(
        "people.PetitionerGroup", on_delete=models.PROTECT, related_name="key_flags"
    )
    reason = models.CharField("列为重点群体的原因", max_length=200)
    since = models.DateField("起始日期")
    headcount = models.PositiveIntegerField("涉及人数", default=0)
    unit = models.ForeignKey(
        "org.Unit", verbose_name="责任单位", on_delete=models.PROTECT, related_name="+"
    )
    leader = models.ForeignKey(
        USER,
        verbose_name="包案领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    plan = models.TextField("稳控/帮扶措施", blank=True)
    review_on = models.DateField("下次评估日期", null=True, blank=True)
    added_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间")
    removed_at = models.DateTimeField("撤销时间", null=True, blank=True)
    removed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_reason = models.CharField("撤销原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "重点群体"
        verbose_name_plural = "重点群体"
        constraints = [
            models.UniqueConstraint(
                fields=["group"],
                condition=models.Q(removed_at__isnull=True),
                name="keygroup_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"重点群体 {self.group_id}"


class ContactMethod(models.TextChoices):
    VISIT = "visit", "上门走访"
    PHONE = "phone", "电话联系"
    TALK = "talk", "约谈"
    HELP = "help", "帮扶救助"
    OTHER = "other", "其他"


class KeyContact(models.Model):
    """Contact log (稳控/帮扶 记录) of a key person or a key group (exactly one is set)."""

    key_person = models.ForeignKey(
        "people.KeyPerson", null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    key_group = models.ForeignKey(
        KeyGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    at = models.DateTimeField("时间")
    method = models.CharField("方式", max_length=10, choices=ContactMethod.choices)
    note = models.TextField("情况")
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "稳控帮扶记录"
        verbose_name_plural = "稳控帮扶记录"
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(key_person__isnull=False, key_group__isnull=True)
                    | models.Q(key_person__isnull=True, key_group__isnull=False)
                ),
                name="keycontact_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.at:%Y-%m-%d}"


# --- early warning -------------------------------------------------------------------------


class Severity(models.TextChoices):
    """National four-colour warning levels."""

    BLUE = "blue", "蓝色（一般）"
    YELLOW = "yellow", "黄色（较重）"
    ORANGE = "orange", "橙色（严重）"
    RED = "red", "红色（特别严重）"


SEVERITY_ORDER = {Severity.BLUE: 0, Severity.YELLOW: 1, Severity.ORANGE: 2, Severity.RED: 3}


class WarningRule(models.Model):
    """An early-warning rule as data: which test (``code``, implemented in ``warning.RULES``),
    its parameters and its default severity. Seeded by migration; editable in the admin."""

    code = models.CharField("规则代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=60)
    params = models.JSONField("参数", default=dict, blank=True)
    severity = models.CharField("默认级别", max_length=10, choices=Severity.choices)
    is_active = models.BooleanField("启用", default=True)
    description = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "预警规则"
        verbose_name_plural = "预警规则"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class AlertState(models.TextChoices):
    OPEN = "open", "待确认"
    ACKNOWLEDGED = "acknowledged", "处置中"
    CLOSED = "closed", "已办结"


class Alert(models.Model):
    """One raised warning. ``dedupe_key`` (unique) makes every raise idempotent: a sweep run
    twice, or two sweeps at once, raise it once."""

    rule = models.CharField("规则", max_length=30, db_index=True)
    severity = models.CharField("级别", max_length=10, choices=Severity.choices)
    unit = models.ForeignKey(
        "org.Unit", verbose_name="涉及单位", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("标题", max_length=200)
    detail = models.TextField("详情", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)
    dedupe_key = models.CharField(max_length=150, unique=True)
    owner = models.ForeignKey(
        USER,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        "状态", max_length=14, choices=AlertState.choices, default=AlertState.OPEN
    )
    raised_at = models.DateTimeField("预警时间", db_index=True)
    acknowledged_by = models.ForeignKey(
        USER,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField("确认时间", null=True, blank=True)
    outcome = models.TextField("处置结果", blank=True)
    closed_by = models.ForeignKey(
        USER,
        verbose_name="办结人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispute = models.ForeignKey(
        Dispute, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    informant_report = models.ForeignKey(
        InformantReport, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    group = models.ForeignKey(
        "people.PetitionerGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["state", "severity"], name="alert_state_sev"),
            models.Index(fields=["unit", "state"], name="alert_unit_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["open", "acknowledged", "closed"]),
                name="alert_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AlertEvent(models.Model):
    """An alert's handling timeline (append-only): ``raise``, ``ack``, ``close``, ``assign``
    (``data.owner``), written by ``alerts.alert_raise``, ``warning.alert_*`` and by the informant
    report services when they move the alert with the report."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("事件", max_length=20)
    actor = models.ForeignKey(
        USER,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间")
    text = models.TextField("说明", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        verbose_name = "预警处置动态"
        verbose_name_plural = "预警处置动态"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind}"


class WarningSweep(models.Model):
    """One run of the rule sweep (what it evaluated, how many it raised, how long it took)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateField("评估日期")
    raised = models.PositiveIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "预警扫描"
        verbose_name_plural = "预警扫描"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"预警扫描 {self.as_of}"
