"""A model of fraud learned from confirmed cases, one classifier per entity kind."""

from __future__ import annotations

from numbers import Integral
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from antifraud.learning.calibration import calibrate, calibration_figures, cross_fitted, fit_calibration
from antifraud.learning.features import EntityFeatures, uninformed
from antifraud.learning.labels import UNLABELLED
from antifraud.learning.pu import PUClassifier
from antifraud.learning.validation import grouped_folds, grouped_scores, ranking_figures

__all__ = ["BrushingModel", "LeakageError", "MIN_CASES", "separating_features"]

#: Fewest confirmed fraud of a kind for a classifier of that kind to be learned.
MIN_CASES = 5


class LeakageError(ValueError):
    """A feature that knows the labels: it separates every confirmed case from every other
    entity, which a signal of fraud cannot do while some fraud is unlabelled."""


def separating_features(X: pd.DataFrame, y: np.ndarray) -> list[str]:
    """The columns of ``X`` on which the confirmed fraud (``y == 1``) lie strictly above, or
    strictly below, every other labelled or unlabelled row.

    A genuine signal scores the unlabelled fraud as it scores the labelled, so it cannot put
    every labelled case ahead of all of them; a column that does was computed from the labels
    or names them (a label smuggled into the export).

    Examples
    --------
    >>> X = pd.DataFrame({"signal": [0.9, 0.8, 0.95, 0.1], "leak": [1.0, 1.0, 0.0, 0.0]})
    >>> separating_features(X, np.array([1, 1, -1, -1]))
    ['leak']
    """
    fraud = np.asarray(y) == 1
    out = []
    for column in X.columns:
        values = X[column].to_numpy(dtype=np.float64)
        a, b = values[fraud], values[~fraud]
        if np.isnan(a).any() or np.isnan(b).all():
            continue
        b = b[~np.isnan(b)]
        if a.min() > b.max() or a.max() < b.min():
            out.append(column)
    return out


class BrushingModel(BaseEstimator):
    """Fraud probabilities of accounts and merchants, learned from confirmed cases.

    For each entity kind with at least :data:`MIN_CASES` confirmed fraud that a grouped
    cross-validation can split (:func:`~antifraud.learning.validation.grouped_folds`), a
    :class:`~antifraud.learning.pu.PUClassifier` around ``classifier`` learns from the kind's
    feature frame (:func:`~antifraud.learning.features.entity_features`), the columns the export
    informs; what the ensemble's reported rings hold (``features.held``) is never taken as
    honest. Its honest cross-validation (:func:`~antifraud.learning.validation.grouped_scores`,
    entities of one operation on one side) gives every entity of the training export an
    out-of-fold score and the model's figures.

    Its probabilities are calibrated (:mod:`~antifraud.learning.calibration`): each fold's
    classifier is kept with a map from its scores of the fold it did not see to the share of
    confirmed fraud among the training export's entities of the kind scored alike, a lower bound
    on the share of fraud; an entity's probability is the mean of the folds' calibrated ones.

    Parameters
    ----------
    classifier : classifier, optional
        Any scikit-learn classifier with ``predict_proba`` (a pipeline a researcher swaps in);
        default :func:`~antifraud.learning.pu.default_estimator`.
    n_splits : int
        Folds of the cross-validation.
    random_state : int, optional

    Attributes
    ----------
    models_ : dict
        Per kind, the fitted :class:`PUClassifier` of each fold.
    features_ : dict
        The columns each kind's classifiers read.
    calibrations_ : dict
        Per kind, the map of each fold's classifier from its score to the calibrated probability
        (:func:`~antifraud.learning.calibration.fit_calibration`), fitted on the fold it did not see.
    cv_ : dict
        Per kind: label counts, folds, the negatives each fold's classifier learned from, the
        out-of-fold ranking figures of the confirmed fraud against the unlabelled entities
        (``fraud_vs_unlabelled``, a lower bound: some unlabelled are fraud) and against the
        confirmed honest (``fraud_vs_honest``), NaN where there are none, and ``calibration``:
        the Brier score and reliability table (:func:`~antifraud.learning.calibration.calibration_figures`)
        of the out-of-fold probabilities against confirmation on every entity (``confirmed``)
        and against the labels on the labelled ones (``fraud_vs_honest``, None without
        confirmed honest).
    oof_ : dict
        Per kind, every training entity's out-of-fold score: its fold's classifier's, before
        calibration (the ranking figures'; the calibration figures' probabilities are
        :func:`~antifraud.learning.calibration.cross_fitted` from it).
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, classifier: Any = None, *, n_splits: int = 5, random_state: int | None = None) -> None:
        self.classifier = classifier
        self.n_splits = n_splits
        self.random_state = random_state

    def fit(self, features: EntityFeatures, labels: dict[str, np.ndarray],
            groups: dict[str, np.ndarray]) -> Self:
        """Learn each kind of ``labels`` (1, 0 or -1 per entity of ``features``) with its
        ``groups`` (operation codes, :func:`~antifraud.learning.validation.operation_groups`).

        Raises
        ------
        LeakageError
            If a feature separates the confirmed fraud from every other entity
            (:func:`separating_features`).
        ValueError
            If no kind has :data:`MIN_CASES` confirmed fraud in case groups that a
            cross-validation can split (:func:`~antifraud.learning.validation.grouped_folds`).
        """
        self._validate_params()
        self.models_, self.features_, self.calibrations_, self.cv_, self.oof_ = {}, {}, {}, {}, {}
        for kind, y in labels.items():
            y = np.asarray(y)
            cases = len(np.unique(groups[kind][y == 1]))
            enough = (y == 1).sum() >= MIN_CASES
            splits = grouped_folds(y, groups[kind], self.n_splits, self.random_state) if enough else []
            if not splits:
                continue
            frame = features.frame(kind)
            X = frame.drop(columns=uninformed(frame))
            leaks = separating_features(X, y)
            if leaks:
                raise LeakageError(f"{kind}: {', '.join(leaks)} separate(s) every confirmed fraud from every other "
                                   "entity, which no signal does while fraud is unlabelled: a feature computed from "
                                   "the labels, or a label column in the export")
            model = PUClassifier(self.classifier, random_state=self.random_state)
            held = features.held.get(kind, np.zeros(len(y), dtype=bool))
            scores, fold, self.models_[kind] = grouped_scores(model, X, y, groups[kind], splits=splits, suspected=held)
            self.features_[kind] = list(X.columns)
            confirmed = y == 1
            self.calibrations_[kind] = [fit_calibration(scores[fold == k], confirmed[fold == k])
                                        for k in range(len(self.models_[kind]))]
            self.oof_[kind] = scores
            calibrated = cross_fitted(scores, confirmed, fold, groups[kind])
            unlabelled, honest, labelled = y == UNLABELLED, y == 0, y != UNLABELLED
            self.cv_[kind] = {
                "labels": {"fraud": int((y == 1).sum()), "honest": int(honest.sum()),
                           "unlabelled": int(unlabelled.sum())},
                "case_groups": cases,
                "folds": int(fold.max() + 1),
                "reliable_negatives": [fitted.negatives_ for fitted in self.models_[kind]],
                "fraud_vs_unlabelled": ranking_figures(scores[~honest], confirmed[~honest].astype(int)),
                "fraud_vs_honest": ranking_figures(scores[labelled], confirmed[labelled].astype(int)),
                "calibration": {
                    "method": "sigmoid", "probability": "share of confirmed fraud among the entities scored alike",
                    "confirmed": calibration_figures(calibrated, confirmed),
                    "fraud_vs_honest": (calibration_figures(calibrated[labelled], confirmed[labelled])
                                        if honest.any() else None),
                },
            }
        if not self.models_:
            counts = {kind: int((np.asarray(y) == 1).sum()) for kind, y in labels.items()}
            raise ValueError(f"no entity kind has {MIN_CASES} confirmed fraud in case groups a cross-validation "
                             f"can split (confirmed fraud: {counts})")
        return self

    def predict_proba(self, features: EntityFeatures) -> dict[str, np.ndarray]:
        """Per learned kind, every entity's calibrated probability: a feature this export does
        not inform is NaN to the classifier (:meth:`lacking` names them)."""
        check_is_fitted(self)
        return {kind: self.probability(kind, self._columns(features, kind)) for kind in self.models_}

    def probability(self, kind: str, X: pd.DataFrame) -> np.ndarray:
        """The calibrated probability of each row of ``X``, a frame of the columns
        ``features_[kind]`` (rows an explanation varies, :mod:`~antifraud.learning.explain`).

        It is the share of confirmed fraud among the training export's entities of ``kind``
        scored alike out of fold, a lower bound on the share of fraud among them: the mean over
        the folds' classifiers of their calibrated probabilities.
        """
        check_is_fitted(self)
        return np.mean([calibrate(calibration, fitted.predict_proba(X)[:, 1])
                        for fitted, calibration in zip(self.models_[kind], self.calibrations_[kind])], axis=0)

    def lacking(self, features: EntityFeatures) -> dict[str, list[str]]:
        """Per learned kind, the features the model was trained on that ``features`` leave
        uninformed (the export lacks their columns or detectors)."""
        check_is_fitted(self)
        return {kind: [c for c in self.features_[kind] if c in set(uninformed(features.frame(kind)))]
                for kind in self.models_}

    def _columns(self, features: EntityFeatures, kind: str) -> pd.DataFrame:
        return features.frame(kind).reindex(columns=self.features_[kind])

