"""Column profiles: which header in a platform's export holds which canonical column.

Built-in profiles are ``generic`` (the canonical names themselves), ``taobao`` (the Chinese
headers of a Taobao-style order report and its review columns) and ``yelp`` (the
``user_id, product_id, rating, date`` layout of the YelpChi research data). A user describes
their own export in a TOML file::

    name = "myshop"
    timezone = "+08:00"          # optional; how to read times without an offset
    encoding = "gbk"             # optional; otherwise detected
    delimiter = ","              # optional

    [columns]
    buyer_id = ["用户名", "buyer"]   # one header or a list of accepted headers
    seller_id = "shop"
    created_at = "下单时间"

or overrides single columns with ``--map canonical=source``.
"""

from __future__ import annotations

import codecs
import difflib
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from antifraud.ingest.convert import parse_utc_offset
from antifraud.ingest.errors import InputError
from antifraud.schema import NAMES, REQUIRED

__all__ = ["Profile", "PROFILES", "load_profile", "resolve_columns"]


def _check_timezone(timezone: str) -> None:
    parse_utc_offset(timezone)


def _check_encoding(encoding: str | None) -> None:
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown text encoding {encoding!r}") from None


def _check_delimiter(delimiter: str) -> None:
    if len(delimiter) != 1 or not delimiter.isascii() or delimiter in '"\r\n':
        raise ValueError(f"the delimiter must be one ASCII character other than a quote or a line break, "
                         f"not {delimiter!r}")


# What a profile may set besides its columns, and the check of each value (ValueError if wrong).
_SETTING_CHECKS = {"timezone": _check_timezone, "encoding": _check_encoding, "delimiter": _check_delimiter}
_PROFILE_KEYS = ("name", "columns", *_SETTING_CHECKS)


@dataclass(frozen=True)
class Profile:
    """How to read one kind of export.

    Parameters
    ----------
    name : str
        Profile name, recorded in the run manifest.
    columns : mapping of str to tuple of str
        For each canonical column, the source headers that may hold it, in order of preference.
    timezone : str
        UTC offset of timestamps that carry none (China time by default).
    encoding : str or None
        Text encoding; ``None`` means detect.
    delimiter : str
        Field delimiter of delimited text.

    Raises
    ------
    ValueError
        A time zone beyond -14:00 to +14:00, an unknown encoding or an unusable delimiter.
    """

    name: str
    columns: Mapping[str, tuple[str, ...]]
    timezone: str = "+08:00"
    encoding: str | None = None
    delimiter: str = ","
    source: str = field(default="built-in", compare=False)

    def __post_init__(self) -> None:
        for key, check in _SETTING_CHECKS.items():
            check(getattr(self, key))

    def with_overrides(self, mapping: Mapping[str, str]) -> Profile:
        """Return a copy in which each canonical column in ``mapping`` is read from that header."""
        unknown = sorted(set(mapping) - set(NAMES))
        if unknown:
            raise ValueError(f"unknown canonical column(s) in --map: {', '.join(unknown)}")
        columns = dict(self.columns)
        columns.update({canon: (src,) for canon, src in mapping.items()})
        return replace(self, columns=columns)


_GENERIC = {name: (name,) for name in NAMES}

_TAOBAO = {
    "order_id": ("订单编号", "订单号", "主订单编号"),
    "buyer_id": ("买家会员名", "买家昵称", "买家账号"),
    "seller_id": ("店铺Id", "店铺ID", "店铺id", "卖家Id"),
    "item_id": ("宝贝ID", "商品ID", "宝贝Id", "商品编号"),
    "amount": ("买家实际支付金额", "实付金额", "支付金额"),
    "created_at": ("订单创建时间", "下单时间", "创建时间"),
    "paid_at": ("订单付款时间", "付款时间"),
    "confirmed_at": ("确认收货时间", "交易成功时间"),
    "status": ("订单状态",),
    "refund_amount": ("退款金额",),
    "rating": ("评价", "评价等级", "评分"),
    "review_text": ("评价内容",),
    "reviewed_at": ("评价时间",),
    "buyer_ip": ("买家IP", "下单IP"),
    "device_id": ("设备号", "设备ID"),
    "ship_phone": ("联系手机", "收货人手机", "联系电话"),
    "ship_address": ("收货地址",),
    "carrier": ("物流公司",),
    "tracking_no": ("物流单号", "运单号"),
    "parcel_weight_kg": ("包裹重量", "包裹重量(kg)", "重量"),
    "seller_uscc": ("统一社会信用代码", "营业执照号"),
    "seller_name": ("店铺名称",),
    "buyer_registered_at": ("买家注册时间", "注册时间"),
}

_YELP = {
    "buyer_id": ("user_id",),
    "seller_id": ("product_id",),
    "rating": ("rating",),
    "created_at": ("date",),
}

PROFILES: dict[str, Profile] = {
    "generic": Profile("generic", _GENERIC),
    "taobao": Profile("taobao", _TAOBAO),
    "yelp": Profile("yelp", _YELP),
}


def load_profile(name_or_path: str) -> Profile:
    """Return a built-in profile by name, or read a user's profile from a TOML file.

    Every key of a TOML profile is checked; a wrong one raises :class:`InputError` naming the
    file and the key.

    Examples
    --------
    >>> load_profile("Taobao").columns["buyer_id"][0]  # names in any case
    '买家会员名'
    """
    built_in = {name.casefold(): profile for name, profile in PROFILES.items()}
    if name_or_path.casefold() in built_in:
        return built_in[name_or_path.casefold()]
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(PROFILES)
        raise InputError(path, f"no such profile{_did_you_mean(name_or_path.casefold(), PROFILES)}: give one of "
                               f"{known} or a TOML profile file")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a valid TOML profile: {exc}") from exc
    for key, value in doc.items():
        if key not in _PROFILE_KEYS:
            raise InputError(path, f"key {key!r}: not a profile key{_did_you_mean(key, _PROFILE_KEYS)}")
        if key != "columns" and not isinstance(value, str):
            raise InputError(path, f"key {key!r}: must be a string, not {value!r}")
        if key in _SETTING_CHECKS:
            try:
                _SETTING_CHECKS[key](value)
            except ValueError as exc:
                raise InputError(path, f"key {key!r}: {exc}") from None
    settings = {key: doc[key] for key in _SETTING_CHECKS if key in doc}
    return Profile(name=doc.get("name", path.stem), columns=_profile_columns(doc.get("columns"), path),
                   source=str(path), **settings)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _profile_columns(raw: object, path: Path) -> dict[str, tuple[str, ...]]:
    """The ``[columns]`` table of a TOML profile, checked: canonical name -> accepted headers."""
    if not isinstance(raw, dict) or not raw:
        raise InputError(path, "key 'columns': a profile needs a [columns] table mapping canonical names to headers")
    columns: dict[str, tuple[str, ...]] = {}
    for canon, headers in raw.items():
        if canon not in NAMES:
            raise InputError(path, f"key 'columns.{canon}': unknown canonical column{_did_you_mean(canon, NAMES)}")
        headers = [headers] if isinstance(headers, str) else headers
        if not isinstance(headers, list) or not headers or not all(isinstance(h, str) and h for h in headers):
            raise InputError(path, f"key 'columns.{canon}': must be a header name or a list of them, "
                                   f"not {raw[canon]!r}")
        columns[canon] = tuple(headers)
    return columns


def _norm(header: str) -> str:
    return unicodedata.normalize("NFKC", header).strip().lstrip("\ufeff").casefold()


def resolve_columns(header: Iterable[str], profile: Profile, path: str | Path) -> dict[str, str]:
    """Map canonical column names to the source headers that hold them.

    Headers are matched after NFKC normalisation, trimming and case folding, so full-width or
    padded headers still match. A missing required column raises :class:`InputError` naming it and
    the closest header present; so does a column that two headers would hold (the same header
    twice, or two of its aliases), rather than picking one of them. Unused headers may repeat.

    Examples
    --------
    >>> resolve_columns(["买家会员名", " 店铺Id", "订单创建时间", "备注"], PROFILES["taobao"], "x.csv")
    {'buyer_id': '买家会员名', 'seller_id': ' 店铺Id', 'created_at': '订单创建时间'}
    """
    header = list(header)
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(_norm(h), h)
    found: dict[str, str] = {}
    for canon in NAMES:
        aliases = {_norm(alias) for alias in profile.columns.get(canon, ())}
        holders = [i for i, h in enumerate(header) if _norm(h) in aliases]
        if len(holders) > 1:
            first, second = holders[:2]
            raise InputError(
                path,
                f"header columns {first + 1} and {second + 1} ({header[first]!r} and {header[second]!r}) both "
                f"hold '{canon}'; keep one, or choose one with --map {canon}=HEADER",
                line=1,
            )
        if holders:
            found[canon] = header[holders[0]]
    for canon in REQUIRED:
        if canon not in found:
            wanted = profile.columns.get(canon, (canon,))
            guesses = {
                g for w in wanted for g in difflib.get_close_matches(_norm(w), by_norm, n=1, cutoff=0.4)
            }
            if guesses:
                hint = "; closest header present: " + ", ".join(repr(by_norm[g]) for g in sorted(guesses))
            else:
                hint = "; headers present: " + ", ".join(repr(h) for h in header[:12])
            raise InputError(
                path,
                f"required column '{canon}' is missing (profile '{profile.name}' looks for "
                f"{' / '.join(repr(w) for w in wanted)}){hint}; map it with --map {canon}=HEADER",
                line=1,
            )
    return found
