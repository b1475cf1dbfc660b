"""Account farms: communities of the shared-identity graph that behave like one operator.

Accounts linked through shared devices, IPs, phones and addresses
(:mod:`antifraud.graphs.shared`) are split into communities by Louvain modularity
(scikit-network, on the CSR matrix directly), on the links at least as strong as
``min_density``: a weaker link (two accounts sharing only an address with dozens of others,
such as a carrier NAT address or a parcel station) cannot make a community dense enough to be
scored, and left in it glues the farms into the crowds around them (on a 1M-order synthetic
export with those traps, 0 of 20 farms were found with it and 12 without, seven times faster).
Honest structures form communities too: a household shares an address, a school shares an IP.
What sets a farm apart is how its members *behave*, so each community is scored on three
signals, each in [0, 1]:

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

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from antifraud.detectors.base import Detector
from antifraud.detectors.groups import AccountGroup, rank_groups
from antifraud.features.data import DetectionData
from antifraud.graphs import IdentityGroups
from antifraud.graphs.communities import (
    louvain_labels,
    members_by_label,
    quantile_by_label,
    top_column_share,
)
from antifraud.schema import PERSONAL, REQUIRED

__all__ = ["IdentityCommunityDetector", "identity_communities"]

HOUR = 3600.0


def identity_communities(
    identity: IdentityGroups,
    orders: sp.spmatrix,
    first_order: np.ndarray,
    age_days: np.ndarray | None = None,
    *,
    resolution: float,
    min_size: int,
    min_density: float,
    fresh_days: float,
    sync_hours: float,
    random_state: int | np.random.RandomState | None,
) -> list[AccountGroup]:
    """Louvain communities of the link graph, scored as farms (see the module's docstring).

    Parameters
    ----------
    identity : IdentityGroups
        The accounts of every shared identity value, whose links are the pairs' weights.
    orders : sparse matrix, shape (n_accounts, n_merchants)
        Orders of each account at each merchant.
    first_order : array, shape (n_accounts,)
        Time of each account's first order, in seconds.
    age_days : array, shape (n_accounts,), optional
        Days from registration to first order; without it freshness is not used.
    resolution, min_size, min_density, fresh_days, sync_hours, random_state
        As for :class:`IdentityCommunityDetector`.

    Returns
    -------
    list of AccountGroup
        The scored communities (kind ``"farm"``), in label order.

    Examples
    --------
    >>> from antifraud.graphs import shared_groups
    >>> phones = shared_groups(8, [(np.arange(8), np.arange(8) // 4, 2)])  # two phones of four accounts
    >>> orders = sp.csr_matrix([[1, 0], [1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [1, 0], [0, 1]])
    >>> first = np.r_[np.zeros(4), np.arange(4) * 30 * 86400.0]
    >>> found = identity_communities(phones, orders, first, resolution=1.0, min_size=3, min_density=0.05,
    ...                              fresh_days=30.0, sync_hours=72.0, random_state=0)
    >>> [(g.accounts.tolist(), round(g.score, 2)) for g in found]
    [([0, 1, 2, 3], 1.0), ([4, 5, 6, 7], 0.25)]
    """
    orders = sp.csr_matrix(orders)
    first_order = np.asarray(first_order, dtype=np.float64)
    # Links weaker than a scored community's least density cannot make one; they glue farms
    # into the crowds that share a carrier NAT address or a parcel station with them. They
    # still count in its density, read from the groups without building them.
    found = louvain_labels(identity.links(min_density), resolution, random_state)
    n_labels = int(found.max(initial=-1)) + 1
    weight = identity.internal_weight(found)
    cohesion = top_column_share(orders, found)
    size = np.bincount(found[found >= 0], minlength=n_labels).astype(np.float64)
    density = weight / np.maximum(size * (size - 1), 1)
    # Signals per community, NaN where a community has no data for one.
    spread = quantile_by_label(found, first_order, 0.75, n_labels) - quantile_by_label(
        found, first_order, 0.25, n_labels
    )
    signals = {
        "synchrony": np.exp(-spread / (sync_hours * HOUR)),
        "cohesion": np.where(cohesion > 0, cohesion, np.nan),
        "freshness": np.full(n_labels, np.nan),
    }
    if age_days is not None:
        ages = np.asarray(age_days, dtype=np.float64)
        known = (found >= 0) & ~np.isnan(ages)
        counts = np.bincount(found[known], minlength=n_labels)
        fresh = np.bincount(found[known], weights=ages[known] < fresh_days, minlength=n_labels)
        signals["freshness"] = np.where(counts > 0, fresh / np.maximum(counts, 1), np.nan)
    values = np.column_stack([signals[s] for s in ("freshness", "synchrony", "cohesion")])
    known = ~np.isnan(values)
    score = np.where(known.any(axis=1), np.nansum(values, axis=1) / np.maximum(known.sum(axis=1), 1), 0.0)
    communities = []
    for members in members_by_label(found, min_size):
        c = found[members[0]]
        if density[c] < min_density:
            continue
        details = {"size": size[c], "density": density[c]}
        details.update({name: float(v[c]) for name, v in signals.items() if not np.isnan(v[c])})
        communities.append(AccountGroup(members, float(score[c]), "farm", details=details))
    return communities


class IdentityCommunityDetector(Detector):
    """Find account farms among communities of accounts that share identity attributes.

    Needs at least one personal column (device, IP, phone, address); uses the accounts'
    registration times (``age_first_order_d``) for freshness where the export has them.

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
    groups_ : list of AccountGroup
        Scored communities, kind ``"farm"``, best first; ``details`` holds their ``size``,
        ``density`` and the signals the data allow.
    labels_ : ndarray of int, shape (n_accounts,)
        Community of each account; -1 for accounts in no scored community.
    account_scores_ : ndarray of float, shape (n_accounts,)
        Score of each account's community (0 outside scored communities).
    """

    cost: ClassVar[float] = 4

    required_columns = (*REQUIRED, PERSONAL)
    _parameter_constraints = {
        "resolution": [Interval(Real, 0, None, closed="neither")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
        # Link weights count shared attributes, so a density can exceed 1; 0 keeps every community.
        "min_density": [Interval(Real, 0, None, closed="left")],
        # Fresh is ``age < fresh_days``: at 0 no account would be, ages being at least 0.
        "fresh_days": [Interval(Real, 0, None, closed="neither")],
        # The scale of ``exp(-IQR / sync_hours)``.
        "sync_hours": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

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

    def _fit(self, data: DetectionData) -> None:
        """Detect and score the communities of ``data``'s identity links."""
        age = data.accounts["age_first_order_d"].to_numpy() if "age_first_order_d" in data.accounts else None
        found = identity_communities(
            data.identity, data.graph.to_scipy(), data.first_order, age, resolution=self.resolution,
            min_size=self.min_size, min_density=self.min_density, fresh_days=self.fresh_days,
            sync_hours=self.sync_hours, random_state=self.random_state,
        )
        self.groups_, self.labels_, self.account_scores_ = rank_groups(found, data.graph.n_rows)
