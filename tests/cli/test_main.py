import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from antifraud import __version__
from antifraud.cli.main import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_version_and_help():
    assert run("--version").stdout.strip() == f"antifraud {__version__}"
    for cmd in ([], ["validate"], ["synth"]):
        result = run(*cmd, "--help")
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_validate_gbk_fixture(fixtures, tmp_path):
    result = run("validate", fixtures / "taobao_gbk" / "orders.csv", "--profile", "taobao", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "21 read = 21 accepted + 0 quarantined" in result.stdout
    manifest = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["encoding"] == "gbk"
    assert manifest["inputs"][0]["columns_found"]["buyer_id"] == "买家会员名"
    assert len(manifest["inputs"][0]["sha256"]) == 64


def test_validate_broken_fixture_and_fail_flag(fixtures, tmp_path):
    path = fixtures / "broken" / "orders.csv"
    assert run("validate", path).exit_code == 0
    result = run("validate", path, "--out", tmp_path, "--fail-on-quarantine")
    assert result.exit_code == 1
    assert "20 read = 5 accepted + 15 quarantined" in result.stdout
    assert (tmp_path / "quarantine.csv").read_text(encoding="utf-8").count("\n") > 15


def test_map_option(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("user,shop,time\nu1,s1,2024-01-01 10:00:00\n")
    result = run("validate", path, "--map", "buyer_id=user", "--map", "seller_id=shop", "--map", "created_at=time")
    assert result.exit_code == 0, result.output
    assert run("validate", path, "--map", "buyer_id").exit_code == 2


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b"buyer_id,seller_id,created_at\n", "no data rows"),
        (b"buyer_id,seller_id,created_at\nb1,s1,\"2024", "truncated"),
        (b"\x00\x01\x02\x03" * 64, "binary"),
        (b"buyer_id,seller_id,created_at\n\xff\x80\xff,s,t\n", "cannot decode"),
    ],
)
def test_bad_files_one_line_exit_2_no_traceback(tmp_path, data, problem):
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-m", "antifraud", "validate", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and problem in lines[0]


def test_unknown_profile_is_usage_error(fixtures):
    result = run("validate", fixtures / "broken" / "orders.csv", "--profile", "nope")
    assert result.exit_code == 2


def test_synth_writes_export_and_truth(tmp_path):
    result = run("synth", "--out", tmp_path / "x", "--seed", 5, "--orders", 3000)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x" / "orders.csv").is_file()
    assert (tmp_path / "x" / "truth" / "rings.jsonl").is_file()
    check = run("validate", tmp_path / "x" / "orders.csv")
    assert check.exit_code == 0 and "0 quarantined" in check.stdout


def test_detect_writes_identical_files_for_the_same_seed(fixtures, tmp_path):
    for name in ("a", "b"):
        result = run("detect", fixtures / "generic" / "orders.csv", "--out", tmp_path / name, "--seed", 1,
                     "--issued-at", "2026-11-01T08:00:00Z")
        assert result.exit_code == 0, result.output
    for name in ("accounts.csv", "merchants.csv", "orders.csv", "rings.jsonl", "findings.jsonl", "quarantine.csv",
                 "evidence/orders.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    accounts = (tmp_path / "a" / "accounts.csv").read_text().splitlines()
    assert accounts[0] == '"account_id","score","flagged","ring_ids"' and len(accounts) == 348
    manifest = json.loads((tmp_path / "a" / "run.json").read_text())
    assert manifest["command"] == "detect" and manifest["rows"]["read"] == 2000
    assert manifest["issued"] == {"at": "2026-11-01T08:00:00.000Z", "source": "given"}
    assert set(manifest["timings_s"]) == {
        "read_and_convert", "duplicates_and_pseudonyms", "assemble", "graphs_and_features", "detectors", "write",
    }
    ring = json.loads((tmp_path / "a" / "rings.jsonl").read_text().splitlines()[0])
    assert {"ring_id", "accounts", "merchants", "orders", "score", "kind", "detectors", "signals", "period"} <= set(ring)
