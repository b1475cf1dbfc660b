import copy

from antifraud.records.chain import canonical_bytes, record_hash, successor_problems
from antifraud.records.lifecycle import amend, revoke
from antifraud.records.store import resolve

AT = "2026-11-02T00:00:00.000Z"


def test_canonical_form_is_rfc8785():
    # RFC 8785 section 3.2.2: keys sorted by UTF-16 code units, numbers in ES6 form, no spaces.
    assert canonical_bytes({"b": [1.0, 1e21, 0.1], "a": "\u20ac"}) == '{"a":"€","b":[1,1e+21,0.1]}'.encode()


def test_hash_ignores_key_order(record):
    shuffled = dict(reversed(list(record.items())))
    assert record_hash(shuffled) == record_hash(record)


def test_amended_version_chains(record):
    v2 = amend(record, {"sharing.level": "red"}, by="platform-a", at=AT, reason="tighter")
    assert v2["prev_hash"] == record_hash(record)
    assert successor_problems(record, v2) == []
    assert resolve([record, v2]).chains[record["id"]] == [record, v2]


def test_each_break_is_named(record):
    v2 = amend(record, {"sharing.level": "red"}, by="platform-a", at=AT, reason="tighter")
    for field, change in [
        ("prev_hash", {"prev_hash": "00" * 32}),
        ("version", {"version": 3}),
        ("subject", {"subject": {"merchant": {**record["subject"]["merchant"], "name": "other"}}}),
        ("created", {"created": AT}),
        ("events", {"events": record["events"]}),
        ("modified", {"modified": "2026-10-01T00:00:00.000Z"}),
    ]:
        assert field in [p.field for p in successor_problems(record, {**copy.deepcopy(v2), **change})], field


def test_tampering_with_an_earlier_version_breaks_the_chain(record):
    v2 = amend(record, {"sharing.level": "red"}, by="platform-a", at=AT, reason="tighter")
    v3 = amend(v2, {"assessment.confidence": 80}, by="platform-a", at=AT, reason="recalibrated")
    v2["assessment"]["confidence"] = 99  # edited by hand after the fact
    result = resolve([record, v2, v3])
    assert result.chains[record["id"]] == [record, v2]
    assert [(v["version"], why) for v, why in result.rejected] == [
        (3, "breaks the chain: prev_hash is not the hash of version 2")]


def test_nothing_follows_a_revocation(record):
    v2 = revoke(record, by="platform-a", at=AT, reason="issued in error")
    forged = {**copy.deepcopy(v2), "version": 3, "prev_hash": record_hash(v2), "status": "amended",
              "events": v2["events"] + [{"type": "amended", "at": AT, "by": "x", "reason": ""}]}
    assert "status" in [p.field for p in successor_problems(v2, forged)]


def test_chain_starts_at_version_one(record):
    v2 = amend(record, {"sharing.level": "red"}, by="platform-a", at=AT, reason="tighter")
    result = resolve([v2])
    assert not result.chains and "waits for a valid version 1" in result.held[0][1]
