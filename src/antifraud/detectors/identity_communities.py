"""Account farms: communities of the shared-identity graph that behave like one operator.

Accounts linked through shared devices, IPs, phones and addresses
(:func:`antifraud.graphs.identity_links`) are split into communities by Louvain modularity
(scikit-network, on the CSR matrix directly). Honest structures form communities too: a household
shares an address, a school shares an IP. What sets a farm apart is how its members *behave*, so
each community is scored on three signals, each in [0, 1]:

``freshness``
    share of members that placed their first order within ``fresh_days`` of registering;
``synchrony``
    ``exp(-IQR / sync_hours)`` of the members' first-order times (farms start together);
``cohesion``
    share of members that ordered from the community's most common shop (farms are recruited
    for the same promoted shops; households buy different things).

A community's score is the mean of the signals that the data allow (freshness needs
registration times), for communities of at least ``min_size`` members whose link density
(internal link weight over the number of member pairs) is at least ``min_density``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array

from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.graphs.communities import (
    internal_links,
    louvain_labels,
    members_by_label,
    quantile_by_label,
    top_column_share,
)

__all__ = ["IdentityCommunityDetector"]

HOUR = 3600.0


class IdentityCommunityDetector(BaseEstimator):
    """Find account farms among communities of accounts that share identity attributes.

    Parameters
    ----------
    resolution : float
        Louvain resolution; higher gives smaller communities.
    min_size : int
        Smallest community that is scored.
    min_density : float
        Smallest link density (mean link weight over member pairs) of a scored community.
    fresh_days : float
        An account is fresh when its first order came within this many days of registering.
    sync_hours : float
        Scale of the synchrony signal: an interquartile range of first-order times of this many
        hours gives ``exp(-1)``.
    random_state : int, RandomState or None
        Seeds Louvain's node order; the same seed gives the same communities.

    Attributes
    ----------
    labels_ : ndarray of int, shape (n_accounts,)
        AccountGroup of each account; -1 for accounts in no scored community.
    communities_ : list of AccountGroup
        Scored communities, best first.
    scores_ : ndarray of float, shape (n_accounts,)
        Score of each account's community (0 outside scored communities).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> links = sp.csr_matrix(np.kron(np.eye(2), np.ones((4, 4))) - np.eye(8))
    >>> orders = sp.csr_matrix([[1, 0], [1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [1, 0], [0, 1]])
    >>> first = np.r_[np.zeros(4), np.arange(4) * 30 * 86400.0]
    >>> det = IdentityCommunityDetector(random_state=0).fit(links, orders=orders, first_order=first)
    >>> [round(c.score, 2) for c in det.communities_]
    [1.0, 0.25]
    """

    def __init__(
        self,
        *,
        resolution: float = 1.0,
        min_size: int = 3,
        min_density: float = 0.05,
        fresh_days: float = 30.0,
        sync_hours: float = 72.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.resolution = resolution
        self.min_size = min_size
        self.min_density = min_density
        self.fresh_days = fresh_days
        self.sync_hours = sync_hours
        self.random_state = random_state

    def fit(
        self,
        X: sp.spmatrix,
        y: None = None,
        *,
        orders: sp.spmatrix,
        first_order: np.ndarray,
        age_days: np.ndarray | None = None,
    ) -> IdentityCommunityDetector:
        """Detect and score communities.

        Parameters
        ----------
        X : sparse matrix, shape (n_accounts, n_accounts)
            Symmetric link weights between accounts.
        y : ignored
        orders : sparse matrix, shape (n_accounts, n_merchants)
            Orders of each account at each merchant.
        first_order : array, shape (n_accounts,)
            Time of each account's first order, in seconds.
        age_days : array, shape (n_accounts,), optional
            Days from registration to first order; without it freshness is not used.
        """
        X = check_array(X, accept_sparse="csr", dtype=np.float64)
        n = X.shape[0]
        orders = sp.csr_matrix(orders)
        first_order = np.asarray(first_order, dtype=np.float64)
        found = louvain_labels(X, self.resolution, self.random_state)
        n_labels = int(found.max()) + 1
        weight, _ = internal_links(X, found)
        cohesion = top_column_share(orders, found)
        size = np.bincount(found[found >= 0], minlength=n_labels).astype(np.float64)
        density = weight / np.maximum(size * (size - 1), 1)
        # Signals per community, NaN where a community has no data for one.
        spread = quantile_by_label(found, first_order, 0.75, n_labels) - quantile_by_label(
            found, first_order, 0.25, n_labels
        )
        signals = {
            "synchrony": np.exp(-spread / (self.sync_hours * HOUR)),
            "cohesion": np.where(cohesion > 0, cohesion, np.nan),
            "freshness": np.full(n_labels, np.nan),
        }
        if age_days is not None:
            ages = np.asarray(age_days, dtype=np.float64)
            known = (found >= 0) & ~np.isnan(ages)
            counts = np.bincount(found[known], minlength=n_labels)
            fresh = np.bincount(found[known], weights=ages[known] < self.fresh_days, minlength=n_labels)
            signals["freshness"] = np.where(counts > 0, fresh / np.maximum(counts, 1), np.nan)
        values = np.column_stack([signals[s] for s in ("freshness", "synchrony", "cohesion")])
        known = ~np.isnan(values)
        score = np.where(known.any(axis=1), np.nansum(values, axis=1) / np.maximum(known.sum(axis=1), 1), 0.0)
        communities = []
        for members in members_by_label(found, self.min_size):
            c = found[members[0]]
            if density[c] < self.min_density:
                continue
            info = {"size": size[c], "density": density[c]}
            info.update({name: float(v[c]) for name, v in signals.items() if not np.isnan(v[c])})
            communities.append(AccountGroup(members, float(score[c]), info))
        self.communities_, self.labels_, self.scores_ = rank_groups(communities, n)
        self.n_features_in_ = n
        return self

