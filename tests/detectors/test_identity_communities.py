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


def test_fraud_communities_are_proposed_above_households(bench):
    data, rings = bench
    det = fit(bench)
    kind = {a: ring["kind"] for ring in rings for a in ring["accounts"]}
    is_farm = np.array([kind.get(label) == "account_farm" for label in data.graph.row_labels])
    is_fraud = np.array([label in kind for label in data.graph.row_labels])
    assert roc_auc_score(is_farm, det.account_scores_) > 0.95
    assert is_fraud[det.groups_[0].accounts].all()  # hijacked accounts on their hijacker's devices
    farm = next(g for g in det.groups_ if is_farm[g.accounts].any())
    assert is_farm[farm.accounts].all() and farm.details["shop_share"] == 1.0 and farm.kind == "farm"
    assert not any(not is_fraud[c.accounts].any() for c in det.groups_)  # no all-honest community


def test_deterministic_and_clonable(bench):
    a, b = fit(bench), fit(bench)
    assert (a.labels_ == b.labels_).all() and (a.account_scores_ == b.account_scores_).all()
    assert clone(IdentityCommunityDetector(min_size=5)).get_params()["min_size"] == 5


def test_no_links_no_communities():
    nobody, orders = shared_groups(4, []), sp.csr_matrix(np.ones((4, 2)))
    found = identity_communities(nobody, orders, resolution=1.0, min_size=3, min_density=0.05, alpha=0.01,
                                 random_state=0)
    assert found == []


def test_a_farm_is_the_community_at_its_shop_and_a_household_at_popular_shops_is_none():
    """Twenty accounts on one device, all at one small shop, one of them with a household of
    three sharing its address; and 50 households of three, each member at one of five popular
    shops. The farm is the twenty at the shop, without the household; no household is
    cohesive beyond the popular shops' reach."""
    rng = np.random.default_rng(0)
    n_farm, n_homes = 20, 50
    n = n_farm + 3 + 3 * n_homes + 400
    farm = np.arange(n_farm)
    device = (farm, np.zeros(n_farm, dtype=np.int64), 1)
    family = np.r_[0, n_farm + np.arange(3)]  # farm account 0 and its household
    homes = n_farm + 3 + np.arange(3 * n_homes)
    address = (np.r_[family, homes], np.r_[np.zeros(4, dtype=np.int64), 1 + np.arange(3 * n_homes) // 3], 1 + n_homes)
    links = shared_groups(n, [device, address])
    shop = rng.integers(1, 6, size=n)  # five popular shops, and the farm's shop 0
    shop[farm] = 0
    orders = sp.csr_matrix((np.ones(n), (np.arange(n), shop)), shape=(n, 6))
    found = identity_communities(links, orders, resolution=1.0, min_size=3, min_density=0.05, alpha=0.01,
                                 random_state=0)
    assert [g.accounts.tolist() for g in found] == [farm.tolist()]
    assert found[0].details["cohesion_log10_p"] < -20
    # Without the test every community with three members at one shop would be proposed.
    loose = identity_communities(links, orders, resolution=1.0, min_size=3, min_density=0.05, alpha=0.999,
                                 random_state=0)
    assert len(loose) > 1
