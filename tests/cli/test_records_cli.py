"""The credit-record commands end to end: uscc, records, feed and query."""

import json

import pytest
from typer.testing import CliRunner

from antifraud.cli.main import app

runner = CliRunner()


def run(*args, **env):
    return runner.invoke(app, [str(a) for a in args], env=env or None)


@pytest.mark.parametrize(
    ("codes", "exit_code", "expected"),
    [
        (["914403001922038216", "91440300708461136T", "91110000600037341L", "91350100M000100Y43"], 0, "valid"),
        (["914403001922038217"], 1, "check character (position 18) is '7', expected '6'"),
        (["91350100M000100Y4Z"], 1, "the letter Z is not used"),
        (["91350211M0000XUF46"], 0, "valid (pilot-area exception)"),
        (["９１４４０３００１９２２０３８２１６"], 0, "-> 914403001922038216: valid"),
        (["914403001922038216", "91350100MOOO100Y43"], 1, "was the digit 0 meant?"),
    ],
)
def test_uscc_command(codes, exit_code, expected):
    result = run("uscc", *codes)
    assert result.exit_code == exit_code, result.output
    assert expected in result.output


@pytest.fixture
def store(tmp_path, record, members):
    """platform-a's store holding ``record``, signed."""
    path = tmp_path / "findings.jsonl"
    path.write_text(json.dumps(members.sign(record), ensure_ascii=False) + "\n", encoding="utf-8")
    result = run("records", "add", path, "--store", tmp_path / "store", "--keyring", members.folder)
    assert result.exit_code == 0, result.output
    return tmp_path / "store"


def _as(member, store, members):
    return "--store", store, "--member", member, "--signing-key", members.key(member), "--keyring", members.folder


def test_lifecycle_through_the_cli(store, record, members):
    rid, me = record["id"], _as("platform-a", store, members)
    steps = [
        ("review", rid, *me, "--reviewer", "analyst 7", "--at", "2026-11-02T00:00:00.000Z"),
        ("amend", rid, *me, "--set", "sharing.level=green", "--set", "behavior.metrics.orders=413",
         "--reason", "recount", "--at", "2026-11-03T00:00:00.000Z"),
        ("object", rid, *me, "--by", "the merchant", "--statement", "real buyers", "--at", "2026-11-04T00:00:00.000Z"),
        ("resolve", rid, *me, "--result", "partial", "--reason", "some were real", "--at", "2026-11-05T00:00:00.000Z"),
        ("repair", rid, *me, "--commitment", "no more bought orders", "--applied-at", "2026-11-05T00:00:00.000Z",
         "--at", "2026-11-06T00:00:00.000Z"),
        ("revoke", rid, *me, "--reason", "issued in error", "--at", "2026-11-07T00:00:00.000Z"),
    ]
    for step in steps:
        result = run("records", *step)
        assert result.exit_code == 0, (step, result.output)
    shown = json.loads(run("records", "show", rid, "--store", store).output)
    assert shown["version"] == 7 and shown["status"] == "revoked"
    assert shown["behavior"]["metrics"]["orders"] == 413 and shown["sharing"]["level"] == "green"
    result = run("records", "amend", rid, *me, "--set", "sharing.level=red", "--reason", "x")
    assert result.exit_code == 2 and "revocation is final" in result.output


def test_list_entry_after_review(store, record, members):
    rid, me = record["id"], _as("platform-a", store, members)
    decision = ("--list", "black", "--severity", "general", "--basis", "platform_rule", "--authority", "platform-a",
                "--decided-on", "2026-11-03", "--listed-on", "2026-11-03", "--publish-until", "2027-05-03",
                "--measure", "delisted", "--document-no", "PA-2026-117")
    refused = run("records", "list-entry", rid, *me, *decision)
    assert refused.exit_code == 2 and "review it before listing" in refused.output
    assert run("records", "review", rid, *me, "--reviewer", "r").exit_code == 0
    listed = run("records", "list-entry", rid, *me, *decision)
    assert listed.exit_code == 0, listed.output
    entry_id = listed.output.split(":")[0]
    shown = json.loads(run("records", "show", entry_id, "--store", store).output)
    assert shown["record_type"] == "list_entry" and shown["listing"]["list"] == "black"
    assert shown["determination"]["document_no"] == "PA-2026-117"
    again = run("records", "list-entry", rid, *me, *decision)  # the same decision entered twice
    assert again.exit_code == 2 and f"{entry_id} version 1 was not added: the same version was issued" in again.output
    assert json.loads(run("records", "show", entry_id, "--store", store).output)["version"] == 1


def test_only_the_issuer_changes_a_record(store, record, members):
    result = run("records", "revoke", record["id"], *_as("platform-b", store, members), "--reason", "x")
    assert result.exit_code == 2 and "only the issuer makes new versions" in result.output


def test_acting_as_a_member_takes_that_members_key(store, record, members):
    rid, revoke = record["id"], ("records", "revoke", record["id"], "--store", store, "--reason", "x")
    unsigned = run(*revoke, "--as", "platform-a")
    assert unsigned.exit_code == 2 and "needs platform-a's signing key" in unsigned.output
    members.key("platform-b")
    claimed = run(*revoke, "--as", "platform-a", "--signing-key", members.key("platform-b"), "--keyring", members.folder)
    assert claimed.exit_code == 2 and "is platform-b's key; you cannot act as platform-a" in claimed.output
    no_keyring = run(*revoke, "--as", "platform-a", "--signing-key", members.key("platform-b"))
    assert no_keyring.exit_code == 2 and "is signed with" in no_keyring.output and "not with" in no_keyring.output
    export = run("feed", "export", "--store", store, "--as", "platform-a", "--out", store.parent / "feed",
                 "--signing-key", members.key("platform-b"))
    assert export.exit_code == 2 and "you cannot act as platform-a" in export.output
    assert json.loads(run("records", "show", rid, "--store", store).output)["status"] == "issued"


def test_a_change_dated_in_the_future_is_refused(store, record, members):
    result = run("records", "review", record["id"], *_as("platform-a", store, members), "--reviewer", "r",
                 "--at", "2099-01-01T00:00:00Z")
    assert result.exit_code == 2 and "is in the future" in result.output


def test_readding_a_reissued_finding_keeps_the_record(store, record, members, tmp_path):
    """detect re-run on the same export: the same ids, a new time; adding its findings again is a no-op."""
    assert run("records", "review", record["id"], *_as("platform-a", store, members), "--reviewer", "r").exit_code == 0
    again = members.sign(dict(record, created="2026-11-20T08:00:00.000Z", modified="2026-11-20T08:00:00.000Z",
                              events=[dict(record["events"][0], at="2026-11-20T08:00:00.000Z")]))
    path = tmp_path / "rerun.jsonl"
    path.write_text(json.dumps(again) + "\n", encoding="utf-8")
    result = run("records", "add", path, "--store", store, "--keyring", members.folder)
    assert result.exit_code == 0 and "1 already held" in result.output, result.output
    shown = json.loads(run("records", "show", record["id"], "--store", store).output)
    assert shown["version"] == 2 and shown["assessment"]["human_reviewed"]
    revoked = run("records", "revoke", record["id"], *_as("platform-a", store, members), "--reason", "error")
    assert revoked.exit_code == 0 and "version 3, revoked" in revoked.output
    found = run("query", "--store", store, "--uscc", "91440300708461136T")
    assert "1 records (0 in force)" in found.output


def test_forks_are_set_aside_and_listed(store, record, members, tmp_path):
    from antifraud.records.lifecycle import amend, review

    signed = members.sign(record)
    branches = [members.sign(review(signed, reviewer="r", at="2026-11-02T00:00:00.000Z")),
                members.sign(amend(signed, {"sharing.level": "red"}, by="platform-a", at="2026-11-02T00:00:00.000Z",
                                   reason="x"))]
    path = tmp_path / "forks.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in branches), encoding="utf-8")
    result = run("records", "add", path, "--store", store, "--keyring", members.folder)
    assert result.exit_code == 1 and "1 accepted" in result.output and "rejected line 2" in result.output
    listed = run("records", "quarantine", "--store", store)
    assert listed.exit_code == 0 and "1 versions set aside" in listed.output
    assert f"{record['id']} version 2 (platform-a" in listed.output and "fork: version 2" in listed.output
    assert json.loads(run("records", "show", record["id"], "--store", store).output)["version"] == 2


def test_hand_edited_file_names_the_field(tmp_path, record):
    record["subject"]["merchant"]["uscc"] = "914403001922038217"
    path = tmp_path / "edited.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = run("records", "validate", path, "--allow-unsigned")
    assert result.exit_code == 1
    assert f"{path}:1: subject.merchant.uscc: invalid credit code" in result.output


def test_a_tampered_signed_finding_is_caught(tmp_path, record, members):
    tampered = members.sign(record)
    tampered["assessment"]["score"] = 0.99
    path = tmp_path / "findings.jsonl"
    path.write_text(json.dumps(members.sign(record)) + "\n" + json.dumps(tampered) + "\n", encoding="utf-8")
    checked = run("records", "validate", path, "--keyring", members.folder)
    assert checked.exit_code == 1 and f"{path}:2: signature: bad signature" in checked.output
    assert "1 problems" in checked.output
    unverified = run("records", "validate", path)
    assert unverified.exit_code == 1 and "2 problems" in unverified.output and "unknown key" in unverified.output
    added = run("records", "add", path, "--store", tmp_path / "s", "--keyring", members.folder)
    assert added.exit_code == 1 and "1 accepted" in added.output and "rejected line 2" in added.output


def test_feed_round_trip_and_query(store, record, tmp_path, members):
    me = _as("platform-a", store, members)
    assert run("feed", "export", *me, "--out", tmp_path / "feed").exit_code == 0
    peer = tmp_path / "peer"
    unverified = run("feed", "import", tmp_path / "feed", "--store", peer)
    assert unverified.exit_code == 1 and "0 accepted" in unverified.output and "--allow-unsigned" in unverified.output
    first = run("feed", "import", tmp_path / "feed", "--store", peer, "--keyring", members.folder)
    again = run("feed", "import", tmp_path / "feed", "--store", peer, "--keyring", members.folder,
                "--require-signatures")
    assert first.exit_code == again.exit_code == 0
    assert "1 accepted, 1 new" in first.output and "0 new, 1 already held" in again.output
    result = run("query", "--store", peer, "--uscc", "91440300708461136T")
    assert result.exit_code == 0 and "1 records (1 in force)" in result.output and record["id"] in result.output
    assert "0 records" in run("query", "--store", peer, "--uscc", "914403001922038216").output
    assert run("query", "--store", peer, "--uscc", "914403001922038217").exit_code == 2
    since = run("feed", "export", *me, "--out", tmp_path / "delta", "--since", "2026-11-01T16:00:00+08:00")
    assert since.exit_code == 0 and "wrote 1 versions (delta since 2026-11-01T08:00:00.000Z)" not in since.output
    assert "wrote 0 versions (delta since 2026-11-01T08:00:00.000Z)" in since.output
    earlier = run("feed", "export", *me, "--out", tmp_path / "delta", "--since", "2026-11-01T15:59:59+08:00")
    assert "wrote 1 versions" in earlier.output
    bad = run("feed", "export", *me, "--out", tmp_path / "delta", "--since", "yesterday")
    assert bad.exit_code == 2 and "not an RFC 3339 time" in bad.output


def test_feed_with_a_broken_line_is_not_imported_and_exits_1(store, tmp_path, members):
    run("feed", "export", *_as("platform-a", store, members), "--out", tmp_path / "feed")
    feed = tmp_path / "feed" / "feed.jsonl"
    feed.write_text(feed.read_text(encoding="utf-8") + '{"schema": "acr/9"}\n', encoding="utf-8")
    result = run("feed", "import", tmp_path / "feed", "--store", tmp_path / "peer", "--keyring", members.folder)
    assert result.exit_code == 1
    assert "line 2: schema: unknown record format 'acr/9'" in result.output
    assert "0 accepted" in result.output and "sha256 does not match" in result.output


def test_query_by_raw_account_uses_the_alliance_key(tmp_path):
    result = run("query", "--store", tmp_path, "--account", "b0000001")
    assert result.exit_code == 0 and "0 records" in result.output


def test_detect_signs_its_records(fixtures, tmp_path):
    from antifraud.signing import Keyring, SignatureStatus, generate_key, verify_json

    info = generate_key(tmp_path / "keys" / "member")
    result = run("detect", fixtures / "generic" / "orders.csv", "--out", tmp_path / "run", "--signing-key",
                 info.private_path, "--member", "platform-a", "--member-uscc", "914403001922038216")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "run" / "findings.jsonl").read_text().splitlines()]
    keyring = Keyring.from_directory(tmp_path / "keys")
    assert records and all(verify_json(r, r["signature"], keyring) is SignatureStatus.VALID for r in records)
    assert {r["issuer"]["member_id"] for r in records} == {"platform-a"}
