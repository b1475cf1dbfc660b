"""Scored groups of accounts, as the group-finding detectors report them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["AccountGroup", "rank_groups"]


@dataclass(frozen=True)
class AccountGroup:
    """Accounts a detector found acting as one, its score in [0, 1] and the signals behind it."""

    members: np.ndarray
    score: float
    signals: dict[str, float] = field(default_factory=dict)


def rank_groups(groups: list[AccountGroup], n_accounts: int) -> tuple[list[AccountGroup], np.ndarray, np.ndarray]:
    """Sort groups best first (ties by smallest member) and label every account.

    Returns the sorted groups, each account's group index (-1 for none) and its group's score
    (0 for none).

    Examples
    --------
    >>> groups = [AccountGroup(np.array([0, 1]), 0.2), AccountGroup(np.array([3]), 0.9)]
    >>> ranked, labels, scores = rank_groups(groups, 4)
    >>> labels.tolist(), scores.tolist()
    ([1, 1, -1, 0], [0.2, 0.2, 0.0, 0.9])
    """
    ranked = sorted(groups, key=lambda g: (-g.score, int(g.members.min())))
    labels = np.full(n_accounts, -1, dtype=np.int64)
    scores = np.zeros(n_accounts)
    for k, group in enumerate(ranked):
        labels[group.members] = k
        scores[group.members] = group.score
    return ranked, labels, scores
