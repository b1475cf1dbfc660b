import itertools
import random

from antifraud.records.chain import record_hash
from antifraud.records.lifecycle import amend, object_to, revoke
from antifraud.records.lifecycle import resolve as resolve_objection
from antifraud.records.store import RecordStore, holdings, resolve

T = [f"2026-11-{d:02d}T00:00:00.000Z" for d in range(2, 29)]


def _history(record):
    v2 = amend(record, {"sharing.level": "red"}, by="a", at=T[0], reason="x")
    v3 = object_to(v2, by="m", statement="not us", at=T[1])
    v4 = resolve_objection(v3, result="rejected", by="a", at=T[2], reason="y")
    return [record, v2, v3, v4]


def test_state_depends_only_on_the_set(record):
    versions = _history(record)
    states = set()
    for perm in itertools.permutations(versions):
        res = resolve(list(perm) + list(perm[:2]))  # any order, with repeats
        states.add(tuple(record_hash(v) for v in res.chains[record["id"]]))
        assert not res.rejected and not res.held
    assert len(states) == 1
    assert resolve(versions).current[record["id"]]["version"] == 4


def test_missing_predecessor_is_held_then_accepted(record):
    versions = _history(record)
    partial = resolve([versions[0], versions[2], versions[3]])
    assert partial.current[record["id"]]["version"] == 1
    assert [v["version"] for v, _ in partial.held] == [3, 4]
    assert "waits for a valid version 2" in partial.held[0][1]
    assert resolve(versions).current[record["id"]]["version"] == 4


def test_breaks_immutables_and_forks_are_rejected(record):
    v1, v2, *_ = _history(record)
    broken = {**v2, "prev_hash": "00" * 32}
    changed = amend(v1, {"sharing.level": "red"}, by="a", at=T[0], reason="x")
    changed["issuer"] = {**changed["issuer"], "member_id": "someone-else"}
    res = resolve([v1, v2, broken, changed])
    reasons = {record_hash(v): why for v, why in res.rejected}
    assert "breaks the chain" in reasons[record_hash(broken)]
    assert "issuer: is fixed" in reasons[record_hash(changed)]
    assert res.current[record["id"]] == v2
    fork = amend(v1, {"sharing.level": "amber+strict"}, by="a", at=T[0], reason="other")
    res = resolve([v1, v2, fork])
    assert res.current[record["id"]] == v1 and {"fork" in why for _, why in res.rejected} == {True}


def test_nothing_after_revocation(record):
    v2 = revoke(record, by="a", at=T[0], reason="issued in error")
    after = amend(record, {"sharing.level": "red"}, by="a", at=T[1], reason="x")
    after.update(version=3, prev_hash=record_hash(v2), events=v2["events"] + after["events"][-1:])
    res = resolve([record, v2, after])
    assert res.current[record["id"]]["status"] == "revoked"
    assert "revoked the record" in res.rejected[0][1]


def test_store_is_idempotent_and_sorted(record, tmp_path):
    versions = _history(record)
    store = RecordStore(tmp_path / "store")
    random.Random(0).shuffle(versions)
    assert store.add(versions)[0] == 4
    first = (tmp_path / "store" / "versions.jsonl").read_bytes()
    assert store.add(versions[:2])[0] == 0
    assert (tmp_path / "store" / "versions.jsonl").read_bytes() == first
    assert [v["version"] for v in store.versions()] == [1, 2, 3, 4]


def test_holdings_by_code_and_pseudonym(record):
    current = resolve([record]).current
    assert [v["id"] for v in holdings(current, uscc="91440300708461136T")] == [record["id"]]
    assert holdings(current, uscc="914403001922038216") == []  # the issuer's code is not a subject
    assert holdings(current, pseudonym="ab" * 32) == []


def test_concurrent_writers_lose_nothing(record, tmp_path):
    """Two processes adding different versions at once both land (the store is locked per write)."""
    import multiprocessing

    versions = _history(record)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.starmap(_add_to, [(str(tmp_path / "store"), versions[:2]), (str(tmp_path / "store"), versions[2:])])
    assert sorted(v["version"] for v in RecordStore(tmp_path / "store").versions()) == [1, 2, 3, 4]


def _add_to(path, versions):
    for version in versions:
        RecordStore(path).add([version])
