"""Demo 办事指南 for the fictional 示范区 (called by ``org.demo.load_demo``): the court, labour
arbitration, administrative reconsideration, the procuratorate, the district departments
linked to their in-system units and the streets'/townships' offices for their own places.
Addresses and phone numbers are invented. Idempotent (by organ name)."""

from __future__ import annotations

from typing import Any

from xinfang.cases.models import Category
from xinfang.directory.models import Organ, OrganKind

WEEKDAYS = "周一至周五 8:30—12:00，13:30—17:30（法定节假日除外）"

# name, kind, unit key (org.demo), category paths (level1[/level2]), place codes, address,
# phone, hours, notes, legal route
ORGANS: list[tuple[str, str, str, list[str], str, str, str, str, str, bool]] = [
    (
        "示范区人民法院",
        OrganKind.COURT,
        "",
        ["政法/诉讼", "政法/法律服务"],
        "",
        "示范区法院路8号（诉讼服务中心）",
        "010-69981200",
        "周一至周五 9:00—12:00，13:30—17:00（立案）",
        "起诉须携带：身份证件原件及复印件、起诉状（按被告人数提交副本）、证据材料；"
        "可先到诉讼服务中心咨询立案或申请诉前调解。",
        True,
    ),
    (
        "示范区劳动人事争议仲裁委员会",
        OrganKind.ARBITRATION,
        "",
        ["劳动和社会保障/劳动关系", "劳动和社会保障/工资福利", "政法/仲裁与调解"],
        "",
        "示范区行政中心3号楼一层仲裁院",
        "010-69981300",
        WEEKDAYS,
        "申请仲裁须携带：仲裁申请书（按被申请人数提交副本）、身份证件、劳动合同或工资单等"
        "证明劳动关系的材料。",
        True,
    ),
    (
        "示范区人民政府行政复议办公室",
        OrganKind.RECONSIDERATION,
        "",
        ["政法/行政复议"],
        "",
        "示范区人民路1号区政府西楼203室",
        "010-69981400",
        WEEKDAYS,
        "申请行政复议须携带：复议申请书、身份证件、被申请复议的行政行为的决定书等材料。",
        True,
    ),
    (
        "示范区人民检察院",
        OrganKind.PROCURATORATE,
        "",
        ["政法/刑罚执行"],
        "",
        "示范区检察路2号（12309检察服务中心）",
        "12309",
        WEEKDAYS,
        "申请法律监督须携带：身份证件、生效裁判文书、申诉书。",
        False,
    ),
    (
        "区人力资源和社会保障局",
        OrganKind.DEPARTMENT,
        "rs",
        ["劳动和社会保障"],
        "",
        "示范区行政中心3号楼",
        "010-69981310",
        WEEKDAYS,
        "社保缴费、待遇核定请携带身份证件和社保卡；劳动保障监察投诉请携带用人单位名称和"
        "工资拖欠证明。",
        False,
    ),
    (
        "区住房和城乡建设局",
        OrganKind.DEPARTMENT,
        "zj",
        [
            "城乡建设/住房保障与房地产",
            "城乡建设/工程质量",
            "城乡建设/建筑市场",
            "城乡建设/国有土地上房屋征收与补偿",
        ],
        "",
        "示范区行政中心2号楼",
        "010-69981500",
        WEEKDAYS,
        "物业、房屋质量问题请携带购房合同或不动产权证书、相关照片。",
        False,
    ),
    (
        "区市场监督管理局",
        OrganKind.DEPARTMENT,
        "sj",
        ["商贸旅游/市场监管", "商贸旅游/质监检验检疫", "卫生计生/食品药品监管"],
        "",
        "示范区行政中心7号楼",
        "12315",
        WEEKDAYS,
        "消费投诉可拨打12315；请保留购物凭证、商品实物或照片。",
        False,
    ),
    (
        "示范区公安分局",
        OrganKind.POLICE,
        "ga",
        ["政法/社会治安", "政法/刑案侦破", "政法/户籍证件", "政法/交通管理", "政法/警务督察"],
        "",
        "示范区公安路5号",
        "010-69981110",
        "全天（户籍窗口：周一至周五 9:00—17:00）",
        "紧急情况请拨打110；户籍业务请携带户口簿和身份证件。",
        False,
    ),
    (
        "区纪委监委",
        OrganKind.DISCIPLINE,
        "jw",
        ["纪检监察"],
        "",
        "示范区人民路1号区委北楼（信访室）",
        "12388",
        WEEKDAYS,
        "检举控告请写明被检举人的姓名、单位、职务和主要问题及线索；可实名或匿名。",
        False,
    ),
    (
        "区自然资源局",
        OrganKind.DEPARTMENT,
        "zr",
        ["国土资源", "城乡建设/城乡规划"],
        "",
        "示范区行政中心12号楼",
        "010-69981700",
        WEEKDAYS,
        "土地、规划问题请携带土地使用证或不动产权证书、相关批文。",
        False,
    ),
]

STREET_KEYS = ["dh", "xs", "ny", "bc", "qs", "lh"]


def load_organs(units: dict[str, Any]) -> int:
    """Create or update the demo organs; ``units`` is ``DemoOrg.units`` (key → Unit)."""
    cats = {c.full_name: c for c in Category.objects.filter(level__lte=2)}
    n = 0
    for i, (name, kind, key, paths, codes, address, phone, hours, notes, legal) in enumerate(
        ORGANS, start=1
    ):
        organ, _ = Organ.objects.update_or_create(
            name=name,
            defaults={
                "kind": kind,
                "unit": units.get(key) if key else None,
                "place_codes": codes,
                "address": address,
                "phone": phone,
                "hours": hours,
                "notes": notes,
                "legal_route": legal,
                "sort": i * 10,
            },
        )
        organ.categories.set([cats[p] for p in paths if p in cats])
        n += 1
    for j, key in enumerate(STREET_KEYS, start=1):
        unit = units.get(key)
        if unit is None:
            continue
        suffix = "人民政府" if unit.name.endswith(("镇", "乡")) else "办事处"
        Organ.objects.update_or_create(
            name=f"{unit.name}{suffix}",
            defaults={
                "kind": OrganKind.STREET,
                "unit": unit,
                "place_codes": unit.division_code,
                "address": unit.address,
                "phone": unit.phone,
                "hours": WEEKDAYS,
                "notes": "本辖区内的物业、邻里纠纷、环境卫生、困难救助等属地事项。",
                "legal_route": False,
                "sort": 200 + j,
            },
        )
        n += 1
    return n
