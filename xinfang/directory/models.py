"""办事指南: the directory of organs (机关/单位) competent for a matter.

An ``Organ`` says *what* it handles (content categories — a case's category matches an organ
when the organ lists it or any ancestor of it) and *where* (division code prefixes; none = the
whole jurisdiction). The petition desk uses it for 不属本单位管辖: the 告知单 names the organ
with its address, phone and office hours (``services.organ_snapshot``). Organs on the legal
route (涉法涉诉: court, labour arbitration, administrative reconsideration) carry the standard
wording of the remedy.
"""

from __future__ import annotations

from django.db import models

from xinfang.cases.models import Category
from xinfang.org.models import Unit


class OrganKind(models.TextChoices):
    DEPARTMENT = "department", "本区部门"
    STREET = "street", "乡镇街道"
    COURT = "court", "人民法院"
    ARBITRATION = "arbitration", "劳动人事争议仲裁委员会"
    RECONSIDERATION = "reconsideration", "行政复议机构"
    POLICE = "police", "公安机关"
    PROCURATORATE = "procuratorate", "人民检察院"
    DISCIPLINE = "discipline", "纪检监察机关"
    OTHER = "other", "其他"


# The kinds whose remedy is a legal procedure (诉讼/仲裁/行政复议), not a petition.
LEGAL_KINDS = frozenset({OrganKind.COURT, OrganKind.ARBITRATION, OrganKind.RECONSIDERATION})


class Organ(models.Model):
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=OrganKind.choices)
    unit = models.ForeignKey(
        Unit,
        verbose_name="对应本系统单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="directory_organs",
        help_text="本区部门、乡镇街道可关联本系统中的单位（可交办）；区外机关留空",
    )
    categories = models.ManyToManyField(
        Category,
        verbose_name="管辖内容分类",
        blank=True,
        related_name="organs",
        help_text="选上级分类即包括其全部下级分类；不选表示不按内容分类匹配",
    )
    place_codes = models.CharField(
        "管辖属地（区划代码前缀）",
        max_length=400,
        blank=True,
        help_text="以逗号分隔的行政区划代码或其前缀，如 110199001；留空表示全辖区",
    )
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=60, blank=True)
    hours = models.CharField("办公时间", max_length=200, blank=True)
    website = models.CharField(
        "网站", max_length=200, blank=True, help_text="仅显示文字，不生成链接"
    )
    notes = models.TextField("须知", blank=True, help_text="如需携带的材料、注意事项")
    legal_route = models.BooleanField(
        "涉法涉诉途径",
        default=False,
        help_text="人民法院、劳动人事争议仲裁、行政复议等：告知单写明法定救济途径",
    )
    remedy = models.TextField(
        "救济途径说明",
        blank=True,
        help_text="告知单中的标准表述；留空时按机关类型使用系统默认表述",
    )
    is_active = models.BooleanField("启用", default=True)
    sort = models.PositiveIntegerField("排序", default=100)

    class Meta:
        verbose_name = "办事机关"
        verbose_name_plural = "办事指南（管辖机关）"
        ordering = ["sort", "id"]
        constraints = [models.UniqueConstraint(fields=["name"], name="directory_organ_name")]

    def __str__(self) -> str:
        return self.name

    def place_prefixes(self) -> list[str]:
        return [p.strip() for p in self.place_codes.replace("，", ",").split(",") if p.strip()]
