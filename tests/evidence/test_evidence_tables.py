import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from antifraud.findings.evidence import write_evidence_tables


def _rings(run):
    return [json.loads(line) for line in (run / "rings.jsonl").read_text(encoding="utf-8").splitlines()]


def test_every_ring_order_is_there_with_its_ring_ids(small_run):
    table = pq.read_table(small_run.evidence)
    orders = table.to_pandas()
    rings = _rings(small_run.run)
    assert rings and table.num_rows
    for ring in rings:
        mine = orders.loc[orders["ring_ids"].map(lambda ids, rid=ring["ring_id"]: rid in ids), "order_id"]
        assert sorted(mine) == sorted(ring["orders"])


def test_rows_are_the_ring_shops_orders_once_each_with_scores(small_run):
    orders = pq.read_table(small_run.evidence).to_pandas()
    rings = _rings(small_run.run)
    shops = {s for r in rings for s in r["merchants"] + r["victims"]}
    assert set(orders["seller_id"]) == shops
    assert orders["order_id"].is_unique
    everything = pd.read_csv(small_run.export / "orders.csv", dtype=str, usecols=["order_id", "seller_id"])
    assert len(orders) == everything["seller_id"].isin(shops).sum()  # organic orders included
    scores = pd.read_csv(small_run.run / "orders.csv", dtype={"order_id": str}).set_index("order_id")["score"]
    assert np.allclose(orders["score"], scores.loc[orders["order_id"]].to_numpy())
    organic = orders["ring_ids"].map(len) == 0
    assert organic.any() and (~organic).any()


def test_columns_and_no_raw_personal_values(small_run):
    table = pq.read_table(small_run.evidence)
    assert table.column_names == [
        "order_id", "buyer_id", "seller_id", "seller_name", "created_at", "amount", "rating", "review_text",
        "reviewed_at",
        "buyer_ip", "device_id", "ship_phone", "ship_address", "score", "ring_ids", "weight",
    ]
    raw = pd.read_csv(small_run.export / "orders.csv", dtype=str,
                      usecols=["ship_phone", "buyer_ip", "device_id", "ship_address"])
    text = table.to_pandas().astype(str).to_numpy().ravel()
    for column in raw:
        values = set(raw[column].dropna())
        assert values and not values.intersection(text), column
    phones = pd.Series(text).str.contains(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])", regex=True)
    assert not phones.any()


def test_written_atomically_without_leftovers(small_run, tmp_path):
    detection = small_run.detection
    paths = write_evidence_tables(detection.data, detection.findings, tmp_path,
                                  pseudonymizer=detection.ingest.pseudonymizer)
    assert paths == {"evidence_orders": tmp_path / "evidence" / "orders.parquet"}
    assert [p.name for p in (tmp_path / "evidence").iterdir()] == ["orders.parquet"]
    assert pq.read_table(paths["evidence_orders"]).equals(pq.read_table(small_run.evidence))


def test_accounts_are_alliance_pseudonyms(small_run):
    import hashlib
    import hmac

    buyers = set(pq.read_table(small_run.evidence).column("buyer_id").to_pylist())
    raw = set(pd.read_csv(small_run.export / "orders.csv", dtype=str, usecols=["buyer_id"])["buyer_id"])
    assert not buyers & raw
    key = bytes.fromhex("00" * 16 + "ab" * 16)
    expected = {hmac.new(key, f"platform_account|{b}".encode(), hashlib.sha256).hexdigest() for b in raw}
    assert buyers <= expected


def test_big_shops_keep_an_even_weighted_sample_of_organic_orders(small_run, tmp_path):
    detection = small_run.detection
    path = write_evidence_tables(detection.data, detection.findings, tmp_path, max_organic=5,
                                 pseudonymizer=detection.ingest.pseudonymizer)["evidence_orders"]
    sampled = pq.read_table(path).to_pandas()
    full = pq.read_table(small_run.evidence).to_pandas()
    ring = sampled["ring_ids"].map(len) > 0
    assert set(sampled.loc[ring, "order_id"]) == set(full.loc[full["ring_ids"].map(len) > 0, "order_id"])
    assert (sampled.loc[ring, "weight"] == 1).all()
    assert (sampled[~ring].groupby("seller_id").size() <= 5).all()
    totals = full.groupby("seller_id").size()
    weighted = sampled.groupby("seller_id")["weight"].sum()
    assert np.allclose(weighted.loc[totals.index], totals)  # counts stay right
