import json

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from antifraud.detectors.identity_communities import IdentityCommunityDetector, identity_communities
from antifraud.features.data import prepare
from antifraud.graphs import shared_groups
from antifraud.ingest import PROFILES, ingest
from antifraud.synth import write_synthetic_export


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = write_synthetic_export(tmp_path_factory.mktemp("synth"), seed=11, n_orders=20_000)
    data = prepare(ingest([out / "orders.csv"], PROFILES["generic"]).table)
    rings = [json.loads(line) for line in (out / "truth" / "rings.jsonl").read_text().splitlines()]
    return data, rings


def fit(bench, **params):
    data, _ = bench
    return IdentityCommunityDetector(random_state=0, **params).fit(data)


def test_farms_score_above_households(bench):
    data, rings = bench
    det = fit(bench)
    farm = {a for ring in rings if ring["kind"] == "account_farm" for a in ring["accounts"]}
    is_farm = np.array([label in farm for label in data.graph.row_labels])
    assert roc_auc_score(is_farm, det.account_scores_) > 0.95
    best = det.groups_[0]
    assert is_farm[best.accounts].all() and best.details["freshness"] == 1.0 and best.kind == "farm"
    honest = [c for c in det.groups_ if not is_farm[c.accounts].any()]
    assert honest and max(c.score for c in honest) < best.score


def test_deterministic_and_clonable(bench):
    a, b = fit(bench), fit(bench)
    assert (a.labels_ == b.labels_).all() and (a.account_scores_ == b.account_scores_).all()
    assert clone(IdentityCommunityDetector(min_size=5)).get_params()["min_size"] == 5


def test_no_links_no_communities():
    nobody, orders = shared_groups(4, []), sp.csr_matrix(np.ones((4, 2)))
    found = identity_communities(nobody, orders, np.zeros(4), resolution=1.0, min_size=3, min_density=0.05,
                                 fresh_days=30.0, sync_hours=72.0, random_state=0)
    assert found == []
