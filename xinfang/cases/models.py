"""The case (信访事项), its timeline, deadlines and the data the lifecycle rules read."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.org.models import Unit
from xinfang.people.models import Petitioner, PetitionerGroup


class Channel(models.TextChoices):
    VISIT = "visit", "来访"
    COLLECTIVE_VISIT = "collective_visit", "集体来访"
    LETTER = "letter", "来信"
    PHONE = "phone", "电话"
    ONLINE = "online", "网上信访"
    EMAIL = "email", "电子邮件"
    FAX = "fax", "传真"
    LEADER_DAY = "leader_day", "领导接待日"
    FIELD_VISIT = "field_visit", "下访"
    FROM_ABOVE = "from_above", "上级交办"


class Purpose(models.TextChoices):
    SUGGESTION = "suggestion", "建议意见"
    ACCUSATION = "accusation", "检举控告"
    APPEAL = "appeal", "申诉求决"


class Status(models.TextChoices):
    REGISTERED = "registered", "已登记"
    FORWARDED = "forwarded", "已转送"
    ASSIGNED = "assigned", "已交办"
    INFORMED = "informed", "告知（不予受理）"
    SIGNED = "signed", "已签收"
    ACCEPTED = "accepted", "已受理"
    REFUSED = "refused", "不予受理"
    RETURNED = "returned", "已退回"
    REPLIED = "replied", "已答复"
    EVALUATED = "evaluated", "已评价"
    REVIEW_REQUESTED = "review_requested", "复查申请中"
    REVIEWED = "reviewed", "已复查"
    REREVIEW_REQUESTED = "rereview_requested", "复核申请中"
    FINAL = "final", "已终结"
    CLOSED = "closed", "已办结"
    MERGED = "merged", "已合并"


OPEN_STATUSES = frozenset(
    {
        Status.REGISTERED,
        Status.FORWARDED,
        Status.ASSIGNED,
        Status.SIGNED,
        Status.ACCEPTED,
        Status.RETURNED,
        Status.REVIEW_REQUESTED,
        Status.REREVIEW_REQUESTED,
    }
)


class Evaluation(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASICALLY = "basically", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class EvaluationChannel(models.TextChoices):
    """How the petitioner's 满意度评价 reached us (recorded in the ``evaluate`` event's data)."""

    PORTAL = "portal", "网上评价"
    PHONE = "phone", "电话回访"
    SMS = "sms", "短信回复"
    IN_PERSON = "in_person", "当面评价"


class ServeMethod(models.TextChoices):
    IN_PERSON = "in_person", "当面送达"
    POST = "post", "邮寄送达"
    SMS = "sms", "短信告知"
    PORTAL = "portal", "网上送达"


class Category(models.Model):
    """Content category tree (一级/二级/三级), seeded from a real office's taxonomy."""

    name = models.CharField("名称", max_length=60)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField("层级")
    full_name = models.CharField("完整名称", max_length=200, editable=False)
    sort = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "内容分类"
        verbose_name_plural = "内容分类"
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_sibling"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.name


class CaseCounter(models.Model):
    """Last number issued per number prefix and year (gap-free case numbers).

    Keyed by the prefix (the registering office's effective division code), not by the unit:
    offices without a code of their own share their ancestor's, and so one sequence — two
    counters under one prefix would issue the same number twice.
    """

    code = models.CharField("编号前缀（行政区划代码）", max_length=12)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "year"], name="case_counter_code_year"),
        ]

    def __str__(self) -> str:
        return f"{self.code}/{self.year}: {self.last}"


class DeskPurpose(models.TextChoices):
    """分类接待 by the visitor's purpose (xinfang.cases.desk)."""

    HARDSHIP = "hardship", "反映个人困难"
    SUGGESTION = "suggestion", "提出意见建议"
    ACCUSE_OFFICIAL = "accuse_official", "检举干部"
    VENT = "vent", "倾诉"
    AGITATED_MIND = "agitated_mind", "心理偏激"
    NOT_OURS = "not_ours", "非本单位管辖"


class VisitorType(models.TextChoices):
    """分类接待 by the visitor: the clerk's perception (重复/越级 flags are derived separately)."""

    FIRST = "first", "初访"
    PROBING = "probing", "试探访"
    AGITATED = "agitated", "情绪激动"
    COLLECTIVE = "collective", "集体访"
    REPEAT = "repeat", "重复访"
    SKIP_LEVEL = "skip_level", "越级访"


class Case(models.Model):
    number = models.CharField("编号", max_length=40, unique=True)
    query_code = models.CharField("查询码", max_length=16, unique=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    channel = models.CharField("来源渠道", max_length=20, choices=Channel.choices)
    purpose = models.CharField("信访目的", max_length=12, choices=Purpose.choices)
    category = models.ForeignKey(
        Category, verbose_name="内容分类", null=True, blank=True, on_delete=models.PROTECT
    )
    place_code = models.CharField("问题属地代码", max_length=12, blank=True)
    place_name = models.CharField("问题属地", max_length=100, blank=True)
    summary = models.CharField("诉求摘要", max_length=300)
    content = models.TextField("详细内容", blank=True)
    received_at = models.DateTimeField("收到时间")
    headcount = models.PositiveIntegerField("人数", default=1)
    group = models.ForeignKey(
        PetitionerGroup, verbose_name="信访群体", null=True, blank=True, on_delete=models.PROTECT
    )

    is_repeat = models.BooleanField("重复信访", default=False)
    is_skip_level = models.BooleanField("越级", default=False)
    is_collective = models.BooleanField("集体访", default=False)
    is_joint = models.BooleanField("联名", default=False)
    related_to = models.ForeignKey(
        "self",
        verbose_name="关联前案",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followups",
    )
    # 合并: a duplicate merged into the case that carries on (status MERGED, not open).
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )

    status = models.CharField(
        "状态", max_length=20, choices=Status.choices, default=Status.REGISTERED
    )
    office_unit = models.ForeignKey(
        Unit, verbose_name="登记单位", on_delete=models.PROTECT, related_name="registered_cases"
    )
    handling_unit = models.ForeignKey(
        Unit,
        verbose_name="承办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_cases",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="首问责任人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_at = models.DateTimeField("登记时间")
    # 首问负责: the desk clerk currently responsible (null: registered_by); see cases.desk.
    desk_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接待责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    desk_purpose = models.CharField(
        "来访目的（分类接待）", max_length=20, choices=DeskPurpose.choices, blank=True, default=""
    )
    visitor_type = models.CharField(
        "来访人类型", max_length=20, choices=VisitorType.choices, blank=True, default=""
    )
    evaluation = models.CharField(
        "满意度", max_length=12, choices=Evaluation.choices, blank=True, default=""
    )
    served_at = models.DateField("答复送达日期", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    petitioners = models.ManyToManyField(
        Petitioner, through="CasePetitioner", related_name="cases", verbose_name="信访人"
    )

    # 检举控告: who is accused. Units and staff named here never see the case (nor anyone
    # holding a post in an accused unit's subtree) — ``cases.confidential``. ``accused_text``
    # names people/units outside the system and is part of the confidential content.
    accused_units = models.ManyToManyField(
        Unit, blank=True, related_name="accusations", verbose_name="被检举控告单位"
    )
    accused_persons = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="accusations",
        verbose_name="被检举控告人（本系统人员）",
    )
    accused_text = models.TextField("被检举控告对象（其他）", blank=True)

    class Meta:
        verbose_name = "信访事项"
        verbose_name_plural = "信访事项"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="case_status_recv"),
            models.Index(fields=["received_at"], name="case_received"),
            models.Index(fields=["office_unit", "received_at"], name="case_office_recv"),
            models.Index(fields=["handling_unit", "status"], name="case_handling_status"),
            # the 在办 counts of a scope: cases registered there, by status
            models.Index(fields=["office_unit", "status"], name="case_office_status"),
            # Counting a status × channel filter without visiting the table.
            models.Index(fields=["channel", "status"], name="case_channel_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(headcount__gte=1), name="case_headcount_pos"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_confidential(self) -> bool:
        """检举控告件: content and the petitioner's identity are protected. Derived from the
        purpose (fixed at registration; no service changes it), so it cannot disagree with it."""
        return self.purpose == Purpose.ACCUSATION


class PetitionerRole(models.TextChoices):
    PRINCIPAL = "principal", "信访人"
    REPRESENTATIVE = "representative", "代表"
    COSIGNER = "cosigner", "联名人"
    PARTICIPANT = "participant", "在场人员"  # 集体访: present, not a representative


class CasePetitioner(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="parties")
    petitioner = models.ForeignKey(Petitioner, on_delete=models.PROTECT, related_name="parties")
    role = models.CharField(
        "身份", max_length=16, choices=PetitionerRole.choices, default=PetitionerRole.PRINCIPAL
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "petitioner"], name="case_petitioner_unique")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.petitioner_id}"


class CaseEvent(models.Model):
    """The timeline: append-only; the source of truth for history, receipts and counts."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("事件", max_length=30, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_unit = models.ForeignKey(
        Unit,
        verbose_name="操作单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField("时间", db_index=True)
    from_status = models.CharField("原状态", max_length=20, blank=True)
    to_status = models.CharField("新状态", max_length=20, blank=True)
    text = models.TextField("说明", blank=True)
    data = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        verbose_name = "事项动态"
        verbose_name_plural = "事项动态"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class DeadlineKind(models.TextChoices):
    ROUTE = "route", "登记转送交办"
    ACCEPT = "accept", "受理告知"
    HANDLE = "handle", "办理答复"
    EXTENSION = "extension", "延期上限"
    REVIEW_REQUEST = "review_request", "复查申请期限"
    REVIEW_DECIDE = "review_decide", "复查办理"
    REREVIEW_REQUEST = "rereview_request", "复核申请期限"
    REREVIEW_DECIDE = "rereview_decide", "复核办理"


# Deadlines that are obligations of the office or a unit (shown as 正常/临期/超期).
# The request windows are the petitioner's own time and never make a case "overdue".
OBLIGATION_KINDS = frozenset(
    {
        DeadlineKind.ROUTE,
        DeadlineKind.ACCEPT,
        DeadlineKind.HANDLE,
        DeadlineKind.REVIEW_DECIDE,
        DeadlineKind.REREVIEW_DECIDE,
    }
)


class DeadlineRule(models.Model):
    """A legal time limit as data (editable by an admin)."""

    kind = models.CharField("期限", max_length=20, choices=DeadlineKind.choices, unique=True)
    days = models.PositiveSmallIntegerField("天数")
    working_days = models.BooleanField("按工作日计算", default=False)
    roll_to_workday = models.BooleanField("期满日遇节假日顺延", default=True)
    warn_days = models.PositiveSmallIntegerField("临期提醒（天）", default=3)
    basis = models.CharField("依据", max_length=200, blank=True)

    class Meta:
        verbose_name = "期限规则"
        verbose_name_plural = "期限规则"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.days}天"


class Deadline(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deadlines")
    kind = models.CharField("期限", max_length=20, choices=DeadlineKind.choices)
    started_on = models.DateField("起算日")
    due_on = models.DateField("届满日")
    met_at = models.DateTimeField("完成时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("撤销时间", null=True, blank=True)
    paused = models.BooleanField("暂停", default=False)

    class Meta:
        verbose_name = "期限"
        verbose_name_plural = "期限"
        ordering = ["due_on"]
        indexes = [
            # Sweeps and the 临期/超期 filters look only at open deadlines of the obligation
            # kinds by due date (the petitioner's request windows stay open for ever: the kind
            # leads so they are skipped, not read).
            models.Index(
                fields=["kind", "due_on", "case"],
                name="deadline_open_kind_due",
                condition=models.Q(met_at__isnull=True, cancelled_at__isnull=True),
            ),
            models.Index(fields=["case", "kind"], name="deadline_case_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None


class OpenDeadline(models.Model):
    """The open obligation deadlines — of ``OBLIGATION_KINDS``, neither met nor cancelled nor
    paused — with their case's registering unit and holder (handling unit, else the
    registering one): the rows that make a case 临期/超期. Kept by database triggers on the
    deadlines and the cases' units (``cases.openstate``), so that the 超期 and 待办 counts
    per unit read one small indexed table instead of joining every open deadline to its case
    (PostgreSQL cannot see how few deadlines are open and chose sequential scans of the cases
    at millions). ``manage.py stats_check`` compares it with the deadlines."""

    deadline = models.OneToOneField(
        Deadline, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField("期限", max_length=20, choices=DeadlineKind.choices)
    due_on = models.DateField("届满日")
    office_unit_id = models.IntegerField("登记单位")
    holder_id = models.IntegerField("承办单位")

    class Meta:
        verbose_name = "未完成期限"
        verbose_name_plural = "未完成期限"
        indexes = [
            models.Index(fields=["due_on", "holder_id"], name="opendl_due"),
            models.Index(fields=["holder_id", "due_on"], name="opendl_holder"),
            models.Index(fields=["office_unit_id", "due_on"], name="opendl_office"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.due_on}"


class OpenCaseCount(models.Model):
    """The number of open cases (``OPEN_STATUSES``) per registering unit × holder (handling
    unit, else the registering one), kept by database triggers on the cases
    (``cases.openstate``): the 在办 figure sums a few hundred rows instead of counting every
    open case. ``manage.py stats_check`` compares it with the cases."""

    office_unit_id = models.IntegerField("登记单位")
    holder_id = models.IntegerField("承办单位")
    n = models.IntegerField("在办件数", default=0)

    class Meta:
        verbose_name = "在办件数"
        verbose_name_plural = "在办件数"
        constraints = [
            models.UniqueConstraint(fields=["office_unit_id", "holder_id"], name="opencount_pair")
        ]
        indexes = [models.Index(fields=["holder_id"], name="opencount_holder")]

    def __str__(self) -> str:
        return f"{self.office_unit_id}/{self.holder_id}: {self.n}"


class ExtensionRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        DENIED = "denied", "未批准"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="extensions")
    days = models.PositiveSmallIntegerField("延长天数")
    reason = models.TextField("理由")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        constraints = [
            # At most one pending request per case at a time.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state="pending"),
                name="extension_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.days}天 {self.get_state_display()}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.case_id}/{instance.stored_name}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField("文件名", max_length=200)
    stored_name = models.CharField(max_length=80)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # 证据材料 of the handling unit's investigation: internal, never shown to the petitioner.
    is_internal = models.BooleanField("内部材料", default=False)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"

    def __str__(self) -> str:
        return self.original_name


class CaseLink(models.Model):
    """Two related cases (关联事项), an unordered pair stored as (lower id, higher id)."""

    case_a = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    case_b = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "关联事项"
        verbose_name_plural = "关联事项"
        constraints = [
            models.UniqueConstraint(fields=["case_a", "case_b"], name="case_link_pair"),
            models.CheckConstraint(
                condition=models.Q(case_a__lt=models.F("case_b")), name="case_link_ordered"
            ),
        ]
        indexes = [models.Index(fields=["case_b"], name="case_link_b")]

    def __str__(self) -> str:
        return f"{self.case_a_id}~{self.case_b_id}"
