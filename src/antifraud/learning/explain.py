"""Why a learned model gives a ring's members their probabilities: occlusion, one feature at a time.

For the accounts of a ring (and the merchants it brushed), each feature the model reads is set,
for all of them at once, to its population reference, the median of the export's entities of
that kind; the fall in the members' mean calibrated probability
(:meth:`~antifraud.learning.model.BrushingModel.probability`) is what that feature contributes:
how much less the model would suspect them were they ordinary in it and in nothing else. All
the occluded copies are scored in one batch.

The method asks only for probabilities, so it explains any classifier a model wraps, and it
explains the calibrated probability that detection uses, not a classifier's internal margin.
It measures each feature alone: two features that carry the same signal (a detector's score
and the ensemble's) each contribute little where either would suffice, so a small contribution
says the feature is not needed, not that it is uninformative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from antifraud.learning.features import EntityFeatures
from antifraud.learning.model import BrushingModel

__all__ = ["MAX_MEMBERS", "MIN_CONTRIBUTION", "TOP", "Contribution", "Explanation", "explain_ring",
           "explain_rings", "population_reference"]

#: Members of a kind whose copies are occluded (evenly spaced over a bigger ring's).
MAX_MEMBERS = 256
#: Contributions reported per kind, largest first.
TOP = 3
#: The least fall in the members' mean probability that counts as a contribution.
MIN_CONTRIBUTION = 0.01


@dataclass(frozen=True)
class Contribution:
    """What one feature adds to the members' mean probability: ``contribution``, the fall when
    it is set to the population's ``reference`` (median), beside the members' median ``value``."""

    feature: str
    contribution: float
    value: float
    reference: float

    def to_json(self) -> dict:
        """``feature``, ``contribution``, ``value`` and ``reference``, NaN as None."""
        return {"feature": self.feature, "contribution": round(self.contribution, 4),
                "value": _number(self.value), "reference": _number(self.reference)}


@dataclass(frozen=True)
class Explanation:
    """The learned model on one kind of a ring's members: how many, their mean calibrated
    probability, and the features that raise it most."""

    kind: str
    members: int
    probability: float
    contributions: tuple[Contribution, ...]

    def to_json(self) -> dict:
        """``members``, ``probability`` and ``contributions`` (as in ``rings.jsonl``)."""
        return {"members": self.members, "probability": round(self.probability, 4),
                "contributions": [c.to_json() for c in self.contributions]}


def _number(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)


def population_reference(model: BrushingModel, features: EntityFeatures) -> dict[str, pd.Series]:
    """Per learned kind a ring explains (accounts, merchants), the median of each feature the
    model reads over the entities of ``features`` (NaN for a feature the export does not inform)."""
    return {kind: features.frame(kind).reindex(columns=model.features_[kind]).median().astype(np.float64)
            for kind in model.models_ if kind in ("accounts", "merchants")}


def explain_ring(model: BrushingModel, features: EntityFeatures, accounts: np.ndarray, merchants: np.ndarray,
                 *, reference: dict[str, pd.Series] | None = None, top: int = TOP) -> list[Explanation]:
    """The learned model's explanation of a ring, per kind it learned that the ring has members of.

    Parameters
    ----------
    model : BrushingModel
        Fitted.
    features : EntityFeatures
        The export's frames (:func:`~antifraud.learning.features.entity_features`).
    accounts, merchants : ndarray of int
        The ring's account rows and the rows of the merchants it brushed.
    reference : dict, optional
        :func:`population_reference` of ``model`` and ``features``, computed once for many rings.
    top : int
        Most contributions per kind, largest first; only those of at least
        :data:`MIN_CONTRIBUTION`.

    Returns
    -------
    list of Explanation
        Accounts first.

    Examples
    --------
    >>> explain_ring(model, features, ring.accounts, ring.merchants)[0].contributions[0]  # doctest: +SKIP
    Contribution(feature='identity_n', contribution=0.31, value=4.0, reference=0.0)
    """
    reference = population_reference(model, features) if reference is None else reference
    out = []
    for kind, rows in (("accounts", accounts), ("merchants", merchants)):
        if kind in model.models_ and len(rows):
            out.append(_explain(model, kind, features.frame(kind).reindex(columns=model.features_[kind]),
                                np.asarray(rows, dtype=np.int64), reference[kind], top))
    return out


def explain_rings(model: BrushingModel, features: EntityFeatures,
                  rings: Sequence[tuple[np.ndarray, np.ndarray]], top: int = TOP) -> list[list[Explanation]]:
    """:func:`explain_ring` of each ``(accounts, merchants)`` of ``rings``, against one reference."""
    reference = population_reference(model, features)
    return [explain_ring(model, features, accounts, merchants, reference=reference, top=top)
            for accounts, merchants in rings]


def _explain(model: BrushingModel, kind: str, frame: pd.DataFrame, rows: np.ndarray, reference: pd.Series,
             top: int) -> Explanation:
    """Occlude each informed feature of the members ``rows`` of ``frame`` in one batch."""
    members = frame.iloc[rows]
    probability = float(model.probability(kind, members).mean())
    medians = members.median().to_numpy(dtype=np.float64)
    if len(rows) > MAX_MEMBERS:
        members = members.iloc[np.linspace(0, len(rows) - 1, MAX_MEMBERS).round().astype(np.int64)]
    informed = np.flatnonzero(reference.notna().to_numpy())
    m = len(members)
    batch = np.tile(members.to_numpy(dtype=np.float64), (len(informed) + 1, 1))  # as they are, then a copy per feature
    for k, column in enumerate(informed.tolist()):
        batch[(k + 1) * m:(k + 2) * m, column] = reference.iat[column]
    scored = model.probability(kind, pd.DataFrame(batch, columns=frame.columns).astype(frame.dtypes))
    means = scored.reshape(len(informed) + 1, m).mean(axis=1)
    fall = means[0] - means[1:]
    contributions = tuple(
        Contribution(frame.columns[informed[k]], float(fall[k]), float(medians[informed[k]]),
                     float(reference.iat[informed[k]]))
        for k in np.argsort(-fall, kind="stable")[:top].tolist() if fall[k] >= MIN_CONTRIBUTION)
    return Explanation(kind, len(rows), probability, contributions)
