"""Labels from a record store: a member's own run on the bundled export, some of its findings
reviewed, listed or objected to, and other members' records imported from their feeds."""

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from antifraud.findings import build_findings
from antifraud.findings.records import build_records, record_id
from antifraud.ingest.pseudonym import Pseudonymizer
from antifraud.learning.labels import LabelError, merge_labels, read_labels
from antifraud.learning.sources import UNSIGNED, StoreCases, record_label
from antifraud.records.feed import export_feed, import_feed
from antifraud.records.issuing import Issuer, RunContext
from antifraud.records.lifecycle import expire, list_entry, object_to, repair, resolve, review, revoke
from antifraud.records.store import RecordStore

EXPORT = Path(__file__).parents[2] / "fixtures" / "generic" / "orders.csv"
KEY = Pseudonymizer(bytes.fromhex("00" * 16 + "ab" * 16))  # the tests' alliance key (tests/conftest.py)
ISSUED = "2026-11-01T08:00:00.000Z"
T = [f"2026-11-{d:02d}T00:00:00.000Z" for d in range(2, 29)]
DECISION = {"basis": "platform_rule", "authority": {"name": "platform-a", "uscc": "914403001922038216"},
            "decided_on": "2026-11-03", "measures": ["delisted"], "severity": "general"}


def _list(finding, name, by):
    return list_entry(finding, list_name=name, determination=DECISION, listed_on="2026-11-03",
                      publish_until="2027-05-03", by=by, at=T[2])


@pytest.fixture(scope="module")
def alliance(fitted, tmp_path_factory, members_in, new_record):
    """A store holding platform-a's run on the bundled export and platform-b's feed, and what the
    labels should be: ``(store, keyring, expected, findings)``.

    platform-a reviews ring R0001 (its accounts and shops are fraud), upholds an objection to the
    finding on one account of R0002 (honest) and black-lists R0002's shop after reviewing it;
    everything else of its run stays unreviewed. platform-b reviews a finding on an account in
    no ring and one on a shop of R0001, named by its credit code on platform-b; its findings under another pseudonym key and on an
    account not in the export, and platform-c's unsigned one, label nothing.
    """
    data, ensemble = fitted
    root = tmp_path_factory.mktemp("alliance")
    members = members_in(root / "keys")
    for member in ("platform-a", "platform-b"):
        members.key(member)
    findings = build_findings(data, ensemble)
    ctx = RunContext(issuer=Issuer("platform-a", "914403001922038216", "platform", "generic"), pseudonymizer=KEY,
                     run_id="run-test", input_sha256=("ab" * 32,), data_as_of=ISSUED, toolkit_version="0.1.0",
                     issued_at=ISSUED, signer=members.signer("platform-a"))
    records = {(r["record_type"], _ring_of(r), _about(r)): r for r in build_records(findings, ctx)}
    store = RecordStore(root / "store")
    store.add(records.values())
    ring = {r.ring_id: r for r in findings.rings}
    accounts = findings.account_ids
    r1, r2 = ring["R0001"], ring["R0002"]
    change = lambda rid, make: store.change(rid, lambda v: [members.sign(make(v))])  # noqa: E731
    change(records[("ring_finding", "R0001", None)]["id"], lambda v: review(v, reviewer="analyst 7", at=T[0]))
    objected = next(r for (kind, rid, _), r in records.items() if kind == "account_finding" and rid == "R0002")
    change(objected["id"], lambda v: object_to(v, by="the account holder", statement="I bought these.", at=T[0]))
    change(objected["id"], lambda v: resolve(v, result="upheld", by="platform-a", at=T[1], reason="real orders"))
    shop = next(r for (kind, rid, _), r in records.items() if kind == "merchant_finding" and rid == "R0002")
    reviewed = change(shop["id"], lambda v: review(v, reviewer="analyst 7", at=T[0]))[0]
    store.add([members.sign(_list(reviewed, "black", "platform-a"))])

    in_no_ring = next(a for a in data.graph.row_labels if a not in set(accounts[findings.rings[0].accounts])
                      and a not in set(accounts[r2.accounts]))
    peer = RecordStore(root / "platform-b")
    sign = members.sign
    peer.add([
        *_reviewed(_account_finding(new_record(), in_no_ring, "acr--1b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10"), sign),
        *_reviewed(_account_finding(new_record(), "b9999999", "acr--2b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10"), sign),
        *_reviewed(_account_finding(new_record(), in_no_ring, "acr--3b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10",
                                    key_id="k-another-alliance"), sign),
        *_reviewed(_merchant_finding(new_record(), findings.shops[int(r1.merchants[0])].uscc,
                                     "acr--4b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10"), sign),
    ])
    export_feed(peer, root / "feed-b", member_id="platform-b", signer=members.signer("platform-b"))
    assert import_feed(store, root / "feed-b", keyring=members.keyring()).ok
    unsigned = _reviewed(_account_finding(new_record(), accounts[r2.accounts[-1]],
                                          "acr--5b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10", member="platform-c"), dict)
    (root / "c.jsonl").write_text("".join(json.dumps(v) + "\n" for v in unsigned))
    assert import_feed(store, root / "c.jsonl", expect_manifest=False, keyring=members.keyring(),
                       allow_unsigned=True).accepted == 2

    group = {name: record_id("platform-a", "run-test", "ring_finding", name) for name in ring}
    expected = {
        "accounts": {**{a: (1, group["R0001"]) for a in accounts[r1.accounts]},
                     objected["subject"]["account"]["pseudonym"]: (0, group["R0002"]), in_no_ring: (1, "")},
        "merchants": {**{s: (1, group["R0001"]) for s in findings.seller_ids[r1.merchants]},
                      shop["subject"]["merchant"]["shop_ids"][0]: (1, group["R0002"])},
    }
    pseudonyms = dict(zip(KEY.pseudonymize("platform_account", list(accounts)).to_pylist(), accounts))
    expected["accounts"] = {pseudonyms.get(a, a): v for a, v in expected["accounts"].items()}
    return store, members.keyring(), expected, findings


def _ring_of(record):
    return next((s["value"] for s in record["assessment"]["signals"] if s["name"] == "ring"), None)


def _about(record):
    subject = record["subject"]
    return subject["account"]["pseudonym"] if "account" in subject else \
        subject["merchant"]["shop_ids"][0] if "merchant" in subject else None


def _account_finding(record, account, rid, *, key_id=KEY.key_id, member="platform-b"):
    record.update(id=rid, record_type="account_finding", issuer=_issuer(member),
                  subject={"account": {"pseudonym": KEY.pseudonymize("platform_account", [account])[0].as_py(),
                                       "key_id": key_id, "id_kind": "platform_account", "platform": "platform-b"}})
    record["behavior"]["role"] = "participant"
    record["sharing"]["contains_personal_data"] = True
    record["events"][0]["by"] = member
    return record


def _issuer(member):
    return {"member_id": member, "uscc": "91440300708461136T", "role": "platform"}


def _merchant_finding(record, code, rid):
    record.update(id=rid, issuer=_issuer("platform-b"))
    record["subject"]["merchant"].update(uscc=code, shop_ids=["shop-on-platform-b"], platform="platform-b")
    record["sharing"]["contains_personal_data"] = code.startswith("92")  # an individual business is a person
    record["events"][0]["by"] = "platform-b"
    return record


def _reviewed(record, sign):
    """A finding and its reviewed version, each signed with ``sign``."""
    first = sign(record)
    return [first, sign(review(first, reviewer="analyst 2", at=T[0]))]


def _labels(labels, kind):
    return {i: (int(row.label), row.group) for i, row in labels.frames[kind].iterrows()}


def test_reviewed_listed_and_cleared_cases_become_labels(alliance, fitted):
    store, keyring, expected, findings = alliance
    cases = StoreCases.read(store.path, keyring, pseudonymizer=KEY, platform="generic")
    labels = cases.labels(fitted[0])
    assert _labels(labels, "accounts") == expected["accounts"]
    assert _labels(labels, "merchants") == expected["merchants"]
    [source] = labels.sources
    assert source.kind == "store" and source.counts == labels.counts()
    assert source.unmatched == {"accounts": 1, "merchants": 0, "orders": 0}  # platform-b's account b9999999
    unreviewed = 2 + len(findings.merchants) + len(findings.accounts) - 3  # but the ring, the account, the shop
    assert source.skipped == {
        f"an account pseudonymised under another key than {KEY.key_id}": 1,
        "not reviewed by a person": unreviewed,
        UNSIGNED: 1,
    }


def test_only_a_keyring_holding_the_issuers_keys_lets_their_records_count(alliance, fitted, members_in, tmp_path):
    store, _, _, _ = alliance
    strangers = members_in(tmp_path)
    strangers.key("platform-a")  # a key in platform-a's name that did not sign its records
    labels = StoreCases.read(store.path, strangers.keyring(), pseudonymizer=KEY, platform="generic").labels(fitted[0])
    assert all(count == {"fraud": 0, "honest": 0} for count in labels.counts().values())
    assert set(labels.sources[0].skipped) == {UNSIGNED}


def test_under_a_run_key_no_account_matches(alliance, fitted):
    store, keyring, expected, _ = alliance
    labels = StoreCases.read(store.path, keyring, pseudonymizer=Pseudonymizer.for_run(), platform="generic").labels(
        fitted[0])
    assert labels.counts()["accounts"] == {"fraud": 0, "honest": 0}
    assert _labels(labels, "merchants") == expected["merchants"]  # shops are named by credit code


def test_a_store_and_a_file_that_disagree_are_refused_naming_both(alliance, fitted, tmp_path):
    store, keyring, expected, findings = alliance
    account = next(a for a, (label, _) in expected["accounts"].items() if label == 1 and a.startswith("b"))
    (tmp_path / "honest.csv").write_text(f"account_id,label,group\n{account},0,op-9\n")
    cases = StoreCases.read(store.path, keyring, pseudonymizer=KEY, platform="generic").labels(fitted[0])
    with pytest.raises(LabelError, match=rf"store acr--\S+ version 2 \(platform-a\), column label: account_id "
                                         rf"'{account}' is given label '1' here and '0' at .*honest\.csv:2"):
        merge_labels([read_labels([tmp_path / "honest.csv"]), cases])
    (tmp_path / "black.csv").write_text(f"account_id,label,group\n{account},1,op-9\nb9999998,1,op-9\n")
    merged = merge_labels([read_labels([tmp_path / "black.csv"]), cases])
    group = expected["accounts"][account][1]
    assert merged.align("accounts", [account, "b9999998"])[1].tolist() == [min(group, "op-9")] * 2  # one case
    assert [s.kind for s in merged.sources] == ["file", "store"]


def test_not_a_store_is_refused(tmp_path, members):
    with pytest.raises(LabelError, match="not a record store"):
        StoreCases.read(tmp_path, members.keyring(), pseudonymizer=KEY, platform="generic")


def test_victims_and_accounts_named_by_phone_are_not_labelled(record, members, tmp_path):
    victim = copy.deepcopy(record)
    victim["behavior"]["role"] = "victim"
    phone = _account_finding(copy.deepcopy(record), "13800138000", "acr--6b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10",
                             member="platform-a")
    phone["subject"]["account"]["id_kind"] = "phone"
    store = RecordStore(tmp_path / "store")
    store.add([*_reviewed(victim, members.sign), *_reviewed(phone, members.sign)])
    cases = StoreCases.read(store.path, members.keyring(), pseudonymizer=KEY, platform="generic")
    assert cases.claims.empty
    assert cases.skipped == {"a shop a ring attacked: its victim, not its party": 1,
                             "names no account or shop of an export (an account by its phone, device, payment or "
                             "address)": 1}


def _state(record, *steps):
    for step in steps:
        record = step(record)
    return record


REVIEWED = lambda v: review(v, reviewer="r", at=T[0])  # noqa: E731
OBJECTED = lambda v: object_to(v, by="the merchant", statement="real orders", at=T[2])  # noqa: E731


@pytest.mark.parametrize(("steps", "label"), [
    ((), None),
    ((REVIEWED,), 1),
    ((REVIEWED, OBJECTED), None),
    ((REVIEWED, OBJECTED, lambda v: resolve(v, result="rejected", by="a", at=T[3], reason="a farm")), 1),
    ((REVIEWED, OBJECTED, lambda v: resolve(v, result="partial", by="a", at=T[3], reason="fewer orders")), 1),
    ((OBJECTED, lambda v: resolve(v, result="upheld", by="a", at=T[3], reason="real orders")), 0),
    ((REVIEWED, lambda v: revoke(v, by="a", at=T[2], reason="wrong export")), None),
    ((REVIEWED, lambda v: repair(v, commitment="never again", applied_at=T[1], by="a", at=T[2])), None),
    ((REVIEWED, lambda v: expire(v, by="a", at="2029-11-02T00:00:00.000Z")), None),
    ((REVIEWED, lambda v: _list(v, "black", "a")), 1),
    ((REVIEWED, lambda v: _list(v, "red", "a")), 0),
    ((REVIEWED, lambda v: _list(v, "watch", "a")), None),
    ((REVIEWED, lambda v: _list(v, "black", "a"), OBJECTED), None),
])
def test_what_each_state_of_a_record_says(record, steps, label):
    found, why = record_label(_state(record, *steps))
    assert found == label and bool(why) == (label is None)


def test_train_learns_from_a_store_and_a_file_and_says_how_many_labels_came_from_each(alliance, tmp_path):
    from antifraud.cli.main import app

    store, _, expected, _ = alliance
    rings = [json.loads(line) for line in (EXPORT.parent / "truth" / "rings.jsonl").read_text().splitlines()]
    honest = {a for a, (label, _) in expected["accounts"].items() if label == 0}
    chosen = [r for r in rings if not honest & set(r["accounts"])][:3]
    in_file = {a for r in chosen for a in r["accounts"]}
    black = tmp_path / "black.csv"
    black.write_text("\n".join(["account_id,label,group", *(f"{a},1,{r['ring_id']}" for r in chosen for a in r["accounts"]),
                                "b9999998,1,"]) + "\n")
    result = CliRunner().invoke(app, ["train", str(EXPORT), "--labels", str(black), "--labels-store", str(store.path),
                                      "--keyring", str(store.path.parent / "keys"), "--out", str(tmp_path / "model"),
                                      "--jobs", "1"])
    assert result.exit_code == 0, result.output
    about = json.loads((tmp_path / "model" / "model.json").read_text())
    file, from_store = about["training"]["labels"]
    assert file["kind"] == "file" and file["labels"]["accounts"] == {"fraud": len(in_file) + 1, "honest": 0}
    assert from_store["kind"] == "store" and from_store["sha256"] and from_store["unmatched"]["accounts"] == 1
    assert from_store["labels"]["accounts"] == {"fraud": 13, "honest": 1}
    fraud = in_file | {a for a, (label, _) in expected["accounts"].items() if label == 1}
    assert about["labels"]["accounts"] == {"fraud": len(fraud) + 1, "honest": 1, "matched": len(fraud) + 1,
                                           "unmatched": 1}
    printed = " ".join(result.stdout.split())  # as the terminal wraps it
    assert "labels from file" in printed and f"accounts {len(in_file) + 1} fraud / 0 honest" in printed
    assert "accounts 13 fraud / 1 honest, merchants 4 fraud / 0 honest" in printed
    assert "1 accounts it confirms are not in the export" in printed
    assert "23 gave no label: not reviewed by a person" in printed


def test_train_with_a_store_needs_a_keyring_and_the_alliance_key(alliance, tmp_path, monkeypatch):
    from antifraud.cli.main import app

    store = str(alliance[0].path)
    args = ["train", str(EXPORT), "--labels-store", store, "--out", str(tmp_path / "model")]
    monkeypatch.delenv("ANTIFRAUD_KEYRING", raising=False)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--labels-store needs --keyring" in result.output
    monkeypatch.delenv("ANTIFRAUD_PSEUDONYM_KEY")
    result = CliRunner().invoke(app, [*args, "--keyring", str(alliance[0].path.parent / "keys")])
    assert result.exit_code == 2 and "--labels-store needs the alliance key" in result.output
    result = CliRunner().invoke(app, ["train", str(EXPORT), "--out", str(tmp_path / "model")])
    assert result.exit_code == 2 and "nothing to learn from" in result.output
