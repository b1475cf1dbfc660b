"""The signals ``validate`` reports are what the detection reads: the ensemble's steps, its review
scorer and its behaviour features, each with the columns it declares, decided by the one rule
(:func:`antifraud.schema.missing_columns`) that also skips detectors and features."""

import pandas as pd
import pytest

from antifraud.detectors.ensemble import SUSPICIOUS_DIRECTION, BrushingEnsemble
from antifraud.features.data import prepare
from antifraud.ingest import PROFILES, ingest
from antifraud.synth import write_synthetic_export

#: What an export without ``rating`` and ``reviewed_at`` cannot give, and why.
NO_REVIEWS = {
    "rating_anomalies": ("rating",),
    "five_star_share": ("rating",),
    "rating_extremity": ("rating",),
    "review_delay_h": ("reviewed_at",),
}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A 5,000-order synthetic export with every canonical column."""
    return write_synthetic_export(tmp_path_factory.mktemp("synth"), seed=6, n_orders=5_000) / "orders.csv"


def test_without_reviews_validate_and_the_ensemble_leave_out_the_same_signals(export, tmp_path):
    pd.read_csv(export, dtype=str).drop(columns=["rating", "reviewed_at"]).to_csv(tmp_path / "o.csv", index=False)
    result = ingest([tmp_path / "o.csv"], PROFILES["generic"])
    missing = {s.name: s.missing(result.columns) for s in result.signals()}
    assert {name: m for name, m in missing.items() if m} == NO_REVIEWS
    reported = result.manifest()["signals"]
    assert reported["unavailable"] == {name: list(m) for name, m in NO_REVIEWS.items()}
    assert reported["available"] == [name for name in missing if name not in NO_REVIEWS]

    data = prepare(result.table)
    ensemble = BrushingEnsemble(random_state=0).fit(data)
    assert ensemble.skipped_ == {"rating_anomalies": "missing columns: rating"}
    assert set(ensemble.detectors_) == {name for name, _ in ensemble.detectors} - {"rating_anomalies"}
    skipped = data.accounts.attrs["skipped"]
    assert {name: why for name, why in skipped.items() if name in SUSPICIOUS_DIRECTION} == {"five_star_share": "needs rating", "rating_extremity": "needs rating",
                                "review_delay_h": "needs reviewed_at"}
    assert not set(NO_REVIEWS) & set(data.accounts.columns)  # the behaviour score never sees them


def test_every_signal_is_a_detector_or_a_feature_that_runs(export):
    result = ingest([export], PROFILES["generic"])
    signals = result.signals()
    assert not [s.name for s in signals if s.missing(result.columns)]
    data = prepare(result.table)
    ensemble = BrushingEnsemble(random_state=0).fit(data)
    names = [s.name for s in signals]
    assert len(names) == len(set(names))
    # What ran: the steps' fitted clones, the review scorer, the behaviour features it scored.
    assert hasattr(ensemble, "reviews_") and not ensemble.skipped_
    behaviour = set(SUSPICIOUS_DIRECTION) & set(data.accounts.columns)
    assert set(names) == set(ensemble.detectors_) | {"reviews"} | behaviour
    assert all(s.description for s in signals)


def test_a_dropped_step_is_not_a_signal():
    ensemble = BrushingEnsemble().set_params(lockstep="drop")
    names = [s.name for s in ensemble.signals()]
    assert "lockstep" not in names and "rating_anomalies" in names
    assert "lockstep" in [s.name for s in BrushingEnsemble().signals()]
