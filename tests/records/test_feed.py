import json

import pandas as pd
import pytest

from antifraud.records.feed import FEED, MANIFEST, export_feed, import_feed
from antifraud.records.lifecycle import amend, review
from antifraud.records.store import RecordStore, holdings

T = [f"2026-11-{d:02d}T00:00:00.000Z" for d in range(2, 29)]


def _own_store(tmp_path, record):
    store = RecordStore(tmp_path / "own")
    v2 = review(record, reviewer="r", at=T[0])
    v3 = amend(v2, {"sharing.level": "green"}, by="platform-a", at=T[2], reason="reviewed, shareable")
    store.add([record, v2, v3])
    return store, [record, v2, v3]


def test_full_then_delta_equals_full(tmp_path, record):
    store, (v1, v2, v3) = _own_store(tmp_path, record)
    full = export_feed(store, tmp_path / "full", member_id="platform-a")
    delta = export_feed(store, tmp_path / "delta", member_id="platform-a", since=T[1])
    assert full["records"] == 3 and delta["records"] == 1 and delta["since"] == T[1]
    partial = RecordStore(tmp_path / "peer1")
    partial.add([v1, v2])  # what a peer held after the earlier full feed
    assert import_feed(partial, tmp_path / "delta").ok
    whole = RecordStore(tmp_path / "peer2")
    assert import_feed(whole, tmp_path / "full").ok
    assert partial.resolution().current == whole.resolution().current
    assert whole.resolution().current[record["id"]]["version"] == 3


def test_merge_is_order_independent_and_idempotent(tmp_path, record):
    store, _ = _own_store(tmp_path, record)
    export_feed(store, tmp_path / "a", member_id="platform-a")
    other = dict(record, id="acr--1b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10")
    other_store = RecordStore(tmp_path / "other")
    other_store.add([other])
    export_feed(other_store, tmp_path / "b", member_id="platform-a")
    files = []
    for name, order in (("ab", "ab"), ("ba", "ba"), ("abab", "abab")):
        peer = RecordStore(tmp_path / name)
        for feed in order:
            import_feed(peer, tmp_path / feed)
        files.append((tmp_path / name / "versions.jsonl").read_bytes())
    assert files[0] == files[1] == files[2]


def test_broken_lines_are_reported_and_good_lines_kept(tmp_path, record):
    store, versions = _own_store(tmp_path, record)
    export_feed(store, tmp_path / "feed", member_id="platform-a")
    lines = (tmp_path / "feed" / FEED).read_text(encoding="utf-8").splitlines()
    bad_schema = json.loads(lines[1])
    bad_schema["assessment"]["confidence"] = 250
    nested = "[" * 100_000 + "]" * 100_000
    huge = json.dumps({"x": "y" * 5_000_000})
    broken = [lines[0], "{not json", json.dumps(bad_schema), nested, huge, "\udcff", lines[2], lines[1]]
    path = tmp_path / "broken.jsonl"
    path.write_bytes("\n".join(broken).encode("utf-8", "surrogateescape") + b"\n")
    report = import_feed(RecordStore(tmp_path / "peer"), path)
    reasons = {item.line: item.reason for item in report.rejected}
    assert set(reasons) == {2, 3, 4, 5, 6}
    assert "not JSON" in reasons[2]
    assert "assessment.confidence" in reasons[3]
    assert "nested too deeply" in reasons[4] or "not JSON" in reasons[4]
    assert "longer than" in reasons[5] and "not UTF-8" in reasons[6]
    assert report.accepted == 3 and report.held == []
    assert any("no feed.manifest.json" in p for p in report.feed_problems)


def test_manifest_catches_truncation(tmp_path, record):
    store, _ = _own_store(tmp_path, record)
    export_feed(store, tmp_path / "feed", member_id="platform-a")
    feed = tmp_path / "feed" / FEED
    feed.write_text("".join(feed.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    report = import_feed(RecordStore(tmp_path / "peer"), tmp_path / "feed")
    assert any("sha256 does not match" in p for p in report.feed_problems)
    assert any("says 3 records" in p for p in report.feed_problems)


def test_unshareable_records_are_refused(tmp_path, record):
    record["issuer"]["uscc"] = None
    store = RecordStore(tmp_path / "s")
    store.add([record])
    with pytest.raises(ValueError, match="without the member's credit code"):
        export_feed(store, tmp_path / "feed", member_id="platform-a")
    assert not (tmp_path / "feed" / MANIFEST).exists()


@pytest.fixture(scope="module")
def two_platforms(tmp_path_factory):
    """One synthetic world split by shop into two platforms' exports, each run separately."""
    from antifraud.detect import detect
    from antifraud.ingest import PROFILES
    from antifraud.records.findings import Issuer
    from antifraud.synth import write_synthetic_export

    root = tmp_path_factory.mktemp("platforms")
    write_synthetic_export(root / "world", seed=11, n_orders=30_000)
    orders = pd.read_csv(root / "world" / "orders.csv", dtype=str, keep_default_na=False)
    on_b = orders["seller_id"].str[-1].astype(int) % 2 == 1
    codes = {"platform-a": "914403001922038216", "platform-b": "91440300708461136T"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANTIFRAUD_PSEUDONYM_KEY", "00" * 16 + "ab" * 16)
        mp.setenv("ANTIFRAUD_PSEUDONYM_KEY_ID", "alliance-test")
        for name, part in (("platform-a", orders[~on_b]), ("platform-b", orders[on_b])):
            (root / name).mkdir()
            part.to_csv(root / name / "orders.csv", index=False)
            issuer = Issuer(member_id=name, uscc=codes[name], role="platform", platform=name)
            detect([root / name / "orders.csv"], PROFILES["generic"], out_dir=root / name / "run", seed=1,
                   issuer=issuer)
            store = RecordStore(root / name / "store")
            import_feed(store, root / name / "run" / "findings.jsonl")
            export_feed(store, root / name / "feed", member_id=name)
    return root, orders, on_b


def test_two_platforms_feeds_link_shared_ring_accounts(two_platforms, tmp_path):
    root, orders, on_b = two_platforms
    truth = [json.loads(line) for line in (root / "world" / "truth" / "rings.jsonl").read_text().splitlines()]
    ring_accounts = {a for ring in truth for a in ring["accounts"]}
    both = ring_accounts & set(orders.loc[~on_b, "buyer_id"]) & set(orders.loc[on_b, "buyer_id"])
    assert both, "the split must leave ring accounts on both platforms"

    alliance = RecordStore(tmp_path / "alliance")
    for name in ("platform-a", "platform-b"):
        report = import_feed(alliance, root / name / "feed")
        assert report.ok, report
    current = alliance.resolution().current

    def pseudonyms(member):
        out = set()
        for v in current.values():
            if v["issuer"]["member_id"] == member:
                subject = v["subject"]
                out |= {subject["account"]["pseudonym"]} if "account" in subject else {
                    m["ref"] for m in subject.get("ring", {}).get("members", []) if m["kind"] == "account"}
        return out

    shared = pseudonyms("platform-a") & pseudonyms("platform-b")
    assert shared, "the merged feeds link accounts flagged on both platforms"
    import hashlib
    import hmac
    key = bytes.fromhex("00" * 16 + "ab" * 16)
    by_pseudonym = {hmac.new(key, f"platform_account|{a}".encode(), hashlib.sha256).hexdigest(): a
                    for a in set(orders["buyer_id"])}
    linked = {by_pseudonym[p] for p in shared}
    assert len(linked & both) / len(linked) >= 0.8  # the links are mostly true shared ring accounts
    for p in list(shared)[:3]:
        members = {v["issuer"]["member_id"] for v in holdings(current, pseudonym=p)}
        assert members == {"platform-a", "platform-b"}

    raw = set(orders["buyer_id"]) | set(orders["ship_phone"]) - {""} | set(orders["device_id"]) - {""}
    for name in ("platform-a", "platform-b"):
        text = (root / name / "feed" / FEED).read_text(encoding="utf-8")
        assert not [value for value in raw if f'"{value}"' in text]


def test_signed_versions_are_checked_against_the_keyring(tmp_path, record):
    from antifraud.signing import Keyring, Signer, generate_key, sign_json

    info = generate_key(tmp_path / "keys" / "platform-a")
    keyring = Keyring.from_directory(tmp_path / "keys")
    signed = dict(record, signature=sign_json(record, Signer.from_file(info.private_path)))
    forged = {**signed, "behavior": {**signed["behavior"], "metrics": {"orders": 1}}}
    unsigned = dict(record, id="acr--2b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10")
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (signed, forged, unsigned)), encoding="utf-8")

    report = import_feed(RecordStore(tmp_path / "a"), path, keyring=keyring, expect_manifest=False)
    assert report.accepted == 2 and [(r.line, r.reason) for r in report.rejected] == [
        (2, f"signature: bad signature (key {info.key_id!r})")]
    strict = import_feed(RecordStore(tmp_path / "b"), path, keyring=keyring, require_signatures=True,
                         expect_manifest=False)
    assert strict.accepted == 1 and [r.line for r in strict.rejected] == [2, 3]
    assert "requires a valid signature" in strict.rejected[1].reason


def test_a_member_cannot_sign_for_another(tmp_path, record):
    from antifraud.signing import Keyring, Signer, generate_key, sign_json

    generate_key(tmp_path / "keys" / "platform-a")
    mallory = generate_key(tmp_path / "keys" / "platform-m")
    forged = dict(record, signature=sign_json(record, Signer.from_file(mallory.private_path)))
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps(forged) + "\n", encoding="utf-8")
    report = import_feed(RecordStore(tmp_path / "s"), path, keyring=Keyring.from_directory(tmp_path / "keys"),
                         expect_manifest=False)
    assert [r.reason for r in report.rejected] == [
        "signature: made with platform-m's key, but the record is issued by platform-a"]


def test_signed_manifest_binds_the_feed_to_its_issuer(tmp_path, record):
    from antifraud.signing import Keyring, Signer, generate_key

    store, _ = _own_store(tmp_path, record)
    mine = generate_key(tmp_path / "keys" / "platform-a")
    other = generate_key(tmp_path / "keys" / "platform-m")
    keyring = Keyring.from_directory(tmp_path / "keys")
    export_feed(store, tmp_path / "feed", member_id="platform-a", signer=Signer.from_file(mine.private_path))
    assert import_feed(RecordStore(tmp_path / "p1"), tmp_path / "feed", keyring=keyring).ok

    manifest_path = tmp_path / "feed" / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["records"] = 2  # claims fewer lines, as if one had been dropped and the count fixed
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    report = import_feed(RecordStore(tmp_path / "p2"), tmp_path / "feed", keyring=keyring)
    assert any("signature: bad signature" in p for p in report.feed_problems)

    export_feed(store, tmp_path / "forged", member_id="platform-a", signer=Signer.from_file(other.private_path))
    report = import_feed(RecordStore(tmp_path / "p3"), tmp_path / "forged", keyring=keyring)
    assert any("made with platform-m's key, but the feed is issued by platform-a" in p for p in report.feed_problems)
