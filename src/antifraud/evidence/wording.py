"""Every fixed text of the evidence report and its pictures, in Chinese and English.

The one place the report is worded: :data:`TEXTS` holds each text in both languages side by side
(a template where it has fields), :data:`KIND_TEXTS` how a ring of each kind is titled and, where
an honest explanation is common, the caveat its page opens with. What each kind means comes from
:mod:`antifraud.kinds`, and the reasons a finding gives from :mod:`antifraud.findings.words`, in the
same languages.

Chinese (``"zh"``) is the default: regulators read the report in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass

from antifraud.kinds import KIND_WORDS, KIND_WORDS_ZH
from antifraud.languages import LANGUAGES

__all__ = ["DEFAULT_LANGUAGE", "GLOSSARY", "HTML_LANG", "KIND_TEXTS", "LANGUAGES", "LIMITATIONS", "TEXTS",
           "KindTexts", "counted", "kind_meaning", "kind_texts", "text"]

#: The report's language unless asked otherwise.
DEFAULT_LANGUAGE = "zh"

#: The ``lang`` attribute of the page in each language.
HTML_LANG: dict[str, str] = {"zh": "zh-CN", "en": "en"}

#: The page's and pictures' texts by key, then language; ``{field}`` is filled in by :func:`text`.
TEXTS: dict[str, dict[str, str]] = {
    # page
    "page_title": {"zh": "证据：{title} {ring}", "en": "Evidence: {title} {ring}"},
    "not_reviewed": {"zh": "未经人工复核", "en": "Not reviewed by a person"},
    "reviewed": {"zh": "已经人工复核（{reviewer}）", "en": "Reviewed by a person ({reviewer})"},
    "not_reviewed_note": {
        "zh": "此发现由统计检测自动得出，尚未经任何人核实。在人工复核之前，不得仅据此作出处罚或公示决定。",
        "en": "This finding was produced automatically by statistical detection and nobody has checked it yet. "
              "No penalty or publication may rest on it alone before a person has reviewed it.",
    },
    "reviewed_note": {
        "zh": "发现记录载明已有人对此发现进行复核；复核意见以发现记录为准。",
        "en": "The finding records say a person has reviewed this finding; the records hold the review.",
    },
    "unknown_reviewer": {"zh": "复核人未载明", "en": "reviewer not named"},
    # sections
    "summary": {"zh": "摘要", "en": "Summary"},
    "why": {"zh": "可疑之处", "en": "Why it is suspicious"},
    "amounts": {"zh": "涉及金额", "en": "Amounts involved"},
    "reviews": {"zh": "评价样本", "en": "Sample reviews"},
    "pictures": {"zh": "图示", "en": "Pictures"},
    "members": {"zh": "成员", "en": "Members"},
    "records": {"zh": "发现记录", "en": "Finding records"},
    "inputs": {"zh": "输入文件", "en": "Inputs"},
    "glossary": {"zh": "术语表", "en": "Glossary"},
    "limitations": {"zh": "局限性：本发现能说明什么、不能说明什么", "en": "Limitations: what this finding does and does not show"},
    # summary sentences, and what separates them
    "sentence_gap": {"zh": "", "en": " "},
    "summary_orders": {
        "zh": "检测发现 {accounts}在 {start} 至 {end} 期间于 {shops}（{targets}）共下了 {orders}。",
        "en": "The detection found {accounts} that placed {orders} at {shops} ({targets}) between {start} and {end}.",
    },
    "summary_no_orders": {
        "zh": "检测发现 {accounts}，但在所附数据中没有其订单。",
        "en": "The detection found {accounts}, but the evidence holds none of their orders.",
    },
    "summary_beneficiary": {"zh": "这些店铺是这些订单的受益方。", "en": "The shops benefit from these orders."},
    "summary_victim": {
        "zh": "这些店铺是这些订单的受害方（差评攻击的对象）。",
        "en": "The shops are the victims of these orders (the target of bad reviews).",
    },
    "summary_amount": {
        "zh": "这些订单的实付金额合计 {amount} 元。",
        "en": "These orders paid {amount} yuan in total.",
    },
    "summary_score": {
        "zh": "发现方法：{detectors}；团伙得分 {score}（0 至 1，越高越可疑）。",
        "en": "Found by: {detectors}; ring score {score} (0 to 1, higher is more suspicious).",
    },
    "no_amount_column": {
        "zh": "导出数据没有金额列，无法给出涉及金额。",
        "en": "The export has no amount column: the amounts involved cannot be given.",
    },
    "no_review_texts": {
        "zh": "该团伙的订单没有评价内容（或导出数据没有评价内容列）。",
        "en": "The ring's orders have no review texts (or the export has no review text column).",
    },
    "reviews_note": {
        "zh": "该团伙订单中最常见的评价内容（至多 {n} 条），按使用次数排列；内容原样显示。",
        "en": "The most frequent review texts on the ring's orders (at most {n}), by how often they were used; "
              "shown as written.",
    },
    "pseudonyms_note": {
        "zh": "账户及个人标识均为本次运行写入的联盟假名{key}；报告不显示任何原始个人数据。",
        "en": "Account and personal identifiers are pseudonyms as written by the run{key}; no raw personal data "
              "is shown.",
    },
    "key_id": {"zh": "（密钥编号 {key_id}）", "en": " (key id {key_id})"},
    "records_note": {
        "zh": "{n} 条记录，由 {issuer} 签发；每条记录的全文见 findings.jsonl。",
        "en": "{n} records, issued by {issuer}; each in full in findings.jsonl.",
    },
    "no_records": {"zh": "此团伙没有附带发现记录。", "en": "No finding records accompany this ring."},
    "footer": {
        "zh": "由 {toolkit} {version} 生成（命令 {command}，随机种子 {seed}，发现签发于 {issued}）。",
        "en": "Produced by {toolkit} {version} (command {command}, seed {seed}, findings issued {issued}).",
    },
    # facts
    "kind": {"zh": "类型", "en": "kind"},
    "score": {"zh": "得分", "en": "score"},
    "period": {"zh": "期间", "en": "period"},
    "period_range": {"zh": "{start} 至 {end}", "en": "{start} to {end}"},
    "detectors": {"zh": "检测方法", "en": "detectors"},
    "accounts": {"zh": "账户数", "en": "accounts"},
    "beneficiaries": {"zh": "受益店铺", "en": "merchants (beneficiaries)"},
    "victims": {"zh": "受害店铺", "en": "victims"},
    "ring_orders": {"zh": "团伙订单", "en": "ring orders"},
    "none": {"zh": "无", "en": "none"},
    "no_orders": {"zh": "无订单", "en": "no orders"},
    "unknown": {"zh": "未知", "en": "unknown"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "not_applicable": {"zh": "不适用", "en": "n/a"},
    # table headers
    "signal": {"zh": "信号", "en": "signal"},
    "value": {"zh": "数值", "en": "value"},
    "percentile": {"zh": "总体百分位", "en": "population percentile"},
    "explanation": {"zh": "说明", "en": "explanation"},
    "account": {"zh": "账户（假名）", "en": "account (pseudonymised)"},
    "first_order": {"zh": "首笔团伙订单", "en": "first ring order"},
    "last_order": {"zh": "末笔团伙订单", "en": "last ring order"},
    "shop": {"zh": "店铺", "en": "shop"},
    "shop_name": {"zh": "店铺名称", "en": "shop name"},
    "role": {"zh": "角色", "en": "role"},
    "role_beneficiary": {"zh": "受益方", "en": "beneficiary"},
    "role_victim": {"zh": "受害方", "en": "victim"},
    "other_orders": {"zh": "其他订单", "en": "other orders"},
    "ring_share": {"zh": "团伙占比", "en": "ring share"},
    "ring_rating": {"zh": "团伙平均评分", "en": "ring mean rating"},
    "organic_rating": {"zh": "正常平均评分", "en": "organic mean rating"},
    "ring_amount": {"zh": "团伙订单金额（元）", "en": "ring order amount (yuan)"},
    "total": {"zh": "合计", "en": "total"},
    "review_text": {"zh": "评价内容", "en": "review text"},
    "times_used": {"zh": "团伙使用次数", "en": "ring reviews with it"},
    "mean_rating": {"zh": "平均评分", "en": "mean rating"},
    "record": {"zh": "记录", "en": "record"},
    "record_type": {"zh": "类别", "en": "type"},
    "subject": {"zh": "对象", "en": "subject"},
    "status": {"zh": "状态", "en": "status"},
    "status_version": {"zh": "{status}（第 {version} 版）", "en": "{status} (version {version})"},
    "confidence": {"zh": "置信度", "en": "confidence"},
    "human_reviewed": {"zh": "人工复核", "en": "reviewed by a person"},
    "sharing": {"zh": "共享级别", "en": "sharing"},
    "file": {"zh": "文件", "en": "file"},
    "sha256": {"zh": "SHA-256", "en": "sha256"},
    "bytes": {"zh": "字节数", "en": "bytes"},
    "rows_read": {"zh": "读取行数", "en": "rows read"},
    "subject_merchant": {"zh": "商户 {key}", "en": "merchant {key}"},
    "subject_account": {"zh": "账户 {key}", "en": "account {key}"},
    "subject_ring": {"zh": "由 {accounts}和 {merchants}组成的团伙", "en": "ring of {accounts} and {merchants}"},
    # the bundle's index
    "index_title": {"zh": "证据包：运行 {run}", "en": "Evidence bundle: run {run}"},
    "index_note": {
        "zh": "本证据包涵盖 {rings}。每个文件及其 SHA-256 列于 manifest.json，可用 antifraud verify 核验；"
              "账户仅以联盟假名出现。",
        "en": "This bundle covers {rings}. Every file is listed with its SHA-256 in manifest.json; check them with "
              "antifraud verify. Accounts appear only as alliance pseudonyms.",
    },
    # counted nouns: singular|plural
    "n_rings": {"zh": "{n} 个团伙", "en": "{n} ring|{n} rings"},
    "n_accounts": {"zh": "{n} 个账户", "en": "{n} account|{n} accounts"},
    "n_shops": {"zh": "{n} 家店铺", "en": "{n} shop|{n} shops"},
    "n_orders": {"zh": "{n} 笔订单", "en": "{n} order|{n} orders"},
    "n_merchants": {"zh": "{n} 个商户", "en": "{n} merchant|{n} merchants"},
    # pictures
    "graph_alt": {
        "zh": "团伙 {ring} 的关系图：{accounts}及其在{role} {targets} 的 {orders}",
        "en": "Graph of ring {ring}: {accounts} and their {orders} at its {role} {targets}",
    },
    "graph_caption": {
        "zh": "账户（蓝点）与店铺（方块，团伙店铺为红色）由订单相连；线越粗，订单越多。",
        "en": "Accounts (blue) and shops (squares; the ring's in red), joined by their orders; "
              "thicker lines are more orders.",
    },
    "timeline_alt": {
        "zh": "{targets} 的订单时间线：{ring_orders} 笔团伙订单（红）与 {organic} 笔正常订单（灰）",
        "en": "Time line of the orders at {targets}: {ring_orders} ring orders (red) against {organic} organic "
              "orders (grey)",
    },
    "timeline_caption": {
        "zh": "团伙店铺的每笔订单按创建时间排列：团伙订单（红）与其他订单（灰；大店铺为按时间均匀抽取的样本）。",
        "en": "Every order at the ring's shops by creation time: the ring's (red) and the others (grey; for a big "
              "shop an even sample over time).",
    },
    "rating_alt": {
        "zh": "{shop} 的评分历史：平均评分与评价数随时间变化，团伙评价对比正常基线",
        "en": "Rating history of {shop}: average rating and number of reviews over time, ring reviews against "
              "the organic baseline",
    },
    "rating_caption": {
        "zh": "{shop}（团伙评价最多的店铺）的评价：平均评分与数量，团伙评价（红）对比正常评价（灰）。",
        "en": "Reviews at {shop} (the ring's shop with the most ring reviews): average rating and count, ring "
              "reviews (red) against the organic ones (grey).",
    },
    "role_merchants": {"zh": "团伙店铺", "en": "ring merchants"},
    "role_victims": {"zh": "受害店铺", "en": "victims"},
    "other_shops": {"zh": "其他店铺", "en": "other shops"},
    "legend_accounts": {"zh": "账户（{n}）", "en": "accounts ({n})"},
    "legend_count": {"zh": "{label}（{n}）", "en": "{label} ({n})"},
    "graph_title": {
        "zh": "{accounts}，{shops}，{orders}（线宽：每个账户在每家店铺的订单数）",
        "en": "{accounts}, {shops}, {orders} (edge width: orders per account and shop)",
    },
    "organic_orders": {"zh": "正常订单（{n}）", "en": "organic orders ({n})"},
    "ring_orders_legend": {"zh": "团伙订单（{n}）", "en": "ring orders ({n})"},
    "order_created": {"zh": "订单创建时间（UTC）", "en": "order created (UTC)"},
    "timeline_title": {"zh": "各店铺订单随时间分布", "en": "Orders per shop over time"},
    "no_reviews_at": {"zh": "{shop} 没有评价", "en": "no reviews at {shop}"},
    "organic_reviews": {"zh": "正常评价（{n}）", "en": "organic reviews ({n})"},
    "ring_reviews": {"zh": "团伙评价（{n}）", "en": "ring reviews ({n})"},
    "organic": {"zh": "正常", "en": "organic"},
    "ring": {"zh": "团伙", "en": "ring"},
    "organic_baseline": {"zh": "正常基线 {mean}", "en": "organic baseline {mean}"},
    "average_rating": {"zh": "平均评分", "en": "average rating"},
    "rating_title_day": {"zh": "{shop} 每日评价", "en": "Reviews at {shop} per day"},
    "rating_title_week": {"zh": "{shop} 每周评价", "en": "Reviews at {shop} per week"},
    "reviews_per_day": {"zh": "每日评价数", "en": "reviews per day"},
    "reviews_per_week": {"zh": "每周评价数", "en": "reviews per week"},
    "review_posted": {"zh": "评价时间（UTC）", "en": "review posted (UTC)"},
}


@dataclass(frozen=True)
class KindTexts:
    """How the report names a ring of one kind: a title, and a caveat (or ``None``) where an honest
    explanation is common, each by language."""

    title: dict[str, str]
    caveat: dict[str, str] | None = None


#: The report's title and caveat for each ring kind of :data:`antifraud.kinds.RING_KINDS`; what a
#: kind means is :data:`antifraud.kinds.KIND_WORDS` (and its Chinese, ``KIND_WORDS_ZH``).
KIND_TEXTS: dict[str, KindTexts] = {
    "dense_block": KindTexts({"zh": "刷单团伙", "en": "Brushing ring"}),
    "camouflage": KindTexts({"zh": "伪装型刷单团伙", "en": "Camouflaged brushing ring"}),
    "hijacked_accounts": KindTexts(
        {"zh": "被盗用账户团伙", "en": "Ring of taken-over accounts"},
        {"zh": "账户行为的突变也可能源于换机、换号或家人代为使用，未必是账户被盗。",
         "en": "A sudden change in an account's behaviour can also come from a new phone or a relative using it, "
               "not necessarily a takeover."}),
    "account_farm": KindTexts(
        {"zh": "共用身份信息的账户群（疑似批量注册）", "en": "Accounts sharing identities (possible account farm)"},
        {"zh": "请注意：共用地址、IP 或设备的账户可能只是同一家庭、宿舍或办公室的成员，一起在同一家店铺购物是正常的。"
               "这类发现本身并不说明存在刷单，须经人工核实这些账户是否属于同一家庭。",
         "en": "Caution: accounts that share an address, IP or device may simply be the members of one household, "
               "dormitory or office, who shop together at the same shop. This finding alone does not show "
               "brushing; a person must check whether the accounts are one household."}),
    "mutual_brushing": KindTexts(
        {"zh": "互刷团伙", "en": "Mutual brushing ring"},
        {"zh": "相互关联的经营者之间也可能存在真实的采购往来。",
         "en": "Linked operators may also trade with each other for real."}),
    "empty_parcel": KindTexts({"zh": "空包裹团伙", "en": "Empty-parcel ring"}),
    "negative_attack": KindTexts({"zh": "恶意差评团伙", "en": "Malicious negative-review ring"}),
}

#: What a ring of each kind is, by language.
_MEANINGS: dict[str, dict[str, str]] = {"zh": KIND_WORDS_ZH, "en": KIND_WORDS}

#: The terms the page uses, each with its meaning, by language.
GLOSSARY: tuple[dict[str, tuple[str, str]], ...] = (
    {"zh": ("刷单炒信", "通过虚构交易、虚假评价等方式抬高店铺信誉或销量的行为。"),
     "en": ("brushing (刷单炒信)", "raising a shop's reputation or sales with fictitious orders and fake reviews.")},
    {"zh": ("团伙", "检测认为协同行动的一组账户及其所针对的店铺。"),
     "en": ("ring", "a group of accounts the detection finds acting together, and the shops they target.")},
    {"zh": ("团伙订单 / 正常订单", "团伙账户在其目标店铺的订单；正常订单指同一店铺的其他订单，用作对照基线。"),
     "en": ("ring orders / organic orders", "the ring's accounts' orders at its shops; organic orders are the "
            "shops' other orders, the baseline they are compared against.")},
    {"zh": ("假名", "用联盟密钥对账户等个人标识计算的 HMAC-SHA256 值；同一账户在各成员处得到相同假名，但无法由此反推原始标识。"),
     "en": ("pseudonym", "an HMAC-SHA256 of an account or other personal identifier under the alliance key: the "
            "same account gets the same pseudonym at every member, and the raw identifier cannot be read back.")},
    {"zh": ("信号", "支持该发现的一项可度量的理由。"),
     "en": ("signal", "one measured reason behind the finding.")},
    {"zh": ("总体百分位", "该数值在全部账户（或店铺）中的位置：第 99 百分位表示高于 99% 的账户。"),
     "en": ("population percentile", "where the value lies among all accounts (or shops): the 99th percentile "
            "is higher than 99% of them.")},
    {"zh": ("p 值", "假如并不存在团伙、这些账户只是普通买家，出现如此极端模式的概率；越小越难以用巧合解释。"),
     "en": ("p-value", "how likely a pattern this extreme would be if there were no ring and the accounts were "
            "ordinary buyers; the smaller, the harder to explain by chance.")},
    {"zh": ("得分 / 置信度", "检测对可疑程度的打分（0 至 1）及发现记录中的置信度（0 至 100）；并非违法的概率。"),
     "en": ("score / confidence", "the detection's rating of how suspicious it is (0 to 1) and the record's "
            "confidence (0 to 100); not a probability of wrongdoing.")},
    {"zh": ("人工复核", "由人核实自动发现后作出的判断；未经复核的发现只能在联盟内部限定范围共享，不得公示。"),
     "en": ("human review", "a person's check of an automatic finding; an unreviewed finding may only be shared "
            "within the alliance under restrictions, never published.")},
)

#: What a finding does and does not show, by language.
LIMITATIONS: tuple[dict[str, str], ...] = (
    {"zh": "这是统计证据，而非证明：它表明这些账户的行为与一般买家显著不同，但不能证明任何人有违法意图。",
     "en": "This is statistical evidence, not proof: it shows the accounts behave very differently from ordinary "
           "buyers, not that anybody intended wrongdoing."},
    {"zh": "结论仅基于所附的导出数据（见“输入文件”）；未导出的信息，如聊天记录、资金流水、物流轨迹，均未考虑。",
     "en": "It rests only on the export listed under Inputs; what was not exported (chats, payment flows, parcel "
           "tracking) was not considered."},
    {"zh": "正常行为也可能产生类似模式：同一家庭、宿舍或办公室的成员，忠实老顾客，促销或节日抢购。",
     "en": "Honest behaviour can produce similar patterns: members of one household, dormitory or office, loyal "
           "customers, a promotion or festival rush."},
    {"zh": "p 值已对多重检验作出校正，但其所依据的对照假设本身可能不完全成立。",
     "en": "The p-values are corrected for multiple testing, but the comparison they rest on may not hold exactly."},
    {"zh": "账户以假名显示，本报告不能识别具体个人；认定须经人工复核，当事方可依程序提出异议。",
     "en": "Accounts appear as pseudonyms and this report identifies no person; a determination needs human review, "
           "and the parties may object through the procedure."},
)


def text(key: str, lang: str, /, **fields: object) -> str:
    """The text ``key`` of :data:`TEXTS` in ``lang``, its fields filled in.

    Examples
    --------
    >>> text("period_range", "zh", start="2024-10-01", end="2024-10-09")
    '2024-10-01 至 2024-10-09'
    >>> text("period_range", "en", start="2024-10-01", end="2024-10-09")
    '2024-10-01 to 2024-10-09'
    """
    return TEXTS[key][lang].format(**fields)


def counted(key: str, n: int, lang: str) -> str:
    """A count with its noun (``"n_accounts"``, ``"n_shops"``, ...), singular or plural as ``n`` asks.

    Examples
    --------
    >>> counted("n_shops", 1, "en"), counted("n_shops", 3, "en"), counted("n_shops", 3, "zh")
    ('1 shop', '3 shops', '3 家店铺')
    """
    forms = TEXTS[key][lang].split("|")
    return forms[0 if n == 1 or len(forms) == 1 else 1].format(n=f"{n:,}")


def kind_texts(kind: str) -> KindTexts:
    """The report's title and caveat for ring ``kind``; a kind outside :data:`KIND_TEXTS` is titled
    as a brushing ring, without caveat.

    Examples
    --------
    >>> kind_texts("account_farm").caveat is not None, kind_texts("dense_block").caveat
    (True, None)
    """
    return KIND_TEXTS.get(kind, KIND_TEXTS["dense_block"])


def kind_meaning(kind: str, lang: str) -> str:
    """What a ring of ``kind`` is (:data:`antifraud.kinds.KIND_WORDS`), in ``lang``; the kind's own
    name where it has no words.

    Examples
    --------
    >>> kind_meaning("empty_parcel", "zh"), kind_meaning("empty_parcel", "en")
    ('以空包裹发货的订单', 'orders shipped as empty parcels')
    """
    return _MEANINGS[lang].get(kind, kind)
