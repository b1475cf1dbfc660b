"""Evidence bundles of a real detection run: contents, verification, tampering, selection."""

import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from antifraud.cli.main import app
from antifraud.evidence import ProblemKind, verify_archive, write_archive
from antifraud.evidence.bundle import write_bundle
from antifraud.signing import Keyring, SignatureStatus, Signer, generate_key

runner = CliRunner()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    info = generate_key(folder / "platform-a")  # the run's issuer
    generate_key(folder / "platform-b")  # another member of the alliance
    return Signer.from_file(info.private_path), Keyring.from_directory(folder), folder


@pytest.fixture(scope="module")
def whole_run(small_run, keys, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles") / "run.zip"
    manifest = write_bundle(small_run.run, out, signer=keys[0])
    return out, manifest


def _rings(run):
    return [json.loads(line) for line in (run / "rings.jsonl").read_text(encoding="utf-8").splitlines()]


def test_whole_run_bundle_has_every_ring_and_verifies(small_run, keys, whole_run):
    out, manifest = whole_run
    rings = [r["ring_id"] for r in _rings(small_run.run)]
    assert manifest["rings"] == rings
    names = set(zipfile.ZipFile(out).namelist())
    for rid in rings:
        for name in ("report.html", "ring-graph.png", "timeline.png", "rating-history.png", "orders.csv",
                     "edges.csv", "signals.csv", "findings.jsonl"):
            assert f"rings/{rid}/{name}" in names
    assert {"index.html", "run.json", "evidence/orders.parquet", "manifest.json"} <= names
    run = json.loads((small_run.run / "run.json").read_text(encoding="utf-8"))
    assert [i["sha256"] for i in manifest["inputs"]] == [i["sha256"] for i in run["inputs"]]
    assert manifest["seed"] == 3 and manifest["toolkit"]["version"] == run["toolkit"]["version"]
    report = verify_archive(out, keys[1])
    assert report.ok, report.summary()


def test_bundle_contents_are_consistent_and_pseudonymous(small_run, whole_run):
    out, _ = whole_run
    ring = _rings(small_run.run)[0]
    with zipfile.ZipFile(out) as zf:
        orders = pd.read_csv(zf.open(f"rings/{ring['ring_id']}/orders.csv"), dtype=str)
        edges = pd.read_csv(zf.open(f"rings/{ring['ring_id']}/edges.csv"))
        text = b"".join(zf.read(n) for n in zf.namelist() if not n.endswith((".png", ".parquet"))).decode()
    assert orders["in_ring"].eq("true").sum() == len(ring["orders"])
    assert set(orders.loc[orders["in_ring"] == "true", "order_id"]) == set(ring["orders"])
    assert edges["weight"].sum() == len(ring["orders"])
    tokens = set(re.split(r"[\s,;\"<>]+", text))
    raw = pd.read_csv(small_run.export / "orders.csv", dtype=str)
    for column in ("buyer_id", "ship_phone", "device_id", "buyer_ip"):
        assert not set(raw[column].dropna()) & tokens, column


def test_one_changed_byte_is_named(whole_run, keys, tmp_path):
    out, manifest = whole_run
    target = next(n for n in manifest["files"] if n.endswith("signals.csv"))
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == target:
                data = data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]
            dst.writestr(info, data)
    report = verify_archive(tampered, keys[1])
    assert not report.ok
    assert [p.name for p in report.problems] == [target]
    result = runner.invoke(app, ["verify", str(tampered), "--keyring", str(keys[2])])
    assert result.exit_code == 1 and target in result.output


def test_bundle_of_one_finding(small_run, keys, tmp_path):
    records = [json.loads(line) for line in (small_run.run / "findings.jsonl").read_text().splitlines()]
    account = next(r for r in records if r["record_type"] == "account_finding")
    ring_id = next(s["value"] for s in account["assessment"]["signals"] if s["name"] == "ring")
    manifest = write_bundle(small_run.run, tmp_path / "one.zip", finding=account["id"], signer=keys[0])
    assert manifest["rings"] == [ring_id]
    assert account["id"] in manifest["findings"]
    assert not any(n.startswith("evidence/") for n in manifest["files"])
    with pytest.raises(ValueError, match="neither a ring id"):
        write_bundle(small_run.run, tmp_path / "x.zip", finding="nope")
    assert not (tmp_path / "x.zip").exists()


def test_cli_bundle_then_verify(small_run, keys, tmp_path):
    signer, _, folder = keys
    out = tmp_path / "b.zip"
    result = runner.invoke(app, ["bundle", str(small_run.run), "--out", str(out), "--finding", "R0001",
                                 "--signing-key", str(folder / "platform-a")])
    assert result.exit_code == 0, result.output
    assert f"signed with {signer.key_id}" in result.output
    result = runner.invoke(app, ["verify", str(out), "--keyring", str(folder), "--extract", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x" / "rings" / "R0001" / "report.html").is_file()


def test_cli_bundle_in_chinese_by_default_and_english_on_request(small_run, tmp_path):
    pages = {}
    for lang in ("zh", "en", None):
        out = tmp_path / f"{lang}.zip"
        extra = [] if lang is None else ["--lang", lang]
        result = runner.invoke(app, ["bundle", str(small_run.run), "--out", str(out), "--finding", "R0001", *extra])
        assert result.exit_code == 0, result.output
        with zipfile.ZipFile(out) as archive:
            pages[lang] = archive.read("rings/R0001/report.html").decode(), archive.read("index.html").decode()
    assert pages[None] == pages["zh"]
    report, index = pages["zh"]
    assert '<html lang="zh-CN">' in report and "未经人工复核" in report and '<html lang="zh-CN">' in index
    report, index = pages["en"]
    assert '<html lang="en">' in report and "Not reviewed by a person" in report and "未经人工复核" not in report
    assert '<html lang="en">' in index
    result = runner.invoke(app, ["bundle", str(small_run.run), "--out", str(tmp_path / "fr.zip"), "--lang", "fr"])
    assert result.exit_code == 2 and "'fr'" in result.output and not (tmp_path / "fr.zip").exists()


@pytest.fixture(scope="module")
def formula_run(tmp_path_factory):
    """A run of the generic fixture whose order ids all start with ``=``, in a folder whose path
    is private to the analyst."""
    from antifraud.detect import detect
    from antifraud.ingest import PROFILES

    root = tmp_path_factory.mktemp("analyst-private-folder")
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "generic" / "orders.csv"
    orders = pd.read_csv(fixture, dtype=str, keep_default_na=False)
    orders["order_id"] = "=" + orders["order_id"]
    orders.to_csv(root / "orders.csv", index=False)
    detect([root / "orders.csv"], PROFILES["generic"], out_dir=root / "run", seed=1)
    return root


def test_bundle_csvs_are_spreadsheet_safe_and_carry_no_local_path(formula_run, tmp_path):
    out = tmp_path / "b.zip"
    write_bundle(formula_run / "run", out, finding="R0001")
    with zipfile.ZipFile(out) as zf:
        orders = pd.read_csv(zf.open("rings/R0001/orders.csv"), dtype=str)
        run = json.loads(zf.read("run.json"))
        text = b"".join(zf.read(n) for n in zf.namelist() if not n.endswith(".png")).decode()
    assert len(orders) and orders["order_id"].str.startswith("'=").all()
    assert orders["in_ring"].isin(["true", "false"]).all()
    assert [i["path"] for i in run["inputs"]] == ["orders.csv"] and len(run["inputs"][0]["sha256"]) == 64
    assert str(formula_run) not in text and formula_run.name not in text


def _repacked(bundle, out, signer, change):
    """``bundle`` with its files passed through ``change`` and a new manifest signed by ``signer``."""
    with zipfile.ZipFile(bundle) as zf:
        files = {n: zf.read(n) for n in zf.namelist() if n != "manifest.json"}
        fields = {k: v for k, v in json.loads(zf.read("manifest.json")).items()
                  if k not in ("format", "files", "signature")}
    write_archive(out, change(files), fields, signer)
    return out


def test_a_bundle_altered_and_re_signed_by_another_member_fails(whole_run, keys, tmp_path):
    other = Signer.from_file(keys[2] / "platform-b")
    same = _repacked(whole_run[0], tmp_path / "same.zip", other, lambda files: files)
    report = verify_archive(same, keys[1])
    assert report.signature is SignatureStatus.VALID
    assert [(p.name, p.kind) for p in report.problems] == [("manifest.json", ProblemKind.WRONG_ISSUER)]


def test_evidence_other_than_the_findings_cite(small_run, whole_run, keys, tmp_path):
    def other_evidence(files):
        table = pq.read_table(pa.BufferReader(files["evidence/orders.parquet"]))
        sink = pa.BufferOutputStream()
        pq.write_table(table.slice(1), sink)
        return {**files, "evidence/orders.parquet": sink.getvalue().to_pybytes()}

    forged = _repacked(whole_run[0], tmp_path / "forged.zip", keys[0], other_evidence)
    report = verify_archive(forged, keys[1])
    assert report.signature is SignatureStatus.VALID and not report.ok
    assert {p.kind for p in report.problems} == {ProblemKind.EVIDENCE_MISMATCH}
    assert all(p.name.endswith("/findings.jsonl") and "evidence/orders.parquet" in p.detail for p in report.problems)

    mixed = tmp_path / "mixed-run"
    shutil.copytree(small_run.run, mixed)
    (mixed / "evidence" / "orders.parquet").write_bytes(
        other_evidence({"evidence/orders.parquet": small_run.evidence.read_bytes()})["evidence/orders.parquet"])
    for finding in (None, "R0001"):
        with pytest.raises(ValueError, match="findings.jsonl cites evidence/orders.parquet"):
            write_bundle(mixed, tmp_path / "x.zip", finding=finding)
    assert not (tmp_path / "x.zip").exists()


def test_an_old_run_json_beside_new_findings_is_refused(small_run, tmp_path):
    mixed = tmp_path / "mixed-run"
    shutil.copytree(small_run.run, mixed)
    run = json.loads((mixed / "run.json").read_text(encoding="utf-8"))
    (mixed / "run.json").write_text(json.dumps({**run, "run_id": "run-0123456789abcdef"}), encoding="utf-8")
    with pytest.raises(ValueError, match=f"holds findings of run {run['run_id']}, run.json is of run run-0123"):
        write_bundle(mixed, tmp_path / "x.zip", finding="R0001")
