"""Petitioners (信访人) and groups of petitioners for collective petitions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xinfang.core.masking import mask_id, mask_phone
from xinfang.people import pii


class IdType(models.TextChoices):
    RESIDENT = "resident", "居民身份证"
    HMT_PERMIT = "hmt_permit", "港澳台居民居住证"
    PASSPORT = "passport", "护照"
    OTHER = "other", "其他"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"
    UNKNOWN = "", "未知"


class AgeBand(models.TextChoices):
    UNDER_18 = "u18", "18岁以下"
    A18_35 = "18-35", "18–35岁"
    A36_60 = "36-60", "36–60岁"
    OVER_60 = "60+", "60岁以上"
    UNKNOWN = "", "未知"


class Petitioner(models.Model):
    """One natural person. One row per ID number (database-unique); persons registered without
    an ID number can later be merged into the identified row (``merged_into``, recorded)."""

    name = models.CharField("姓名", max_length=60, db_index=True)
    name_initials = models.CharField("姓名拼音首字母", max_length=20, blank=True, db_index=True)
    id_type = models.CharField(
        "证件类型", max_length=12, choices=IdType.choices, default=IdType.RESIDENT
    )
    # ID number and phone are stored encrypted (AES-GCM, xinfang.core.crypto) with keyed blind
    # indexes for exact lookup; read and write them through the ``id_number``/``phone``
    # properties, query them through ``people.selectors`` (``with_id_number``, ``with_phone``).
    id_number_enc = models.TextField("证件号码（密文）", blank=True, default="", editable=False)
    id_number_bidx = models.CharField(
        "证件号码索引", max_length=64, null=True, blank=True, unique=True, editable=False
    )
    id_tail_bidx = models.CharField(
        "证件号码后六位索引", max_length=64, blank=True, default="", db_index=True, editable=False
    )
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True, default="")
    birth_date = models.DateField("出生日期", null=True, blank=True)
    age_band = models.CharField(
        "年龄段", max_length=8, choices=AgeBand.choices, blank=True, default=""
    )
    phone_enc = models.TextField("联系电话（密文）", blank=True, default="", editable=False)
    phone_bidx = models.CharField(
        "联系电话索引", max_length=64, blank=True, default="", db_index=True, editable=False
    )
    address = models.CharField("住址", max_length=200, blank=True)
    education = models.CharField("文化程度", max_length=20, blank=True)
    occupation = models.CharField("职业", max_length=40, blank=True)
    ethnic_group = models.CharField("民族", max_length=20, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name="已合并至",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "信访人"
        verbose_name_plural = "信访人"
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name

    # Columns a change of ``id_number``/``phone`` writes (for ``save(update_fields=…)``).
    ID_NUMBER_COLUMNS = ("id_number_enc", "id_number_bidx", "id_tail_bidx")
    PHONE_COLUMNS = ("phone_enc", "phone_bidx")

    def _plain(self, column: str) -> str | None:
        """Decrypt a column once per token value (cached on the instance)."""
        token = getattr(self, column)
        if not token:
            return None
        cache: dict[str, tuple[str, str | None]] = self.__dict__.setdefault("_pii_plain", {})
        hit = cache.get(column)
        if hit is None or hit[0] != token:
            value = pii.decrypt_id(token) if column == "id_number_enc" else pii.decrypt_phone(token)
            hit = cache[column] = (token, value)
        return hit[1]

    @property
    def id_number(self) -> str | None:
        """The full ID number (decrypted), None without one. Never put it in a list or log."""
        return self._plain("id_number_enc")

    @id_number.setter
    def id_number(self, value: str | None) -> None:
        for column, stored in pii.id_columns(value).items():
            setattr(self, column, stored)

    @property
    def phone(self) -> str:
        """The full phone number (decrypted), "" without one."""
        return self._plain("phone_enc") or ""

    @phone.setter
    def phone(self, value: str | None) -> None:
        for column, stored in pii.phone_columns(value).items():
            setattr(self, column, stored)

    @property
    def id_masked(self) -> str:
        return mask_id(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class PetitionerGroup(models.Model):
    """A group's identity for collective petitions, e.g. 某厂退休职工."""

    name = models.CharField("群体名称", max_length=100, unique=True)
    description = models.TextField("说明", blank=True)
    members = models.ManyToManyField(
        Petitioner, verbose_name="成员", blank=True, related_name="groups"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "信访群体"
        verbose_name_plural = "信访群体"

    def __str__(self) -> str:
        return self.name


class PetitionerMerge(models.Model):
    """Record of a merge of a duplicate person row into another (nothing is deleted)."""

    source = models.ForeignKey(
        Petitioner, verbose_name="被合并", on_delete=models.PROTECT, related_name="+"
    )
    target = models.ForeignKey(
        Petitioner, verbose_name="合并至", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("原因", max_length=200)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "信访人合并记录"
        verbose_name_plural = "信访人合并记录"

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


class KeyPerson(models.Model):
    """重点人员: a petitioner the office watches (issue 5: the lookup card shows the flag and
    the reason to office staff and leaders). At most one active row per person (partial unique
    constraint); removing keeps the row (``removed_*``) as history. Issue 10 extends it (包案
    leader, plan, contacts: ``prevention.keypersons``)."""

    petitioner = models.ForeignKey(
        Petitioner, verbose_name="信访人", on_delete=models.PROTECT, related_name="key_flags"
    )
    reason = models.CharField("列为重点人员的原因", max_length=200)
    since = models.DateField("起始日期")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    removed_at = models.DateTimeField("撤销时间", null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    removed_reason = models.CharField("撤销原因", max_length=200, blank=True)
    # Issue 10 (xinfang.prevention.keypersons): who answers for the person and how.
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name="责任单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="包案领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    plan = models.TextField("稳控/帮扶措施", blank=True)
    review_on = models.DateField("下次评估日期", null=True, blank=True)

    class Meta:
        verbose_name = "重点人员"
        verbose_name_plural = "重点人员"
        constraints = [
            models.UniqueConstraint(
                fields=["petitioner"],
                condition=models.Q(removed_at__isnull=True),
                name="keyperson_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"重点人员 {self.petitioner_id}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None
