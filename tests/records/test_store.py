import itertools
import random

import pytest

from antifraud.records.chain import canonical_bytes, record_hash
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


def test_breaks_immutables_are_rejected(record):
    v1, v2, *_ = _history(record)
    broken = {**v2, "prev_hash": "00" * 32}
    changed = amend(v1, {"sharing.level": "red"}, by="a", at=T[0], reason="x")
    changed["issuer"] = {**changed["issuer"], "member_id": "someone-else"}
    res = resolve([v1, v2, broken, changed])
    reasons = {record_hash(v): why for v, why in res.rejected}
    assert "breaks the chain" in reasons[record_hash(broken)]
    assert "issuer: is fixed" in reasons[record_hash(changed)]
    assert res.current[record["id"]] == v2


def test_a_fork_keeps_the_branch_that_reaches_furthest(record):
    v1, v2, v3, v4 = _history(record)
    fork = amend(v1, {"sharing.level": "amber+strict"}, by="a", at=T[0], reason="other")
    for versions in ([v1, v2, fork], [v1, fork, v2]):
        res = resolve(versions)  # two version 2s of equal reach: the earlier, then the lower hash, stays
        kept = min((v2, fork), key=lambda v: (v["modified"], record_hash(v)))
        assert res.current[record["id"]] == kept
        assert [why[:5] for _, why in res.rejected] == ["fork:"]
    res = resolve([v1, fork, v2, v3, v4])  # the branch that goes on to version 4 wins, whatever the hashes
    assert res.current[record["id"]] == v4 and res.rejected[0][0] == fork
    assert "whose chain reaches version 4" in res.rejected[0][1]


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
    assert [v.new for v in store.add(versions)] == [True] * 4
    first = (tmp_path / "store" / "versions.jsonl").read_bytes()
    assert [v.new for v in store.add(versions[:2])] == [False, False]
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


def test_the_same_finding_issued_again_is_a_no_op(record, tmp_path):
    """Re-running detect on the same export re-issues its findings with a new time: nothing changes."""
    store = RecordStore(tmp_path / "store")
    store.add(_history(record))
    before = (tmp_path / "store" / "versions.jsonl").read_bytes()
    again = dict(record, created=T[9], modified=T[9], events=[dict(record["events"][0], at=T[9])],
                 sharing=dict(record["sharing"], retention_until="2029-11-30"))
    [verdict] = store.add([again])
    assert verdict.status == "accepted" and not verdict.new and "issued before" in verdict.reason
    assert (tmp_path / "store" / "versions.jsonl").read_bytes() == before
    assert store.quarantine() == [] and store.resolution().current[record["id"]]["version"] == 4


def test_a_fork_is_quarantined_and_the_chain_stays(record, tmp_path):
    store = RecordStore(tmp_path / "store")
    v1, v2, v3, v4 = _history(record)
    store.add([v1, v2])
    fork = amend(v1, {"sharing.level": "amber+strict"}, by="a", at=T[0], reason="other")
    [verdict] = store.add([fork])
    assert verdict.status == "rejected" and verdict.new and "fork: version 2" in verdict.reason
    assert "differs in events, sharing" in verdict.reason
    assert store.quarantine() == [(fork, verdict.reason)]
    assert fork not in store.versions() and store.resolution().current[record["id"]] == v2
    assert [v.status for v in store.add([v3, v4, fork])] == ["accepted", "accepted", "rejected"]
    assert store.resolution().current[record["id"]] == v4 and len(store.quarantine()) == 1


def test_rejected_versions_leave_the_store_for_the_quarantine(record, tmp_path):
    """A store written before forks were quarantined is mended by the next write: nothing is lost."""
    v1, v2, v3, v4 = _history(record)
    fork = amend(v1, {"sharing.level": "amber+strict"}, by="a", at=T[0], reason="other")
    broken = {**v3, "prev_hash": "00" * 32, "version": 3}
    store = RecordStore(tmp_path / "store")
    store.path.mkdir()
    lines = sorted(canonical_bytes(v) for v in (v1, v2, fork, v3, broken))
    (store.path / store.FILE).write_bytes(b"".join(line + b"\n" for line in lines))
    assert store.resolution().current[record["id"]] == v3  # the fork no longer hides the record
    store.add([v4])
    assert store.resolution().current[record["id"]] == v4
    assert {record_hash(v) for v, _ in store.quarantine()} == {record_hash(fork), record_hash(broken)}
    assert sorted(map(record_hash, store.versions())) == sorted(map(record_hash, (v1, v2, v3, v4)))


def test_change_refuses_what_would_not_be_accepted_and_writes_nothing(record, tmp_path):
    store = RecordStore(tmp_path / "store")
    store.add([record])
    store.change(record["id"], lambda current: [revoke(current, by="a", at=T[0], reason="error")])
    before = (tmp_path / "store" / "versions.jsonl").read_bytes()
    with pytest.raises(ValueError, match="not added: .*revoked the record"):
        store.change(record["id"], lambda current: [{**amend(record, {"sharing.level": "red"}, by="a", at=T[1],
                                                                  reason="x"), "prev_hash": record_hash(current),
                                                     "version": 3, "events": current["events"] + [
                                                         {"type": "amended", "at": T[1], "by": "a", "reason": "x"}]}])
    with pytest.raises(ValueError, match="not in the store"):
        store.change("acr--00000000-0000-5000-8000-000000000000", lambda current: [])
    assert (tmp_path / "store" / "versions.jsonl").read_bytes() == before and store.quarantine() == []


def test_concurrent_changes_are_applied_one_after_the_other(record, tmp_path):
    """Processes changing one record at once each get their own version: none forks another."""
    import multiprocessing

    store = RecordStore(tmp_path / "store")
    store.add([record])
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.starmap(_amend_in, [(str(store.path), record["id"], f"w{i}") for i in range(8)])
    chain = store.resolution().chains[record["id"]]
    assert [v["version"] for v in chain] == list(range(1, 10)) and store.quarantine() == []
    assert sorted(v["events"][-1]["reason"] for v in chain[1:]) == [f"w{i}" for i in range(8)]


def _amend_in(path, record_id, reason):
    from antifraud.records.lifecycle import utc_now

    RecordStore(path).change(record_id, lambda current: [
        amend(current, {"behavior.metrics.orders": current["version"]}, by="a", at=utc_now(), reason=reason)])
