"""The detect job end to end on hostile and degenerate exports."""

import json

import pandas as pd
import pytest

from antifraud.detect import detect
from antifraud.evidence.bundle import write_bundle
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


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _without_timings(run_json):
    from antifraud.io.run_folder import RUN_TIMINGS

    return {k: v for k, v in json.loads(run_json).items() if k not in RUN_TIMINGS}


def test_source_date_epoch_gives_byte_identical_outputs(fixtures, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")  # 2025-12-01T00:00:00Z
    runs = [detect([fixtures / "generic" / "orders.csv"], PROFILES["generic"], out_dir=tmp_path / name, seed=1)
            for name in ("a", "b")]
    a, b = (_files(tmp_path / name) for name in ("a", "b"))
    assert set(a) == set(b) and {"findings.jsonl", "evidence/orders.parquet", "run.json"} <= set(a)
    assert {name for name in a if a[name] != b[name]} <= {"run.json"}
    assert _without_timings(a["run.json"]) == _without_timings(b["run.json"])
    record = json.loads(a["findings.jsonl"].splitlines()[0])
    assert record["created"] == record["modified"] == record["events"][0]["at"] == "2025-12-01T00:00:00.000Z"
    assert json.loads(a["run.json"])["issued"] == {"at": "2025-12-01T00:00:00.000Z", "source": "SOURCE_DATE_EPOCH"}
    assert runs[0].paths["findings"] == tmp_path / "a" / "findings.jsonl"
    for name in ("a", "b"):
        write_bundle(tmp_path / name, tmp_path / f"{name}.zip", finding="R0001")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


@pytest.mark.parametrize(("given", "environ", "expected"), [
    ("2026-11-01T16:00:00+08:00", {"SOURCE_DATE_EPOCH": "0"}, ("2026-11-01T08:00:00.000Z", "given")),
    (None, {"SOURCE_DATE_EPOCH": "86400"}, ("1970-01-02T00:00:00.000Z", "SOURCE_DATE_EPOCH")),
])
def test_issuing_time(given, environ, expected):
    from antifraud.records.findings import issuing_time

    assert tuple(issuing_time(given, environ)) == expected


@pytest.mark.parametrize(("given", "environ"), [
    ("2026-11-01T08:00:00", {}),  # no offset: whose 08:00?
    ("yesterday", {}),
    (None, {"SOURCE_DATE_EPOCH": "1.5"}),
    (None, {"SOURCE_DATE_EPOCH": "-1"}),
])
def test_issuing_time_refuses_what_it_cannot_read(given, environ):
    from antifraud.records.findings import issuing_time

    with pytest.raises(ValueError, match="RFC 3339|SOURCE_DATE_EPOCH"):
        issuing_time(given, environ)


def test_the_clock_when_nothing_fixes_the_time():
    from antifraud.records.findings import issuing_time

    at, source = issuing_time(None, {})
    assert source == "clock" and at.endswith("Z") and at[:2] == "20"
