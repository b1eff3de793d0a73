"""Petition topics of the demo: what a district office actually receives.

Housing and demolition compensation, unpaid wages, social insurance, pensions, pollution and
noise, property management, school places, medical disputes, land contracts, traffic, welfare,
accusations, 涉法涉诉 matters … Each topic names the handling units ("street" = the street of the
place), and each variant the level-3 category of the seeded taxonomy by the names of its levels
(``"住房保障与房地产>物业服务"``), then summary | detail | demand [| purpose], with ``{xiaoqu}``
style placeholders filled per case. All names are fictional.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    cat: tuple[str, ...]  # names in the level-3 category's path, e.g. ("劳动关系", "农民工权益")
    summary: str
    detail: str
    demand: str
    purpose: str = "appeal"


@dataclass(frozen=True)
class Topic:
    key: str
    weight: float
    units: tuple[str, ...]  # handling unit keys; "street" = the street of the place
    variants: tuple[Variant, ...]
    rural: bool | None = None  # True: villages only; False: urban communities only
    group: str = ""  # group identity for collective petitions ("" = never collective)
    legal: float = 0.0  # share that is 涉法涉诉 (told to use litigation/arbitration)
    age: tuple[int, int] = (25, 70)
    occupations: tuple[str, ...] = ("企业职工", "个体工商户", "自由职业", "无业")
    migrant: float = 0.05  # share of petitioners born outside the city
    fixes: tuple[str, ...] = field(default=("已督促相关责任主体限期整改",))


def _variants(*rows: str) -> tuple[Variant, ...]:
    out = []
    for row in rows:
        cat, summary, detail, demand, *purpose = row.split("|")
        out.append(Variant(tuple(cat.split(">")), summary, detail, demand, *purpose))
    return tuple(out)


TOPICS: tuple[Topic, ...] = (
    Topic(
        "property",
        9,
        ("street", "zj"),
        _variants(
            "住房保障与房地产>物业服务|反映{xiaoqu}物业公司未经业主大会同意上调物业费"
            "|{xiaoqu}物业公司近日张贴通知，将物业费由每平方米1.2元上调至1.8元，未召开业主大会，也未公示成本测算。"
            "|请求督促物业公司依法履行程序。",
            "住房保障与房地产>物业服务|反映{xiaoqu}电梯频繁故障，物业维修不及时"
            "|{xiaoqu}{n}号楼电梯近三个月多次停运，曾有老人被困，物业公司以维修资金未到位为由拖延。"
            "|请求尽快维修或更换电梯，保障居民出行安全。",
            "城市建设和市政管理>小区管理|反映{xiaoqu}物业撤场后小区无人管理"
            "|原物业公司合同到期撤场，{xiaoqu}垃圾无人清运、门禁损坏，社区未组织选聘新物业。"
            "|请求街道、社区尽快协调引入物业服务。",
        ),
        rural=False,
        group="{xiaoqu}业主",
        fixes=(
            "物业公司已暂停执行新收费标准，将依法召开业主大会重新表决",
            "已督促物业公司完成电梯维修，并启动维修资金使用程序",
            "街道已指导社区成立临时管理小组，并启动新物业选聘",
        ),
    ),
    Topic(
        "demolition",
        6,
        ("zj", "street"),
        _variants(
            "国有土地上房屋征收与补偿>安置补偿|反映{road}片区房屋征收补偿标准偏低"
            "|本人位于{road}片区的房屋被列入征收范围，评估单价明显低于周边二手房成交价。"
            "|请求按照市场评估价给予补偿，并公开评估依据。",
            "国有土地上房屋征收与补偿>回迁房|反映{xiaoqu}回迁安置房逾期{months}个月未交付"
            "|按照征收补偿协议，回迁房应于去年年底交付，至今逾期{months}个月，过渡费也已停发。"
            "|请求明确交房时间并继续发放过渡费。",
            "集体土地上房屋拆迁与补偿>安置补偿|反映{village}拆迁安置面积认定有误"
            "|本人家庭宅基地上的房屋拆迁时，部分附属用房未计入安置面积。"
            "|请求重新核定安置面积。",
        ),
        group="{road}片区被征收户",
        legal=0.08,
        age=(35, 80),
        fixes=(
            "已组织评估机构对评估报告进行复核并向您书面说明",
            "已督促建设单位明确交房时间，过渡费自逾期之月起继续发放",
        ),
    ),
    Topic(
        "wages",
        10,
        ("rs", "zj", "ctjs"),
        _variants(
            "劳动关系>农民工权益|反映{company}拖欠{n}名农民工工资约{amount}万元"
            "|我们{n}人在{project}为{company}务工，自去年起工资按月拖欠，老板一直推脱。"
            "|请求责令企业尽快支付拖欠工资。",
            "劳动关系>农民工权益|反映在{project}务工被拖欠工资{small}元"
            "|本人在{project}从事钢筋工，包工头以总包未拨款为由拖欠工资{small}元。"
            "|请求协调支付工资。",
            "建筑市场>拖欠工程款|反映{company}拖欠分包工程款{amount}万元"
            "|本公司承接{project}的分包工程已竣工验收，{company}拖欠工程款{amount}万元，影响发放工人工资。"
            "|请求督促总包单位结清工程款。",
        ),
        group="{company}农民工",
        legal=0.05,
        age=(22, 58),
        occupations=("农民工", "建筑工人", "包工头"),
        migrant=0.8,
        fixes=(
            "人社局已责令企业限期支付，拖欠工资已全部发放到位",
            "已启用工资保证金先行垫付，并对企业立案调查",
        ),
    ),
    Topic(
        "social_insurance",
        6,
        ("rs",),
        _variants(
            "城镇职工社会保险>职工养老保险|反映原单位未足额缴纳养老保险"
            "|本人在{company}工作期间，单位按最低基数缴纳养老保险，影响退休待遇。"
            "|请求责令单位补缴。",
            "城镇职工社会保险>职工工伤保险|反映工伤认定后单位拒不支付伤残补助金"
            "|本人在工作中受伤，已认定为工伤九级伤残，{company}至今未支付一次性伤残补助金。"
            "|请求督促单位依法支付工伤待遇。",
        ),
        legal=0.12,
        age=(30, 62),
        fixes=("已责令用人单位限期补缴，并将结果告知本人",),
    ),
    Topic(
        "pension",
        6,
        ("rs",),
        _variants(
            "退休政策及待遇>退休金发放|反映企业退休人员养老金调整未落实"
            "|本人系{factory}退休职工，今年养老金调整后实际到账金额与公布标准不符。"
            "|请求核查并补发差额。",
            "退休政策及待遇>退休人员待遇|原{factory}退休职工反映退休待遇偏低"
            "|{factory}改制时部分职工工龄认定不全，导致退休待遇明显偏低。"
            "|请求重新核定工龄。",
        ),
        group="原{factory}退休职工",
        age=(60, 85),
        occupations=("退休职工",),
        fixes=("社保经办机构已重新核算，差额已补发",),
    ),
    Topic(
        "noise",
        5,
        ("hb", "cg"),
        _variants(
            "环境污染>噪音污染|反映{road}施工工地夜间施工噪音扰民"
            "|{road}一处工地每晚施工至凌晨，渣土车往来频繁，周边居民无法休息。"
            "|请求依法查处夜间违规施工。",
            "环境污染>噪音污染|反映{xiaoqu}楼下{shop}噪音扰民"
            "|{xiaoqu}临街{shop}每天营业至深夜，音响声音很大。"
            "|请求有关部门管理。",
        ),
        rural=False,
        group="{xiaoqu}居民",
        fixes=("执法部门已现场检查并责令整改，将持续跟踪",),
    ),
    Topic(
        "air_water",
        4,
        ("hb",),
        _variants(
            "环境污染>大气污染|反映{xiaoqu}附近餐饮店油烟直排"
            "|{xiaoqu}底商餐饮店未安装油烟净化设施，油烟直排进入居民家中。"
            "|请求责令安装净化设施。",
            "环境污染>水污染|反映{village}附近河道有企业偷排污水"
            "|{village}附近河道近期河水发黑发臭，夜间有企业通过暗管排放污水。"
            "|请求查处偷排行为并治理河道。",
        ),
        fixes=("生态环境部门已取样检测并立案查处，责令停止违法排放",),
    ),
    Topic(
        "school",
        5,
        ("jy",),
        _variants(
            "教育体制>教育资源配置|反映{xiaoqu}业主子女无法就近入学"
            "|{xiaoqu}被划入距离较远的学区，孩子上学需要换乘公交。"
            "|请求调整学区划分，就近安排入学。",
            "考试招生>招生录取|反映随迁子女入学材料审核过严"
            "|本人在本区务工多年，孩子今年上小学，因居住证时间差两个月未通过审核。"
            "|请求予以照顾，安排入读公办学校。",
            "教育收费>乱收费|反映{school}以资料费名义违规收费"
            "|{school}要求每名学生缴纳资料费和课后服务费，未公示收费依据。"
            "|请求查处违规收费。",
        ),
        age=(28, 46),
        occupations=("企业职工", "个体工商户", "教师", "自由职业"),
        fixes=("教育部门已责令学校退还违规收取的费用", "已协调安排学位"),
    ),
    Topic(
        "medical",
        4,
        ("wj",),
        _variants(
            "医患纠纷>医疗事故争议|对家属在{hospital}的诊疗过程有异议"
            "|本人家属在{hospital}手术后出现严重并发症，认为医院存在诊疗过错。"
            "|请求组织医疗事故技术鉴定并追究责任。",
            "医政监管>医疗收费|反映{hospital}重复收费、过度检查"
            "|家属在{hospital}住院期间费用清单中存在重复收费项目。"
            "|请求核查并退还多收费用。",
        ),
        legal=0.3,
        age=(30, 75),
        fixes=("卫健委已组织医患双方调解，医院已退还多收费用",),
    ),
    Topic(
        "land",
        6,
        ("street", "zr"),
        _variants(
            "土地承包经营>土地承包|反映{village}村委会违规调整承包地"
            "|{village}村委会未经村民会议讨论，收回本户部分承包地另行发包。"
            "|请求恢复承包经营权。",
            "土地承包经营>土地流转|反映土地流转费连续{years}年未支付"
            "|本户承包地流转给合作社种植苗木，合作社已连续{years}年未支付流转费。"
            "|请求督促支付流转费。",
            "土地承包经营>宅基地纠纷|反映与邻居宅基地界址纠纷"
            "|邻居翻建房屋时占用本户宅基地约三米，村委会调解未果。"
            "|请求依法确权。",
            "土地征收>安置补偿|反映{village}征地补偿款未足额发放"
            "|{village}部分土地被征收用于道路建设，补偿款至今未足额发放到户。"
            "|请求公开补偿款分配情况并足额发放。",
        ),
        rural=True,
        group="{village}村民",
        legal=0.1,
        age=(35, 80),
        occupations=("农民", "农民", "个体工商户"),
        fixes=("镇政府已组织村委会公开账目，补偿款已发放到户",),
    ),
    Topic(
        "traffic",
        4,
        ("ga", "jt"),
        _variants(
            "交通管理>交通事故|对{road}交通事故责任认定有异议"
            "|本人在{road}路口发生交通事故，交警认定本人负主要责任，本人认为认定依据不足。"
            "|请求重新认定事故责任。",
            "城市建设和市政管理>公共汽车|建议在{xiaoqu}附近增设公交站点"
            "|{xiaoqu}入住居民已超过两千户，最近的公交站需步行二十分钟。"
            "|建议增设站点或调整线路。"
            "|suggestion",
            "城市建设和市政管理>公共汽车|反映{route}路公交车班次少、间隔长"
            "|早高峰{route}路公交车间隔超过三十分钟，乘客拥挤。"
            "|建议增加早晚高峰班次。"
            "|suggestion",
        ),
        legal=0.15,
        fixes=("公交集团已调整线路并增加高峰班次",),
    ),
    Topic(
        "construction",
        4,
        ("cg", "street"),
        _variants(
            "城乡规划>违章建筑|反映{xiaoqu}顶楼业主私搭乱建"
            "|{xiaoqu}{n}号楼顶楼业主在楼顶加盖彩钢房，存在安全隐患且导致楼下漏水。"
            "|请求依法拆除违法建设。",
            "城市建设和市政管理>冬季采暖|反映{xiaoqu}供暖温度不达标"
            "|入冬以来{xiaoqu}室温长期低于16℃，供热公司以管网老化为由未予解决。"
            "|请求督促供热单位保障供暖质量。",
        ),
        rural=False,
        group="{xiaoqu}业主",
        fixes=("城管执法部门已下达限期拆除决定书",),
    ),
    Topic(
        "welfare",
        5,
        ("mz", "street"),
        _variants(
            "社会救助>城镇低保|申请城镇低保被驳回，对审核结果有异议"
            "|本人患病无法工作，家庭收入低于本区低保标准，申请低保被以有车辆为由驳回。"
            "|请求重新审核。",
            "优抚>生活住房医疗|退役军人反映生活困难，申请帮扶"
            "|本人系退役军人，因病致贫，医疗费用负担较重。"
            "|请求给予帮扶救助。",
            "基层选举和社区建设>社区建设|建议{community}增设老年人日间照料中心"
            "|{community}老年人口较多，缺少活动和就餐场所。"
            "|建议利用闲置用房建设日间照料中心。"
            "|suggestion",
        ),
        age=(40, 85),
        fixes=("民政部门已重新入户核查并予以纳入救助",),
    ),
    Topic(
        "market",
        4,
        ("sj",),
        _variants(
            "市场监管>商品质量|反映{xiaoqu}附近{shop}关门，预付卡无法退费"
            "|本人在{shop}办理预付卡充值{small}元，商家突然关门，联系不上经营者。"
            "|请求协助追回预付款。",
            "食品药品监管>食品安全|反映{school}周边小吃摊食品安全问题"
            "|{school}门口流动摊贩售卖无标识食品，学生食用后出现腹泻。"
            "|请求加强监管。",
        ),
        legal=0.1,
        fixes=("市场监管部门已立案调查，并督促经营者退还预付款",),
    ),
    Topic(
        "security",
        3,
        ("ga",),
        _variants(
            "社会治安>治安案件|反映{xiaoqu}附近有人聚众赌博"
            "|{xiaoqu}附近一处棋牌室经常有人聚众赌博至深夜，影响治安。"
            "|请求依法查处。",
            "社会治安>消防安全|反映{xiaoqu}楼道堆放杂物、电动车入户充电"
            "|{xiaoqu}多个楼道堆放杂物，有居民将电动车推入楼道充电，存在火灾隐患。"
            "|请求加强消防安全管理。",
        ),
        fixes=("公安分局已组织清查，对违法行为依法处理",),
    ),
    Topic(
        "accusation",
        5,
        ("jw",),
        _variants(
            "滥用职权>以权谋私|检举{village}村干部虚报冒领补贴"
            "|{village}村干部在{project}补贴发放中将亲属列入名单，虚报冒领补贴款。"
            "|请求调查处理。"
            "|accusation",
            "干部作风>官僚主义|反映某街道工作人员办事推诿、态度恶劣"
            "|本人到街道办理事项，工作人员多次推诿，要求提供不必要的证明材料。"
            "|请求调查并改进工作作风。"
            "|accusation",
            "贪污贿赂>行贿受贿索贿|检举某部门工作人员在审批中索要好处费"
            "|本人办理施工许可时，有工作人员暗示需要“打点”才能尽快办理。"
            "|请求严肃查处。"
            "|accusation",
        ),
        fixes=("纪检监察机关已受理并开展核查，核查结果将依规告知",),
    ),
    Topic(
        "litigation",
        4,
        ("street", "rs"),
        _variants(
            "仲裁与调解>生效法律文书执行|反映法院判决生效后对方拒不履行"
            "|本人与{company}劳动争议案件判决已生效，对方至今未履行给付义务。"
            "|请求督促执行。",
            "诉讼>民事诉讼|对法院民事判决不服"
            "|本人与邻居相邻权纠纷一案，认为一审判决认定事实错误。"
            "|请求纠正判决。",
        ),
        legal=0.9,
        fixes=("已引导通过法定途径解决",),
    ),
    Topic(
        "subsidy",
        3,
        ("cz", "street"),
        _variants(
            "惠农补贴>其他补贴|反映耕地地力保护补贴未发放到位"
            "|本户{years}年的耕地地力保护补贴至今未发放，询问村里答复不清。"
            "|请求核查发放情况。",
            "住房保障与房地产>保障性住房|申请公共租赁住房多年未轮候到"
            "|本人{years}年前已通过公租房资格审核，至今未轮候配租。"
            "|请求尽快安排配租。",
        ),
        age=(35, 80),
        fixes=("财政部门已核查资金拨付情况，补贴已补发到户",),
    ),
)
