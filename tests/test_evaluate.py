import json

import pandas as pd
import pytest

from antifraud.evaluate import evaluate, ring_matches, score_entities


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
    (truth / "rings.jsonl").write_text(json.dumps({"kind": "dense", "accounts": ["a", "b"]}) + "\n")
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
    assert report["rings"]["by_kind"]["dense"]["recall"] == 1.0
    assert report["rings"]["precision"] == 1.0
    with pytest.raises(FileNotFoundError):
        evaluate(tmp_path / "missing", truth)
