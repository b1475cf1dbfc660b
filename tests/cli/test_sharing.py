"""What a new analyst needs to share a run: the alliance key, records list, ring ids as record
names, query by shop or ring, statuses and verdicts explained; on a store built from a real run."""

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from antifraud.cli.main import RUN_KEY_WARNING, app
from antifraud.ingest.pseudonym import KEY_ENV, KEY_FILE_ENV, KEY_ID_ENV, Pseudonymizer

runner = CliRunner()
#: platform-a's run of the generic fixture: ring R0001 targets three shops, R0002 one.
R0001_SHOPS = {"初野鞋业专营店", "初源家居专营店", "宜星食品官方店"}


def run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200", **(env or {})})


@pytest.fixture(scope="module")
def shared(tmp_path_factory, fixtures_dir, members_in):
    """platform-a's alliance key, keys, run of the generic fixture and store holding its findings."""
    root = tmp_path_factory.mktemp("shared")
    members = members_in(root / "keys")
    members.key("platform-a")
    made = run("keys", "alliance", root / "alliance.key", "--key-id", "alliance-test")
    assert made.exit_code == 0, made.output
    env = {KEY_ENV: None, KEY_FILE_ENV: str(root / "alliance.key"), KEY_ID_ENV: "alliance-test"}
    detected = run("detect", fixtures_dir / "generic" / "orders.csv", "--out", root / "run", "--member", "platform-a",
                   "--member-uscc", "914403001922038216", "--signing-key", members.key("platform-a"),
                   "--issued-at", "2026-11-01T08:00:00Z", env=env)
    assert detected.exit_code == 0 and "warning" not in detected.stderr, detected.output
    added = run("records", "add", root / "run" / "findings.jsonl", "--store", root / "store", "--keyring",
                members.folder)
    assert added.exit_code == 0, added.output
    return root, members, env


@pytest.fixture(scope="module")
def fixtures_dir():
    return Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def store(shared, tmp_path):
    """A copy of the shared store, to change."""
    import shutil

    return shutil.copytree(shared[0] / "store", tmp_path / "store")


def _rows(*args):
    result = run("records", "list", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_keys_alliance_writes_an_owner_only_key_and_says_how_to_use_it(tmp_path):
    result = run("keys", "alliance", tmp_path / "k" / "alliance.key")
    assert result.exit_code == 0, result.output
    path = tmp_path / "k" / "alliance.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(bytes.fromhex(path.read_text(encoding="ascii"))) == 32
    read = Pseudonymizer.from_environment({KEY_FILE_ENV: str(path)})
    assert f"key id {read.key_id}" in result.stdout and read.shareable
    assert f"export {KEY_FILE_ENV}={path} {KEY_ID_ENV}={read.key_id}" in result.stdout
    assert "share:" in result.stdout and path.read_text(encoding="ascii").strip() not in result.output
    again = run("keys", "alliance", path)
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    assert run("keys", "alliance", tmp_path / "x.key", "--key-id", "run-1").exit_code == 2


@pytest.mark.parametrize("command", ["detect", "validate"])
def test_a_run_key_is_warned_about_once_in_words(fixtures, tmp_path, monkeypatch, command):
    monkeypatch.delenv(KEY_ENV)
    result = run(command, fixtures / "generic" / "orders.csv", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning:") == 1 and f"warning: {RUN_KEY_WARNING}" in result.stderr
    assert "cannot be shared" in RUN_KEY_WARNING and "antifraud keys alliance" in RUN_KEY_WARNING
    assert json.loads((tmp_path / "run" / "run.json").read_text())["pseudonymisation"]["key_id"].startswith("run-")
    quiet = run(command, fixtures / "generic" / "orders.csv", "--out", tmp_path / "run", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_no_warning_under_the_alliance_key(fixtures, tmp_path):
    result = run("validate", fixtures / "generic" / "orders.csv")  # ANTIFRAUD_PSEUDONYM_KEY is set for every test
    assert result.exit_code == 0 and "warning" not in result.stderr


def test_records_list_shows_every_record_with_its_ring_and_shop(shared):
    root = shared[0]
    rows = _rows("--store", root / "store")
    findings = [json.loads(line) for line in (root / "run" / "findings.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(f["id"] for f in findings)
    assert {r["ring"] for r in rows} == {"R0001", "R0002"}
    ring = next(r for r in rows if r["kind"] == "ring" and r["ring"] == "R0001")
    assert all(name in ring["who"] for name in R0001_SHOPS)
    table = run("records", "list", "--store", root / "store")
    assert table.exit_code == 0 and f"{len(rows)} records in" in table.stdout and ring["id"] in table.stdout


def test_records_list_filters_by_ring_shop_and_status(shared):
    store = shared[0] / "store"
    r1 = _rows("--store", store, "--ring", "R0001")
    assert r1 and {r["ring"] for r in r1} == {"R0001"} and r1[0]["kind"] == "ring"
    assert {r["who"] for r in r1 if r["kind"] == "merchant"} == R0001_SHOPS
    by_name = _rows("--store", store, "--shop", "初野鞋业专营店")
    assert {r["kind"] for r in by_name} == {"ring", "merchant"} and {r["ring"] for r in by_name} == {"R0001"}
    merchant = json.loads(run("records", "show", next(r["id"] for r in by_name if r["kind"] == "merchant"),
                              "--store", store).stdout)["subject"]["merchant"]
    assert _rows("--store", store, "--shop", merchant["shop_ids"][0]) == by_name
    assert _rows("--store", store, "--shop", merchant["uscc"]) == by_name
    assert _rows("--store", store, "--status", "revoked") == []
    bad = run("records", "list", "--store", store, "--status", "held")
    assert bad.exit_code == 2 and "a status is one of issued, amended" in bad.output


def test_record_commands_take_a_ring_id(store, shared):
    members = shared[1]
    ring_id = next(r["id"] for r in _rows("--store", store, "--ring", "R0001") if r["kind"] == "ring")
    shown = json.loads(run("records", "show", "R0001", "--store", store).stdout)
    assert shown["id"] == ring_id and shown["record_type"] == "ring_finding"
    reviewed = run("records", "review", "r0001", "--store", store, "--member", "platform-a", "--reviewer", "analyst 7",
                   "--signing-key", members.key("platform-a"), "--keyring", members.folder)
    assert reviewed.exit_code == 0 and reviewed.stdout == f"{ring_id}: version 2, amended\n", reviewed.output
    missing = run("records", "show", "R0009", "--store", store)
    assert missing.exit_code == 2 and "R0009: no ring finding of that ring in the store" in missing.stderr
    others = run("records", "review", "R0001", "--store", store, "--member", "platform-b", "--reviewer", "r",
                 "--signing-key", members.key("platform-b"))
    assert others.exit_code == 2 and "no ring finding of that ring in platform-b's records" in others.stderr


def test_a_ring_id_of_two_runs_is_ambiguous_and_says_which_ids(store, shared):
    members = shared[1]
    second = json.loads(run("records", "show", "R0001", "--store", store).stdout)
    second.update(id="acr--00000000-0000-5000-8000-000000000001", provenance=dict(second["provenance"], run_id="run-2"))
    path = store.parent / "second.jsonl"
    path.write_text(json.dumps(members.sign(second), ensure_ascii=False) + "\n", encoding="utf-8")
    assert run("records", "add", path, "--store", store, "--keyring", members.folder).exit_code == 0
    result = run("records", "show", "R0001", "--store", store)
    assert result.exit_code == 2 and "R0001 names 2 ring findings in the store" in result.stderr
    assert second["id"] in result.stderr and "run run-2" in result.stderr and "give the record id" in result.stderr


def test_query_by_shop_or_ring(shared):
    store = shared[0] / "store"
    by_shop = run("query", "--store", store, "--shop", "初野鞋业专营店", "--json")
    assert by_shop.exit_code == 0, by_shop.output
    found = json.loads(by_shop.stdout)
    assert sorted(r["record_type"] for r in found) == ["merchant_finding", "ring_finding"]
    by_ring = json.loads(run("query", "--store", store, "--ring", "R0002", "--json").stdout)
    assert {r["id"] for r in by_ring} == {r["id"] for r in _rows("--store", store, "--ring", "R0002")}
    text = run("query", "--store", store, "--ring", "R0002")
    assert text.exit_code == 0 and f"{len(by_ring)} records ({len(by_ring)} in force)" in text.stdout
    both = run("query", "--store", store, "--ring", "R0002", "--shop", "x")
    assert both.exit_code == 2 and "give exactly one of --uscc, --shop, --ring" in both.output


def test_the_run_shares_under_the_alliance_key(shared, tmp_path):
    root, members, env = shared
    exported = run("feed", "export", "--store", root / "store", "--member", "platform-a", "--out", tmp_path / "feed",
                   "--signing-key", members.key("platform-a"), "--json", env=env)
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["records"] == len(_rows("--store", root / "store"))


def test_statuses_and_verdicts_are_explained_in_the_help():
    from antifraud.cli.records import STATUSES, VERDICTS
    from antifraud.records.validation import schema

    assert list(STATUSES) == schema()["properties"]["status"]["enum"]
    for words, meanings in ((("records", "list"), STATUSES), (("feed", "import"), VERDICTS),
                            (("records", "add"), VERDICTS)):
        text = " ".join(run(*words, "-h").stdout.replace("│", " ").split())
        for name, meaning in meanings.items():
            assert f"{name}: {' '.join(meaning.split())}" in text


def test_records_grades_holds_unreviewed_shops_at_b_and_a_reviewed_one_at_c(store, shared):
    members = shared[1]
    merchants = [r for r in _rows("--store", store) if r["kind"] == "merchant"]
    before = json.loads(run("records", "grades", "--store", store, "--keyring", members.folder, "--json").stdout)
    assert len(before) == len({r["who"] for r in merchants}) and {g["grade"] for g in before} == {"B"}
    first = merchants[0]
    reviewed = run("records", "review", first["id"], "--store", store, "--member", "platform-a", "--reviewer", "a",
                   "--signing-key", members.key("platform-a"), "--keyring", members.folder)
    assert reviewed.exit_code == 0, reviewed.output
    after = run("records", "grades", "--store", store, "--keyring", members.folder)
    assert after.exit_code == 0, after.output
    rows = [line.split("│") for line in after.stdout.splitlines() if "│" in line]  # worst first
    assert rows[0][0].strip() == "C" and rows[0][3].strip() == "1" and "a finding a person reviewed" in rows[0][4]
    assert {row[0].strip() for row in rows[1:]} == {"B"}
    graded = json.loads(run("records", "grades", "--store", store, "--json").stdout)
    assert graded[0]["grade"] == "C" and [r["record_id"] for r in graded[0]["records"]] == [first["id"]]
    assert run("records", "grades", "--store", store, "--quiet").stdout == f"A 0, B {len(before) - 1}, C 1, D 0\n"
