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


def test_detect_help_shows_the_config_example_and_defaults_with_their_brackets():
    help_text = runner.invoke(app, ["detect", "--help"], env={"COLUMNS": "300"}).stdout
    text = " ".join(help_text.replace("│", " ").split())  # unescaped, rich would take [...] for markup
    assert "[detectors] dense_block = 'drop', [detectors.lockstep] window = 1800, [ensemble]" in text
    assert "[default: the config's random_state, else 0]" in text


def test_validate_gbk_fixture(fixtures, tmp_path):
    result = run("validate", fixtures / "taobao_gbk" / "orders.csv", "--profile", "taobao", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "21 read = 21 accepted + 0 quarantined" in result.stdout
    manifest = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["encoding"] == "gbk"
    assert manifest["inputs"][0]["columns_found"]["buyer_id"] == "买家会员名"
    assert len(manifest["inputs"][0]["sha256"]) == 64


def test_the_profile_comes_from_the_headers_unless_given(fixtures, tmp_path):
    guessed = run("validate", fixtures / "taobao_gbk" / "orders.csv")
    assert guessed.exit_code == 0, guessed.output
    assert "Input (profile taobao)" in guessed.stdout and "21 read = 21 accepted + 0 quarantined" in guessed.stdout
    chosen = run("validate", fixtures / "taobao_gbk" / "orders.csv", "--profile", "generic")
    assert chosen.exit_code == 2 and "required column 'buyer_id' is missing (profile 'generic'" in chosen.output


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


def test_synth_switches_traps_on_and_off(tmp_path):
    result = run("synth", "--out", tmp_path / "x", "--orders", 3000, "--traps", "household, parcel_station")
    assert result.exit_code == 0, result.output
    traps = (tmp_path / "x" / "truth" / "traps.jsonl").read_text(encoding="utf-8")
    assert '"trap": "household"' in traps and '"trap": "carrier_nat"' not in traps
    assert run("synth", "--out", tmp_path / "y", "--orders", 3000, "--traps", "none").exit_code == 0
    assert (tmp_path / "y" / "truth" / "traps.jsonl").read_text(encoding="utf-8") == ""
    bad = run("synth", "--out", tmp_path / "z", "--orders", 3000, "--traps", "net_café")
    assert bad.exit_code == 2 and "unknown trap" in bad.output


def test_detect_writes_identical_files_for_the_same_seed(fixtures, tmp_path):
    for name in ("a", "b"):
        result = run("detect", fixtures / "generic" / "orders.csv", "--out", tmp_path / name, "--seed", 1,
                     "--issued-at", "2026-11-01T08:00:00Z")
        assert result.exit_code == 0, result.output
    for name in ("accounts.csv", "merchants.csv", "orders.csv", "rings.jsonl", "findings.jsonl", "quarantine.csv",
                 "evidence/orders.parquet", "summary.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    accounts = (tmp_path / "a" / "accounts.csv").read_text(encoding="utf-8").splitlines()
    # with a byte-order mark, which Excel on a Chinese Windows needs to read UTF-8
    assert accounts[0] == '\ufeff"account_id","score","flagged","ring_ids","reason"' and len(accounts) == 348
    manifest = json.loads((tmp_path / "a" / "run.json").read_text())
    assert manifest["command"] == "detect" and manifest["rows"]["read"] == 2000
    assert manifest["issued"] == {"at": "2026-11-01T08:00:00.000Z", "source": "given"}
    assert set(manifest["timings_s"]) == {
        "read_and_convert", "duplicates_and_pseudonyms", "assemble", "graphs_and_features", "detectors", "write",
    }
    ring = json.loads((tmp_path / "a" / "rings.jsonl").read_text().splitlines()[0])
    assert {"ring_id", "accounts", "merchants", "orders", "score", "kind", "detectors", "signals", "period"} <= set(ring)


def _detect(fixtures, out, *options):
    """``antifraud detect`` on the generic fixture into ``out``; its ``run.json``."""
    result = run("detect", fixtures / "generic" / "orders.csv", "--out", out, "--seed", 1, *options)
    assert result.exit_code == 0, result.output
    return json.loads((out / "run.json").read_text())


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _without_timings(manifest):
    from antifraud.io.run_folder import RUN_TIMINGS

    return {k: v for k, v in manifest.items() if k not in RUN_TIMINGS}


def _rings(folder):
    return [json.loads(line) for line in (folder / "rings.jsonl").read_text().splitlines()]


def test_detect_config_dropping_a_detector_changes_what_ran_and_the_run_id(fixtures, tmp_path):
    import hashlib

    config = tmp_path / "detectors.toml"
    config.write_text('[detectors]\ndense_block = "drop"\n', encoding="utf-8")
    plain = _detect(fixtures, tmp_path / "plain")
    dropped = _detect(fixtures, tmp_path / "dropped", "--config", config)
    assert plain["parameters"]["ensemble"]["dense_block"].startswith("DenseBlockDetector(")
    assert dropped["parameters"]["ensemble"]["dense_block"] == "'drop'"
    assert "('dense_block', 'drop')" in dropped["parameters"]["ensemble"]["detectors"]
    assert [k for k in dropped["parameters"]["ensemble"] if k.startswith("dense_block__")] == []
    assert dropped["run_id"] != plain["run_id"]
    assert dropped["config"] == {"path": str(config), "sha256": hashlib.sha256(config.read_bytes()).hexdigest()}
    assert "config" not in plain
    assert any("dense_block" in ring["detectors"] for ring in _rings(tmp_path / "plain"))
    assert not any("dense_block" in ring["detectors"] for ring in _rings(tmp_path / "dropped"))


def test_detect_config_sets_a_parameter_and_the_options_win_over_it(fixtures, tmp_path):
    config = tmp_path / "detectors.toml"
    config.write_text("[detectors.lockstep]\nwindow = 1800\n\n[ensemble]\ncontamination = 0.03\nrandom_state = 5\n",
                      encoding="utf-8")
    manifest = _detect(fixtures, tmp_path / "run", "--config", config, "--contamination", 0.1)
    assert manifest["parameters"]["ensemble"]["lockstep__window"] == "1800"
    assert manifest["parameters"]["contamination"] == 0.1 and manifest["parameters"]["seed"] == 1


def test_detect_takes_the_member_and_the_alliance_key_from_the_environment(fixtures, tmp_path, monkeypatch):
    monkeypatch.setenv("ANTIFRAUD_MEMBER_ID", "platform-a")  # ANTIFRAUD_PSEUDONYM_KEY is set for every test
    monkeypatch.setenv("ANTIFRAUD_PSEUDONYM_KEY_ID", "alliance-test")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    manifest = _detect(fixtures, tmp_path / "run")
    assert manifest["issuer"]["member_id"] == "platform-a" and manifest["issuer"]["platform"] == "generic"
    assert manifest["pseudonymisation"]["key_id"] == "alliance-test"
    assert manifest["pseudonymisation"]["key_source"] == "environment ANTIFRAUD_PSEUDONYM_KEY"
    assert manifest["issued"]["source"] == "clock"


def test_detect_without_config_is_byte_identical_under_source_date_epoch(fixtures, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")  # 2025-12-01T00:00:00Z, read by the CLI only
    empty = tmp_path / "empty.toml"
    empty.write_text("# every detector at its default\n", encoding="utf-8")
    manifests = {name: _detect(fixtures, tmp_path / name, *options)
                 for name, options in (("a", ()), ("b", ()), ("empty", ("--config", empty)))}
    a, b, with_empty = (_files(tmp_path / name) for name in ("a", "b", "empty"))
    assert set(a) == set(b) == set(with_empty) and {"findings.jsonl", "evidence/orders.parquet"} <= set(a)
    assert {name for name in a if a[name] != b[name] or a[name] != with_empty[name]} == {"run.json"}
    assert _without_timings(manifests["a"]) == _without_timings(manifests["b"])
    assert manifests["a"]["issued"] == {"at": "2025-12-01T00:00:00.000Z", "source": "SOURCE_DATE_EPOCH"}
    record = json.loads(a["findings.jsonl"].splitlines()[0])
    assert record["created"] == record["events"][0]["at"] == "2025-12-01T00:00:00.000Z"
    # An empty configuration is the default ensemble: the same run, which only records the file.
    assert manifests["empty"].pop("config")["path"] == str(empty)
    assert _without_timings(manifests["empty"]) == _without_timings(manifests["a"])


@pytest.mark.parametrize(("text", "problem"), [
    ('[detectors]\ndense_blok = "drop"\n', "unknown detector 'dense_blok' (did you mean 'dense_block'?)"),
    ("[detectors.lockstep]\nwindw = 60\n", "did you mean detectors.lockstep.window?"),
    ('[detectors.lockstep]\nwindow = "1h"\n', "detectors.lockstep.window = '1h': expected a number"),
    ("[detectors.lockstep]\nwindow = -1\n",
     "detectors.lockstep.window = -1: The 'window' parameter of LockstepDetector must be a float in the range"),
    ("[detectors\n", "not valid TOML"),
])
def test_detect_refuses_a_wrong_config_in_one_line_before_writing(fixtures, tmp_path, text, problem):
    config = tmp_path / "detectors.toml"
    config.write_text(text, encoding="utf-8")
    result = run("detect", fixtures / "generic" / "orders.csv", "--out", tmp_path / "run", "--config", config)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and str(config) in lines[0] and problem in lines[0]
    assert not (tmp_path / "run").exists()


#: What an export without registration times and identities cannot give, by column.
NO_IDENTITIES = {
    "buyer_ip": "not in the export",
    "device_id": "not in the export",
    "ship_phone": "masked in 100.0 % of rows",
    "ship_address": "not in the export",
    "buyer_registered_at": "not in the export",
}


@pytest.fixture
def masked_export(fixtures, tmp_path):
    """The generic fixture as a Taobao-style report: no registration times, IPs, devices or
    addresses, and every phone masked."""
    import pandas as pd

    orders = pd.read_csv(fixtures / "generic" / "orders.csv", dtype=str, keep_default_na=False)
    orders = orders.drop(columns=["buyer_registered_at", "buyer_ip", "device_id", "ship_address"])
    orders["ship_phone"] = orders["ship_phone"].str[:3] + "****" + orders["ship_phone"].str[-4:]
    orders.to_csv(tmp_path / "masked.csv", index=False)
    return tmp_path / "masked.csv"


def _section(stdout):
    """The rows of the terminal's missing-columns section: column -> (why, disables)."""
    lines = stdout.split("Missing and masked columns", 1)[1].splitlines()[3:]
    rows = {}
    for line in lines:
        cells = [c.strip() for c in line.split("│")]
        if len(cells) != 3:
            break
        rows[cells[0]] = (cells[1], cells[2])
    return rows


@pytest.mark.parametrize("command", ["detect", "validate"])
def test_missing_and_masked_columns_are_named_with_what_they_disable(masked_export, tmp_path, monkeypatch, command):
    from antifraud.cli import report

    monkeypatch.setenv("COLUMNS", "200")
    report.console.cache_clear()  # a terminal wide enough for one line a column
    result = run(command, masked_export, "--out", tmp_path / "run")
    report.console.cache_clear()
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    missing = manifest["missing_columns"]
    assert {name: m["reason"] for name, m in missing.items()} == NO_IDENTITIES
    for name in ("ship_phone", "ship_address"):
        assert missing[name]["disables"] == ["communities", "mutual_brushing", "identity_degree"]
    for name in ("buyer_ip", "device_id"):
        assert missing[name]["disables"] == ["takeover", "communities", "mutual_brushing", "identity_degree"]
    assert missing["buyer_registered_at"]["disables"] == ["age_first_order_d"]
    assert manifest["masked_values"]["columns"]["ship_phone"]["masked"] == 2000
    shown = _section(result.stdout)
    assert {name: why for name, (why, _) in shown.items()} == NO_IDENTITIES
    assert shown["ship_phone"][1] == "communities, mutual_brushing, identity_degree"
    assert shown["buyer_registered_at"][1] == "age_first_order_d"
    if command == "detect":
        identities = "missing columns: one of buyer_ip/device_id/ship_phone/ship_address"
        assert manifest["detectors"]["skipped"] == {
            "takeover": "missing columns: one of device_id/buyer_ip", "communities": identities,
            "mutual_brushing": identities}
        assert "skipped" not in result.stdout  # the section says it, once


def test_an_export_with_every_column_has_no_missing_section(fixtures, tmp_path):
    result = run("validate", fixtures / "generic" / "orders.csv", "--out", tmp_path)
    assert result.exit_code == 0 and "Missing and masked columns" not in result.stdout
    assert json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))["missing_columns"] == {}
