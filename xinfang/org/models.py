"""Units (the organisation tree), roles as data, and memberships user × unit × role."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


class UnitType(models.TextChoices):
    DISTRICT = "district", "区/县"
    STREET = "street", "街道/乡镇"
    DEPARTMENT = "department", "部门"
    COMMUNITY = "community", "社区/村"
    GRID = "grid", "网格"
    GROUP = "group", "集团"
    COMPANY = "company", "公司"
    WORKSHOP = "workshop", "车间"
    OTHER = "other", "其他机关"


class Unit(models.Model):
    """A node of the organisation tree.

    ``path`` is a materialised path of zero-padded ids ("000001.000004.") so that "this unit and
    everything under it" is one indexed prefix match; it is derived from ``parent`` on save.
    """

    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    unit_type = models.CharField("类型", max_length=20, choices=UnitType.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("路径", max_length=255, editable=False, db_index=True, default="")
    division_code = models.CharField(
        "行政区划代码",
        max_length=12,
        blank=True,
        help_text="GB/T 2260 代码，如 110105；企业单位可留空",
    )
    is_petition_office = models.BooleanField(
        "信访工作机构",
        default=False,
        help_text="信访局/办、接待中心：可登记、转送、交办",
    )
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=40, blank=True)
    contact_person = models.CharField("联系人", max_length=40, blank=True)
    office_hours = models.CharField("办公时间", max_length=100, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(division_code="") | models.Q(division_code__regex=r"^\d{6,12}$"),
                name="unit_division_code_digits",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # The path needs the primary key, so a new row is saved twice inside one transaction.
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs.pop("force_insert", None)
            kwargs["update_fields"] = ["path"]
        self.path = (self.parent.path if self.parent else "") + f"{self.pk:06d}."
        super().save(*args, **kwargs)

    @property
    def depth(self) -> int:
        return self.path.count(".")

    def effective_division_code(self) -> str:
        """The nearest division code up the tree (case numbers use it)."""
        unit: Unit | None = self
        while unit is not None:
            if unit.division_code:
                return unit.division_code
            unit = unit.parent
        return "000000"


class Role(models.Model):
    """A role is data: its code is what the access policy keys on."""

    code = models.SlugField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    description = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "角色"
        verbose_name_plural = "角色"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    unit = models.ForeignKey(
        Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.ForeignKey(
        Role, verbose_name="角色", on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位（用户×单位×角色）"
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.role}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A per-user API token for systems. Only its SHA-256 is stored; the raw value is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField("用途", max_length=60)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField("前缀", max_length=8, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, user: models.Model, name: str) -> tuple[ApiToken, str]:
        raw = "xf_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=_hash_token(raw), prefix=raw[:8])
        return token, raw

    @classmethod
    def find_active(cls, raw: str) -> ApiToken | None:
        return (
            cls.objects.select_related("user")
            .filter(key_hash=_hash_token(raw), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
