import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antifraud.detectors.lockstep import LockstepDetector, _pairs, co_occurrences
from antifraud.features.data import prepare
from antifraud.ingest import PROFILES, ingest
from antifraud.synth import write_synthetic_export


def reference(accounts, shops, times, n_accounts, window, max_crowd):
    shared = {}
    for s in set(shops.tolist()):
        idx = sorted(np.flatnonzero(shops == s), key=lambda i: (times[i], i))
        for pos, i in enumerate(idx):
            crowd = [j for j in idx[pos:] if times[j] - times[i] < window]
            if len(crowd) > max_crowd:
                continue
            for j in crowd[1:]:
                a, b = accounts[i], accounts[j]
                if a != b:
                    shared.setdefault((min(a, b), max(a, b)), set()).add(s)
    m = np.zeros((n_accounts, n_accounts), dtype=int)
    for (a, b), ss in shared.items():
        m[a, b] = m[b, a] = len(ss)
    return m


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8), st.integers(1, 4), st.integers(0, 60), st.integers(2, 6), st.integers(1, 3),
       st.integers(0, 2**32 - 1))
def test_co_occurrences_match_reference(n_accounts, n_shops, n, max_crowd, min_shops, seed):
    rng = np.random.default_rng(seed)
    accounts, shops = rng.integers(0, n_accounts, n), rng.integers(0, n_shops, n)
    times = rng.integers(0, 20, n).astype(float)
    got = co_occurrences(accounts, shops, times, n_accounts, n_shops, 5, max_crowd, min_shops).toarray()
    expected = reference(accounts, shops, times, n_accounts, 5, max_crowd)
    assert (got == np.where(expected >= min_shops, expected, 0)).all()


@pytest.mark.parametrize("block_size", [1, 2, 3, 1 << 20])
def test_pairs_are_the_same_whatever_blocks_hold_them(block_size):
    # Shop 0: accounts 0, 1 and 2 within the window, account 1 twice; shop 1: accounts 2 and 1;
    # shop 2: accounts 3 and 0 a day apart, outside it.
    indptr = np.array([0, 4, 6, 8])
    accounts = np.array([0, 1, 1, 2, 2, 1, 3, 0])
    times = np.array([0.0, 1, 2, 3, 0, 1, 0, 86400])
    left, right = _pairs(indptr, accounts, times, 10.0, 10, block_size)
    assert list(zip(left.tolist(), right.tolist())) == [(0, 1), (0, 2), (1, 2), (1, 2)]


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = write_synthetic_export(tmp_path_factory.mktemp("synth"), seed=11, n_orders=20_000)
    data = prepare(ingest([out / "orders.csv"], PROFILES["generic"]).table)
    truth = pd.read_csv(out / "truth" / "accounts.csv", dtype={"account_id": str}).set_index("account_id")
    rings = [json.loads(line) for line in (out / "truth" / "rings.jsonl").read_text().splitlines()]
    return data, truth, rings


def test_hijacked_accounts_found_in_lockstep(bench):
    data, truth, rings = bench
    det = LockstepDetector(random_state=0).fit(data)
    hijacked = {a for r in rings if r["kind"] == "hijacked_accounts" for a in r["accounts"]}
    is_hijacked = np.isin(data.graph.row_labels, list(hijacked))
    honest = (truth.loc[data.graph.row_labels, "is_fraud"] == 0).to_numpy()
    grouped = det.labels_ >= 0
    assert grouped[is_hijacked].mean() >= 0.8
    assert grouped[honest].mean() <= 0.05  # chance lockstep at popular shops: the ensemble weighs it
    hijacked_group = max((g for g in det.groups_), key=lambda g: is_hijacked[g.accounts].sum())
    assert hijacked_group.details["cohesion"] > 0.9 and hijacked_group.score > 0.5
    assert hijacked_group.kind == "lockstep"


def test_deterministic(bench):
    data, _, _ = bench
    a = LockstepDetector(random_state=0).fit(data)
    b = LockstepDetector(random_state=0).fit(data)
    assert (a.labels_ == b.labels_).all() and (a.account_scores_ == b.account_scores_).all()
    assert [g.accounts.tolist() for g in a.groups_] == [g.accounts.tolist() for g in b.groups_]
