"""Fixed pools the demo loader draws from: regions, people, company names, streets, texts.

Kept apart from ``server.demo`` so the generator reads as rules and this file as data.
Everything is bilingual on purpose: the product is used in Chinese and in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class City:
    region: str  # region name as shown in the app
    code: str  # short key used in usernames
    name_zh: str
    name_en: str
    lat: float
    lng: float
    area_code: str  # landline prefix after +86
    districts: tuple[tuple[str, str], ...]  # (zh, en)
    roads: tuple[tuple[str, str], ...]  # (zh, en)
    reps: int


CITIES: tuple[City, ...] = (
    City(
        region="华东 East China",
        code="east",
        name_zh="上海",
        name_en="Shanghai",
        lat=31.2304,
        lng=121.4737,
        area_code="21",
        districts=(
            ("浦东新区", "Pudong New Area"),
            ("黄浦区", "Huangpu District"),
            ("徐汇区", "Xuhui District"),
            ("静安区", "Jing'an District"),
            ("长宁区", "Changning District"),
            ("闵行区", "Minhang District"),
            ("杨浦区", "Yangpu District"),
        ),
        roads=(
            ("南京西路", "West Nanjing Road"),
            ("淮海中路", "Middle Huaihai Road"),
            ("世纪大道", "Century Avenue"),
            ("张江路", "Zhangjiang Road"),
            ("漕溪北路", "North Caoxi Road"),
            ("虹桥路", "Hongqiao Road"),
            ("陆家嘴环路", "Lujiazui Ring Road"),
            ("四平路", "Siping Road"),
        ),
        reps=4,
    ),
    City(
        region="华南 South China",
        code="south",
        name_zh="广州",
        name_en="Guangzhou",
        lat=23.1291,
        lng=113.2644,
        area_code="20",
        districts=(
            ("天河区", "Tianhe District"),
            ("越秀区", "Yuexiu District"),
            ("海珠区", "Haizhu District"),
            ("荔湾区", "Liwan District"),
            ("白云区", "Baiyun District"),
            ("番禺区", "Panyu District"),
        ),
        roads=(
            ("天河路", "Tianhe Road"),
            ("中山五路", "Zhongshan 5th Road"),
            ("花城大道", "Huacheng Avenue"),
            ("环市东路", "East Huanshi Road"),
            ("江南大道", "Jiangnan Avenue"),
            ("东风中路", "Middle Dongfeng Road"),
            ("体育西路", "West Tiyu Road"),
        ),
        reps=3,
    ),
    City(
        region="华北 North China",
        code="north",
        name_zh="北京",
        name_en="Beijing",
        lat=39.9042,
        lng=116.4074,
        area_code="10",
        districts=(
            ("朝阳区", "Chaoyang District"),
            ("海淀区", "Haidian District"),
            ("东城区", "Dongcheng District"),
            ("西城区", "Xicheng District"),
            ("丰台区", "Fengtai District"),
            ("通州区", "Tongzhou District"),
        ),
        roads=(
            ("建国路", "Jianguo Road"),
            ("中关村大街", "Zhongguancun Street"),
            ("东长安街", "East Chang'an Avenue"),
            ("三里屯路", "Sanlitun Road"),
            ("望京街", "Wangjing Street"),
            ("金融大街", "Financial Street"),
            ("学院路", "Xueyuan Road"),
        ),
        reps=3,
    ),
)

# (zh, pinyin) people for staff accounts: username is the pinyin, dotted and lower case.
MANAGERS: tuple[tuple[str, str], ...] = (
    ("徐明", "Xu Ming"),
    ("梁慧", "Liang Hui"),
    ("高峰", "Gao Feng"),
)
REPS: tuple[tuple[str, str], ...] = (
    ("李伟", "Li Wei"),
    ("王芳", "Wang Fang"),
    ("张敏", "Zhang Min"),
    ("刘洋", "Liu Yang"),
    ("陈静", "Chen Jing"),
    ("黄磊", "Huang Lei"),
    ("周婷", "Zhou Ting"),
    ("赵强", "Zhao Qiang"),
    ("孙丽", "Sun Li"),
    ("吴昊", "Wu Hao"),
)

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
    ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
    ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("林", "Lin"), ("罗", "Luo"), ("郑", "Zheng"),
)  # fmt: skip
GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("秀英", "Xiuying"), ("敏", "Min"),
    ("静", "Jing"), ("丽", "Li"), ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"),
    ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"), ("杰", "Jie"), ("娟", "Juan"),
    ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("晓红", "Xiaohong"), ("志强", "Zhiqiang"),
)  # fmt: skip
ENGLISH_FIRST = (
    "David", "Emily", "Michael", "Grace", "Kevin", "Linda", "Jason", "Amy", "Peter", "Helen",
    "Tony", "Vivian", "Eric", "Cindy", "Frank", "Joyce", "Steven", "Iris", "Leo", "Nancy",
)  # fmt: skip

# Chinese company names: <city><brand><trade>有限公司
BRANDS_ZH = (
    "华信", "恒丰", "瑞达", "金桥", "宏远", "鼎盛", "佳和", "新世纪", "永安", "天成",
    "汇通", "盛源", "长江", "中联", "海纳", "百川", "东方", "锦华", "福瑞", "嘉禾",
    "万通", "博雅", "德润", "联华", "美嘉", "顺发", "安康", "明珠", "星辰", "和记",
)  # fmt: skip
TRADES_ZH = (
    "贸易", "食品", "医疗器械", "商贸", "餐饮管理", "超市", "酒店管理", "药业", "电子",
    "建材", "物流", "日用品", "连锁商业", "文化用品", "饮料",
)  # fmt: skip
BRANDS_EN = (
    "Golden Bridge", "Pearl River", "Bund", "Jade Garden", "Silver Lake", "Red Lantern",
    "Harbour View", "Lotus", "Summit", "Evergreen", "Orient Star", "Blue Ocean", "Bamboo",
    "Great Wall", "Phoenix", "Crystal", "Sunrise", "Maple Leaf", "Harmony", "Unicorn",
)  # fmt: skip
TRADES_EN = (
    "Trading Co., Ltd.", "Foods Co., Ltd.", "Hospitality Group", "Medical Supplies Ltd.",
    "Supermarkets", "Restaurants", "Pharmacy Chain", "Electronics Ltd.", "Logistics Co.",
    "Catering Services", "Wholesale Ltd.", "Beverage Co., Ltd.",
)  # fmt: skip
CHANNELS_ZH = ("便利店连锁", "批发市场", "电商旗舰店", "社区团购", "分销中心")
CHANNELS_EN = (
    "Convenience Chain",
    "Wholesale Market",
    "Online Flagship Store",
    "Distribution Centre",
)

CONTACT_TITLES: tuple[tuple[str, str], ...] = (
    ("采购经理", "Purchasing Manager"),
    ("总经理", "General Manager"),
    ("店长", "Store Manager"),
    ("财务主管", "Finance Supervisor"),
    ("行政主管", "Office Manager"),
    ("仓库主管", "Warehouse Supervisor"),
    ("市场总监", "Marketing Director"),
)

TAGS = (
    "wholesale", "retail", "hotel", "restaurant", "pharmacy", "online", "new", "VIP",
    "新客户", "老客户", "重点", "连锁", "需要发票", "节日礼品",
)  # fmt: skip
PREFERENCES = (
    "",
    "",
    "Prefers morning visits; call ahead.",
    "喜欢上午拜访，请提前电话预约。",
    "Invoice by the 25th of each month.",
    "每月25日前开发票。",
    "Decision maker is only in on Tuesdays and Thursdays.",
    "负责人周二、周四在店。",
    "Deliveries through the back entrance.",
    "送货请走后门。",
)

# (name_en, name_zh, unit value CNY, yearly cap per customer CNY, weight)
GIFT_CATALOG: tuple[tuple[str, str, Decimal, Decimal, int], ...] = (
    ("Branded notebook", "品牌笔记本", Decimal("25.00"), Decimal("250.00"), 6),
    ("Desk calendar", "台历", Decimal("30.00"), Decimal("300.00"), 4),
    ("Umbrella", "雨伞", Decimal("45.00"), Decimal("270.00"), 3),
    ("Product samples", "产品样品", Decimal("60.00"), Decimal("900.00"), 6),
    ("Power bank", "充电宝", Decimal("120.00"), Decimal("480.00"), 2),
    ("Tea gift box", "茶叶礼盒", Decimal("180.00"), Decimal("720.00"), 3),
    ("Mooncake box", "月饼礼盒", Decimal("150.00"), Decimal("450.00"), 2),
    ("Fruit basket", "水果篮", Decimal("200.00"), Decimal("800.00"), 1),
)

# Cadence: tier -> (interval days, reminder lead days)
CADENCE: dict[str, tuple[int, int]] = {"A": (14, 2), "B": (30, 1), "C": (60, 1)}

PURPOSES = ("routine", "order", "delivery", "relationship", "collection", "demo")

OUTCOMES_ORDER = (
    "下单{n}箱，下周送货。",
    "Placed an order for {n} cases; delivery next week.",
    "补货{n}箱，已确认价格。",
    "Restocked {n} cases at the agreed price.",
    "追加订单{n}箱，要求周五前到货。",
    "Top-up order of {n} cases, needed before Friday.",
)
OUTCOMES_OTHER = (
    "例行拜访，库存充足。",
    "Routine check-in; stock levels fine.",
    "介绍了新品，客户有兴趣，待报价。",
    "Introduced the new range; customer wants a quote.",
    "收回上月货款。",
    "Collected last month's payment.",
    "负责人不在，留下资料。",
    "Decision maker out; left brochures.",
    "检查陈列，调整了货架位置。",
    "Checked the display and moved the shelf facing.",
)

NOTES_TEXT = (
    "客户计划下季度扩大门店数量。",
    "Customer plans to open two more stores next quarter.",
    "对价格比较敏感，竞品在做促销。",
    "Price sensitive; a competitor is running a promotion.",
    "新任采购经理，需要重新建立关系。",
    "New purchasing manager; relationship needs rebuilding.",
    "希望提供电子发票。",
    "Asked for electronic invoices from now on.",
)
FEEDBACK_TEXT = (
    "包装改进后破损明显减少，客户满意。",
    "Happy with the new packaging: far fewer breakages.",
    "希望增加小规格产品。",
    "Would like a smaller pack size.",
)
COMPLAINTS_TEXT = (
    "上次送货延迟两天，影响周末销售。",
    "Last delivery was two days late and missed the weekend.",
    "收到的一箱产品外包装破损。",
    "One case arrived with damaged outer packaging.",
    "发票金额与订单不符。",
    "Invoice amount does not match the order.",
    "促销物料没有按约定送到。",
    "Promotional materials were not delivered as agreed.",
)
