"""Scored groups of accounts, as every detector reports them (``groups_``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["AccountGroup", "rank_groups"]


def _no_merchants() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class AccountGroup:
    """Accounts a detector found acting as one.

    Attributes
    ----------
    accounts : ndarray of int64
        Account codes of the members, ascending.
    score : float
        How suspicious the group is, in [0, 1].
    kind : str
        The behaviour found: ``"dense"``, ``"promoted_shops"``, ``"lockstep"``, ``"review_burst"``,
        ``"farm"`` or ``"hijacked_accounts"``.
    merchants : ndarray of int64
        Merchant codes the detector ties the group to (empty when it looks at accounts only; the
        ensemble adds the merchants most members ordered from).
    evidence : dict of str to float
        The statistical tests behind the group, reported with its ring. ``log10_p``, where the
        detector gives it, is the base-10 logarithm of the group's p-value under the null model
        its docstring states (at most 0; the more negative, the stronger).
    details : dict of str to float
        The values its score was computed from (size, cohesion...), for inspection.
    victims : ndarray of int64
        Merchant codes the group acted against (a burst of bad reviews at a competitor): they
        are harmed by it, not its beneficiaries.
    """

    accounts: np.ndarray
    score: float
    kind: str
    merchants: np.ndarray = field(default_factory=_no_merchants)
    evidence: dict[str, float] = field(default_factory=dict)
    details: dict[str, float] = field(default_factory=dict)
    victims: np.ndarray = field(default_factory=_no_merchants)


def rank_groups(groups: list[AccountGroup], n_accounts: int) -> tuple[list[AccountGroup], np.ndarray, np.ndarray]:
    """Sort groups best first (ties by smallest member) and label every account.

    Returns the sorted groups, each account's best group index (-1 for none) and that group's
    score (0 for none).

    Examples
    --------
    >>> groups = [AccountGroup(np.array([0, 1]), 0.2, "farm"), AccountGroup(np.array([1, 3]), 0.9, "farm")]
    >>> ranked, labels, scores = rank_groups(groups, 4)
    >>> labels.tolist(), scores.tolist()
    ([1, 0, -1, 0], [0.2, 0.9, 0.0, 0.9])
    """
    ranked = sorted(groups, key=lambda g: (-g.score, int(g.accounts.min())))
    labels = np.full(n_accounts, -1, dtype=np.int64)
    scores = np.zeros(n_accounts)
    for k in range(len(ranked) - 1, -1, -1):  # worst first, so an account keeps its best group
        labels[ranked[k].accounts] = k
        scores[ranked[k].accounts] = ranked[k].score
    return ranked, labels, scores
