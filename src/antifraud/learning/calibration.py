"""Calibrated probabilities from a positive-unlabelled model: what share of entities scored
alike are confirmed cases.

A positive-unlabelled classifier (:class:`~antifraud.learning.pu.PUClassifier`) ranks; its own
output is no share of anything, because the entities it left out of its second step are
missing from it. The only truth a black list gives about *every* entity is whether it was
confirmed. So the one calibration a positive-unlabelled model allows maps its score to the
share of **confirmed fraud among all the training export's entities of its kind scored alike**
(the confirmed honest and the unlabelled counted as not confirmed). That is a lower bound on
the share of fraud, equal to it where all fraud so scored was confirmed; on another export it
is the share that would be confirmed there if its fraud were confirmed as thoroughly.

The map is Platt's sigmoid on the logit of the score (a logistic regression with one input),
strictly increasing, so the calibrated probabilities rank the entities exactly as the scores
do. It is learned on out-of-fold scores (:func:`~antifraud.learning.validation.grouped_scores`),
and judged (:func:`calibration_figures`) on probabilities each fold got from a map learned on
the other folds (:func:`cross_fitted`): no operation is on both sides.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = ["RELIABILITY_BINS", "calibrate", "calibration_figures", "cross_fitted", "fit_calibration"]

#: Equal-width bins of the reliability table.
RELIABILITY_BINS = 10

_EPS = 1e-6


def _logit(scores: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(scores, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))[:, None]


def fit_calibration(scores: np.ndarray, confirmed: np.ndarray) -> LogisticRegression:
    """The sigmoid map from ``scores`` (out of fold) to the share ``confirmed`` (bool per entity).

    Examples
    --------
    >>> scores = np.r_[np.full(90, 0.1), np.full(10, 0.9)]
    >>> confirmed = np.r_[np.zeros(85, bool), np.ones(5, bool), np.zeros(5, bool), np.ones(5, bool)]
    >>> np.round(calibrate(fit_calibration(scores, confirmed), np.array([0.1, 0.9])), 2).tolist()
    [0.06, 0.5]
    """
    return LogisticRegression().fit(_logit(scores), np.asarray(confirmed, dtype=np.int8))


def calibrate(calibration: LogisticRegression, scores: np.ndarray) -> np.ndarray:
    """``scores`` as calibrated probabilities by ``calibration`` (:func:`fit_calibration`)."""
    return calibration.predict_proba(_logit(scores))[:, 1]


def cross_fitted(scores: np.ndarray, confirmed: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Out-of-fold ``scores`` calibrated fold by fold, each by a map fitted on the other folds.

    Parameters
    ----------
    scores : ndarray
        Out-of-fold scores (:func:`~antifraud.learning.validation.grouped_scores`).
    confirmed : ndarray of bool
    fold : ndarray of int
        Each entity's fold, grouped by operation.
    """
    out = np.empty(len(scores))
    for k in np.unique(fold):
        mine = fold == k
        out[mine] = calibrate(fit_calibration(scores[~mine], confirmed[~mine]), scores[mine])
    return out


def calibration_figures(probability: np.ndarray, truth: np.ndarray, bins: int = RELIABILITY_BINS) -> dict:
    """Brier score and reliability table of ``probability`` against ``truth`` (1 or 0).

    Returns
    -------
    dict
        ``brier``; ``brier_constant``, the Brier score of giving everybody the share of ``truth``
        (what a probability must beat to say anything); ``n``; and ``reliability``: per
        non-empty bin of ``probability`` (``bins`` of equal width), its bounds, entities, mean
        probability and share of ``truth``.

    Examples
    --------
    >>> figures = calibration_figures(np.array([0.1, 0.1, 0.9, 0.9]), np.array([0, 0, 1, 1]), bins=2)
    >>> figures["brier"], figures["reliability"][1]
    (0.01, {'from': 0.5, 'to': 1.0, 'n': 2, 'mean_probability': 0.9, 'share': 1.0})
    """
    probability, truth = np.asarray(probability, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    which = np.minimum((probability * bins).astype(np.int64), bins - 1)
    n = np.bincount(which, minlength=bins)
    mean = np.bincount(which, weights=probability, minlength=bins)
    share = np.bincount(which, weights=truth, minlength=bins)
    table = [{"from": k / bins, "to": (k + 1) / bins, "n": int(n[k]), "mean_probability": round(float(mean[k] / n[k]), 6),
              "share": round(float(share[k] / n[k]), 6)} for k in np.flatnonzero(n).tolist()]
    base = truth.mean() if truth.size else float("nan")
    return {"brier": round(float(np.mean((probability - truth) ** 2)), 6),
            "brier_constant": round(float(np.mean((base - truth) ** 2)), 6),
            "n": int(truth.size), "reliability": table}
