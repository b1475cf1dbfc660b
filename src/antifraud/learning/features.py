"""What a learned model reads: per-account, per-merchant and per-order feature frames of a fitted ensemble.

Each frame has the same columns on every export, in the same order, so that a model trained on
one platform's export applies to another's: a feature the export cannot inform (its columns are
missing, or the detector was skipped) is NaN, which the default model handles natively, and
:func:`uninformed` names it. Nothing here reads a label.

Account columns:

- its features (:data:`~antifraud.features.tables.ACCOUNT_FEATURE_COLUMNS`), its behaviour
  (``behaviour``), its ensemble score (``ensemble``), its review scores (``reviews``,
  ``reviews_propagated``), every default detector's account score (``det_<step>``) and the best
  ``score * (1 - p)`` of a candidate ring it is in (``candidate``);
- its shops: the order-weighted mean (``shops_mean_<column>``) and the maximum
  (``shops_max_<column>``) of its shops' own columns;
- its co-buyers (the other buyers of its shops, weighted by orders, itself left out) and its
  identity neighbours (the accounts sharing a device, IP, phone or address with it): the mean of
  their :data:`NEIGHBOUR_COLUMNS` (``cobuyers_<column>``, ``identity_<column>``), and how many
  identity neighbours it has (``identity_n``).

Merchant columns: its features (:data:`~antifraud.features.tables.MERCHANT_FEATURE_COLUMNS`),
its ensemble and review scores, every default detector's merchant score (NaN for a detector
that scores accounts only), the largest share a candidate ring had of its orders (``candidate_share``),
and the order-weighted mean and maximum of its buyers' own account columns
(``buyers_mean_<column>``, ``buyers_max_<column>``).

Order columns (built on request, ``entity_features(..., orders=True)``: one row per order):
its rating and how far it lies from its shop's mean rating (``rating``, ``rating_deviation``),
its ensemble and review scores (``ensemble``, ``reviews``, and ``reviews_own``, the review's own
part), and its buyer's and its shop's own columns (``buyer_<column>``, ``shop_<column>``).

:func:`feature_words` says what any of these columns measures, built from the features' own
words (:data:`~antifraud.features.tables.FEATURE_WORDS`) and the other columns' (:data:`COLUMN_WORDS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from antifraud.detectors.ensemble import DETECTORS, BrushingEnsemble
from antifraud.features.data import DetectionData
from antifraud.features.kernels import scatter_max
from antifraud.features.tables import ACCOUNT_FEATURE_COLUMNS, FEATURE_WORDS, FEATURE_WORDS_ZH, MERCHANT_FEATURE_COLUMNS

__all__ = ["ACCOUNT_COLUMNS", "MERCHANT_COLUMNS", "NEIGHBOUR_COLUMNS", "ORDER_COLUMNS", "COLUMN_WORDS",
           "COLUMN_WORDS_ZH", "EntityFeatures", "entity_features", "feature_words", "uninformed"]

_ACCOUNT_OWN = [*ACCOUNT_FEATURE_COLUMNS, "behaviour", "ensemble", "reviews", "reviews_propagated",
                *(f"det_{name}" for name, _ in DETECTORS), "candidate"]
_MERCHANT_OWN = [*MERCHANT_FEATURE_COLUMNS, "ensemble", "reviews",
                 *(f"det_{name}" for name, _ in DETECTORS), "candidate_share"]
#: Account columns averaged over an account's co-buyers and identity neighbours.
NEIGHBOUR_COLUMNS: tuple[str, ...] = ("behaviour", "ensemble", "reviews", "candidate", "age_first_order_d",
                                      "n_orders", "identity_degree")

#: Every account and merchant column, in order.
ACCOUNT_COLUMNS: tuple[str, ...] = (
    *_ACCOUNT_OWN,
    *(f"shops_{stat}_{c}" for c in _MERCHANT_OWN for stat in ("mean", "max")),
    *(f"{side}_{c}" for side in ("cobuyers", "identity") for c in NEIGHBOUR_COLUMNS),
    "identity_n",
)
MERCHANT_COLUMNS: tuple[str, ...] = (
    *_MERCHANT_OWN,
    *(f"buyers_{stat}_{c}" for c in _ACCOUNT_OWN for stat in ("mean", "max")),
)
_ORDER_OWN = ["rating", "rating_deviation", "ensemble", "reviews", "reviews_own"]
ORDER_COLUMNS: tuple[str, ...] = (
    *_ORDER_OWN,
    *(f"buyer_{c}" for c in _ACCOUNT_OWN),
    *(f"shop_{c}" for c in _MERCHANT_OWN),
)

#: What each column that is neither a feature nor an aggregate measures, in words (a detector's
#: score, ``det_<step>``, is named after its step).
COLUMN_WORDS: dict[str, str] = {
    "behaviour": "behaviour score",
    "ensemble": "ensemble score",
    "reviews": "review score",
    "reviews_propagated": "review score taken from its shops' reviews",
    "candidate": "score of the best candidate ring it is in",
    "candidate_share": "largest share of its orders from one candidate ring",
    "identity_n": "links to other accounts through shared devices, IPs, phones or addresses",
    "rating": "rating",
    "rating_deviation": "rating above its shop's mean rating",
    "reviews_own": "review score of the review alone",
}

#: :data:`COLUMN_WORDS` in Chinese (same keys).
COLUMN_WORDS_ZH: dict[str, str] = {
    "behaviour": "行为得分",
    "ensemble": "综合得分",
    "reviews": "评价得分",
    "reviews_propagated": "由其店铺的评价传递而来的评价得分",
    "candidate": "其所在最佳候选团伙的得分",
    "candidate_share": "来自同一候选团伙的订单的最大占比",
    "identity_n": "通过共用设备、IP、手机号或地址与其他账户的关联数",
    "rating": "评分",
    "rating_deviation": "评分高出其店铺平均分的幅度",
    "reviews_own": "仅凭该条评价本身的评价得分",
}

#: How an aggregate column's prefix reads, around the words of the column it aggregates, and how
#: a detector's score (``det_<step>``) reads, by language.
_AGGREGATE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "shops_mean_": "{}, mean over its shops",
        "shops_max_": "{}, highest of its shops",
        "buyers_mean_": "{}, mean over its buyers",
        "buyers_max_": "{}, highest of its buyers",
        "cobuyers_": "{}, mean over the other buyers of its shops",
        "identity_": "{}, mean over the accounts sharing an identity with it",
        "buyer_": "{} of its buyer",
        "shop_": "{} of its shop",
        "det_": "{} detector's score",
    },
    "zh": {
        "shops_mean_": "{}（其店铺的平均值）",
        "shops_max_": "{}（其店铺中的最高值）",
        "buyers_mean_": "{}（其买家的平均值）",
        "buyers_max_": "{}（其买家中的最高值）",
        "cobuyers_": "{}（其店铺其他买家的平均值）",
        "identity_": "{}（与其共用身份信息的账户的平均值）",
        "buyer_": "其买家的{}",
        "shop_": "其店铺的{}",
        "det_": "检测器 {} 的得分",
    },
}

#: The words of the features and of the other columns, by language.
_OWN_WORDS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "en": (COLUMN_WORDS, FEATURE_WORDS),
    "zh": (COLUMN_WORDS_ZH, FEATURE_WORDS_ZH),
}


def feature_words(column: str, lang: str = "en") -> str:
    """What a column of :data:`ACCOUNT_COLUMNS`, :data:`MERCHANT_COLUMNS` or :data:`ORDER_COLUMNS`
    measures, in words, in English (``"en"``) or Chinese (``"zh"``).

    Examples
    --------
    >>> feature_words("shops_max_det_dense_block")
    "dense block detector's score, highest of its shops"
    >>> feature_words("cobuyers_age_first_order_d")
    'account age at first order (days), mean over the other buyers of its shops'
    >>> feature_words("buyer_five_star_share", "zh")
    '其买家的五星评价占比'
    """
    for words in _OWN_WORDS[lang]:
        if column in words:
            return words[column]
    aggregates = _AGGREGATE_WORDS[lang]
    if column.startswith("det_"):
        step = column[4:]
        return aggregates["det_"].format(step.replace("_", " ") if lang == "en" else step)
    prefix = next((p for p in aggregates if column.startswith(p)), None)
    if prefix is None:
        raise KeyError(f"{column!r} is not a column of the learned model's features")
    return aggregates[prefix].format(feature_words(column[len(prefix):], lang))


@dataclass
class EntityFeatures:
    """The account and merchant frames of one export, rows aligned with its order graph's
    rows and columns (ids in the index), per kind which of them the ensemble's reported rings
    hold (``held``: the unsupervised accusation, never learned as honest), and the order frame
    where it was asked for (rows in the export's order, ids in the index)."""

    accounts: pd.DataFrame
    merchants: pd.DataFrame
    held: dict[str, np.ndarray] = field(default_factory=dict)
    orders: pd.DataFrame | None = None

    def frame(self, kind: str) -> pd.DataFrame:
        """The ``"accounts"``, ``"merchants"`` or ``"orders"`` frame."""
        if kind not in ("accounts", "merchants", "orders"):
            raise ValueError(f"kind must be 'accounts', 'merchants' or 'orders', got {kind!r}")
        if kind == "orders" and self.orders is None:
            raise ValueError("no order frame: build it with entity_features(..., orders=True)")
        return getattr(self, kind)


def entity_features(data: DetectionData, ensemble: BrushingEnsemble, *, orders: bool = False) -> EntityFeatures:
    """Feature frames of the accounts and merchants of ``data`` (and its orders, with ``orders``:
    a row per order, for a model that learns from confirmed orders), read from a fitted ``ensemble``.

    Parameters
    ----------
    data : DetectionData
        The export the ensemble was fitted on.
    ensemble : BrushingEnsemble
        Fitted on ``data``.

    Returns
    -------
    EntityFeatures
        Frames with the columns :data:`ACCOUNT_COLUMNS`, :data:`MERCHANT_COLUMNS` and
        :data:`ORDER_COLUMNS` (float32).
    """
    graph = data.graph
    rows = graph.edge_rows
    cols = graph.indices.astype(np.int64)
    weight = graph.count.astype(np.float64)

    own = data.accounts.reindex(columns=list(ACCOUNT_FEATURE_COLUMNS)).astype(np.float64)
    own["behaviour"] = ensemble.behaviour_
    own["ensemble"] = ensemble.account_scores_
    own["reviews"] = ensemble.reviews_.account_scores_
    own["reviews_propagated"] = ensemble.reviews_.propagated_account_scores_
    for name, _ in DETECTORS:
        fitted = ensemble.detectors_.get(name)
        own[f"det_{name}"] = np.nan if fitted is None else fitted.account_scores_
    own["candidate"] = ensemble.candidate_account_scores_

    shop = data.merchants.reindex(columns=list(MERCHANT_FEATURE_COLUMNS)).astype(np.float64)
    shop["ensemble"] = ensemble.merchant_scores_
    shop["reviews"] = ensemble.reviews_.merchant_scores_
    for name, _ in DETECTORS:
        scores = getattr(ensemble.detectors_.get(name), "merchant_scores_", None)
        shop[f"det_{name}"] = np.nan if scores is None else scores
    shop["candidate_share"] = ensemble.candidate_merchant_shares_

    accounts = {c: own[c].to_numpy() for c in _ACCOUNT_OWN}
    for c in _MERCHANT_OWN:
        values = shop[c].to_numpy()[cols]
        accounts[f"shops_mean_{c}"] = _weighted_mean(rows, values, weight, graph.n_rows)
        accounts[f"shops_max_{c}"] = scatter_max(rows, values, graph.n_rows)
    for c in NEIGHBOUR_COLUMNS:
        accounts[f"cobuyers_{c}"] = _cobuyer_mean(rows, cols, weight, own[c].to_numpy(), graph.n_cols)
    identity_mean, identity_n = _identity_means(data, own)
    accounts |= {f"identity_{c}": identity_mean[c] for c in NEIGHBOUR_COLUMNS} | {"identity_n": identity_n}

    merchants = {c: shop[c].to_numpy() for c in _MERCHANT_OWN}
    for c in _ACCOUNT_OWN:
        values = own[c].to_numpy()[rows]
        merchants[f"buyers_mean_{c}"] = _weighted_mean(cols, values, weight, graph.n_cols)
        merchants[f"buyers_max_{c}"] = scatter_max(cols, values, graph.n_cols)

    def frame(columns: dict[str, np.ndarray], names: tuple[str, ...], index: np.ndarray | None) -> pd.DataFrame:
        out = pd.DataFrame({c: np.asarray(columns[c], dtype=np.float32) for c in names})
        if index is not None:
            out.index = pd.Index(index, name="id")
        return out

    order_frame = None
    if orders:
        rating = np.full(len(data.order_rows), np.nan) if data.ratings is None else data.ratings
        per_order = {"rating": rating, "rating_deviation": rating - shop["mean_rating"].to_numpy()[data.order_cols],
                     "ensemble": ensemble.order_scores_, "reviews": ensemble.reviews_.order_scores_,
                     "reviews_own": ensemble.reviews_.own_scores_}
        per_order |= {f"buyer_{c}": own[c].to_numpy()[data.order_rows] for c in _ACCOUNT_OWN}
        per_order |= {f"shop_{c}": shop[c].to_numpy()[data.order_cols] for c in _MERCHANT_OWN}
        order_frame = frame(per_order, ORDER_COLUMNS, data.order_ids.to_numpy(zero_copy_only=False))
    return EntityFeatures(frame(accounts, ACCOUNT_COLUMNS, graph.row_labels),
                          frame(merchants, MERCHANT_COLUMNS, graph.col_labels),
                          {kind: ensemble.held_[kind].copy() for kind in ("accounts", "merchants", "orders")},
                          order_frame)


def uninformed(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that are NaN on every row: what this export cannot inform.

    Examples
    --------
    >>> uninformed(pd.DataFrame({"a": [1.0, np.nan], "b": [np.nan, np.nan]}))
    ['b']
    """
    return [c for c in frame.columns if not frame[c].notna().any()]


def _weighted_mean(keys: np.ndarray, values: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
    """Per key, the ``weight``-weighted mean of its non-NaN ``values`` (NaN where none)."""
    known = ~np.isnan(values)
    total = np.bincount(keys, weights=np.where(known, values * weight, 0.0), minlength=n)
    mass = np.bincount(keys, weights=np.where(known, weight, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, total / mass, np.nan)


def _cobuyer_mean(rows: np.ndarray, cols: np.ndarray, weight: np.ndarray, values: np.ndarray,
                  n_cols: int) -> np.ndarray:
    """Per account, the mean of ``values`` over the other buyers of its shops: each shop's
    order-weighted mean of its buyers with the account itself left out, averaged over the
    account's orders."""
    edge = values[rows]
    known = ~np.isnan(edge)
    w = np.where(known, weight, 0.0)
    mine = np.where(known, edge * weight, 0.0)
    total = np.bincount(cols, weights=mine, minlength=n_cols)
    mass = np.bincount(cols, weights=w, minlength=n_cols)
    others = mass[cols] - w
    with np.errstate(invalid="ignore", divide="ignore"):
        loo = np.where(others > 0, (total[cols] - mine) / others, np.nan)
    return _weighted_mean(rows, loo, weight, len(values))


def _identity_means(data: DetectionData, own: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per account, the mean of :data:`NEIGHBOUR_COLUMNS` over the accounts it shares an
    identity value with (each shared value counted once per neighbour it links), and how many
    such links it has; NaN and 0 without personal columns."""
    n = data.graph.n_rows
    if data.identity is None:
        return {c: np.full(n, np.nan) for c in NEIGHBOUR_COLUMNS}, np.zeros(n)
    incidence = data.identity.incidence()
    groups_of = np.asarray(incidence.sum(axis=0)).ravel()
    size = np.asarray(incidence.sum(axis=1)).ravel()
    links = incidence.T @ size - groups_of  # other members over the account's groups
    means = {}
    for c in NEIGHBOUR_COLUMNS:
        values = own[c].to_numpy()
        known = ~np.isnan(values)
        total = incidence.T @ (incidence @ np.where(known, values, 0.0)) - groups_of * np.where(known, values, 0.0)
        mass = incidence.T @ (incidence @ known.astype(np.float64)) - groups_of * known
        with np.errstate(invalid="ignore", divide="ignore"):
            means[c] = np.where(mass > 0, total / mass, np.nan)
    return means, links
