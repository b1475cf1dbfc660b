"""Empty parcels (空包裹): brushed orders shipped with a real tracking number but no goods.

A brushed order must look fulfilled, so the shop buys a tracking number from an empty-parcel
service (空包网) and an empty envelope travels to the paid buyer, who confirms receipt at once.
Every such order leaves fulfilment traces, each of which honest orders also show now and then,
so each is read against the order's own shop's (and item's) usual, never against a fixed limit:

``weight``
    The parcel's weight against its item's usual parcel (its shop's, for an item with fewer
    than ``min_reference`` weighed parcels, or without ``item_id``): ``(w + r) / (q + r)``, ``q``
    the ``reference_quantile`` of the reference's weights and ``r`` the export's resolution,
    10 g. A jewellery shop's parcels weigh grams, and so does its ``q``. An item's own few
    parcels are a better usual than its shop's: at a shop of one heavy item and light ones, the
    shop's usual makes every light item's parcel look empty.
``confirm``
    Seconds from payment (creation, where ``paid_at`` is missing) to confirmed receipt against
    the shop's usual, the same way (resolution one minute). A shop of virtual goods confirms in
    minutes, and so does its ``q``.
``carrier``
    How rare the parcel's carrier (``carrier``, else the tracking number's prefix) is at the
    shop: the categorical p-value, the share of the shop's parcels whose carrier is at most as
    common as this one.
``tracking``
    What the parcel's tracking-number run spans. Tracking numbers (a carrier prefix, then a
    serial) that differ by at most ``max_serial_gap`` chain into runs. An honest shop prints
    its labels in batches, so its serials are consecutive too, but a batch is one shop's
    parcels dispatched together: orders of one shop created within a day or two. A service
    sells a block of numbers that it bought in bulk to several shops, and each shop spends its
    part on fake orders as they are placed, over days, in order of creation, with the
    service's other customers' numbers in between; so its runs cross shops, or span many
    creation days at one shop, without matching the shop's own batches. The statistic is the
    run's number of distinct (shop, creation day) pairs against the shop's usual, the
    ``reference_quantile`` of the spans of the shop's runs, each run counted once: a shop that
    prints daily batches has batch-long runs as its usual, and one long run of fake orders,
    however many orders it holds, is one run among the shop's. Only numbers with a neighbour
    take the test (a lone number says nothing about batches).

Once divided by their reference, the weight and confirmation statistics are ranked over the
whole export: an order's p-value is the share of the export's orders at least as far in the
tail. The tracking statistic is ranked over runs instead, each once among the export's runs of
two or more numbers (a run across shops against the largest usual among them): a run is one
draw of a shop's or a service's numbering however many parcels it holds, and ranking its
orders would let a long block of fake orders fill the tail it is ranked in. The null model is
that, scaled by its own shop's or item's usual, an order (a run) is drawn from the export's
ordinary fulfilment. An order takes the tests its values allow, and their smallest p-value,
Šidák-corrected for their number, is its combined p-value (``order_scores_`` is one minus it):
where fake orders swamp a small shop's usual, one test (the tracking run, ranked against other
shops' runs) may carry the evidence alone. An order is anomalous at a level when its combined
p-value is at most that level, which is true of at most that share of the export's orders in
each test but tracking, and of that share of its runs there.

One odd parcel is nothing; a batch of them is something. A shop's accounts are counted per
``period`` (accounts, not orders: one buyer's habits make all its orders alike), an account
being anomalous in a period when one of its orders at the shop then is. Every window of one to
``max_periods`` consecutive periods of a shop is tested: ``k`` of the window's ``n`` accounts
(summed over its periods) are anomalous. Under the null, ``k`` is beta-binomial: each account
is anomalous at the shop's base rate, known only through the shop's accounts outside the
window plus ``prior_orders`` pseudo-accounts at the export's rate (a Beta(hits, misses) rate),
so a shop that always ships this way is not a finding and a small shop is judged by the
export's rate. A ring spread over weeks fills several periods, which a single period's test
would read against the ring's own other weeks; a window that holds it is read against the
shop's weeks without it. Windows are significant at ``alpha`` with Bonferroni's correction
over every window with an account (and over the levels below); of a shop's significant windows
that overlap, only the best says where the batch is, and its (shop, period) cells are
significant.

The test runs at two levels of order anomaly, ``order_alpha`` and ``strict_order_alpha``: a
ranked test cannot give an order a p-value below its rank, so a ring whose fake orders are a
sizeable share of the export's fills the tail and is anomalous at the looser level only, while
at the stricter one an honest shop's odd parcels are rarer and a small ring spread over weeks
stands out. At each level, the anomalous orders of significant cells, with the anomalous
orders sharing a tracking run with them (a block spilling over a window's end), are kept for
the accounts whose anomalous orders at the shop are themselves significant (binomial at the
level). Accounts, shops and tracking runs of the orders kept at either level join into
connected components: each with at least ``min_accounts`` accounts is a group of kind
``"empty_parcel"`` with its shops as merchants. Its ``evidence["log10_p"]`` is the
Bonferroni-corrected log10 p-value of its most significant window, and its score
``L / (L + L_alpha)`` with ``L = -log10_p`` and ``L_alpha = -log10(alpha)`` (0.5 at the
significance level, 0.91 at ten times its exponent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import ClassVar

import numba
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.stats import binom
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.features.kernels import group_by, group_quantile
from antifraud.graphs.codes import encode
from antifraud.schema import REQUIRED

__all__ = [
    "EmptyParcelDetector",
    "carrier_pvalues",
    "cell_log10_pvalues",
    "min_pvalues",
    "pooled_tail",
    "tracking_runs",
    "tracking_serials",
]

DAY = 86_400.0


@numba.njit(cache=True, nogil=True)
def _parse(offsets, data, valid):  # pragma: no cover - compiled
    """Prefix key and serial of every tracking number: the serial is the trailing run of digits
    (its last 18 when longer), the key hashes everything before it with the serial's length.
    Key -1 for a missing number or one that does not end in a digit."""
    n = offsets.shape[0] - 1
    keys = np.full(n, -1, dtype=np.int64)
    serials = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if not valid[i]:
            continue
        start, end = offsets[i], offsets[i + 1]
        digits_from = end
        while digits_from > start and 48 <= data[digits_from - 1] <= 57:
            digits_from -= 1
        if digits_from == end:
            continue
        value = np.int64(0)
        for j in range(max(digits_from, end - 18), end):
            value = value * 10 + (data[j] - 48)
        key = np.int64(end - digits_from + 1)
        for j in range(start, digits_from):
            key = (key * np.int64(1_000_003) + np.int64(data[j]) + 1) & np.int64(0x3FFFFFFFFFFFFFFF)
        keys[i] = key
        serials[i] = value
    return keys, serials


@numba.njit(cache=True, nogil=True)
def _raise_to(out, keys, values):  # pragma: no cover - compiled
    """``out[k] = max(out[k], v)`` for every pair of ``keys`` and ``values``, in place."""
    for i in range(keys.shape[0]):
        if values[i] > out[keys[i]]:
            out[keys[i]] = values[i]


def tracking_serials(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Split tracking numbers into a prefix code and a serial.

    The serial is the number's trailing digits; numbers with the same characters before them
    and as many digits share a code (a carrier's numbering), so serials are comparable within
    a code. Missing numbers and numbers without trailing digits get code -1.

    Parameters
    ----------
    column : pyarrow.Array or ChunkedArray of str
        Tracking numbers (物流单号).

    Returns
    -------
    codes : ndarray of int32
        Dense prefix code per number, -1 where it has none.
    serials : ndarray of int64
        The serial (its last 18 digits when longer).

    Examples
    --------
    >>> codes, serials = tracking_serials(pa.array(["YT0000000017", "YT0000000018", "SF12", None, "x"]))
    >>> bool(codes[0] == codes[1] != codes[2]), codes[3:].tolist(), serials.tolist()
    (True, [-1, -1], [17, 18, 12, 0, 0])
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    if len(array) == 0:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    _, offsets, data = array.buffers()
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(offsets, dtype=width)[array.offset:array.offset + len(array) + 1].astype(np.int64)
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, dtype=np.uint8)
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    keys, serials = _parse(offsets, data, valid)
    known = keys >= 0
    codes = np.full(len(keys), -1, dtype=np.int32)
    codes[known] = pd.factorize(keys[known])[0]
    return codes, serials


def tracking_runs(codes: np.ndarray, serials: np.ndarray, max_gap: int) -> np.ndarray:
    """Runs of tracking numbers: serials of one prefix code at most ``max_gap`` apart, chained.

    Returns the run of every number, -1 for a number without code; numbers without a neighbour
    are runs of their own.

    Examples
    --------
    >>> tracking_runs(np.array([0, 0, 0, 1, -1, 0]), np.array([5, 7, 30, 6, 0, 6]), 2).tolist()
    [0, 0, 1, 2, -1, 0]
    """
    runs = np.full(len(codes), -1, dtype=np.int64)
    indptr, order = group_by(codes, int(codes.max()) + 1 if len(codes) else 0, times=serials)
    if len(order) == 0:
        return runs
    starts = np.zeros(len(order), dtype=bool)
    starts[indptr[:-1][np.diff(indptr) > 0]] = True
    starts[1:] |= np.diff(serials[order]) > max_gap
    runs[order] = np.cumsum(starts) - 1
    return runs


def pooled_tail(values: np.ndarray, upper: bool = False) -> np.ndarray:
    """Each value's empirical tail probability among all the non-NaN ``values``.

    The share of values at most as large (``upper``: at least as large), the value itself
    included; NaN stays NaN.

    Examples
    --------
    >>> pooled_tail(np.array([1.0, 3.0, 2.0, np.nan, 2.0])).tolist()
    [0.25, 1.0, 0.75, nan, 0.75]
    >>> pooled_tail(np.array([1.0, 3.0, 2.0, 2.0]), upper=True).tolist()
    [1.0, 0.25, 0.75, 0.75]
    """
    known = np.flatnonzero(~np.isnan(values))
    out = np.full(len(values), np.nan)
    if len(known) == 0:
        return out
    order = known[np.argsort(values[known], kind="stable")]
    ranked = values[order]
    change = np.flatnonzero(np.diff(ranked) != 0)  # last position of each run of equal values
    if upper:
        first = np.concatenate([[0], change + 1])  # values at least as large start at the run's first
        out[order] = (len(ranked) - np.repeat(first, np.diff(np.concatenate([first, [len(ranked)]])))) / len(ranked)
    else:
        last = np.concatenate([change, [len(ranked) - 1]])
        out[order] = (np.repeat(last, np.diff(np.concatenate([[-1], last]))) + 1) / len(ranked)
    return out


def carrier_pvalues(shops: np.ndarray, carriers: np.ndarray, n_shops: int) -> np.ndarray:
    """How rare each parcel's carrier is at its shop: the categorical p-value.

    Under the null that a parcel's carrier is drawn from its shop's carriers in their shares,
    the p-value of carrier ``c`` is the share of the shop's parcels whose carrier is at most as
    common as ``c``. NaN where the carrier (code -1) or the shop is missing.

    Examples
    --------
    >>> carrier_pvalues(np.array([0, 0, 0, 0, 1]), np.array([3, 3, 3, 5, 5]), 2).tolist()
    [1.0, 1.0, 1.0, 0.25, 1.0]
    """
    out = np.full(len(shops), np.nan)
    known = np.flatnonzero((carriers >= 0) & (shops >= 0))
    if len(known) == 0:
        return out
    n_carriers = int(carriers[known].max()) + 1
    pair = shops[known].astype(np.int64) * n_carriers + carriers[known]
    cells, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
    cell_shop = cells // n_carriers
    # Sorted by (shop, count), a cell's p-value is the running total of its shop's counts up
    # to the last cell as common as it (ties count in full), over the shop's total.
    rank_key = cell_shop * (int(counts.max()) + 1) + counts
    ranked = np.argsort(rank_key, kind="stable")
    cumulative = np.concatenate([[0], np.cumsum(counts[ranked])])
    sorted_key, sorted_shop = rank_key[ranked], cell_shop[ranked]
    upto = cumulative[np.searchsorted(sorted_key, rank_key, side="right")]
    before = cumulative[np.searchsorted(sorted_shop, cell_shop, side="left")]
    p = (upto - before) / np.bincount(cell_shop, weights=counts, minlength=n_shops)[cell_shop]
    out[known] = p[inverse]
    return out


def min_pvalues(pvalues: np.ndarray) -> np.ndarray:
    """Each row's smallest non-NaN p-value, Šidák-corrected for the ``m`` it has: ``1 - (1 - min p)^m``
    (1 for a row without any).

    Any one test may carry the evidence alone (the others read a reference the fake orders
    have swamped), which the minimum keeps and a sum of logs would dilute.

    Examples
    --------
    >>> min_pvalues(np.array([[0.01, np.nan], [0.01, 0.5], [np.nan, np.nan]])).round(4).tolist()
    [0.01, 0.0199, 1.0]
    """
    m = (~np.isnan(pvalues)).sum(axis=1)
    smallest = np.fmin.reduce(pvalues, axis=1, initial=1.0) if pvalues.shape[1] else np.ones(len(pvalues))
    return np.where(m > 0, -np.expm1(m * np.log1p(-np.minimum(smallest, 1.0 - 1e-16))), 1.0)


@numba.njit(cache=True, nogil=True)
def _betabinom_log_sf(k, n, a, b):  # pragma: no cover - compiled
    """Natural log of P(X >= k) for X beta-binomial(n, a, b), per cell, summing the pmf upwards
    from ``k`` by its ratio recurrence until the terms past the mode stop counting."""
    out = np.zeros(k.shape[0])
    for c in range(k.shape[0]):
        kc, nc, ac, bc = k[c], n[c], a[c], b[c]
        if kc <= 0:
            continue
        if kc > nc:
            out[c] = -np.inf
            continue
        log_pmf = (math.lgamma(nc + 1) - math.lgamma(kc + 1) - math.lgamma(nc - kc + 1)
                   + math.lgamma(kc + ac) + math.lgamma(nc - kc + bc) - math.lgamma(nc + ac + bc)
                   - math.lgamma(ac) - math.lgamma(bc) + math.lgamma(ac + bc))
        mode = nc * ac / (ac + bc)
        total, term = 1.0, 1.0
        for x in range(kc, nc):
            term *= (nc - x) / (x + 1) * (x + ac) / (nc - x - 1 + bc)
            total += term
            if x > mode and term < 1e-17 * total:
                break
        out[c] = min(log_pmf + math.log(total), 0.0)
    return out


def cell_log10_pvalues(k: np.ndarray, n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log10 of the probability of at least ``k`` anomalous orders of ``n`` when the rate is
    unknown, Beta(``a``, ``b``) distributed: the beta-binomial upper tail.

    Examples
    --------
    >>> cell_log10_pvalues(np.array([0, 1, 5]), np.array([3, 10, 5]), np.array([1.0, 1.0, 1.0]),
    ...                    np.array([9.0, 9.0, 9.0])).round(3).tolist()
    [0.0, -0.279, -3.301]
    """
    return _betabinom_log_sf(np.asarray(k, dtype=np.int64), np.asarray(n, dtype=np.int64),
                             np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)) / np.log(10)


def _disjoint_windows(
    shop: np.ndarray, begin: np.ndarray, length: np.ndarray, log10_p: np.ndarray, n_shops: int, n_periods: int
) -> np.ndarray:
    """The log10 p-value of the window each (shop, period) cell belongs to, 0 for none: each
    shop's windows taken best first, each kept only where it overlaps no window kept before.

    A window that holds a ring's weeks is significant with some weeks of the shop's ordinary
    custom around them too; only the best of overlapping windows says where the batch is.

    Examples
    --------
    >>> _disjoint_windows(np.array([0, 0, 0]), np.array([1, 0, 4]), np.array([2, 4, 1]),
    ...                   np.array([-5.0, -4.0, -3.0]), 1, 6).tolist()
    [[0.0, -5.0, -5.0, 0.0, -3.0, 0.0]]
    """
    best = np.zeros((n_shops, n_periods))
    for w in np.argsort(log10_p, kind="stable"):
        cells = best[shop[w], begin[w]:begin[w] + length[w]]
        if not cells.any():
            cells[:] = log10_p[w]
    return best


@dataclass(frozen=True)
class _Units:
    """The units a shop's windows count: its accounts per period, each (account, shop, period)
    with a tested order once.

    ``cell_of`` is every order's (shop, period) cell among ``cells`` (codes ``shop * n_periods +
    period``); ``seen`` the tested orders with an account, ``unit_of`` their unit, and
    ``where`` each unit's place in a shop x (period + 1) array, flattened.
    """

    cell_of: np.ndarray
    cells: np.ndarray
    n_shops: int
    n_periods: int
    seen: np.ndarray
    unit_of: np.ndarray
    where: np.ndarray

    @classmethod
    def of(cls, data: DetectionData, tested: np.ndarray, period: float) -> _Units:
        n_shops, n_accounts = data.graph.n_cols, max(data.graph.n_rows, 1)
        shops = np.maximum(data.order_cols.astype(np.int64), 0)
        periods = ((data.times - data.times.min()) // period).astype(np.int64) if len(data.times) else data.times
        n_periods = int(periods.max()) + 1 if len(periods) else 1
        cell_of, cells = pd.factorize(shops * n_periods + periods)
        cells = np.asarray(cells)
        # accounts, not orders, are the units: one buyer's habits (a quick confirmer) make all
        # its orders alike, so its second anomalous order in a period is no new evidence
        seen = np.flatnonzero(tested & (data.order_rows >= 0))
        unit_of, units = pd.factorize(cell_of[seen].astype(np.int64) * n_accounts + data.order_rows[seen])
        cell = cells[units // n_accounts]
        where = cell // n_periods * (n_periods + 1) + cell % n_periods + 1
        return cls(cell_of, cells, n_shops, n_periods, seen, unit_of, where)


class EmptyParcelDetector(Detector):
    """Accounts receiving batches of parcels that are light, quickly confirmed and tracked out of the shop's batches.

    Parameters
    ----------
    reference_quantile : float
        Quantile of an item's (shop's) weights and of a shop's confirmation delays that stands
        for its usual: empty parcels pull the lower end down, so an upper quantile holds its
        place while they are up to ``1 - reference_quantile`` of the reference's orders.
    min_reference : int
        Weighed parcels an item needs to be its own reference (else its shop's).
    max_serial_gap : int
        Tracking serials at most this far apart are consecutive (a service sells a block to
        several shops and other customers, so one shop's numbers skip theirs: by tens to
        hundreds, where a carrier's numbers in one export lie millions apart).
    order_alpha : float
        Combined p-value at or below which an order is anomalous (at most this share of the
        export's orders are in each test, of its runs in the tracking test).
    strict_order_alpha : float or None
        A second, stricter level at which batches are sought too (None: ``order_alpha`` only);
        each level's windows are tested at half of ``alpha``.
    period : float
        Seconds per period: a shop's accounts are counted per window of consecutive periods.
    max_periods : int
        Longest window, in periods, in which a shop's anomalous accounts are counted (a ring
        spread over weeks is read against the shop's other weeks, not its own).
    prior_orders : float
        Pseudo-accounts at the export's anomalous rate added to a shop's own accounts outside
        the window in its base rate's Beta distribution.
    alpha : float
        Significance of a window, before Bonferroni's correction over the windows tested, and
        of an account's anomalous orders at a shop.
    min_accounts : int
        Fewest accounts in a reported group.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Groups, kind ``"empty_parcel"``, best first, with their shops as ``merchants``.
        ``evidence``: ``log10_p``, ``tests_run`` and, for the tests that ran, over the group's
        orders at its shops, ``light_parcel_share`` and ``median_weight_ratio`` (weight),
        ``median_confirm_delay_h`` (confirm), ``unusual_carrier_share`` (carrier),
        ``consecutive_runs`` (runs of at least two of their parcels with different buyers) and
        ``longest_run`` (tracking); a share counts orders whose test's p-value is at most
        ``order_alpha``. ``details``: ``size``, ``orders``, ``anomalous_orders`` and
        ``significant_cells`` (the (shop, period) cells of its anomalous orders).
    tests_ : tuple of str
        The tests the export's columns allowed, of ``weight``, ``confirm``, ``carrier``,
        ``tracking``.
    order_pvalues_ : ndarray of shape (n_orders, len(tests_))
        Each order's p-value in each test (NaN where it cannot take it).
    order_scores_ : ndarray of float
        One minus each order's combined p-value.
    account_scores_ : ndarray of float
        Score of each account's best group (0 for none).
    merchant_scores_ : ndarray of float
        Score of the best group naming each merchant (0 for none).
    labels_ : ndarray of int
        Group of each account, -1 for none.
    """

    cost: ClassVar[float] = 25

    trace = "empty_parcel"
    required_columns = (*REQUIRED, ("parcel_weight_kg", "tracking_no"))
    #: Resolution of the export's weights (kilograms) and of receipt times (seconds).
    weight_resolution: ClassVar[float] = 0.01
    time_resolution: ClassVar[float] = 60.0
    _parameter_constraints = {
        "reference_quantile": [Interval(Real, 0, 1, closed="both")],
        "min_reference": [Interval(Integral, 1, None, closed="left")],
        "max_serial_gap": [Interval(Integral, 0, None, closed="left")],
        "order_alpha": [Interval(Real, 0, 1, closed="neither")],
        "strict_order_alpha": [Interval(Real, 0, 1, closed="neither"), None],
        "period": [Interval(Real, 0, None, closed="neither")],
        "max_periods": [Interval(Integral, 1, None, closed="left")],
        "prior_orders": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "min_accounts": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        reference_quantile: float = 0.75,
        min_reference: int = 2,
        max_serial_gap: int = 1000,
        order_alpha: float = 0.05,
        strict_order_alpha: float | None = 0.01,
        period: float = 7 * DAY,
        max_periods: int = 8,
        prior_orders: float = 20.0,
        alpha: float = 0.01,
        min_accounts: int = 3,
    ) -> None:
        self.reference_quantile = reference_quantile
        self.min_reference = min_reference
        self.max_serial_gap = max_serial_gap
        self.order_alpha = order_alpha
        self.strict_order_alpha = strict_order_alpha
        self.period = period
        self.max_periods = max_periods
        self.prior_orders = prior_orders
        self.alpha = alpha
        self.min_accounts = min_accounts

    def _scaled(self, values: np.ndarray, groups: np.ndarray, n_groups: int, resolution: float) -> np.ndarray:
        """``(v + r) / (q + r)``: each value against its group's ``reference_quantile``."""
        indptr, order = group_by(groups, n_groups)
        usual = group_quantile(indptr, order, values, self.reference_quantile)
        return (values + resolution) / (np.where(groups >= 0, usual[np.maximum(groups, 0)], np.nan) + resolution)

    def _weight_ratio(self, data: DetectionData) -> np.ndarray:
        """Parcel weight against its item's usual (its shop's for a thinly sold item)."""
        table, shops, n_shops = data.table, data.order_cols, data.graph.n_cols
        weight = table.column("parcel_weight_kg").cast(pa.float64()).fill_null(np.nan)
        weight = np.maximum(weight.to_numpy(zero_copy_only=False), 0.0)
        ratio = self._scaled(weight, shops, n_shops, self.weight_resolution)
        if "item_id" in table.column_names:
            items = encode(table.column("item_id")).codes
            items = np.where(np.isnan(weight), -1, items)
            n_items = int(items.max()) + 1 if len(items) else 0
            by_item = self._scaled(weight, items, n_items, self.weight_resolution)
            enough = np.bincount(items[items >= 0], minlength=n_items) >= self.min_reference
            ratio = np.where((items >= 0) & enough[np.maximum(items, 0)], by_item, ratio)
        return ratio

    def _confirm_delay(self, data: DetectionData) -> np.ndarray:
        """Seconds from payment (creation) to confirmed receipt, NaN where not confirmed."""
        table = data.table

        def seconds(name: str) -> np.ndarray:
            column = table.column(name).cast(pa.int64())
            return column.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)

        start = data.times.astype(np.float64)
        if "paid_at" in table.column_names:
            paid = seconds("paid_at")
            start = np.where(np.isnan(paid), start, paid)
        return np.maximum(seconds("confirmed_at") - start, 0.0)

    def _fit(self, data: DetectionData) -> None:
        """Test every order, count the anomalous accounts per window of a shop's periods, group
        the batches."""
        table, names = data.table, set(data.table.column_names)
        n_orders, n_accounts, n_shops = len(data.order_rows), data.graph.n_rows, data.graph.n_cols
        tests: dict[str, np.ndarray] = {}
        facts: dict[str, np.ndarray] = {}
        if "parcel_weight_kg" in names:
            facts["weight_ratio"] = self._weight_ratio(data)
            tests["weight"] = pooled_tail(facts["weight_ratio"])
        if "confirmed_at" in names:
            delay = self._confirm_delay(data)
            facts["confirm_delay"] = delay
            tests["confirm"] = pooled_tail(self._scaled(delay, data.order_cols, n_shops, self.time_resolution))
        runs = np.full(n_orders, -1, dtype=np.int64)
        prefixes = np.full(n_orders, -1, dtype=np.int32)
        if "tracking_no" in names:
            prefixes, serials = tracking_serials(table.column("tracking_no"))
            runs = tracking_runs(prefixes, serials, self.max_serial_gap)
            del serials  # a per-order array: freed as soon as it is used, as those below
            tests["tracking"] = self._tracking_pvalues(data, runs)
        if "carrier" in names:
            carriers = encode(table.column("carrier")).codes
        else:
            carriers = prefixes
        if "carrier" in names or "tracking_no" in names:
            tests["carrier"] = carrier_pvalues(data.order_cols, carriers, n_shops)
        del carriers, prefixes
        order = [name for name in ("weight", "confirm", "carrier", "tracking") if name in tests]
        self.tests_ = tuple(order)
        self.order_pvalues_ = np.column_stack([tests.pop(name) for name in order]) if order else np.zeros((n_orders, 0))
        combined = min_pvalues(self.order_pvalues_)
        self.order_scores_ = 1.0 - combined
        tested = ~np.isnan(self.order_pvalues_).all(axis=1) & (data.order_cols >= 0)

        levels = [self.order_alpha] + ([self.strict_order_alpha] if self.strict_order_alpha is not None else [])
        units = _Units.of(data, tested, self.period)
        cell_of = units.cell_of
        chosen = np.zeros(n_orders, dtype=bool)
        cell_p = np.zeros(len(units.cells))  # the best window's log10 p at either level, 0 for none
        for level in levels:
            anomalous = combined <= level
            significant, level_p = self._significant_cells(units, anomalous, len(levels))
            cell_p = np.minimum(cell_p, level_p)
            batch = anomalous & tested & significant[cell_of]
            # a run that carries a significant batch is the service's block: its other
            # anomalous orders belong to the batch too (a batch spilling over a window's end)
            block = np.zeros(int(runs.max()) + 2 if len(runs) else 1, dtype=bool)
            block[runs[batch] + 1] = True
            block[0] = False
            batch |= anomalous & tested & block[runs + 1]
            chosen |= self._members(data, batch, tested, level)
        groups = self._groups(data, chosen, runs, cell_of, cell_p, facts)
        self.groups_, self.labels_, self.account_scores_ = rank_groups(groups, n_accounts)
        self.merchant_scores_ = np.zeros(n_shops)
        for group in self.groups_:
            np.maximum.at(self.merchant_scores_, group.merchants, group.score)

    def _tracking_pvalues(self, data: DetectionData, runs: np.ndarray) -> np.ndarray:
        """Each order's tracking p-value: its run's span against the usual of the run's shops,
        ranked once per run among the export's runs of two or more numbers (NaN for a number
        without a neighbour, or without a run or a shop).

        The span of a run is its number of distinct (shop, creation day) pairs; a shop's usual
        is the ``reference_quantile`` of the spans of its runs, each run counted once, so that
        one long run of fake orders, however many, does not become the shop's usual. A run
        across shops is read against the largest usual among them.
        """
        known = np.flatnonzero((runs >= 0) & (data.order_cols >= 0))
        out = np.full(len(runs), np.nan)
        if len(known) == 0:
            return out
        n_shops, n_runs = data.graph.n_cols, int(runs.max()) + 1
        shops = data.order_cols[known].astype(np.int64)
        day = (data.times[known] - data.times.min()) // int(DAY)
        n_days = int(day.max()) + 1
        shop_days = pd.unique(runs[known] * (n_shops * n_days) + shops * n_days + day)
        span = np.bincount(shop_days // (n_shops * n_days), minlength=n_runs).astype(np.float64)
        pairs = pd.unique(runs[known] * n_shops + shops)  # (run, shop) pairs, once each
        pair_run, pair_shop = pairs // n_shops, pairs % n_shops
        indptr, order = group_by(pair_shop, n_shops)
        usual = group_quantile(indptr, order, span[pair_run], self.reference_quantile)
        lenient = np.ones(n_runs)  # the largest usual of the run's shops (a span is at least 1)
        _raise_to(lenient, pair_run, usual[pair_shop])
        ratio = np.where(np.bincount(runs[known], minlength=n_runs) >= 2, span / lenient, np.nan)
        out[known] = pooled_tail(ratio, upper=True)[runs[known]]
        return out

    def _significant_cells(
        self, units: _Units, anomalous: np.ndarray, n_levels: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per (shop, period) cell of ``units``, whether a significant window of the shop holds it,
        and the corrected log10 p-value of the best window holding it (0 where none is below 1);
        corrected for the windows tested at each of ``n_levels``."""
        n_shops, n_periods = units.n_shops, units.n_periods
        hit = np.bincount(units.unit_of, weights=anomalous[units.seen], minlength=len(units.where)) > 0
        # accounts (n) and anomalous accounts (k) per shop and period, cumulated over the periods
        shape = (n_shops, n_periods + 1)
        n_cum = np.bincount(units.where, minlength=shape[0] * shape[1]).reshape(shape)
        k_cum = np.bincount(units.where, weights=hit, minlength=shape[0] * shape[1]).reshape(shape)
        n_cum, k_cum = np.cumsum(n_cum, axis=1, dtype=np.float64), np.cumsum(k_cum, axis=1)
        shop_n, shop_k = n_cum[:, -1], k_cum[:, -1]
        overall = shop_k.sum() / max(shop_n.sum(), 1.0)
        tested_windows, found = 0, []
        for length in range(1, min(self.max_periods, n_periods) + 1):
            n = n_cum[:, length:] - n_cum[:, :-length]
            k = k_cum[:, length:] - k_cum[:, :-length]
            tested_windows += int((n > 0).sum())
            shop, begin = np.nonzero(k > 0)
            n, k = n[shop, begin], k[shop, begin]
            k_out, n_out = shop_k[shop] - k, shop_n[shop] - n
            hits = k_out + self.prior_orders * overall
            misses = n_out - k_out + self.prior_orders * (1 - overall)
            log10_p = cell_log10_pvalues(k, n, np.maximum(hits, 1e-9), np.maximum(misses, 1e-9))
            found.append((shop, begin, np.full(len(shop), length), log10_p))
        correction = np.log10(max(tested_windows * n_levels, 1))
        shop, begin, length, log10_p = (np.concatenate(parts) for parts in zip(*found))
        log10_p = log10_p + correction
        windows = np.flatnonzero(log10_p <= np.log10(self.alpha))
        best = _disjoint_windows(shop[windows].astype(np.int64), begin[windows].astype(np.int64),
                                 length[windows].astype(np.int64), log10_p[windows], n_shops, n_periods)
        corrected = best[units.cells // n_periods, units.cells % n_periods]
        return corrected <= np.log10(self.alpha), corrected

    def _members(
        self, data: DetectionData, candidates: np.ndarray, tested: np.ndarray, level: float
    ) -> np.ndarray:
        """The ``candidates`` (anomalous orders in significant cells) of the accounts whose
        anomalous orders at the shop are themselves significant: about ``level`` of an honest
        account's orders are anomalous at ``level``, so one odd order of several is chance."""
        n_shops = max(data.graph.n_cols, 1)
        if not candidates.any():
            return candidates
        pair = data.order_rows.astype(np.int64) * n_shops + data.order_cols
        cells = pd.Index(pd.unique(pair[candidates]))
        where = cells.get_indexer(pair)
        mine = (where >= 0) & tested
        k = np.bincount(where[candidates], minlength=len(cells))
        n = np.bincount(where[mine], minlength=len(cells))
        passed = binom.logsf(k - 1, n, level) <= np.log(self.alpha)
        return candidates & passed[np.maximum(where, 0)]

    def _groups(
        self,
        data: DetectionData,
        chosen: np.ndarray,
        runs: np.ndarray,
        cell_of: np.ndarray,
        cell_p: np.ndarray,
        facts: dict[str, np.ndarray],
    ) -> list[AccountGroup]:
        """Connected accounts, shops and tracking runs of the ``chosen`` orders, as groups."""
        n_accounts, n_shops = data.graph.n_rows, data.graph.n_cols
        positions = np.flatnonzero(chosen & (data.order_rows >= 0))
        if len(positions) == 0:
            return []
        accounts = data.order_rows[positions].astype(np.int64)
        shops = data.order_cols[positions].astype(np.int64)
        run = runs[positions]
        run_codes = np.unique(run[run >= 0], return_inverse=True)[1] if (run >= 0).any() else np.zeros(0, np.int64)
        run_node = np.full(len(positions), -1, dtype=np.int64)
        run_node[run >= 0] = n_accounts + n_shops + run_codes
        n_nodes = n_accounts + n_shops + (int(run_codes.max()) + 1 if len(run_codes) else 0)
        tied = run_node >= 0
        edges_from = np.concatenate([accounts, shops[tied] + n_accounts])
        edges_to = np.concatenate([shops + n_accounts, run_node[tied]])
        graph = sp.coo_matrix((np.ones(len(edges_from)), (edges_from, edges_to)), shape=(n_nodes, n_nodes))
        _, component = connected_components(graph, directed=False)
        member_of = np.full(n_accounts, -1, dtype=np.int64)
        member_of[accounts] = component[accounts]
        groups = []
        log10_alpha = -np.log10(self.alpha)
        for label in np.unique(component[accounts]):
            members = np.flatnonzero(member_of == label)
            if len(members) < self.min_accounts:
                continue
            merchants = np.unique(shops[component[accounts] == label])
            mine = positions[component[accounts] == label]
            strength = -float(cell_p[cell_of[mine]].min())
            evidence = {"log10_p": -strength, "tests_run": float(len(self.tests_))}
            evidence |= self._evidence(data, data.orders_of(members, merchants), runs, facts)
            details = {"size": float(len(members)), "orders": float(len(data.orders_of(members, merchants))),
                       "anomalous_orders": float(len(mine)),
                       "significant_cells": float(len(np.unique(cell_of[mine])))}
            groups.append(AccountGroup(members, strength / (strength + log10_alpha), "empty_parcel",
                                       merchants=merchants, evidence=evidence, details=details))
        return groups

    def _evidence(
        self, data: DetectionData, orders: np.ndarray, runs: np.ndarray, facts: dict[str, np.ndarray]
    ) -> dict[str, float]:
        """The named values behind a group, over its ``orders``, for the tests that ran."""
        out: dict[str, float] = {}
        tail = self.order_pvalues_[orders] <= self.order_alpha
        column = dict(zip(self.tests_, range(len(self.tests_))))
        if "weight" in column:
            out["light_parcel_share"] = float(tail[:, column["weight"]].mean())
            out["median_weight_ratio"] = float(np.nanmedian(facts["weight_ratio"][orders])) \
                if np.isfinite(facts["weight_ratio"][orders]).any() else 1.0
        if "confirm" in column:
            delay = facts["confirm_delay"][orders]
            out["median_confirm_delay_h"] = float(np.nanmedian(delay) / 3600) if np.isfinite(delay).any() else 0.0
        if "carrier" in column:
            out["unusual_carrier_share"] = float(tail[:, column["carrier"]].mean())
        if "tracking" in column:
            run = runs[orders]
            run, buyers = run[run >= 0], data.order_rows[orders][run >= 0]
            _, sizes = np.unique(run, return_counts=True)
            run_of_buyer = np.unique(np.stack([run, buyers]), axis=1)[0] if len(run) else run
            _, distinct = np.unique(run_of_buyer, return_counts=True)
            out["consecutive_runs"] = float((distinct >= 2).sum())
            out["longest_run"] = float(sizes.max()) if len(sizes) else 0.0
        return out
