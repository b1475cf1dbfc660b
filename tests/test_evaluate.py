import json

import pandas as pd
import pytest

from antifraud.evaluate import evaluate, ring_matches, score_entities, score_rings


def test_ring_matches_use_jaccard():
    found = [{1, 2, 3}, {7, 8}]
    true = [{1, 2, 3, 4}, {5, 6}]
    true_hit, found_hit = ring_matches(found, true, 0.5)
    assert true_hit.tolist() == [True, False] and found_hit.tolist() == [True, False]


def test_score_entities_perfect_and_inverted():
    truth = pd.Series([1, 1, 0, 0, 0])
    perfect = score_entities(pd.Series([0.9, 0.8, 0.1, 0.2, 0.3]), pd.Series([1, 1, 0, 0, 0]), truth)
    assert perfect["roc_auc"] == 1.0 and perfect["f1"] == 1.0
    inverted = score_entities(pd.Series([0.1, 0.2, 0.9, 0.8, 0.7]), pd.Series([0, 0, 1, 1, 1]), truth)
    assert inverted["roc_auc"] == 0.0 and inverted["recall"] == 0.0


def test_evaluate_against_synth_truth(tmp_path):
    truth = tmp_path / "truth"
    run = tmp_path / "run"
    truth.mkdir()
    run.mkdir()
    pd.DataFrame({"account_id": ["a", "b", "c", "d"], "is_fraud": [1, 1, 0, 0], "role": ["x"] * 4}).to_csv(
        truth / "accounts.csv", index=False)
    pd.DataFrame({"seller_id": ["s", "t"], "is_fraud": [1, 0], "role": ["brushing", "victim"]}).to_csv(
        truth / "merchants.csv", index=False)
    pd.DataFrame({"order_id": ["o1", "o2"], "is_fraud": [1, 0]}).to_csv(truth / "orders.csv", index=False)
    (truth / "rings.jsonl").write_text(
        json.dumps({"kind": "dense_block", "difficulty": "hard", "accounts": ["a", "b"]}) + "\n")
    pd.DataFrame({"account_id": ["a", "b", "c", "d"], "score": [0.9, 0.7, 0.2, 0.1], "flagged": [1, 1, 0, 0]}).to_csv(
        run / "accounts.csv", index=False)
    pd.DataFrame({"seller_id": ["s", "t"], "score": [0.9, 0.8], "flagged": [1, 1]}).to_csv(
        run / "merchants.csv", index=False)
    pd.DataFrame({"order_id": ["o1", "o2"], "score": [0.9, 0.1], "flagged": [1, 0]}).to_csv(
        run / "orders.csv", index=False)
    (run / "rings.jsonl").write_text(json.dumps({"accounts": ["a", "b", "c"]}) + "\n")
    report = evaluate(run, truth)
    assert report["accounts"]["roc_auc"] == 1.0
    assert report["merchants"]["victims_flagged"] == 1
    assert report["rings"]["by_kind"]["dense_block"]["recall"] == 1.0
    assert report["rings"]["by_difficulty"] == {"hard": {"rings": 1, "recall": 1.0}}
    assert report["rings"]["precision"] == 1.0
    with pytest.raises(FileNotFoundError):
        evaluate(tmp_path / "missing", truth)


def _ring(accounts, kind, difficulty=None):
    ring = {"accounts": list(accounts), "kind": kind}
    return ring if difficulty is None else dict(ring, difficulty=difficulty)


def test_rings_are_scored_per_kind_and_difficulty():
    true = [
        _ring("abcd", "account_farm", "hard"),    # found (3 of 4 shared): named as a dense block
        _ring("efgh", "account_farm", "easy"),    # found exactly, named as a farm
        _ring("ijkl", "dense_block", "hard"),     # only two accounts found: Jaccard 0.5, found
        _ring("mnop", "dense_block", "medium"),   # missed: one account in a found ring
        _ring("qrst", "negative_attack", "hard"),  # missed entirely
    ]
    found = [
        _ring("abc", "dense_block"),
        _ring("efgh", "account_farm"),
        _ring("ij", "dense_block"),
        _ring("mxyz", "dense_block"),             # matches nothing
    ]
    report = score_rings(found, true)
    assert report["recall"] == 3 / 5 and report["precision"] == 3 / 4 and report["found"] == 4
    assert report["by_kind"] == {
        "dense_block": {"rings": 2, "recall": 0.5},
        "account_farm": {"rings": 2, "recall": 1.0},
        "negative_attack": {"rings": 1, "recall": 0.0},
    }
    assert list(report["by_difficulty"]) == ["easy", "medium", "hard"]
    assert report["by_difficulty"]["hard"] == {"rings": 3, "recall": 2 / 3}
    assert report["by_difficulty"]["medium"] == {"rings": 1, "recall": 0.0}
    assert report["by_kind_and_difficulty"]["account_farm"] == {
        "easy": {"rings": 1, "found": 1}, "hard": {"rings": 1, "found": 1}}
    assert report["by_kind_and_difficulty"]["negative_attack"] == {"hard": {"rings": 1, "found": 0}}
    assert report["kind_agreement"] == 2 / 3  # the hard farm was named a dense block


def test_a_stricter_jaccard_finds_fewer_rings():
    true = [_ring("ijkl", "dense_block", "hard")]
    assert score_rings([_ring("ij", "dense_block")], true, min_jaccard=0.5)["recall"] == 1.0
    assert score_rings([_ring("ij", "dense_block")], true, min_jaccard=0.6)["recall"] == 0.0


def test_no_found_rings_and_no_true_rings():
    true = [_ring("ab", "camouflage", "easy")]
    none_found = score_rings([], true)
    assert none_found["recall"] == 0.0 and none_found["found"] == 0
    assert none_found["kind_agreement"] != none_found["kind_agreement"]  # nan: nothing was found
    nothing_true = score_rings([_ring("ab", None)], [])
    assert nothing_true["precision"] == 0.0 and nothing_true["by_kind"] == {}
