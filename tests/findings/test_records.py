import collections
import hashlib
import hmac
import json

import pandas as pd

from antifraud.records.validation import record_problems


def test_every_record_of_a_detection_run_validates(detection_run, read_jsonl):
    records = read_jsonl(detection_run / "run" / "findings.jsonl")
    kinds = collections.Counter(r["record_type"] for r in records)
    rings = read_jsonl(detection_run / "run" / "rings.jsonl")
    assert kinds["ring_finding"] == len(rings) > 0 and kinds["merchant_finding"] > 0 and kinds["account_finding"] > 0
    assert all(record_problems(r) == [] for r in records)
    assert all(r["status"] == "issued" and not r["assessment"]["human_reviewed"] for r in records)
    assert {r["sharing"]["level"] for r in records} == {"amber"}
    assert len({r["id"] for r in records}) == len(records)


def test_accounts_appear_only_as_alliance_pseudonyms(detection_run, alliance_key):
    text = (detection_run / "run" / "findings.jsonl").read_text(encoding="utf-8")
    orders = pd.read_csv(detection_run / "export" / "orders.csv", dtype=str)
    raw = set(orders["buyer_id"]) | set(orders["ship_phone"].dropna()) | set(orders["device_id"].dropna())
    assert not [value for value in raw if f'"{value}"' in text]
    key = alliance_key
    accounts = pd.read_csv(detection_run / "run" / "accounts.csv", dtype=str)
    flagged_in_ring = accounts[(accounts.flagged == "1") & accounts.ring_ids.notna()]
    expected = {hmac.new(key, f"platform_account|{a}".encode(), hashlib.sha256).hexdigest()
                for a in flagged_in_ring.account_id}
    records = [json.loads(line) for line in text.splitlines()]
    found = {r["subject"]["account"]["pseudonym"] for r in records if r["record_type"] == "account_finding"}
    assert found == expected
    assert {r["subject"]["account"]["key_id"] for r in records if "account" in r["subject"]} == {"alliance-test"}


def test_ring_records_match_the_rings(detection_run, read_jsonl):
    rings = read_jsonl(detection_run / "run" / "rings.jsonl")
    records = [r for r in read_jsonl(detection_run / "run" / "findings.jsonl") if r["record_type"] == "ring_finding"]
    for ring, record in zip(rings, records):
        members = record["subject"]["ring"]["members"]
        assert sum(m["kind"] == "account" for m in members) == len(ring["accounts"])
        assert record["behavior"]["metrics"]["orders"] == len(ring["orders"])
        edges = record["subject"]["ring"]["edges"]
        assert sum(e["weight"] for e in edges) == len(ring["orders"])
        refs = {m["ref"] for m in members}
        assert all(e["src"] in refs and e["dst"] in refs for e in edges)
        assert record["assessment"]["score"] == ring["score"]


def test_provenance_names_the_inputs_and_run(detection_run, read_jsonl):
    run = json.loads((detection_run / "run" / "run.json").read_text(encoding="utf-8"))
    record = read_jsonl(detection_run / "run" / "findings.jsonl")[0]
    assert record["provenance"]["input_sha256"] == [f["sha256"] for f in run["inputs"]]
    assert record["provenance"]["run_id"] == run["run_id"]
    assert record["issuer"] == {"member_id": "platform-a", "uscc": "914403001922038216", "role": "platform"}
