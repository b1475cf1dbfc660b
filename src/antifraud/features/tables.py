"""Per-account and per-merchant feature tables of a canonical order table.

Each feature is computed only when the columns it needs are present: they are declared here, in
:data:`ACCOUNT_FEATURE_COLUMNS` and :data:`MERCHANT_FEATURE_COLUMNS`, and decided by
:func:`antifraud.schema.missing_columns`; the tables say in ``attrs["skipped"]`` which were left
out and why. The ensemble's behaviour features are account features, and ``validate`` reports
them as signals with these columns. Rows are aligned with the order graph's rows (accounts) and
columns (merchants).

Account features:

======================  =========================================================================
``n_orders``            orders placed
``n_shops``             distinct shops ordered from
``top3_share``          share of orders that went to the account's three most used shops
``burst_1h``            most orders inside any one hour
``gap_median_h``        median hours between consecutive orders (NaN with fewer than two)
``shop_popularity``     mean log number of buyers of the shops it ordered from (rings favour
                        small shops, camouflage adds popular ones)
``age_first_order_d``   days from registration to first order
``five_star_share``     share of its reviews with 5 stars
``rating_extremity``    mean absolute difference between its ratings and the shop's mean rating
``review_delay_h``      median hours from receipt (or payment) to review
``confirm_delay_h``     median hours from payment to confirmed receipt (empty parcels are
                        confirmed at once)
``parcel_weight_kg``    median parcel weight (empty parcels are light)
``identity_degree``     weighted links to other accounts through shared devices, IPs, phones,
                        addresses (see :mod:`antifraud.graphs.shared`)
======================  =========================================================================

Merchant features: ``n_orders``, ``n_buyers``, ``burst_1h``, ``top_buyer_share`` (share of orders
from its five most active buyers), ``fresh_buyer_share`` (buyers less than 7 days old at their
first order), ``mean_rating``, ``five_star_share``, ``one_star_share``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from antifraud.features.kernels import (
    gap_quantile,
    group_by,
    group_mean,
    group_quantile,
    max_in_window,
    top_k_share,
)
from antifraud.graphs import BipartiteGraph, IdentityGroups, encode, identity_groups
from antifraud.schema import PERSONAL, REQUIRED, Requirement, missing_columns

__all__ = [
    "ACCOUNT_FEATURE_COLUMNS", "FEATURE_WORDS", "FEATURE_WORDS_ZH", "MERCHANT_FEATURE_COLUMNS", "account_features",
    "merchant_features",
]

HOUR, DAY = 3600, 86400

#: What each account and merchant feature measures, in words: how every reason a finding gives
#: and every signal ``validate`` reports names it.
FEATURE_WORDS: dict[str, str] = {
    "n_orders": "orders placed",
    "n_shops": "distinct shops ordered from",
    "n_buyers": "distinct buyers",
    "top3_share": "share of orders at its three most frequent shops",
    "burst_1h": "most orders in any one hour",
    "gap_median_h": "median hours between orders",
    "shop_popularity": "popularity of the shops ordered from (log buyers)",
    "age_first_order_d": "account age at first order (days)",
    "five_star_share": "share of five-star reviews",
    "one_star_share": "share of one-star reviews",
    "mean_rating": "mean rating",
    "rating_extremity": "distance of ratings from the shop's mean",
    "review_delay_h": "median hours from receipt to review",
    "confirm_delay_h": "median hours from payment to confirmed receipt",
    "parcel_weight_kg": "median parcel weight (kg)",
    "identity_degree": "links to other accounts through shared identities",
    "fresh_buyer_share": "share of buyers whose accounts were under 7 days old at their first order",
    "top_buyer_share": "share of orders from its five most frequent buyers",
}

#: :data:`FEATURE_WORDS` in Chinese, for the regulator's report (same keys).
FEATURE_WORDS_ZH: dict[str, str] = {
    "n_orders": "下单数",
    "n_shops": "下单的不同店铺数",
    "n_buyers": "不同买家数",
    "top3_share": "在其最常下单的三家店铺的订单占比",
    "burst_1h": "任一小时内的最多订单数",
    "gap_median_h": "订单间隔的中位数（小时）",
    "shop_popularity": "所下单店铺的热门程度（买家数的对数）",
    "age_first_order_d": "首次下单时的账户年龄（天）",
    "five_star_share": "五星评价占比",
    "one_star_share": "一星评价占比",
    "mean_rating": "平均评分",
    "rating_extremity": "评分偏离店铺平均分的程度",
    "review_delay_h": "从确认收货到评价的时间中位数（小时）",
    "confirm_delay_h": "从付款到确认收货的时间中位数（小时）",
    "parcel_weight_kg": "包裹重量中位数（千克）",
    "identity_degree": "通过共用身份信息与其他账户的关联数",
    "fresh_buyer_share": "首次下单时注册不足7天的买家占比",
    "top_buyer_share": "其最常下单的五位买家的订单占比",
}

#: The canonical columns each account feature reads (a tuple item: any one of its columns).
ACCOUNT_FEATURE_COLUMNS: dict[str, tuple[Requirement, ...]] = {
    "n_orders": REQUIRED,
    "n_shops": REQUIRED,
    "top3_share": REQUIRED,
    "burst_1h": REQUIRED,
    "gap_median_h": REQUIRED,
    "shop_popularity": REQUIRED,
    "age_first_order_d": ("buyer_registered_at",),
    "five_star_share": ("rating",),
    "rating_extremity": ("rating",),
    "review_delay_h": ("reviewed_at", ("confirmed_at", "paid_at")),
    "confirm_delay_h": ("paid_at", "confirmed_at"),
    "parcel_weight_kg": ("parcel_weight_kg",),
    "identity_degree": (PERSONAL,),
}

#: The canonical columns each merchant feature reads.
MERCHANT_FEATURE_COLUMNS: dict[str, tuple[Requirement, ...]] = {
    "n_orders": REQUIRED,
    "n_buyers": REQUIRED,
    "burst_1h": REQUIRED,
    "top_buyer_share": REQUIRED,
    "fresh_buyer_share": ("buyer_registered_at",),
    "mean_rating": ("rating",),
    "five_star_share": ("rating",),
    "one_star_share": ("rating",),
}


def _skipped(declared: dict[str, tuple[Requirement, ...]], columns: list[str]) -> dict[str, str]:
    """The features whose columns are missing, each with what it needs in words."""
    missing = {name: missing_columns(needs, columns) for name, needs in declared.items()}
    return {name: "needs " + ", ".join(m) for name, m in missing.items() if m}


def _seconds(table: pa.Table, name: str) -> np.ndarray:
    """A timestamp column as float seconds with NaN for missing."""
    col = table.column(name).cast(pa.int64())
    out = col.to_numpy(zero_copy_only=False).astype(np.float64)
    if col.null_count:
        out[~col.is_valid().to_numpy(zero_copy_only=False)] = np.nan
    return out


def _ratings(table: pa.Table) -> np.ndarray:
    col = table.column("rating").cast(pa.float64())
    return col.fill_null(np.nan).to_numpy(zero_copy_only=False)


def account_features(
    table: pa.Table, graph: BipartiteGraph, identity: IdentityGroups | None = None
) -> pd.DataFrame:
    """Account feature table (see the module docs), one row per graph row.

    Parameters
    ----------
    table : pyarrow.Table
        Canonical orders, in the order the graph was built from.
    graph : BipartiteGraph
        From :func:`antifraud.graphs.order_graph` on the same table.
    identity : IdentityGroups, optional
        Identity groups of the graph's accounts, if already computed.
    """
    names = set(table.column_names)
    rows, cols = graph.order_rows, graph.order_cols
    created = _seconds(table, "created_at")
    indptr, order = group_by(rows, graph.n_rows, times=created)
    times = created[order]
    degree = np.diff(graph.indptr)
    shop_buyers = np.bincount(graph.indices, minlength=graph.n_cols)
    popularity = np.log1p(shop_buyers[graph.indices]).astype(np.float64)
    edge_ptr = graph.indptr
    features: dict[str, np.ndarray] = {
        "n_orders": np.diff(indptr).astype(np.int32),
        "n_shops": degree.astype(np.int32),
        "top3_share": top_k_share(edge_ptr, graph.count, 3),
        "burst_1h": max_in_window(indptr, times, HOUR),
        "gap_median_h": gap_quantile(indptr, times, 0.5) / HOUR,
        "shop_popularity": group_mean(edge_ptr, np.arange(graph.n_edges), popularity),
    }
    skipped = _skipped(ACCOUNT_FEATURE_COLUMNS, table.column_names)
    if "age_first_order_d" not in skipped:
        features["age_first_order_d"] = _age_at_first_order(table, indptr, order, times)
    rating = _ratings(table) if "rating" in names else None
    if "five_star_share" not in skipped:
        features["five_star_share"] = group_mean(indptr, order, np.where(np.isnan(rating), np.nan, rating == 5))
    if "rating_extremity" not in skipped:
        shop_mean = group_mean(*group_by(cols, graph.n_cols), rating)
        extremity = np.abs(rating - np.where(cols >= 0, shop_mean[np.maximum(cols, 0)], np.nan))
        features["rating_extremity"] = group_mean(indptr, order, extremity)
    if "review_delay_h" not in skipped:
        received = next(c for c in ("confirmed_at", "paid_at") if c in names)
        delay = (_seconds(table, "reviewed_at") - _seconds(table, received)) / HOUR
        features["review_delay_h"] = group_quantile(indptr, order, delay, 0.5)
    if "confirm_delay_h" not in skipped:
        delay = (_seconds(table, "confirmed_at") - _seconds(table, "paid_at")) / HOUR
        features["confirm_delay_h"] = group_quantile(indptr, order, delay, 0.5)
    if "parcel_weight_kg" not in skipped:
        weight = table.column("parcel_weight_kg").fill_null(np.nan).to_numpy(zero_copy_only=False)
        features["parcel_weight_kg"] = group_quantile(indptr, order, weight.astype(np.float64), 0.5)
    if "identity_degree" not in skipped:
        if identity is None:
            identity, _ = identity_groups(table, encode(table.column("buyer_id")))
        features["identity_degree"] = identity.degree()
    frame = pd.DataFrame(features, index=pd.Index(graph.row_labels, name="account_id"))
    frame.attrs["skipped"] = skipped
    return frame


def merchant_features(table: pa.Table, graph: BipartiteGraph, fresh_days: float = 7.0) -> pd.DataFrame:
    """Merchant feature table (see the module docs), one row per graph column."""
    names = set(table.column_names)
    cols = graph.order_cols
    created = _seconds(table, "created_at")
    indptr, order = group_by(cols, graph.n_cols, times=created)
    csc = graph.to_scipy().tocsc()
    features: dict[str, np.ndarray] = {
        "n_orders": np.diff(indptr).astype(np.int32),
        "n_buyers": np.diff(csc.indptr).astype(np.int32),
        "burst_1h": max_in_window(indptr, created[order], HOUR),
        "top_buyer_share": top_k_share(csc.indptr, csc.data, 5),
    }
    skipped = _skipped(MERCHANT_FEATURE_COLUMNS, table.column_names)
    if "fresh_buyer_share" not in skipped:
        by_account, account_order = group_by(graph.order_rows, graph.n_rows, times=created)
        age = _age_at_first_order(table, by_account, account_order, created[account_order])
        fresh = np.where(np.isnan(age), np.nan, age < fresh_days)
        features["fresh_buyer_share"] = group_mean(csc.indptr, csc.indices, fresh)
    rating = _ratings(table) if "rating" in names else None
    if "mean_rating" not in skipped:
        features["mean_rating"] = group_mean(indptr, order, rating)
    for name, stars in (("five_star_share", 5), ("one_star_share", 1)):
        if name not in skipped:
            features[name] = group_mean(indptr, order, np.where(np.isnan(rating), np.nan, rating == stars))
    frame = pd.DataFrame(features, index=pd.Index(graph.col_labels, name="seller_id"))
    frame.attrs["skipped"] = skipped
    return frame


def _age_at_first_order(table: pa.Table, indptr: np.ndarray, order: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Days from registration to first order of every group of orders sorted by time."""
    first = np.full(len(indptr) - 1, np.nan)
    has = np.diff(indptr) > 0
    first[has] = times[indptr[:-1][has]]
    return (first - group_mean(indptr, order, _seconds(table, "buyer_registered_at"))) / DAY
