import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from antifraud.features.data import prepare
from antifraud.ingest import PROFILES, ingest
from antifraud.learning.features import EntityFeatures, entity_features
from antifraud.learning.model import BrushingModel, LeakageError
from antifraud.learning.validation import operation_groups, ranking_figures

EXPORT = Path(__file__).parents[2] / "fixtures" / "generic" / "orders.csv"


def confirmed(features, n_rings=4):
    """Labels: the accounts of the bundled export's first ``n_rings`` true rings, and groups."""
    rings = [json.loads(line) for line in (EXPORT.parent / "truth" / "rings.jsonl").read_text().splitlines()]
    y = np.full(len(features.accounts), -1, dtype=np.int8)
    case = np.full(len(features.accounts), "", dtype=object)
    for ring in rings[:n_rings]:
        at = features.accounts.index.get_indexer(ring["accounts"])
        y[at], case[at] = 1, ring["ring_id"] if "ring_id" in ring else ring["kind"]
    return y, case


def test_learns_and_reports_honest_figures(fitted):
    data, ensemble = fitted
    features = entity_features(data, ensemble)
    y, case = confirmed(features)
    groups = operation_groups(data, ensemble, {"accounts": case})
    model = BrushingModel(n_splits=3, random_state=0).fit(features, {"accounts": y}, groups)
    cv = model.cv_["accounts"]
    assert cv["labels"] == {"fraud": int((y == 1).sum()), "honest": 0, "unlabelled": int((y == -1).sum())}
    assert cv["folds"] == 3
    # the unconfirmed rings' accounts rank above the honest ones (measured 0.92)
    truth = pd.read_csv(EXPORT.parent / "truth" / "accounts.csv", dtype=str).set_index("account_id")["is_fraud"]
    truth = truth.reindex(features.accounts.index).fillna("0").astype(int).to_numpy()
    unlabelled = y == -1
    assert ranking_figures(model.oof_["accounts"][unlabelled], truth[unlabelled])["auc"] > 0.85
    # the cross-validated figure is out of fold: below what the model says of what it saw
    seen = model.predict_proba(features)["accounts"]
    assert cv["fraud_vs_unlabelled"]["auc"] < ranking_figures(seen[y != 0], (y[y != 0] == 1).astype(int))["auc"]


def test_a_feature_computed_from_the_labels_is_refused(fitted):
    data, ensemble = fitted
    features = entity_features(data, ensemble)
    y, case = confirmed(features)
    groups = operation_groups(data, ensemble, {"accounts": case})
    leaky = EntityFeatures(features.accounts.assign(case_score=(y == 1) * 0.9 + 0.05), features.merchants)
    with pytest.raises(LeakageError, match="case_score"):
        BrushingModel(n_splits=3, random_state=0).fit(leaky, {"accounts": y}, groups)


def test_a_label_column_in_the_export_is_not_read(fitted, tmp_path):
    data, ensemble = fitted
    orders = pd.read_csv(EXPORT, dtype=str)
    truth = pd.read_csv(EXPORT.parent / "truth" / "accounts.csv", dtype=str).set_index("account_id")["is_fraud"]
    orders["is_fraud"] = orders["buyer_id"].map(truth)
    smuggled = tmp_path / "orders.csv"
    orders.to_csv(smuggled, index=False)
    result = ingest([smuggled], PROFILES["generic"])
    assert "is_fraud" in result.files[0].ignored_columns
    assert result.table.column_names == ingest([EXPORT], PROFILES["generic"]).table.column_names
    assert prepare(result.table).accounts.equals(data.accounts)


def test_a_model_applies_to_an_export_without_some_columns(fitted, tmp_path):
    data, ensemble = fitted
    features = entity_features(data, ensemble)
    y, case = confirmed(features)
    model = BrushingModel(n_splits=3, random_state=0).fit(
        features, {"accounts": y}, operation_groups(data, ensemble, {"accounts": case}))
    thin = features.accounts.assign(parcel_weight_kg=np.nan, shops_mean_n_orders=np.nan)
    lacking = model.lacking(EntityFeatures(thin, features.merchants))["accounts"]
    assert set(lacking) == {"parcel_weight_kg", "shops_mean_n_orders"}
    assert not np.isnan(model.predict_proba(EntityFeatures(thin, features.merchants))["accounts"]).any()
