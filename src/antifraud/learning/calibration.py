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

The map is Platt's sigmoid on the logit of the score (a logistic regression with one input, on
Platt's smoothed targets), strictly increasing, so it keeps the ranking of the classifier it
calibrates. A map belongs to one classifier: a positive-unlabelled classifier's scale depends on
how many reliable negatives its spies gave it, which differs from one fit to the next. So each
classifier of the grouped cross-validation (:func:`~antifraud.learning.validation.grouped_scores`)
is calibrated on the fold it did not see, and a probability is the mean over them, as in
scikit-learn's ``CalibratedClassifierCV(ensemble=True)``. Its figures
(:func:`calibration_figures`) are judged on probabilities each entity got from a map fitted on
the other operations of its fold (:func:`cross_fitted`): no operation is on both sides.
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
    """The sigmoid map from one classifier's ``scores`` of entities it did not learn from to
    the share ``confirmed`` (bool per entity), fitted to Platt's targets, ``(n + 1) / (n + 2)``
    for the ``n`` confirmed and ``1 / (m + 2)`` for the ``m`` others, which keep it finite
    where the scores separate them (or where none is confirmed).

    Examples
    --------
    >>> scores = np.r_[np.full(90, 0.1), np.full(10, 0.9)]
    >>> confirmed = np.r_[np.zeros(85, bool), np.ones(5, bool), np.zeros(5, bool), np.ones(5, bool)]
    >>> np.round(calibrate(fit_calibration(scores, confirmed), np.array([0.1, 0.9])), 2).tolist()
    [0.06, 0.46]
    """
    confirmed = np.asarray(confirmed, dtype=bool)
    n = int(confirmed.sum())
    target = np.where(confirmed, (n + 1) / (n + 2), 1 / (len(confirmed) - n + 2))
    x = _logit(scores)
    return LogisticRegression(C=1e6).fit(np.vstack([x, x]), np.r_[np.ones(len(x)), np.zeros(len(x))],
                                         sample_weight=np.r_[target, 1 - target])


def calibrate(calibration: LogisticRegression, scores: np.ndarray) -> np.ndarray:
    """``scores`` as calibrated probabilities by ``calibration`` (:func:`fit_calibration`)."""
    return calibration.predict_proba(_logit(scores))[:, 1]


def cross_fitted(scores: np.ndarray, confirmed: np.ndarray, fold: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Out-of-fold ``scores`` calibrated as the model calibrates them (a map per fold), each
    entity by a map fitted on the other half of its fold's operations.

    The operations of a fold are dealt into two halves, those with confirmed fraud and the
    others in turn, so that each half has confirmed fraud where the fold has two such operations.

    Parameters
    ----------
    scores : ndarray
        Out-of-fold scores (:func:`~antifraud.learning.validation.grouped_scores`).
    confirmed : ndarray of bool
    fold : ndarray of int
        Each entity's fold, grouped by operation.
    groups : ndarray of int
        Each entity's operation.
    """
    out = np.full(len(scores), np.nan)  # NaN in a fold of one operation
    for k in np.unique(fold):
        rows = np.flatnonzero(fold == k)
        _, code = np.unique(groups[rows], return_inverse=True)
        holds = np.bincount(code, weights=confirmed[rows]) > 0
        turn = np.empty(len(holds), dtype=np.int64)
        for flag in (True, False):
            turn[holds == flag] = np.arange(int((holds == flag).sum()))
        half = (turn % 2)[code]
        for h in (0, 1):
            mine, other = rows[half == h], rows[half != h]
            if mine.size and other.size:
                out[mine] = calibrate(fit_calibration(scores[other], confirmed[other]), scores[mine])
    return out


def calibration_figures(probability: np.ndarray, truth: np.ndarray, bins: int = RELIABILITY_BINS) -> dict:
    """Brier score and reliability table of ``probability`` against ``truth`` (1 or 0), where
    ``probability`` is not NaN.

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
    known = np.isfinite(probability)  # NaN: no probability (:func:`cross_fitted` in a fold of one operation)
    probability, truth = probability[known], truth[known]
    which = np.minimum((probability * bins).astype(np.int64), bins - 1)
    n = np.bincount(which, minlength=bins)
    mean = np.bincount(which, weights=probability, minlength=bins)
    share = np.bincount(which, weights=truth, minlength=bins)
    table = [{"from": k / bins, "to": (k + 1) / bins, "n": int(n[k]),
              "mean_probability": round(float(mean[k] / n[k]), 6), "share": round(float(share[k] / n[k]), 6)}
             for k in np.flatnonzero(n).tolist()]
    base = truth.mean() if truth.size else float("nan")
    return {"brier": round(float(np.mean((probability - truth) ** 2)), 6),
            "brier_constant": round(float(np.mean((base - truth) ** 2)), 6),
            "n": int(truth.size), "reliability": table}
