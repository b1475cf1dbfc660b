import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from antifraud.detectors.identity_communities import IdentityCommunityDetector
from antifraud.features import account_features
from antifraud.graphs import identity_links, order_graph
from antifraud.ingest import PROFILES, ingest
from antifraud.synth import write_synthetic_export


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = write_synthetic_export(tmp_path_factory.mktemp("synth"), seed=11, n_orders=20_000)
    result = ingest([out / "orders.csv"], PROFILES["generic"])
    graph = order_graph(result.table)
    accounts = account_features(result.table, graph)
    links, codes = identity_links(result.table)
    assert (codes.labels == graph.row_labels).all()
    created = result.table.column("created_at").cast("int64").to_numpy()
    first = pd.Series(created).groupby(codes.codes).min().reindex(range(codes.n)).to_numpy(dtype=float)
    rings = [json.loads(line) for line in (out / "truth" / "rings.jsonl").read_text().splitlines()]
    return graph, accounts, links, first, rings


def fit(bench, **params):
    graph, accounts, links, first, _ = bench
    det = IdentityCommunityDetector(random_state=0, **params)
    return det.fit(links, orders=graph.to_scipy(), first_order=first, age_days=accounts["age_first_order_d"].to_numpy())


def test_farms_score_above_households(bench):
    graph, _, _, _, rings = bench
    det = fit(bench)
    farm = {a for ring in rings if ring["kind"] == "farm" for a in ring["accounts"]}
    is_farm = np.array([label in farm for label in graph.row_labels])
    assert roc_auc_score(is_farm, det.scores_) > 0.95
    best = det.communities_[0]
    assert is_farm[best.members].all() and best.signals["freshness"] == 1.0
    honest = [c for c in det.communities_ if not is_farm[c.members].any()]
    assert honest and max(c.score for c in honest) < best.score


def test_deterministic_and_clonable(bench):
    a, b = fit(bench), fit(bench)
    assert (a.labels_ == b.labels_).all() and (a.scores_ == b.scores_).all()
    assert clone(IdentityCommunityDetector(min_size=5)).get_params()["min_size"] == 5


def test_no_links_no_communities():
    det = IdentityCommunityDetector().fit(
        sp.csr_matrix((4, 4)), orders=sp.csr_matrix(np.ones((4, 2))), first_order=np.zeros(4)
    )
    assert det.communities_ == [] and (det.labels_ == -1).all() and (det.scores_ == 0).all()

