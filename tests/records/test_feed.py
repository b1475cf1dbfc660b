import json

import pandas as pd
import pytest

from antifraud.records.feed import FEED, MANIFEST, export_feed, import_feed
from antifraud.records.lifecycle import amend, review, revoke
from antifraud.records.store import RecordStore, holdings

T = [f"2026-11-{d:02d}T00:00:00.000Z" for d in range(2, 29)]


def _own_store(tmp_path, record, members):
    """platform-a's store: a finding, reviewed, then amended, every version signed."""
    store = RecordStore(tmp_path / "own")
    v1 = members.sign(record)
    v2 = members.sign(review(v1, reviewer="r", at=T[0]))
    v3 = members.sign(amend(v2, {"sharing.level": "green"}, by="platform-a", at=T[2], reason="reviewed, shareable"))
    store.add([v1, v2, v3])
    return store, [v1, v2, v3]


def _export(store, out, members, member="platform-a", **kwargs):
    return export_feed(store, out, member_id=member, signer=members.signer(member), **kwargs)


def test_full_then_delta_equals_full(tmp_path, record, members):
    store, (v1, v2, v3) = _own_store(tmp_path, record, members)
    full = _export(store, tmp_path / "full", members)
    delta = _export(store, tmp_path / "delta", members, since="2026-11-03T08:00:00+08:00")
    assert full["records"] == 3 and delta["records"] == 1 and delta["since"] == T[1]
    partial = RecordStore(tmp_path / "peer1")
    partial.add([v1, v2])  # what a peer held after the earlier full feed
    assert import_feed(partial, tmp_path / "delta", keyring=members.keyring()).ok
    whole = RecordStore(tmp_path / "peer2")
    assert import_feed(whole, tmp_path / "full", keyring=members.keyring()).ok
    assert partial.resolution().current == whole.resolution().current
    assert whole.resolution().current[record["id"]]["version"] == 3


def test_merge_is_order_independent_and_idempotent(tmp_path, record, members):
    store, _ = _own_store(tmp_path, record, members)
    _export(store, tmp_path / "a", members)
    other = members.sign(dict(record, id="acr--1b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10"))
    other_store = RecordStore(tmp_path / "other")
    other_store.add([other])
    _export(other_store, tmp_path / "b", members)
    files = []
    for name, order in (("ab", "ab"), ("ba", "ba"), ("abab", "abab")):
        peer = RecordStore(tmp_path / name)
        for feed in order:
            assert import_feed(peer, tmp_path / feed, keyring=members.keyring()).ok
        files.append((tmp_path / name / "versions.jsonl").read_bytes())
    assert files[0] == files[1] == files[2]


def test_broken_lines_are_reported_and_good_lines_kept(tmp_path, record, members):
    store, versions = _own_store(tmp_path, record, members)
    _export(store, tmp_path / "feed", members)
    lines = (tmp_path / "feed" / FEED).read_text(encoding="utf-8").splitlines()
    bad_schema = json.loads(lines[1])
    bad_schema["assessment"]["confidence"] = 250
    nested = "[" * 100_000 + "]" * 100_000
    huge = json.dumps({"x": "y" * 5_000_000})
    broken = [lines[0], "{not json", json.dumps(bad_schema), nested, huge, "\udcff", lines[2], lines[1]]
    path = tmp_path / "broken.jsonl"
    path.write_bytes("\n".join(broken).encode("utf-8", "surrogateescape") + b"\n")
    report = import_feed(RecordStore(tmp_path / "peer"), path, keyring=members.keyring(), expect_manifest=False)
    reasons = {item.line: item.reason for item in report.rejected}
    assert set(reasons) == {2, 3, 4, 5, 6}
    assert "not JSON" in reasons[2]
    assert "assessment.confidence" in reasons[3]
    assert "nested too deeply" in reasons[4] or "not JSON" in reasons[4]
    assert "longer than" in reasons[5] and "not UTF-8" in reasons[6]
    assert report.accepted == 3 and report.held == [] and report.feed_problems == []


def test_a_feed_whose_manifest_does_not_check_is_not_imported(tmp_path, record, members):
    store, _ = _own_store(tmp_path, record, members)
    _export(store, tmp_path / "feed", members)
    feed = tmp_path / "feed" / FEED
    feed.write_text("".join(feed.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    peer = RecordStore(tmp_path / "peer")
    report = import_feed(peer, tmp_path / "feed", keyring=members.keyring())
    assert any("sha256 does not match" in p for p in report.feed_problems)
    assert any("says 3 records" in p for p in report.feed_problems)
    assert report.accepted == 0 and [r.line for r in report.rejected] == [1, 2]
    assert {r.reason for r in report.rejected} == {"not imported: the feed's manifest does not check"}
    assert peer.versions() == []
    (tmp_path / "feed" / MANIFEST).unlink()
    assert any("no feed.manifest.json" in p for p in import_feed(peer, tmp_path / "feed").feed_problems)
    assert peer.versions() == []


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
    from antifraud.ingest.pseudonym import Pseudonymizer
    from antifraud.records.issuing import Issuer
    from antifraud.synth import write_synthetic_export

    root = tmp_path_factory.mktemp("platforms")
    write_synthetic_export(root / "world", seed=11, n_orders=30_000)
    orders = pd.read_csv(root / "world" / "orders.csv", dtype=str, keep_default_na=False)
    on_b = orders["seller_id"].str[-1].astype(int) % 2 == 1
    codes = {"platform-a": "914403001922038216", "platform-b": "91440300708461136T"}
    alliance_key = Pseudonymizer(bytes.fromhex("00" * 16 + "ab" * 16), key_id="alliance-test")
    for name, part in (("platform-a", orders[~on_b]), ("platform-b", orders[on_b])):
        (root / name).mkdir()
        part.to_csv(root / name / "orders.csv", index=False)
        issuer = Issuer(member_id=name, uscc=codes[name], role="platform", platform=name)
        detect([root / name / "orders.csv"], PROFILES["generic"], out_dir=root / name / "run", seed=1,
               issuer=issuer, pseudonymizer=alliance_key)
        store = RecordStore(root / name / "store")
        assert import_feed(store, root / name / "run" / "findings.jsonl", expect_manifest=False,
                           allow_unsigned=True).ok
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
        report = import_feed(alliance, root / name / "feed", allow_unsigned=True)
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


def test_only_versions_signed_by_their_issuer_are_accepted(tmp_path, record, members):
    members.key("platform-m")
    signed = members.sign(record)
    forged = {**signed, "behavior": {**signed["behavior"], "metrics": {"orders": 1}}}
    by_another = members.sign(dict(record, id="acr--3b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10"), "platform-m")
    unsigned = dict(record, id="acr--2b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10")
    stranger = dict(record, id="acr--4b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10",
                    issuer={**record["issuer"], "member_id": "platform-z"})
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (signed, forged, by_another, unsigned, stranger)))
    key = members.signer("platform-a").key_id

    def rejected(**kwargs):
        report = import_feed(RecordStore(tmp_path / str(len(kwargs)) / str(sorted(kwargs))), path,
                             expect_manifest=False, **kwargs)
        return {r.line: r.reason for r in report.rejected}

    assert rejected() == {n: rejected()[n] for n in (1, 2, 3, 4, 5)}  # no keyring: nothing can be trusted
    assert "give a keyring holding platform-a.pub" in rejected()[4]
    strict = rejected(keyring=members.keyring())
    assert set(strict) == {2, 3, 4, 5} and strict[2] == f"signature: bad signature (key {key!r})"
    assert strict[3] == "signature: made with platform-m's key, but the record is issued by platform-a"
    assert "keyring holds platform-a's key" in strict[4] and "--allow-unsigned" in strict[5]
    # Allowing unsigned material admits it only from members whose key the keyring does not hold.
    assert set(rejected(keyring=members.keyring(), allow_unsigned=True)) == {2, 3, 4}


def test_a_revocation_relayed_in_the_issuers_name_is_rejected(tmp_path, record, members):
    """Member B revokes A's record in its own store, unsigned, and exports it 'as platform-a'."""
    members.key("platform-b")
    store_a, versions = _own_store(tmp_path, record, members)
    store_b = RecordStore(tmp_path / "b")
    store_b.add(versions)
    forged = revoke(versions[-1], by="platform-a", at=T[5], reason="issued in error")
    store_b.add([forged])
    export_feed(store_b, tmp_path / "feed-b", member_id="platform-a")  # unsigned manifest
    store_c = RecordStore(tmp_path / "c")
    assert import_feed(store_c, tmp_path / "feed-b", keyring=members.keyring(), allow_unsigned=True).feed_problems
    export_feed(store_b, tmp_path / "feed-b2", member_id="platform-a", signer=members.signer("platform-b"))
    report = import_feed(store_c, tmp_path / "feed-b2", keyring=members.keyring())
    assert any("made with platform-b's key, but the feed is issued by platform-a" in p for p in report.feed_problems)
    assert store_c.versions() == []
    # Even inside a feed that checks, the forged version is not accepted.
    _export(store_a, tmp_path / "feed-a", members)
    good = import_feed(store_c, tmp_path / "feed-a", keyring=members.keyring())
    assert good.ok and store_c.resolution().current[record["id"]]["status"] == "amended"
    forged_line = json.dumps(forged) + "\n"
    (tmp_path / "one.jsonl").write_text(forged_line)
    report = import_feed(store_c, tmp_path / "one.jsonl", keyring=members.keyring(), expect_manifest=False,
                         allow_unsigned=True)
    assert "keyring holds platform-a's key" in report.rejected[0].reason
    assert store_c.resolution().current[record["id"]]["status"] == "amended"


def test_a_feed_carries_only_its_issuers_records(tmp_path, record, members):
    members.key("platform-b")
    theirs = members.sign(dict(record, id="acr--5b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10",
                               issuer={**record["issuer"], "member_id": "platform-b"}))
    store = RecordStore(tmp_path / "s")
    store.add([members.sign(record), theirs])
    _export(store, tmp_path / "feed", members)
    lines = (tmp_path / "feed" / FEED).read_text().splitlines()
    assert len(lines) == 1  # export writes the member's own records only
    (tmp_path / "feed" / FEED).write_text(lines[0] + "\n" + json.dumps(theirs) + "\n")
    report = import_feed(RecordStore(tmp_path / "peer"), tmp_path / "feed", keyring=members.keyring())
    assert "issued by platform-b, but the feed is platform-a's" in report.rejected[-1].reason


def test_signed_manifest_binds_the_feed_to_its_issuer(tmp_path, record, members):
    store, _ = _own_store(tmp_path, record, members)
    members.key("platform-m")
    keyring = members.keyring()
    _export(store, tmp_path / "feed", members)
    assert import_feed(RecordStore(tmp_path / "p1"), tmp_path / "feed", keyring=keyring).ok

    manifest_path = tmp_path / "feed" / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["records"] = 2  # claims fewer lines, as if one had been dropped and the count fixed
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    report = import_feed(RecordStore(tmp_path / "p2"), tmp_path / "feed", keyring=keyring)
    assert any("signature: bad signature" in p for p in report.feed_problems)

    export_feed(store, tmp_path / "forged", member_id="platform-a", signer=members.signer("platform-m"))
    report = import_feed(RecordStore(tmp_path / "p3"), tmp_path / "forged", keyring=keyring)
    assert any("made with platform-m's key, but the feed is issued by platform-a" in p for p in report.feed_problems)


def test_since_is_read_as_a_time(tmp_path, record, members):
    store, _ = _own_store(tmp_path, record, members)
    with pytest.raises(ValueError, match="'yesterday' is not an RFC 3339 time"):
        _export(store, tmp_path / "feed", members, since="yesterday")
    assert _export(store, tmp_path / "feed", members, since="2026-11-04T07:59:59.999+08:00")["records"] == 1


def test_numbers_without_a_canonical_form_are_rejected_by_line(tmp_path, record):
    """NaN, infinities and integers beyond 2**53 cannot be hashed or signed (RFC 8785)."""
    lines = []
    for n, value in enumerate(("NaN", "Infinity", "1e400", str(2**60), "9007199254740991")):
        rid = f"acr--{n}b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10"
        lines.append(json.dumps(dict(record, id=rid)).replace('"orders": 412', f'"orders": {value}'))
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_feed(RecordStore(tmp_path / "s"), path, expect_manifest=False, allow_unsigned=True)
    reasons = {r.line: r.reason for r in report.rejected}
    assert set(reasons) == {1, 2, 3, 4} and report.accepted == 1
    assert reasons[1] == "not canonical JSON (RFC 8785): NaN is not a JSON number"
    assert "beyond 2**53" in reasons[4] and "out of range" in reasons[3]
