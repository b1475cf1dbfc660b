"""Account farms: communities of the shared-identity graph recruited for the same shop.

Accounts linked through shared devices, IPs, phones and addresses
(:mod:`antifraud.graphs.shared`) are split into communities by Louvain modularity
(scikit-network, on the CSR matrix directly), on the links at least as strong as
``min_density``: a weaker link (two accounts sharing only an address with dozens of others,
such as a carrier NAT address or a parcel station) glues the farms into the crowds around them
(on a 1M-order synthetic export with those traps, 0 of 20 farms were found with such links and
12 without, seven times faster).

Honest structures form communities too: a household shares an address, a school shares an IP.
A farm is recruited for the same promoted shops, so each community is proposed as a farm by
its **cohesion**: ``k`` of its ``n`` members ordered from its most common shop, which a share
``r`` of all accounts ordered from. Under the null that the members chose their shops as
independently as strangers, ``k ~ Binomial(n, r)``; its upper tail, Bonferroni-corrected for
the shops the community's members ordered from and for the communities of at least
``min_size`` members, is the community's p-value, and ``1 - p`` its score; communities
significant at ``alpha`` are proposed, their members those who ordered from the shop. A household that shops together has that cohesion too:
the p-value is the proposal's, not evidence that the members are fraudulent, which the
ensemble's test of their behaviour against the shop's other buyers decides (young or throwaway
accounts), and it is kept in ``details``, not in ``evidence``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.stats import binom
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.graphs import IdentityGroups
from antifraud.graphs.communities import louvain_labels, members_by_label, top_columns
from antifraud.schema import PERSONAL, REQUIRED

__all__ = ["IdentityCommunityDetector", "identity_communities"]


def identity_communities(
    identity: IdentityGroups,
    orders: sp.spmatrix,
    *,
    resolution: float,
    min_size: int,
    min_density: float,
    alpha: float,
    random_state: int | np.random.RandomState | None,
) -> list[AccountGroup]:
    """Louvain communities of the link graph, proposed as farms by their cohesion (see the
    module's docstring).

    Parameters
    ----------
    identity : IdentityGroups
        The accounts of every shared identity value, whose links are the pairs' weights.
    orders : sparse matrix, shape (n_accounts, n_merchants)
        Orders of each account at each merchant.
    resolution, min_size, min_density, alpha, random_state
        As for :class:`IdentityCommunityDetector`.

    Returns
    -------
    list of AccountGroup
        The communities with at least ``min_size`` members at their shop and a cohesion
        significant at ``alpha`` (kind ``"farm"``, ``merchants`` empty), in label order.

    Examples
    --------
    Two phones of four accounts each among forty accounts: one four all at shop 1, which
    nobody else uses; the other at four different shops.

    >>> from antifraud.graphs import shared_groups
    >>> phones = shared_groups(40, [(np.arange(8), np.arange(8) // 4, 2)])
    >>> shop = np.r_[[1, 1, 1, 1], [0, 2, 3, 4], np.arange(32) % 5 * (np.arange(32) % 5 != 1)]
    >>> orders = sp.csr_matrix((np.ones(40), (np.arange(40), shop)))
    >>> found = identity_communities(phones, orders, resolution=1.0, min_size=3, min_density=0.05, alpha=0.01,
    ...                              random_state=0)
    >>> [(g.accounts.tolist(), round(g.details["cohesion_log10_p"], 1)) for g in found]
    [([0, 1, 2, 3], -3.7)]
    """
    orders = sp.csr_matrix(orders)
    # Links weaker than ``min_density`` glue farms into the crowds that share a carrier NAT
    # address or a parcel station with them. They still count in a community's density, read
    # from the groups without building them.
    found = louvain_labels(identity.links(min_density), resolution, random_state)
    n_labels = int(found.max(initial=-1)) + 1
    if n_labels == 0:
        return []
    weight = identity.internal_weight(found)
    size = np.bincount(found[found >= 0], minlength=n_labels)
    density = weight / np.maximum(size * (size - 1), 1)
    # Cohesion: how many members ordered from the community's shop, against its reach.
    shop, at_shop, touched = top_columns(orders, found)
    reach = orders.getnnz(axis=0) / max(orders.shape[0], 1)
    n_tested = max(int(np.count_nonzero(size >= min_size)), 1)
    with np.errstate(divide="ignore"):
        log_p = binom.logsf(at_shop - 1, size, reach[np.maximum(shop, 0)]) + np.log(np.maximum(touched, 1))
    log10_p = np.minimum((log_p + np.log(n_tested)) / np.log(10), 0.0)
    # The farms: the members at the shop of a community whose cohesion is significant.
    entries = orders.tocoo()
    community = found[entries.row]
    proposed = (at_shop >= min_size) & (log10_p <= np.log10(alpha))  # at_shop counts members: size is larger
    at = (community >= 0) & proposed[np.maximum(community, 0)] & (entries.col == shop[np.maximum(community, 0)])
    farm = np.full(found.size, -1, dtype=np.int64)
    farm[entries.row[at]] = community[at]
    communities = []
    for members in members_by_label(farm, min_size):
        c = farm[members[0]]
        details = {"size": float(size[c]), "density": float(density[c]), "shop_share": float(at_shop[c] / size[c]),
                   "cohesion_log10_p": float(log10_p[c])}
        communities.append(AccountGroup(members, float(1 - 10 ** log10_p[c]), "farm", details=details))
    return communities


class IdentityCommunityDetector(Detector):
    """Find account farms among communities of accounts that share identity attributes.

    Needs at least one personal column (device, IP, phone, address).

    Parameters
    ----------
    resolution : float
        Louvain resolution; higher gives smaller communities.
    min_size : int
        Smallest farm proposed (members at the community's shop).
    min_density : float
        Weakest link the communities are found on (link weights are ``1 / (k - 1)`` per value
        shared by ``k`` accounts, summed over values).
    alpha : float
        Family-wise level of the communities' cohesion tests: those significant at it are
        proposed.
    random_state : int, RandomState or None
        Seeds Louvain's node order; the same seed gives the same communities.

    Attributes
    ----------
    groups_ : list of AccountGroup
        Proposed farms, kind ``"farm"``, best first, scored ``1 - p`` by their cohesion;
        ``details`` holds the community's ``size``, link ``density``, ``shop_share`` (of its
        members at its shop) and ``cohesion_log10_p``.
    labels_ : ndarray of int, shape (n_accounts,)
        Farm of each account; -1 for accounts in none.
    account_scores_ : ndarray of float, shape (n_accounts,)
        Score of each account's farm (0 outside them).
    """

    cost: ClassVar[float] = 4

    required_columns = (*REQUIRED, PERSONAL)
    _parameter_constraints = {
        "resolution": [Interval(Real, 0, None, closed="neither")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
        # Link weights count shared attributes, so one can exceed 1; 0 keeps every link.
        "min_density": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        resolution: float = 1.0,
        min_size: int = 3,
        min_density: float = 0.05,
        alpha: float = 0.01,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.resolution = resolution
        self.min_size = min_size
        self.min_density = min_density
        self.alpha = alpha
        self.random_state = random_state

    def _fit(self, data: DetectionData) -> None:
        """Find the communities of ``data``'s identity links and propose the cohesive ones."""
        found = identity_communities(data.identity, data.graph.to_scipy(), resolution=self.resolution,
                                     min_size=self.min_size, min_density=self.min_density, alpha=self.alpha,
                                     random_state=self.random_state)
        self.groups_, self.labels_, self.account_scores_ = rank_groups(found, data.graph.n_rows)
