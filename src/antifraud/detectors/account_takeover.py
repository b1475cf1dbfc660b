"""Account takeover: long-lived accounts whose identity and shopping change at once, together.

A taken-over account keeps its owner's history; what changes is who uses it. At one order the
hijacker's device, network and shops replace the owner's, and the hijacker drives several
accounts, so the new devices, IPs and shops are shared by other taken-over accounts. Each part
alone is common and honest (a new phone, a move, a trip, a new favourite shop); only their
coincidence is rare. The detector tests the two in turn.

**Change point, per account.** For every order and every identity field (device, IP, address,
phone, where the export has them) and the shop, the order *adopts* a value when the account
never used it before. Under the null model each field is adopted independently, at every order
of an account with at least ``min_history`` earlier orders, with its own rate ``p_f``: the share
of such orders, over all accounts, that adopt a value of field ``f`` (add-one smoothed). An
order's surprise is ``S = sum_f x_f log(1 / p_f)`` over the fields ``x_f`` it adopts, and its
p-value is ``P(S' >= S)`` under the null, exact over the ``2^F`` adoption patterns: a new phone
alone has the p-value of a new phone, a new phone, IP and shop at once that of their product and
its rarer neighbours. The account's change point is its most surprising order, and its takeover
p-value that order's, Sidak-corrected for the number of orders it could have been. Accounts whose
takeover p-value is at most ``account_alpha`` are the *candidates*.

**Shared new behaviour, per value.** Every adoption by an account old enough to be tested is a
trial; it is a *hit* when a candidate makes it at or after its change point, within ``window``
seconds of it. Under the null model, which accounts adopt a given device, IP, address, phone or
shop is independent of whether they were taken over, so the hits among a value's ``k`` adoptions
are ``Binomial(k, q_f)``, with ``q_f`` the share of hits among all adoptions of field ``f``. A
value adopted mostly by candidates (the hijacker's devices, the ring's shops) is significant
when its binomial tail is at most ``alpha`` divided by the number of values adopted at least
twice (Bonferroni) and its share of hits is at least ``min_lift`` times ``q_f``; a popular shop
that many honest buyers start using at once, a festival rush or a carrier NAT address is adopted
by candidates at about the base rate and is not.

Significant shops that at least ``min_size`` candidates adopted together are one operation's
(connected components of shops), and each candidate joins the operation of most of its
adoptions: a candidate or two that also took up another ring's shop do not chain two rings into
one. Operations of at least ``min_size`` candidates are the groups, with their shops as their
merchants; the
significant devices, IPs, addresses and phones that two or more members adopted are counted in
the evidence (they do not link groups: a hijacker's NAT addresses serve several rings). A
group's ``log10_p`` is the Bonferroni-corrected p-value of its strongest shop, and its score
``1 - (threshold / evidence)^2`` with ``evidence = -log10 p`` and ``threshold = -log10 alpha``:
0 at the significance limit, 0.75 at twice its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import ClassVar

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.stats import binom
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.features.kernels import group_by
from antifraud.graphs.codes import value_codes
from antifraud.graphs.communities import members_by_label
from antifraud.schema import REQUIRED

__all__ = ["AccountTakeoverDetector", "adoptions", "change_points", "pattern_pvalues"]

#: The identity fields a takeover changes, with the name their counts take in the evidence.
IDENTITIES: dict[str, str] = {
    "device_id": "devices",
    "buyer_ip": "ips",
    "ship_address": "addresses",
    "ship_phone": "phones",
}


@numba.njit(cache=True, nogil=True)
def _adoptions(indptr, order, values, n_values, min_history):  # pragma: no cover - compiled
    new = np.zeros(order.shape[0], dtype=np.bool_)
    counts = np.zeros(n_values, dtype=np.int64)
    last = np.full(n_values, -1, dtype=np.int64)
    for g in range(indptr.shape[0] - 1):
        for i in range(indptr[g], indptr[g + 1]):
            v = values[order[i]]
            if v >= 0 and last[v] != g:
                last[v] = g
                if i - indptr[g] >= min_history:
                    new[i] = True
                    counts[v] += 1
    return new, counts


def adoptions(
    indptr: np.ndarray, order: np.ndarray, values: np.ndarray, n_values: int, min_history: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Which events adopt a value (their group's first use of it), and how often each value is
    adopted.

    Parameters
    ----------
    indptr, order : ndarray of int64
        Group ``g`` owns events ``order[indptr[g]:indptr[g + 1]]``, in time order.
    values : ndarray of int
        The value of every event; negative where it is missing (never an adoption).
    n_values : int
        Number of distinct values.
    min_history : int
        Only adoptions after this many events of the group count (earlier first uses are the
        group's history, never adoptions).

    Returns
    -------
    new : ndarray of bool
        For every position of ``order``, whether it adopts a value.
    counts : ndarray of int64
        Adoptions of every value.

    Examples
    --------
    >>> new, counts = adoptions(np.array([0, 3, 5]), np.arange(5), np.array([0, 0, 1, 1, -1]), 2)
    >>> new.tolist(), counts.tolist()
    ([True, False, True, True, False], [1, 2])
    """
    return _adoptions(np.asarray(indptr, np.int64), np.asarray(order, np.int64), np.asarray(values),
                      int(n_values), int(min_history))


def pattern_pvalues(rates: np.ndarray) -> np.ndarray:
    """P-value of every adoption pattern when fields are adopted independently at ``rates``.

    Pattern ``x`` (bit ``f`` set when field ``f`` is adopted) has surprise
    ``S(x) = sum_f x_f log(1 / rates[f])``; its p-value is the null probability of a pattern at
    least as surprising.

    Examples
    --------
    >>> pattern_pvalues(np.array([0.5, 0.1])).round(3).tolist()  # none, first, second, both
    [1.0, 0.55, 0.1, 0.05]
    """
    rates = np.asarray(rates, dtype=np.float64)
    bits = (np.arange(2 ** rates.size)[:, None] >> np.arange(rates.size)) & 1
    probability = np.prod(np.where(bits, rates, 1 - rates), axis=1)
    surprise = bits @ -np.log(rates)
    order = np.argsort(-surprise, kind="stable")
    tail = np.cumsum(probability[order])
    # Patterns of equal surprise share the tail of the last of them.
    ends = np.searchsorted(-surprise[order], -surprise[order], side="right") - 1
    out = np.empty_like(tail)
    out[order] = tail[ends]
    return np.minimum(out, 1.0)


@numba.njit(cache=True, nogil=True)
def _change_points(indptr, pvalues, min_history):  # pragma: no cover - compiled
    n_groups = indptr.shape[0] - 1
    at = np.full(n_groups, -1, dtype=np.int64)
    best = np.ones(n_groups)
    tests = np.zeros(n_groups, dtype=np.int64)
    for g in range(n_groups):
        for i in range(indptr[g] + min_history, indptr[g + 1]):
            tests[g] += 1
            if pvalues[i] < best[g]:
                best[g] = pvalues[i]
                at[g] = i
    return at, best, tests


def change_points(indptr: np.ndarray, pvalues: np.ndarray, min_history: int) -> tuple[np.ndarray, np.ndarray]:
    """Each group's most surprising position after ``min_history`` others, and its Sidak-corrected
    p-value.

    Returns the position (-1 where no position has a p-value below 1) and the p-value (1 there).

    Examples
    --------
    >>> at, p = change_points(np.array([0, 4, 5]), np.array([1.0, 0.1, 0.2, 0.5, 0.01]), 1)
    >>> at.tolist(), p.round(3).tolist()
    ([1, -1], [0.271, 1.0])
    """
    at, best, tests = _change_points(np.asarray(indptr, np.int64), np.asarray(pvalues, np.float64), int(min_history))
    found = at >= 0
    return at, np.where(found, -np.expm1(tests * np.log1p(-np.where(found, best, 0.0))), 1.0)


@numba.njit(cache=True, nogil=True)
def _after(indptr, order, times, at, window):  # pragma: no cover - compiled
    n = 0
    for g in range(at.shape[0]):
        if at[g] >= 0:
            i = at[g]
            while i < indptr[g + 1] and times[order[i]] <= times[order[at[g]]] + window:
                i += 1
            n += i - at[g]
    out = np.empty(n, dtype=np.int64)
    n = 0
    for g in range(at.shape[0]):
        if at[g] >= 0:
            i = at[g]
            while i < indptr[g + 1] and times[order[i]] <= times[order[at[g]]] + window:
                out[n] = i
                n += 1
                i += 1
    return out


class AccountTakeoverDetector(Detector):
    """Groups of long-lived accounts whose devices, networks and shops change at once, to the same new ones.

    Parameters
    ----------
    min_history : int, default=3
        Orders an account must have placed before the order that changes it.
    account_alpha : float, default=0.05
        Takeover p-value at which an account becomes a candidate (its change point is tested
        further; honest accounts reach it at this rate under the null).
    alpha : float, default=0.01
        Family-wise error rate of the shared-value tests (Bonferroni).
    min_lift : float, default=3.0
        Fewest times its field's hit rate a value's share of candidates must be. Adoptions
        cluster in time (a festival, a new popular shop, when networks change too), so the
        biggest honest values deviate from the binomial by a small factor, far below a ring's.
    window : float, default=30 days
        Seconds after its change point during which a candidate's adoptions count as the
        takeover's.
    min_size : int, default=3
        Smallest group reported.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Groups, kind ``"hijacked_accounts"``, best first, tied to the significant new shops.
        ``evidence`` holds ``log10_p`` (the strongest shared value's, Bonferroni-corrected),
        ``median_account_log10_p`` (the members' takeover p-values), the counts of shared new
        ``shops``, ``devices``, ``ips``, ``addresses`` and ``phones`` (``shared_new_*``) and the
        change window ``change_start`` and ``change_end`` (epoch seconds).
    labels_ : ndarray of int64
        Group of each account, -1 for none.
    account_scores_ : ndarray of float64
        Score of each account's group (0 for none).
    order_scores_ : ndarray of float64
        The group's score for a member's orders from its change point to ``window`` after it.
    change_times_ : ndarray of float64
        Time of each account's change point (NaN where it has none).
    account_log10_p_ : ndarray of float64
        Each account's takeover p-value (log10; 0 where it has no change point).
    rates_ : dict of str to float
        The null model's per-order adoption rate of every field.
    """

    cost: ClassVar[float] = 2

    trace = "hijacked_accounts"
    required_columns = (*REQUIRED, ("device_id", "buyer_ip"))
    _parameter_constraints = {
        "min_history": [Interval(Integral, 1, None, closed="left")],
        "account_alpha": [Interval(Real, 0, 1, closed="right")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        # Fewer hits than expected is no evidence of sharing.
        "min_lift": [Interval(Real, 1, None, closed="left")],
        "window": [Interval(Real, 0, None, closed="left")],
        "min_size": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        *,
        min_history: int = 3,
        account_alpha: float = 0.05,
        alpha: float = 0.01,
        min_lift: float = 3.0,
        window: float = 30 * 86400.0,
        min_size: int = 3,
    ) -> None:
        self.min_history = min_history
        self.account_alpha = account_alpha
        self.alpha = alpha
        self.min_lift = min_lift
        self.window = window
        self.min_size = min_size

    def _fit(self, data: DetectionData) -> None:
        n_accounts, n_orders = data.graph.n_rows, len(data.order_rows)
        indptr, order = group_by(data.order_rows, n_accounts, times=data.times)
        # Every field (its value per order and its number of values), and its adoptions.
        fields = {"shops": (data.order_cols, data.graph.n_cols)}
        for column, name in IDENTITIES.items():
            if column in data.table.column_names:
                fields[name] = value_codes(data.table.column(column))
        adopted, trials = zip(*(adoptions(indptr, order, values, n, self.min_history) for values, n in fields.values()))
        n_tested = max(n_orders - int(np.minimum(np.diff(indptr), self.min_history).sum()), 0)
        self.rates_ = {name: (int(k.sum()) + 1) / (n_tested + 2) for name, k in zip(fields, trials)}

        # Change points: each account's most surprising order under independent adoptions.
        pattern = np.zeros(n_orders, dtype=np.uint8)
        for f, new in enumerate(adopted):
            pattern |= new.view(np.uint8) << f
        pvalues = pattern_pvalues(np.array(list(self.rates_.values())))[pattern]  # untested: pattern 0, p 1
        at, account_p = change_points(indptr, pvalues, self.min_history)
        self.change_times_ = np.where(at >= 0, data.times[order[np.maximum(at, 0)]].astype(np.float64), np.nan)
        self.account_log10_p_ = np.log10(account_p)
        at = np.where(account_p <= self.account_alpha, at, -1)  # the candidates'
        # The takeover's orders (positions in ``order``): a candidate's, from its change point to
        # ``window`` after it.
        after = _after(indptr, order, data.times, at, float(self.window))
        account = np.searchsorted(indptr, after, side="right") - 1

        shared = _shared_values(fields, order[after], [new[after] for new in adopted], trials, account)
        n_tests = max(shared.n_tests, 1)
        significant = (shared.log10_p <= np.log10(self.alpha / n_tests)) & (shared.lift >= self.min_lift)
        shop = shared.field == 0
        label, value_label = _linked(n_accounts, shared, significant & shop, self.min_size)
        names = list(fields)
        identities = _identities_by_label(label, shared, significant & ~shop, len(names))
        threshold = -np.log10(self.alpha)
        groups = []
        for members in members_by_label(label, self.min_size):
            g = label[members[0]]
            shops = value_label == g
            log10_p = min(float(shared.log10_p[shops].min()) + np.log10(n_tests), 0.0)
            evidence = {
                "log10_p": log10_p,
                "median_account_log10_p": float(np.median(self.account_log10_p_[members])),
                "shared_new_shops": float(shops.sum()),
                **{f"shared_new_{name}": float(identities[g, f]) for f, name in enumerate(names) if f},
                "change_start": float(self.change_times_[members].min()),
                "change_end": float(self.change_times_[members].max()),
            }
            score = 1 - (threshold / -log10_p) ** 2
            groups.append(AccountGroup(members, float(score), "hijacked_accounts", merchants=np.sort(shared.value[shops]),
                                       evidence=evidence, details={"size": float(members.size)}))
        self.groups_, self.labels_, self.account_scores_ = rank_groups(groups, n_accounts)
        self.order_scores_ = np.zeros(n_orders)
        self.order_scores_[order[after]] = self.account_scores_[account]


@dataclass(frozen=True)
class _SharedValues:
    """The values that at least two candidates adopted after their change points.

    ``field`` and ``value`` name each; ``log10_p`` is its binomial tail and ``lift`` its hit
    share over its field's; ``n_tests`` counts the values adopted at least twice (those that
    could tie two accounts together). ``hit_accounts`` and ``hit_values`` (indexing these
    values) are the candidates' adoptions of them.
    """

    field: np.ndarray
    value: np.ndarray
    log10_p: np.ndarray
    lift: np.ndarray
    n_tests: int
    hit_accounts: np.ndarray
    hit_values: np.ndarray


def _shared_values(
    fields: dict[str, tuple[np.ndarray, int]],
    orders: np.ndarray,
    hits: list[np.ndarray],
    trials: tuple[np.ndarray, ...],
    account: np.ndarray,
) -> _SharedValues:
    """Test the hits among every value's adoptions against ``Binomial(adoptions, the field's hit
    rate)``: ``orders`` are the takeovers' orders and ``account`` their accounts, ``hits`` per
    field whether each adopts a value, ``trials`` per field every value's adoptions."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("field", "value", "log10_p", "lift", "accounts", "hits")}
    n_tests = n_shared = 0
    for f, ((values, n_values), hit, k) in enumerate(zip(fields.values(), hits, trials)):
        value = values[orders[hit]].astype(np.int64)
        h = np.bincount(value, minlength=n_values)
        n_tests += int(np.count_nonzero(k >= 2))
        rate = h.sum() / max(k.sum(), 1)
        shared = np.flatnonzero(h >= 2)
        index = np.full(n_values, -1, dtype=np.int64)
        index[shared] = n_shared + np.arange(shared.size)
        n_shared += shared.size
        linking = index[value] >= 0
        parts["field"].append(np.full(shared.size, f))
        parts["value"].append(shared)
        parts["log10_p"].append(binom.logsf(h[shared] - 1, k[shared], rate) / np.log(10.0))
        parts["lift"].append(h[shared] / k[shared] / rate if shared.size else np.zeros(0))
        parts["accounts"].append(account[hit][linking])
        parts["hits"].append(index[value[linking]])
    field, value, log10_p, lift, accounts, hit_values = (np.concatenate(x) for x in parts.values())
    return _SharedValues(field, value, log10_p, lift, n_tests, accounts, hit_values)


def _linked(n_accounts: int, shared: _SharedValues, chosen: np.ndarray, min_shared: int,
            ) -> tuple[np.ndarray, np.ndarray]:
    """Operations: the ``chosen`` values joined where at least ``min_shared`` accounts adopted
    both (connected components), and each account with one of them in the operation of most
    of its adoptions (the one of more accounts on a tie). Returns each account's label (-1
    without a chosen value) and each value's (-1 unchosen).

    A hijacked account or two that also took up another ring's shop (or an honest candidate
    that did) do not chain two operations into one, as they would as single links.
    """
    keep = chosen[shared.hit_values]
    pairs = np.unique(np.stack([shared.hit_accounts[keep], shared.hit_values[keep]]), axis=1)
    links = sp.csr_matrix((np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(n_accounts, shared.value.size))
    together = (links.T @ links).tocoo()
    strong = together.data >= min_shared
    graph = sp.coo_matrix((together.data[strong], (together.row[strong], together.col[strong])), shape=together.shape)
    _, component = connected_components(graph, directed=False)
    value_label = np.where(chosen, component, -1)
    if not chosen.any():
        return np.full(n_accounts, -1), value_label
    per_operation = (links @ sp.csr_matrix((np.ones(chosen.size), (np.arange(chosen.size), component)))).tocsr()
    size = np.asarray(per_operation.astype(bool).sum(axis=0)).ravel()
    per_operation.data += size[per_operation.indices] / (size.max() + 1)  # a tie goes to the larger
    label = np.where(np.diff(links.indptr) > 0, np.asarray(per_operation.argmax(axis=1)).ravel(), -1)
    return label, value_label


def _identities_by_label(label: np.ndarray, shared: _SharedValues, chosen: np.ndarray, n_fields: int) -> np.ndarray:
    """For every label and field, how many ``chosen`` values at least two of its accounts adopted."""
    out = np.zeros((int(label.max()) + 1 if label.size else 0, n_fields), dtype=np.int64)
    keep = chosen[shared.hit_values] & (label[shared.hit_accounts] >= 0)
    pairs, counts = np.unique(
        np.stack([label[shared.hit_accounts[keep]], shared.hit_values[keep]]), axis=1, return_counts=True
    )
    pairs = pairs[:, counts >= 2]
    np.add.at(out, (pairs[0], shared.field[pairs[1]]), 1)
    return out
