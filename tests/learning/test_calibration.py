import numpy as np
import pytest

from antifraud.learning.calibration import calibration_figures, cross_fitted


def test_probabilities_are_the_share_confirmed_among_entities_scored_alike(planted):
    model, (features, high, confirmed) = planted
    probability = model.predict_proba(features)["accounts"]
    # on an export it did not see: 30 % of the high accounts would be confirmed, 1 % of the others
    assert probability[high].mean() == pytest.approx(confirmed[high].mean(), abs=0.06)
    assert probability[~high].mean() == pytest.approx(confirmed[~high].mean(), abs=0.01)
    # each fold's classifier on its own says most high accounts are fraud
    assert all(fitted.predict_proba(features.accounts)[high, 1].mean() > 0.6 for fitted in model.models_["accounts"])


def test_the_cross_validated_calibration_figures_hold_out_of_fold(planted):
    model, _ = planted
    figures = model.cv_["accounts"]["calibration"]
    confirmed = figures["confirmed"]
    assert confirmed["n"] == 2000 and figures["fraud_vs_honest"] is None  # no confirmed honest
    assert confirmed["brier"] < confirmed["brier_constant"]
    for row in confirmed["reliability"]:
        if row["n"] >= 200:
            assert row["mean_probability"] == pytest.approx(row["share"], abs=0.05)


def test_an_operation_is_calibrated_without_its_own_labels():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 10)
    fold = groups % 2
    scores = rng.random(400)
    confirmed = rng.random(400) < scores
    before = cross_fitted(scores, confirmed, fold, groups)
    flipped = confirmed.copy()
    flipped[groups == 6] = ~flipped[groups == 6]
    after = cross_fitted(scores, flipped, fold, groups)
    assert np.array_equal(before[groups == 6], after[groups == 6])
    changed = np.unique(groups[before != after])
    assert changed.size and (changed % 2 == 0).all()  # the other half of its fold
    figures = calibration_figures(before, confirmed)
    assert figures["brier"] < figures["brier_constant"]
