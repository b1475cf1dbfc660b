"""Learning from confirmed fraud and unlabelled entities (positive-unlabelled learning)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from antifraud.learning.labels import UNLABELLED

__all__ = ["PUClassifier", "default_estimator", "take_rows"]


def default_estimator(random_state: int | None = None) -> HistGradientBoostingClassifier:
    """The classifier a model learns with unless told otherwise: histogram gradient boosting,
    which takes NaN (a feature the export cannot inform) as it is.

    Examples
    --------
    >>> default_estimator(0).max_iter
    200
    """
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, l2_regularization=1.0,
                                          random_state=random_state)


class PUClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A classifier of fraud from confirmed fraud, confirmed honest and unlabelled entities.

    Labels are 1 (confirmed fraud), 0 (confirmed honest) and -1 (unlabelled, the scikit-learn
    convention). Confirmed cases are not a random sample of the fraud: a platform confirms
    whole operations, so the unlabelled fraud is whole other operations, which a classifier of
    "confirmed against the rest" learns to call honest. Two steps, after the spy technique
    (Liu et al., ICML 2002):

    1. some confirmed cases (``spy_share`` of them, whole case groups) are hidden among the
       unlabelled, and ``estimator`` learns confirmed against unlabelled; the unlabelled
       entities scored below the ``spy_quantile`` quantile of the spies are *reliable
       negatives*: almost no fraud scores that low. Fraud unlike every confirmed case (another
       kind of operation) scores that low too, so the entities other evidence already accuses
       (``suspected``: what the detectors' reported rings hold) are never reliable negatives;
    2. ``estimator`` learns the confirmed fraud against the reliable negatives and the
       confirmed honest, the other unlabelled left out.

    Where every entity is labelled, step 2 alone runs on the labels. The probabilities are
    those of step 2's classifier, in which the entities left out are absent: they rank, and
    are not the share of fraud among entities so scored.

    Parameters
    ----------
    estimator : classifier, optional
        Any scikit-learn classifier with ``predict_proba``; default :func:`default_estimator`.
    spy_share : float
        Share of the confirmed fraud hidden as spies in step 1.
    spy_quantile : float
        Quantile of the spies' step-1 scores below which an unlabelled entity is a reliable
        negative.
    random_state : int, optional
        Seeds the choice of spies and the default estimator.

    Attributes
    ----------
    estimator_ : classifier
        Step 2's classifier.
    negatives_ : int
        Reliable negatives and confirmed honest it learned from.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> fraud = X[:, 0] > 1.5
    >>> y = np.where(fraud & (rng.random(2000) < 0.5), 1, -1)
    >>> model = PUClassifier(random_state=0).fit(X, y)
    >>> bool(model.predict_proba(X)[fraud, 1].mean() > 0.5 > model.predict_proba(X)[~fraud, 1].mean())
    True
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "spy_share": [Interval(Real, 0, 1, closed="neither")],
        "spy_quantile": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator: Any = None, *, spy_share: float = 0.15, spy_quantile: float = 0.05,
                 random_state: int | None = None) -> None:
        self.estimator = estimator
        self.spy_share = spy_share
        self.spy_quantile = spy_quantile
        self.random_state = random_state

    def _seed(self) -> int | None:
        return self.random_state if isinstance(self.random_state, Integral) else None

    def _new(self) -> Any:
        return default_estimator(self._seed()) if self.estimator is None else clone(self.estimator)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None,
            suspected: np.ndarray | None = None) -> Self:
        """Learn from ``X`` with labels ``y`` (1, 0 or -1); ``groups`` (case codes) make
        spies of whole cases, so that a spy's case mates do not vouch for it; ``suspected``
        (bool per row) marks the unlabelled rows never to take as reliable negatives.

        Raises
        ------
        ValueError
            With fewer than two confirmed fraud, labels other than 1, 0 and -1, or no other
            entity.
        """
        y = np.asarray(y)
        if not np.isin(y, (1, 0, UNLABELLED)).all():
            raise ValueError("labels must be 1 (fraud), 0 (honest) or -1 (unlabelled)")
        fraud = y == 1
        if fraud.sum() < 2 or fraud.all():
            raise ValueError(f"need at least two confirmed fraud and one other entity, got {int(fraud.sum())} "
                             f"fraud of {len(y)}")
        self.classes_ = np.array([0, 1])
        learn = y != UNLABELLED
        if not learn.all():
            negatives = self._reliable_negatives(X, y, np.arange(len(y)) if groups is None else np.asarray(groups))
            learn |= negatives if suspected is None else negatives & ~np.asarray(suspected, dtype=bool)
        self.negatives_ = int((learn & ~fraud).sum())
        rows = np.flatnonzero(learn)
        self.estimator_ = self._new().fit(take_rows(X, rows), fraud[rows].astype(np.int8))
        return self

    def _reliable_negatives(self, X: Any, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Step 1: the unlabelled entities scored below the spies' ``spy_quantile``."""
        rng = np.random.default_rng(self._seed())
        fraud = y == 1
        cases, sizes = np.unique(groups[fraud], return_counts=True)
        if len(cases) < 2:  # one case: its entities are the spies
            spy = fraud & (rng.random(len(y)) < self.spy_share)
        else:
            order = rng.permutation(len(cases))
            cases, sizes = cases[order], sizes[order]
            taken = cases[: max(1, int(np.searchsorted(np.cumsum(sizes), self.spy_share * fraud.sum())))]
            spy = fraud & np.isin(groups, taken)
        if not spy.any() or spy.sum() == fraud.sum():
            spy = fraud & (np.arange(len(y)) == np.flatnonzero(fraud)[0])
        step1 = self._new().fit(X, (fraud & ~spy).astype(np.int8))
        scores = step1.predict_proba(X)[:, 1]
        return (y == UNLABELLED) & (scores < np.quantile(scores[spy], self.spy_quantile))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of honest and fraud, per row."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """1 where fraud is more likely than not."""
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int8)


def take_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` of an array or a DataFrame ``X``."""
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]
