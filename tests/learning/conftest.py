"""Learning fixtures: the bundled generic export, ingested and detected once."""

from __future__ import annotations

from pathlib import Path

import pytest

EXPORT = Path(__file__).parents[2] / "fixtures" / "generic" / "orders.csv"


@pytest.fixture(scope="package")
def fitted():  # noqa: ANN201
    """``(data, ensemble)`` of the bundled generic export."""
    from antifraud.detectors import BrushingEnsemble
    from antifraud.features.data import prepare
    from antifraud.ingest import PROFILES, ingest

    data = prepare(ingest([EXPORT], PROFILES["generic"]).table)
    return data, BrushingEnsemble(random_state=0).fit(data)


@pytest.fixture(scope="package")
def planted():  # noqa: ANN201
    """A model learned where one feature alone carries the fraud: a fifth of the accounts are
    high on ``burst_1h`` and 30 % of those are confirmed, 1 % of the others (``n_orders`` and
    ``top3_share`` are noise); and a second export drawn alike, which the model did not see.

    Returns ``(model, (features, high, confirmed))`` with the second export's frames, which
    accounts are high and which would be confirmed.
    """
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    from antifraud.learning.features import EntityFeatures
    from antifraud.learning.model import BrushingModel

    def export(seed, n=2000):
        rng = np.random.default_rng(seed)
        high = rng.random(n) < 0.2
        accounts = pd.DataFrame({"burst_1h": np.where(high, rng.normal(3, 0.5, n), rng.normal(0, 0.5, n)),
                                 "n_orders": rng.normal(size=n), "top3_share": rng.random(n)}).astype(np.float32)
        confirmed = rng.random(n) < np.where(high, 0.3, 0.01)
        return EntityFeatures(accounts, accounts.iloc[:0]), high, confirmed

    features, _, confirmed = export(0)
    model = BrushingModel(HistGradientBoostingClassifier(max_iter=50, random_state=0), n_splits=3, random_state=0)
    groups = np.arange(len(confirmed)) // 20  # operations of 20 accounts
    model.fit(features, {"accounts": np.where(confirmed, 1, -1)}, {"accounts": groups})
    return model, export(1)
