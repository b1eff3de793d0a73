"""Persistent state of the intelligence features.

* :class:`ModelVersion` — the routing classifiers the system has (the bundled one trained on the
  shipped public data, and retrains on the office's own closed cases); exactly one is active.

Schema note for this app while it is young: there is one migration (``0001_initial``); it is
regenerated from this file, never edited by hand.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ModelVersion(models.Model):
    class Source(models.TextChoices):
        BUNDLED = "bundled", "随系统发布（公开数据）"
        RETRAIN = "retrain", "本系统案例再训练"
        IMPORT = "import", "导入"

    class State(models.TextChoices):
        TRAINING = "training", "训练中"
        READY = "ready", "可用"
        FAILED = "failed", "失败"

    version = models.CharField("版本", max_length=64, blank=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.TRAINING)
    is_active = models.BooleanField("当前使用", default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    n_train = models.PositiveIntegerField("训练样本数", default=0)
    n_own = models.PositiveIntegerField("其中本系统案例", default=0)
    labels = models.JSONField("类别", default=list, blank=True)
    metrics = models.JSONField("评估指标", default=dict, blank=True)
    path = models.CharField("模型目录", max_length=255, blank=True)
    error = models.TextField("错误", blank=True)

    class Meta:
        verbose_name = "分类模型版本"
        verbose_name_plural = "分类模型版本"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="intel_one_active_model",
            ),
            models.UniqueConstraint(
                fields=["version"],
                condition=~models.Q(version=""),
                name="intel_model_version_unique",
            ),
            # One training at a time (registry.retrain): a second request fails on this index.
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state="training"),
                name="intel_one_training_model",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version[:12] or '—'} {self.get_state_display()}"


# --- near-duplicates and mass messages (疑似重复/群发), see xinfang/intel/neardup.py -----------


class DuplicateGroup(models.Model):
    """Cases whose texts are copies or light edits of each other (联名/群发 campaigns, one person
    writing on several channels). Each member stays its own case (件); the group only links them
    so counts of 件, 人次 and distinct persons can be told apart (``neardup.group_counts``)."""

    first_case = models.ForeignKey(
        "cases.Case", verbose_name="首件", on_delete=models.PROTECT, related_name="+"
    )
    case_count = models.PositiveIntegerField("件数", default=1)
    created_at = models.DateTimeField("创建时间")
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "疑似重复/群发组"
        verbose_name_plural = "疑似重复/群发组"
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk}（{self.case_count} 件）"


class CaseSignature(models.Model):
    """A case's MinHash signature (derived data: recomputed by ``intel_neardup --rebuild``)."""

    case = models.OneToOneField(
        "cases.Case",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="near_signature",
    )
    params = models.CharField("参数", max_length=40)
    signature = models.BinaryField("签名")
    n_shingles = models.PositiveIntegerField("字符片段数")
    group = models.ForeignKey(
        DuplicateGroup,
        verbose_name="所在组",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    matched_case = models.ForeignKey(
        "cases.Case",
        verbose_name="匹配到的事项",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    similarity = models.FloatField("估计相似度", null=True, blank=True)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "文本签名"
        verbose_name_plural = "文本签名"

    def __str__(self) -> str:
        return f"{self.case_id} {self.params}"


class LshBucket(models.Model):
    """One LSH band key of one case: cases sharing a key are near-duplicate candidates."""

    key = models.BigIntegerField("分桶键")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = "LSH 分桶"
        verbose_name_plural = "LSH 分桶"
        indexes = [models.Index(fields=["key"], name="intel_lsh_key")]

    def __str__(self) -> str:
        return f"{self.key}:{self.case_id}"


# --- similar cases (相似案件), see xinfang/intel/similar.py -------------------------------------


class CaseVector(models.Model):
    """A case's hashed character-bigram counts (``intel.vectors``: derived data, recomputed by
    ``intel_index --rebuild``). Counts, not weights: the IDF is applied by the in-memory index,
    which reads only rows newer than it has (``indexed_at``, indexed) before each search."""

    case = models.OneToOneField(
        "cases.Case",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="intel_vector",
    )
    terms = models.BinaryField("特征")
    n_terms = models.PositiveIntegerField("特征数", default=0)
    indexed_at = models.DateTimeField("索引时间", db_index=True)

    class Meta:
        verbose_name = "相似案件特征"
        verbose_name_plural = "相似案件特征"

    def __str__(self) -> str:
        return f"{self.case_id}（{self.n_terms}）"


# --- hotspots (热点发现), see xinfang/intel/hotspots.py ---------------------------------------


class CaseTopicTerms(models.Model):
    """A case's keyword counts for hotspot clustering (``topics.terms_of``: rjieba words of the
    summary and the opening of the content). Derived data: a case's text never changes after
    registration, so the counts are computed once (on registration, or lazily by the first
    hotspot query that needs them) and recomputed only when ``scheme`` changes. 检举控告 cases
    never get a row: their text is not clustered."""

    case = models.OneToOneField(
        "cases.Case",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="intel_topic_terms",
    )
    scheme = models.PositiveSmallIntegerField("版本")
    terms = models.JSONField("关键词计数", default=dict)

    class Meta:
        verbose_name = "热点关键词"
        verbose_name_plural = "热点关键词"

    def __str__(self) -> str:
        return f"{self.case_id}（{len(self.terms)}）"
