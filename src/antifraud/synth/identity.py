"""Personal identifiers: devices, IP addresses, phone numbers and shipping addresses.

Identifiers are kept as compact numbers while the export is assembled (sharing an identifier
means sharing the number) and turned into the raw strings an export carries only at the end.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DEFAULT_DEVICES",
    "REGIONS",
    "AddressBook",
    "format_devices",
    "format_ips",
    "format_phones",
    "fixed_width_strings",
    "new_devices",
    "new_home_ips",
    "new_nat_ips",
    "new_phones",
    "new_privacy_numbers",
    "pick",
]

#: (address prefix, administrative division code, weight among buyers, weight among shops).
#: Shops cluster in the e-commerce provinces (Zhejiang, Guangdong, Fujian, Jiangsu, Shanghai).
REGIONS: tuple[tuple[str, str, float, float], ...] = (
    ("浙江省杭州市西湖区", "330106", 2.0, 6.0),
    ("浙江省杭州市余杭区", "330110", 2.0, 8.0),
    ("浙江省金华市义乌市", "330782", 1.0, 8.0),
    ("广东省深圳市南山区", "440305", 2.5, 6.0),
    ("广东省深圳市宝安区", "440306", 2.5, 5.0),
    ("广东省广州市白云区", "440111", 3.0, 7.0),
    ("广东省广州市天河区", "440106", 2.5, 3.0),
    ("上海市浦东新区", "310115", 4.0, 4.0),
    ("上海市闵行区", "310112", 2.5, 2.0),
    ("北京市朝阳区", "110105", 3.5, 2.0),
    ("北京市海淀区", "110108", 3.0, 1.5),
    ("江苏省苏州市吴中区", "320506", 2.0, 4.0),
    ("江苏省南京市江宁区", "320115", 2.0, 2.0),
    ("福建省泉州市晋江市", "350582", 1.5, 5.0),
    ("福建省厦门市思明区", "350203", 1.5, 2.0),
    ("山东省青岛市黄岛区", "370211", 2.0, 1.5),
    ("山东省临沂市兰山区", "371302", 2.0, 2.5),
    ("河北省石家庄市长安区", "130102", 2.0, 1.0),
    ("河南省郑州市金水区", "410105", 3.0, 1.0),
    ("湖北省武汉市洪山区", "420111", 3.0, 1.0),
    ("湖南省长沙市岳麓区", "430104", 2.5, 1.0),
    ("四川省成都市武侯区", "510107", 3.5, 1.5),
    ("重庆市渝北区", "500112", 3.0, 1.0),
    ("陕西省西安市雁塔区", "610113", 2.5, 0.8),
    ("安徽省合肥市蜀山区", "340104", 2.0, 1.0),
    ("江西省南昌市红谷滩区", "360113", 1.5, 0.6),
    ("辽宁省沈阳市和平区", "210102", 2.0, 0.6),
    ("天津市南开区", "120104", 2.0, 0.6),
    ("广西壮族自治区南宁市青秀区", "450103", 1.5, 0.5),
    ("云南省昆明市五华区", "530102", 1.5, 0.5),
    ("黑龙江省哈尔滨市南岗区", "230103", 1.5, 0.4),
    ("吉林省长春市朝阳区", "220104", 1.0, 0.4),
    ("山西省太原市小店区", "140105", 1.2, 0.4),
    ("贵州省贵阳市观山湖区", "520115", 1.0, 0.4),
    ("海南省海口市美兰区", "460108", 0.8, 0.3),
)

_STREETS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "文化路",
    "新华路",
    "和平路",
    "胜利路",
    "长江路",
    "黄河路",
    "学府路",
    "科技路",
    "幸福路",
    "光明路",
    "朝阳路",
    "东风路",
    "青年路",
    "友谊路",
    "民生路",
    "健康路",
    "滨江路",
    "湖滨路",
    "金桥路",
    "世纪大道",
    "创业路",
    "育才路",
    "花园路",
    "振兴路",
    "团结路",
    "复兴路",
    "文三路",
    "天目山路",
    "南京东路",
    "深南大道",
    "解放大道",
)
_ESTATE_HEADS = (
    "阳光",
    "金色",
    "翠苑",
    "绿城",
    "万科",
    "碧桂园",
    "保利",
    "华润",
    "龙湖",
    "融创",
    "东方",
    "锦绣",
    "紫金",
    "世纪",
    "香樟",
    "丽景",
    "御景",
    "和谐",
    "新城",
    "滨江",
)
_ESTATE_TAILS = ("花园", "小区", "家园", "公寓", "新村", "名苑", "雅苑", "府")
#: What stands after the estate in an address of each kind (see :class:`AddressBook`).
_STATIONS = ("菜鸟驿站", "妈妈驿站", "兔喜生活", "快递超市", "丰巢驿站")
_OFFICES = ("大厦", "科技园", "产业园", "商务中心", "写字楼")
_CAMPUSES = ("大学", "学院", "职业技术学院", "理工大学", "师范大学")

#: First octets of fixed-line broadband blocks and of mobile carrier-grade NAT gateways.
_HOME_OCTETS = np.array(
    [
        36,
        42,
        58,
        59,
        60,
        61,
        101,
        106,
        113,
        114,
        115,
        116,
        119,
        121,
        122,
        123,
        124,
        125,
        171,
        175,
        180,
        182,
        183,
        218,
        219,
        220,
        221,
        222,
    ]
)
_NAT_OCTETS = np.array([39, 111, 112, 117, 120, 223])
#: Mobile number prefixes (three digits) in use in mainland China.
_PHONE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        134,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        153,
        155,
        156,
        157,
        158,
        159,
        166,
        173,
        176,
        177,
        178,
        180,
        181,
        182,
        183,
        185,
        186,
        187,
        188,
        189,
        191,
        198,
        199,
    ]
)


#: Number ranges of the virtual operators that platforms lease privacy numbers (隐私号) from.
_PRIVACY_PREFIXES = np.array([165, 167, 170, 171])
#: Device ids that buggy phones and ROMs report instead of their own (Android's famous
#: ``9774d56d682e549c`` first); hundreds of unrelated buyers share each.
DEFAULT_DEVICES = np.array(
    [0x9774D56D682E549C, 0x0000000000000000, 0x0123456789ABCDEF, 0xFFFFFFFFFFFFFFFF], dtype=np.uint64
)


def pick(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Draw ``size`` indices with probability proportional to ``weights`` (with replacement).

    Large draws take the counts per index at once (multinomial) and shuffle them, which avoids
    a cache-missing binary search per draw (several times faster for millions of draws over
    millions of weights); small draws search the cumulative weights.

    Examples
    --------
    >>> pick(np.random.default_rng(0), np.array([0.0, 1.0]), 3).tolist()
    [1, 1, 1]
    """
    p = weights / weights.sum()
    if size < len(weights):
        return rng.choice(len(weights), size=size, p=p)
    return rng.permutation(np.repeat(np.arange(len(weights)), rng.multinomial(size, p)))


def new_devices(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` new device fingerprints (``uint64``, never 0).

    Examples
    --------
    >>> format_devices(new_devices(np.random.default_rng(0), 1))[0].as_py()[:2]
    'dv'
    """
    return rng.integers(1, 2**63 - 1, size=n, dtype=np.int64).astype(np.uint64)


def new_home_ips(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` fixed-line broadband IPv4 addresses (``uint32``).

    Examples
    --------
    >>> format_ips(new_home_ips(np.random.default_rng(0), 1))[0].as_py().count(".")
    3
    """
    first = rng.choice(_HOME_OCTETS, size=n).astype(np.uint32) << np.uint32(24)
    return first | rng.integers(1, 2**24 - 1, size=n, dtype=np.uint32)


def new_nat_ips(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` carrier-grade NAT gateway addresses (``uint32``), each shared by many subscribers.

    Examples
    --------
    >>> len(new_nat_ips(np.random.default_rng(0), 4))
    4
    """
    first = rng.choice(_NAT_OCTETS, size=n).astype(np.uint32) << np.uint32(24)
    return first | rng.integers(1, 2**24 - 1, size=n, dtype=np.uint32)


def new_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` eleven-digit mobile numbers (``int64``).

    Examples
    --------
    >>> len(str(int(new_phones(np.random.default_rng(0), 1)[0])))
    11
    """
    return rng.choice(_PHONE_PREFIXES, size=n).astype(np.int64) * 10**8 + rng.integers(
        0, 10**8, size=n
    )


def new_privacy_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` privacy numbers (隐私号): eleven digits from the virtual operators' ranges.

    Examples
    --------
    >>> str(int(new_privacy_numbers(np.random.default_rng(0), 1)[0]))[:3] in ("165", "167", "170", "171")
    True
    """
    return rng.choice(_PRIVACY_PREFIXES, size=n).astype(np.int64) * 10**8 + rng.integers(0, 10**8, size=n)


def format_devices(values: np.ndarray) -> pa.Array:
    """Device fingerprints as ``dv`` plus 16 lower-case hex digits.

    Examples
    --------
    >>> format_devices(np.array([255], dtype=np.uint64)).to_pylist()
    ['dv00000000000000ff']
    """
    octets = values.astype(">u8").view(np.uint8).reshape(len(values), 8)
    chars = np.empty((len(values), 18), dtype=np.uint8)
    chars[:, 0], chars[:, 1] = ord("d"), ord("v")
    chars[:, 2::2], chars[:, 3::2] = octets >> 4, octets & 15
    digits = chars[:, 2:]
    digits += np.uint8(ord("0")) + (digits > 9) * np.uint8(ord("a") - ord("0") - 10)
    return fixed_width_strings(chars)


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """Turn an ``(n, width)`` array of ASCII bytes into ``n`` strings without copying.

    Examples
    --------
    >>> fixed_width_strings(np.frombuffer(b"abcd", dtype=np.uint8).reshape(2, 2)).to_pylist()
    ['ab', 'cd']
    """
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    data = np.ascontiguousarray(chars).reshape(-1)
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def format_ips(values: np.ndarray) -> pa.Array:
    """IPv4 addresses in dotted-quad notation.

    Examples
    --------
    >>> format_ips(np.array([(10 << 24) + 258], dtype=np.uint32)).to_pylist()
    ['10.0.1.2']
    """
    octets = [
        pa.array((values >> np.uint32(shift)) & np.uint32(255)).cast(pa.string())
        for shift in (24, 16, 8, 0)
    ]
    return pc.binary_join_element_wise(*octets, ".")


def format_phones(values: np.ndarray, masked: np.ndarray | None = None) -> pa.Array:
    """Phone numbers as digit strings; where ``masked``, the middle four digits as ``****``.

    Examples
    --------
    >>> format_phones(np.array([13800138000, 13912345678]), np.array([False, True])).to_pylist()
    ['13800138000', '139****5678']
    """
    digits = pa.array(values).cast(pa.string())
    if masked is None or not masked.any():
        return digits
    hidden = pc.utf8_replace_slice(digits, start=3, stop=7, replacement="****")
    return pc.if_else(pa.array(masked), hidden, digits)


class AddressBook:
    """Shipping addresses: province/city/district, street, number, then by kind

    ``"home"``: estate, building, unit and room (``...阳光花园12幢3单元1502室``);
    ``"station"``: a parcel station (驿站) at an estate (``...阳光花园菜鸟驿站``);
    ``"office"``: an office building and floor (``...华润大厦18层``);
    ``"campus"``: a university dormitory building (``...锦绣大学7号宿舍楼``).

    Addresses are appended in batches (:meth:`add` returns their row numbers) and rendered once
    (:meth:`format`).

    Examples
    --------
    >>> book = AddressBook()
    >>> rows = book.add(np.random.default_rng(0), 2)
    >>> station = book.add(np.random.default_rng(0), 1, kind="station")
    >>> rows.tolist(), book.format()[0].as_py().endswith("室"), book.format()[2].as_py()[-2:]
    ([0, 1], True, '驿站')
    """

    KINDS = ("home", "station", "office", "campus")

    _PARTS = (
        "region",
        "street",
        "number",
        "estate_head",
        "estate_tail",
        "building",
        "unit",
        "room",
        "kind",
    )

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self.size = 0

    def add(
        self,
        rng: np.random.Generator,
        n: int,
        region_weights: np.ndarray | None = None,
        kind: str = "home",
    ) -> np.ndarray:
        """Create ``n`` new addresses of ``kind`` (one of :attr:`KINDS`) and return their rows."""
        if region_weights is None:
            region_weights = np.array([r[2] for r in REGIONS])
        parts = np.empty((n, len(self._PARTS)), dtype=np.int64)
        parts[:, 0] = pick(rng, region_weights, n)
        parts[:, 1] = rng.integers(0, len(_STREETS), n)
        parts[:, 2] = rng.integers(1, 999, n)
        parts[:, 3] = rng.integers(0, len(_ESTATE_HEADS), n)
        parts[:, 4] = rng.integers(0, len(_ESTATE_TAILS), n)
        parts[:, 5] = rng.integers(1, 40, n)
        parts[:, 6] = rng.integers(1, 6, n)
        parts[:, 7] = rng.integers(1, 33, n) * 100 + rng.integers(1, 7, n)
        parts[:, 8] = self.KINDS.index(kind)
        self._chunks.append(parts)
        rows = np.arange(self.size, self.size + n)
        self.size += n
        return rows

    def kind(self, rows: np.ndarray) -> np.ndarray:
        """The kind of the addresses at ``rows``, as indices into :attr:`KINDS`."""
        return np.concatenate(self._chunks)[rows, 8] if self._chunks else np.zeros(len(rows), np.int64)

    def format(self) -> pa.Array:
        """Every address as one string, in row order."""
        parts = (
            np.concatenate(self._chunks)
            if self._chunks
            else np.empty((0, len(self._PARTS)), np.int64)
        )

        rows = [np.flatnonzero(parts[:, 8] == k) for k in range(len(self.KINDS))]
        texts = []
        for kind, at in zip(self.KINDS, rows):
            own = parts[at]

            def text(values: tuple[str, ...], col: int, own: np.ndarray = own) -> pa.Array:
                return pa.array(values).take(pa.array(own[:, col] % len(values)))

            def num(col: int, own: np.ndarray = own) -> pa.Array:
                return pa.array(own[:, col]).cast(pa.string())

            tail = {
                "home": (text(_ESTATE_TAILS, 4), num(5), "幢", num(6), "单元", num(7), "室"),
                "station": (text(_ESTATE_TAILS, 4), text(_STATIONS, 7)),
                "office": (text(_OFFICES, 4), num(5), "层"),
                "campus": (text(_CAMPUSES, 4), num(5), "号宿舍楼"),
            }[kind]
            texts.append(
                pc.binary_join_element_wise(
                    text(tuple(r[0] for r in REGIONS), 0), text(_STREETS, 1), num(2), "号",
                    text(_ESTATE_HEADS, 3), *tail, "",
                )
            )
        position = np.empty(len(parts), dtype=np.int64)
        position[np.concatenate(rows)] = np.arange(len(parts))
        return pa.concat_arrays(texts).take(pa.array(position))
