"""Statistics: per-case facts and the rollups kept from them (docs/statistics.md).

The counting rules are in :mod:`xinfang.stats.rules`; this module only stores their results.

- :class:`CaseFact` — one row per case: the rollup cells the case contributes to (``cells``,
  computed by ``rules.contributions`` from the case row, its events and its deadlines) and the
  time they were computed. A change to the case writes an event; the event's ``post_save``
  recomputes the case's cells and applies the *difference* to the rollups (``rollup.refresh``),
  in the same transaction as the change.
- :class:`HandlingSpot` — (case, unit, category, month) of each case's handling cells and
  which measures they hold: the cases behind a handling figure, without scanning events.
- :class:`IntakeDay` / :class:`IntakeMonth` — 收件 (intake) counts: 批次 and 人次 per day (per
  month) × registering unit × 问题属地 × category (second level) × channel × purpose × kind
  (个人/群体/集体) × 重复 × 越级.
- Projections of the intake cells without some dimensions (``rollup.PROJECTIONS``), among them
  :class:`IntakeHotspotDay` / :class:`IntakeHotspotMonth` (unit × first-level category × place).
- :class:`HandlingDay` / :class:`HandlingMonth` — 办理 counts per day × the unit that held the
  case when the counted event happened × category: assignments, acceptance and reply with their
  timeliness, evaluations, closures, 积案 in/out.

Dimension columns are plain integers (0 = none) rather than foreign keys: a unique key over
them must treat "no category" as a value (NULLs are distinct in a unique index), and a
rollup row must outlive nothing it points to.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

INTAKE_DIMS = (
    "office_id",
    "place_id",
    "category_id",
    "channel",
    "purpose",
    "kind",
    "repeat",
    "skip",
)
INTAKE_MEASURES = ("batches", "persons")
# Projections of the intake cube without the many-valued dimensions, so that the usual sums read
# a few thousand rows a month instead of one row per case at scale (rollup.PROJECTIONS).
INTAKE_TOTAL_DIMS = ("office_id", "channel", "purpose", "kind", "repeat", "skip")
INTAKE_CATEGORY_DIMS = ("office_id", "category_id")
INTAKE_PLACE_DIMS = ("office_id", "place_id")
INTAKE_CATEGORY_PLACE_DIMS = ("office_id", "category_id", "place_id")
# The hotspot tables (first-level category × place): ``category_l1`` is derived from the cells'
# second-level category through the category tree when the projection is written.
INTAKE_HOTSPOT_DIMS = ("office_id", "category_l1", "place_id")

HANDLING_DIMS = ("unit_id", "category_id")
HANDLING_MEASURES = (
    "assigned",
    "assigned_repeat",
    "accept_done",
    "accept_timely",
    "accepted",
    "reply_done",
    "reply_timely",
    "evaluated",
    "satisfied",
    "unsatisfied",
    "closed",
    "closed_once",
    "backlog_in",
    "backlog_out",
)


class CaseFact(models.Model):
    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="stat_fact"
    )
    # [[table, day ISO, dims..., measures...], ...] — see rules.Cell
    cells = models.JSONField(default=list)
    computed_at = models.DateTimeField()
    rules_version = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = "统计事实"
        verbose_name_plural = "统计事实"

    def __str__(self) -> str:
        return f"case {self.case_id}"


class HandlingSpot(models.Model):
    """Where a case's handling cells are: one row per (case, unit, category, month) its fact
    holds a handling cell in, with ``measures`` — bit *k* set when measure *k* of
    ``HANDLING_MEASURES`` is non-zero in one of those cells. The index behind "click a figure,
    see its cases" (``query.cases_behind``): a whole month's cases of a measure are one indexed
    read here instead of every event of the month recomputed. Kept with the fact
    (``rollup.register``/``refresh``/``rebuild``, ``bulk.spots_from_facts``) and checked with
    it (``rollup.check``)."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    unit_id = models.IntegerField("单位")
    category_id = models.IntegerField("内容分类（二级）", default=0)
    month = models.DateField("月份")
    measures = models.IntegerField("非零指标（位）", default=0)

    class Meta:
        verbose_name = "办理统计索引"
        verbose_name_plural = "办理统计索引"
        constraints = [
            models.UniqueConstraint(
                fields=["case", "unit_id", "category_id", "month"],
                name="stats_hspot_case_unit_month",
            )
        ]
        indexes = [models.Index(fields=["month", "unit_id", "case"], name="stats_hspot_month")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.unit_id} {self.month}"


class _Intake(models.Model):
    office_id = models.IntegerField("登记单位")
    place_id = models.IntegerField("问题属地", default=0)
    category_id = models.IntegerField("内容分类（二级）", default=0)
    channel = models.CharField("渠道", max_length=20)
    purpose = models.CharField("目的", max_length=12)
    kind = models.PositiveSmallIntegerField("形式")  # rules.Kind: 1 个人 2 群体 3 集体
    repeat = models.BooleanField("重复", default=False)
    skip = models.BooleanField("越级", default=False)
    batches = models.IntegerField("批次", default=0)
    persons = models.IntegerField("人次", default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.office_id}/{self.channel}: {self.batches}批 {self.persons}人"


class IntakeDay(_Intake):
    day = models.DateField("日期")

    class Meta:
        verbose_name = "收件日统计"
        verbose_name_plural = "收件日统计"
        constraints = [
            models.UniqueConstraint(fields=["day", *INTAKE_DIMS], name="stats_intake_day_key")
        ]
        indexes = [models.Index(fields=["day", "office_id"], name="stats_intake_day_office")]


class IntakeMonth(_Intake):
    month = models.DateField("月份")  # the first day of the month

    class Meta:
        verbose_name = "收件月统计"
        verbose_name_plural = "收件月统计"
        constraints = [
            models.UniqueConstraint(fields=["month", *INTAKE_DIMS], name="stats_intake_month_key")
        ]
        indexes = [models.Index(fields=["month", "office_id"], name="stats_intake_month_office")]


class _IntakeTotal(models.Model):
    office_id = models.IntegerField("登记单位")
    channel = models.CharField("渠道", max_length=20)
    purpose = models.CharField("目的", max_length=12)
    kind = models.PositiveSmallIntegerField("形式")
    repeat = models.BooleanField("重复", default=False)
    skip = models.BooleanField("越级", default=False)
    batches = models.IntegerField("批次", default=0)
    persons = models.IntegerField("人次", default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.office_id}/{self.channel}: {self.batches}批 {self.persons}人"


class IntakeTotalDay(_IntakeTotal):
    day = models.DateField("日期")

    class Meta:
        verbose_name = "收件日统计（渠道）"
        verbose_name_plural = "收件日统计（渠道）"
        constraints = [
            models.UniqueConstraint(fields=["day", *INTAKE_TOTAL_DIMS], name="stats_it_day_key")
        ]


class IntakeTotalMonth(_IntakeTotal):
    month = models.DateField("月份")

    class Meta:
        verbose_name = "收件月统计（渠道）"
        verbose_name_plural = "收件月统计（渠道）"
        constraints = [
            models.UniqueConstraint(fields=["month", *INTAKE_TOTAL_DIMS], name="stats_it_month_key")
        ]


class _IntakeCategory(models.Model):
    office_id = models.IntegerField("登记单位")
    category_id = models.IntegerField("内容分类（二级）", default=0)
    batches = models.IntegerField("批次", default=0)
    persons = models.IntegerField("人次", default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.office_id}/{self.category_id}: {self.batches}批"


class IntakeCategoryDay(_IntakeCategory):
    day = models.DateField("日期")

    class Meta:
        verbose_name = "收件日统计（分类）"
        verbose_name_plural = "收件日统计（分类）"
        constraints = [
            models.UniqueConstraint(fields=["day", *INTAKE_CATEGORY_DIMS], name="stats_ic_day_key")
        ]


class IntakeCategoryMonth(_IntakeCategory):
    month = models.DateField("月份")

    class Meta:
        verbose_name = "收件月统计（分类）"
        verbose_name_plural = "收件月统计（分类）"
        constraints = [
            models.UniqueConstraint(
                fields=["month", *INTAKE_CATEGORY_DIMS], name="stats_ic_month_key"
            )
        ]


class _IntakePlace(models.Model):
    office_id = models.IntegerField("登记单位")
    place_id = models.IntegerField("问题属地", default=0)
    batches = models.IntegerField("批次", default=0)
    persons = models.IntegerField("人次", default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.office_id}/{self.place_id}: {self.batches}批"


class IntakePlaceDay(_IntakePlace):
    day = models.DateField("日期")

    class Meta:
        verbose_name = "收件日统计（属地）"
        verbose_name_plural = "收件日统计（属地）"
        constraints = [
            models.UniqueConstraint(fields=["day", *INTAKE_PLACE_DIMS], name="stats_ip_day_key")
        ]


class IntakePlaceMonth(_IntakePlace):
    month = models.DateField("月份")

    class Meta:
        verbose_name = "收件月统计（属地）"
        verbose_name_plural = "收件月统计（属地）"
        constraints = [
            models.UniqueConstraint(fields=["month", *INTAKE_PLACE_DIMS], name="stats_ip_month_key")
        ]


class _IntakeCategoryPlace(models.Model):
    office_id = models.IntegerField("登记单位")
    category_id = models.IntegerField("内容分类（二级）", default=0)
    place_id = models.IntegerField("问题属地", default=0)
    batches = models.IntegerField("批次", default=0)
    persons = models.IntegerField("人次", default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.office_id}/{self.category_id}/{self.place_id}: {self.batches}批"


class IntakeCategoryPlaceDay(_IntakeCategoryPlace):
    day = models.DateField("日期")

    class Meta:
        verbose_name = "收件日统计（分类×属地）"
        verbose_name_plural = "收件日统计（分类×属地）"
        constraints = [
            models.UniqueConstraint(
                fields=["day", *INTAKE_CATEGORY_PLACE_DIMS], name="stats_icp_day_key"
            )
        ]


class IntakeCategoryPlaceMonth(_IntakeCategoryPlace):
    month = models.DateField("月份")

    class Meta:
        verbose_name = "收件月统计（分类×属地）"
        verbose_name_plural = "收件月统计（分类×属地）"
        constraints = [
            models.UniqueConstraint(
                fields=["month", *INTAKE_CATEGORY_PLACE_DIMS], name="stats_icp_month_key"
            )
        ]


class _IntakeHotspot(models.Model):
    office_id = models.IntegerField("登记单位")
    category_l1 = models.IntegerField("内容分类（一级）", default=0)
    place_id = models.IntegerField("问题属地", default=0)
    batches = models.IntegerField("批次", default=0)
    persons = models.IntegerField("人次", default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.office_id}/{self.category_l1}/{self.place_id}: {self.batches}批"


class IntakeHotspotDay(_IntakeHotspot):
    day = models.DateField("日期")

    class Meta:
        verbose_name = "收件日统计（一级分类×属地）"
        verbose_name_plural = "收件日统计（一级分类×属地）"
        constraints = [
            models.UniqueConstraint(fields=["day", *INTAKE_HOTSPOT_DIMS], name="stats_icl_day_key")
        ]


class IntakeHotspotMonth(_IntakeHotspot):
    month = models.DateField("月份")

    class Meta:
        verbose_name = "收件月统计（一级分类×属地）"
        verbose_name_plural = "收件月统计（一级分类×属地）"
        constraints = [
            models.UniqueConstraint(
                fields=["month", *INTAKE_HOTSPOT_DIMS], name="stats_icl_month_key"
            )
        ]


class _HandlingMeasures(models.Model):
    assigned = models.IntegerField("交办转送", default=0)
    assigned_repeat = models.IntegerField("其中重复信访", default=0)
    accept_done = models.IntegerField("受理环节办结", default=0)
    accept_timely = models.IntegerField("按期受理", default=0)
    accepted = models.IntegerField("受理", default=0)
    reply_done = models.IntegerField("答复", default=0)
    reply_timely = models.IntegerField("按期答复", default=0)
    evaluated = models.IntegerField("参评", default=0)
    satisfied = models.IntegerField("满意（含基本满意）", default=0)
    unsatisfied = models.IntegerField("不满意", default=0)
    closed = models.IntegerField("办结", default=0)
    closed_once = models.IntegerField("一次性化解", default=0)
    backlog_in = models.IntegerField("转为积案", default=0)
    backlog_out = models.IntegerField("积案化解", default=0)

    class Meta:
        abstract = True


class _Handling(_HandlingMeasures):
    unit_id = models.IntegerField("单位")
    category_id = models.IntegerField("内容分类（二级）", default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.category_id}"


class HandlingDay(_Handling):
    day = models.DateField("日期")

    class Meta:
        verbose_name = "办理日统计"
        verbose_name_plural = "办理日统计"
        constraints = [
            models.UniqueConstraint(fields=["day", *HANDLING_DIMS], name="stats_handling_day_key")
        ]


class HandlingMonth(_Handling):
    month = models.DateField("月份")

    class Meta:
        verbose_name = "办理月统计"
        verbose_name_plural = "办理月统计"
        constraints = [
            models.UniqueConstraint(
                fields=["month", *HANDLING_DIMS], name="stats_handling_month_key"
            )
        ]


class _HandlingTotal(_HandlingMeasures):
    unit_id = models.IntegerField("单位")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.unit_id}"


class HandlingTotalDay(_HandlingTotal):
    """The handling cube without the category (KPI pages, the dashboard, the backlog)."""

    day = models.DateField("日期")

    class Meta:
        verbose_name = "办理日统计（单位）"
        verbose_name_plural = "办理日统计（单位）"
        constraints = [models.UniqueConstraint(fields=["day", "unit_id"], name="stats_ht_day_key")]


class HandlingTotalMonth(_HandlingTotal):
    month = models.DateField("月份")

    class Meta:
        verbose_name = "办理月统计（单位）"
        verbose_name_plural = "办理月统计（单位）"
        constraints = [
            models.UniqueConstraint(fields=["month", "unit_id"], name="stats_ht_month_key")
        ]


class AssessmentScheme(models.Model):
    """考核方案: KPI weights (data, editable by the office) and the 一票否决 conditions."""

    name = models.CharField("名称", max_length=60)
    # {"timely_accept": 15, "on_time_reply": 25, ...} — keys are kpi codes (stats.kpi.KPIS)
    weights = models.JSONField("权重", default=dict)
    # [{"code": "serious_incident", "label": "发生进京非访或重大群体性事件"}, ...]
    veto_rules = models.JSONField("一票否决情形", default=list)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "考核方案"
        verbose_name_plural = "考核方案"

    def __str__(self) -> str:
        return self.name


class VetoFlag(models.Model):
    """一票否决 recorded against a unit for a period (with the evidence and who recorded it)."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.PROTECT, related_name="vetoes")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    code = models.CharField("情形", max_length=40)
    period_start = models.DateField("起")
    period_end = models.DateField("止")
    reason = models.TextField("事实与依据")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = "一票否决"
        verbose_name_plural = "一票否决"
        indexes = [models.Index(fields=["unit", "period_start"], name="stats_veto_unit")]

    def __str__(self) -> str:
        return f"{self.code} {self.unit_id}"


class Bulletin(models.Model):
    """通报: one issued document per kind × period × scope unit; a reissue is a new row that
    points to the one it replaces and carries the difference (``diff``)."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", "周通报"
        MONTHLY = "monthly", "月通报"

    class State(models.TextChoices):
        PENDING = "pending", "生成中"
        READY = "ready", "已生成"
        FAILED = "failed", "生成失败"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField("起")
    period_end = models.DateField("止")
    number = models.CharField("期号", max_length=40, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    figures = models.JSONField("数据快照", default=dict)
    diff = models.JSONField("与上一版差异", default=list, blank=True)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reissues"
    )
    docx = models.BinaryField(null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True)
    xlsx = models.BinaryField(null=True, blank=True)
    error = models.TextField(blank=True)
    step = models.CharField("进度", max_length=40, blank=True)  # while pending: what runs now
    seconds = models.FloatField("生成耗时（秒）", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "通报"
        verbose_name_plural = "通报"
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["unit", "kind", "period_end"], name="stats_bulletin_up")]
        constraints = [
            # one issued first edition per unit × kind × period, numbers never shared between
            # first editions, one reissue of any edition (bulletins.issue_bulletin also locks)
            models.UniqueConstraint(
                fields=["unit", "kind", "period_start"],
                condition=models.Q(state="ready", replaces__isnull=True),
                name="stats_bulletin_one_first",
            ),
            models.UniqueConstraint(
                fields=["unit", "kind", "number"],
                condition=models.Q(state="ready", replaces__isnull=True),
                name="stats_bulletin_number",
            ),
            models.UniqueConstraint(
                fields=["replaces"],
                condition=models.Q(state="ready", replaces__isnull=False),
                name="stats_bulletin_one_reissue",
            ),
            # one request in the queue per unit × kind × period (bulletins.request_bulletin)
            models.UniqueConstraint(
                fields=["unit", "kind", "period_start"],
                condition=models.Q(state="pending"),
                name="stats_bulletin_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start}–{self.period_end}"
