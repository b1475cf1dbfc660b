"""The detect job end to end on hostile and degenerate exports."""

import pandas as pd
import pytest

from antifraud.detect import detect
from antifraud.ingest import PROFILES


def _hostile_export(fixtures, path):
    """The generic fixture with account and shop ids that a spreadsheet would run as formulas."""
    orders = pd.read_csv(fixtures / "generic" / "orders.csv", dtype=str, keep_default_na=False)
    orders["buyer_id"] = orders["buyer_id"].map({"b0000021": "+8613800000021", "b0000195": "=1+1"}).fillna(
        orders["buyer_id"])
    orders["seller_id"] = orders["seller_id"].replace({"s00013": "@s00013", "s00007": "-s00007"})
    orders.to_csv(path, index=False)
    return path


def test_ids_starting_with_formula_characters(fixtures, tmp_path):
    export = _hostile_export(fixtures, tmp_path / "orders.csv")
    run = detect([export], PROFILES["generic"], out_dir=tmp_path / "run", seed=1)
    accounts = pd.read_csv(run.paths["accounts"], dtype=str).set_index("account_id")
    assert {"+8613800000021", "'=1+1"} <= set(accounts.index)  # a plain number is not a formula
    merchants = set(pd.read_csv(run.paths["merchants"], dtype=str)["seller_id"])
    assert {"'@s00013", "'-s00007"} <= merchants
    assert run.paths["findings"].stat().st_size > 0
