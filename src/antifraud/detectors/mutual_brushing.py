"""Mutual brushing (互刷): shops whose buyers are one person's accounts, and whose operator is one.

Merchants who brush each other order from each other's shops with accounts they control, so
the buyers of shop ``A`` and of shop ``B`` are *linked*: different accounts on the same phone,
address, device or home IP; and the shops themselves show their common operator. A shop pair
is reported when both are far beyond chance:

linked buyers
    the number of ordered linked pairs (a buyer of ``A``, a different buyer of ``B``), tested
    as Poisson against a configuration model that keeps every account's activity and links
    and every shop's buyers (:func:`antifraud.graphs.linked_buyers.linked_buyers`), at
    ``alpha`` Bonferroni-corrected over the pairs with any linked buyers. Only rare values
    link: two accounts are linked when their link weight (``1 / (k - 1)`` for each value
    shared by ``k`` accounts, :mod:`antifraud.graphs.shared`) is at least that of one value
    shared by ``max_shared`` accounts, so households link while carrier NAT addresses, parcel
    stations, privacy numbers, default device ids and office networks do not. Pairs with
    fewer than ``min_linked_pairs`` are not tested: one household whose two members bought at
    both shops makes two.
operator
    the longest prefix the two shops share in their credit code and in their name
    (:mod:`antifraud.graphs.shared_prefixes`), against the share of the export's other shop
    pairs (all but those whose buyers passed) that share as long a one, ``(n_l + 1) /
    (n + 1)``. The code's first eight characters (authority, kind and region) are shared by
    every shop of an industrial park and weigh little; its organisation code is shared only
    by one operator's registrations. The rarer of the two attributes counts,
    Bonferroni-corrected for the attributes (a chain's shops share both, which are not
    independent), at ``alpha`` Bonferroni-corrected over the pairs whose buyers passed.
    Without the columns, linked buyers alone decide; the groups then include account farms
    and hijacked accounts acting for unrelated shops.

Null model: linked buyers fall on shops at random given each shop's buyers, each account's
shops and the links (so households, which are linked, buy where anyone would), and two shops
share prefixes as a random pair of the export's shops does, independently of their buyers. A
pair's p-value is the larger of its two family-wise p-values (an intersection-union test: both
must reject), ``evidence["log10_p"]``.

Significant pairs link shops into groups (connected components); a group's accounts are the
linked buyers of its significant pairs (a buyer of one shop linked to a buyer of the other),
its merchants its shops. Its score is ``1 - (log10(alpha) / log10_p)^2`` for its strongest
pair: 0 at the significance limit, 0.75 at a p-value the square of ``alpha``; every shop gets
that transform of its own strongest significant pair.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.graphs.co_purchase import poisson_evidence
from antifraud.graphs.linked_buyers import LinkedBuyers, linked_buyers
from antifraud.graphs.shared_prefixes import common_prefix_lengths, prefix_pair_counts
from antifraud.schema import PERSONAL, REQUIRED

__all__ = ["OPERATOR_ATTRIBUTES", "MutualBrushingDetector", "shop_values"]

#: The shop attributes an operator leaves, with the characters of each compared: the whole
#: credit code, and a name's first characters (where its brand stem is).
OPERATOR_ATTRIBUTES: dict[str, int] = {"seller_uscc": 18, "seller_name": 16}


def shop_values(data: DetectionData, column: str) -> np.ndarray:
    """Every merchant's value of ``column`` (its first order's), as an object array (None where missing)."""
    n_orders, n_merchants = len(data.order_cols), data.graph.n_cols
    placed = data.order_cols >= 0
    first = np.full(n_merchants, n_orders)
    np.minimum.at(first, data.order_cols[placed], np.flatnonzero(placed))
    values = pc.cast(data.table.column(column).take(pa.array(first)), pa.string())
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)


class MutualBrushingDetector(Detector):
    """Find shops that brush each other: one person's linked accounts buying at one operator's shops.

    Needs at least one personal column (device, IP, phone, address); uses the shops' credit
    codes (``seller_uscc``) and names (``seller_name``) as operator evidence where the export
    has them. See the module's docstring for the tests and their null model.

    Parameters
    ----------
    alpha : float, default=0.01
        Family-wise error rate over the shop pairs tested.
    max_shared : int, default=5
        Two accounts are linked when their link weight is at least ``1 / (max_shared - 1)``,
        that of one value shared by ``max_shared`` accounts (a household's address; not an
        office's).
    min_linked_pairs : int, default=3
        Fewest ordered linked buyer pairs a shop pair needs to be tested.
    max_account_shops : int, default=100
        Accounts with more distinct shops are left out of the counts and the model.
    random_state : None, int or RandomState, default=None
        Accepted for uniformity with the other detectors and unused: the result is exact.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Groups of kind ``"mutual_brushing"``, best first; ``merchants`` are the linked shops.
        ``evidence`` holds ``log10_p`` (the strongest pair's p-value, family-wise, at most
        ``log10(alpha)``) and the values behind it: ``linked_pairs``, ``expected_pairs`` and
        their ``log10_p_buyers``; with operator columns ``log10_p_operator`` and the shared
        prefix length of each (``seller_uscc_prefix``, ``seller_name_prefix``), the two
        p-values before correction; and the group's ``shops`` and ``significant_pairs``.
    labels_ : ndarray of int64, shape (n_accounts,)
        Index of each account's best group, -1 for none.
    account_scores_ : ndarray of float64, shape (n_accounts,)
        Score of that group, 0 for none.
    merchant_scores_ : ndarray of float64, shape (n_merchants,)
        ``1 - (log10(alpha) / log10_p)^2`` of the shop's strongest significant pair, 0 for none.
    threshold_ : float
        The linked-buyer evidence threshold, ``log10(n_tested / alpha)`` in ``-log10 p``.
    """

    cost: ClassVar[float] = 2

    trace = "mutual_brushing"
    required_columns = (*REQUIRED, PERSONAL)
    _parameter_constraints = {
        # A level of 1 would make every test significant: log10(n_tested / alpha) is its bar.
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        # A value of one account links nobody; 1 / (max_shared - 1) needs two.
        "max_shared": [Interval(Integral, 2, None, closed="left")],
        "min_linked_pairs": [Interval(Integral, 1, None, closed="left")],
        "max_account_shops": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        alpha: float = 0.01,
        max_shared: int = 5,
        min_linked_pairs: int = 3,
        max_account_shops: int = 100,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.alpha = alpha
        self.max_shared = max_shared
        self.min_linked_pairs = min_linked_pairs
        self.max_account_shops = max_account_shops
        self.random_state = random_state

    def _fit(self, data: DetectionData) -> None:
        """Test the shop pairs of ``data``, group the significant ones and collect their linked buyers."""
        min_weight = 1.0 / (self.max_shared - 1)
        pairs = linked_buyers(
            data.identity.links(min_weight), data.graph.to_scipy(), min_weight=min_weight,
            max_account_shops=self.max_account_shops, min_observed=self.min_linked_pairs,
        )
        buyers = poisson_evidence(pairs.observed, pairs.expected)
        self.threshold_ = float(np.log10(max(pairs.n_tested, 1) / self.alpha))
        linked = buyers >= self.threshold_
        i, j, buyers = pairs.i[linked], pairs.j[linked], buyers[linked]
        facts = {"linked_pairs": pairs.observed[linked], "expected_pairs": pairs.expected[linked],
                 "log10_p_buyers": -buyers}
        log10_p = np.log10(max(pairs.n_tested, 1)) - buyers  # family-wise
        attributes = [name for name in OPERATOR_ATTRIBUTES if name in data.table.column_names]
        if attributes:
            operator = _operator_evidence(data, i, j, attributes, facts)
            log10_p = np.maximum(log10_p, np.log10(max(len(i), 1)) - operator)
            facts["log10_p_operator"] = -operator
        significant = log10_p <= np.log10(self.alpha)
        i, j = i[significant], j[significant]
        facts = {name: values[significant] for name, values in facts.items()} | {"log10_p": log10_p[significant]}
        strength = facts["log10_p"] / np.log10(self.alpha)

        shop_strength = np.zeros(data.graph.n_cols)
        for shop in (i, j):
            np.maximum.at(shop_strength, shop, strength)
        self.merchant_scores_ = _score(shop_strength)
        groups = _groups(pairs, i, j, strength, facts)
        self.groups_, self.labels_, self.account_scores_ = rank_groups(groups, data.graph.n_rows)


def _score(strength: np.ndarray) -> np.ndarray:
    """``1 - 1 / strength^2`` where the strength (``log10_p / log10(alpha)``) is above 1, else 0.

    Examples
    --------
    >>> _score(np.array([0.0, 1.0, 2.0])).tolist()
    [0.0, 0.0, 0.75]
    """
    return np.where(strength > 1, 1 - 1 / np.maximum(strength, 1) ** 2, 0.0)


def _operator_evidence(
    data: DetectionData, i: np.ndarray, j: np.ndarray, attributes: list[str], facts: dict[str, np.ndarray]
) -> np.ndarray:
    """``-log10`` of the operator p-value of each shop pair ``(i, j)``: the rarest of its shared
    ``attributes`` prefixes among the export's other shop pairs, Bonferroni-corrected for the
    attributes; records the prefix lengths in ``facts``."""
    best = np.ones(len(i))
    for name in attributes:
        values, width = shop_values(data, name), OPERATOR_ATTRIBUTES[name]
        length = common_prefix_lengths(values, i, j, width=width)
        facts[f"{name}_prefix"] = length.astype(np.float64)
        tested = np.cumsum(np.bincount(length, minlength=width + 1)[::-1])[::-1]  # sharing >= l
        others = np.maximum(prefix_pair_counts(values, width=width) - tested, 0)
        np.minimum(best, (others[length] + 1.0) / (others[0] + 1.0), out=best)
    return -np.log10(np.minimum(best * len(attributes), 1.0))


def _groups(
    pairs: LinkedBuyers, i: np.ndarray, j: np.ndarray, strength: np.ndarray, facts: dict[str, np.ndarray]
) -> list[AccountGroup]:
    """Connected components of the significant pairs ``(i, j)``, each with its linked buyers."""
    if len(i) == 0:
        return []
    B, L = pairs.incidence, pairs.link
    n_shops = B.shape[1]
    _, component = connected_components(sp.coo_array((np.ones(len(i)), (i, j)), shape=(n_shops, n_shops)))
    labels, pair_group = np.unique(component[i], return_inverse=True)
    # A buyer of one shop of a pair linked to a buyer of the other is one of its linked buyers.
    Bi, Bj = sp.csc_array(B[:, i]), sp.csc_array(B[:, j])
    linked = Bi.multiply(L @ Bj) + Bj.multiply(L @ Bi)
    into_group = sp.csr_array((np.ones(len(i)), (np.arange(len(i)), pair_group)), shape=(len(i), len(labels)))
    members = sp.csc_array(sp.csr_array(linked) @ into_group)
    out = []
    for g in range(len(labels)):
        mine = np.flatnonzero(pair_group == g)
        best = mine[np.argmax(strength[mine])]
        accounts = pairs.accounts[np.sort(members.indices[members.indptr[g]:members.indptr[g + 1]])]
        shops = np.unique(np.concatenate((i[mine], j[mine])))
        evidence = {name: float(values[best]) for name, values in facts.items()}
        evidence |= {"shops": float(len(shops)), "significant_pairs": float(len(mine))}
        out.append(AccountGroup(accounts, float(_score(strength[best])), "mutual_brushing", shops, evidence))
    return out
