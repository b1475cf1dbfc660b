"""The record store's invariants under any sequence of commands, replays, forgeries and two
writers at once (a hypothesis state machine).

Member ``platform-a`` keeps its records in its own store through the CLI, exports signed feeds
and issues findings again (a re-run of detect); member ``platform-c`` imports those feeds;
member ``platform-b`` tries to pass versions off as ``platform-a``'s. Whatever the sequence:
no version a store accepted is ever lost, no two stored versions claim one place, whatever a
store was offered is stored, quarantined or was already there, nothing forged is accepted,
and ``platform-c`` holds what ``platform-a`` holds after each import of its feed.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import tempfile
import uuid
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from typer.testing import CliRunner

from antifraud.cli.main import app
from antifraud.records.chain import record_hash
from antifraud.records.feed import export_feed, import_feed
from antifraud.records.lifecycle import revoke, timestamp
from antifraud.records.store import RecordStore

ACTIONS = {
    "review": ("--reviewer", "analyst"),
    "amend": ("--set", "behavior.metrics.orders=7", "--reason", "recount"),
    "object": ("--by", "the merchant", "--statement", "real buyers"),
    "resolve": ("--result", "rejected", "--reason", "one device farm"),
    "revoke": ("--reason", "issued in error"),
    "expire": (),
}
DECISION = ("--list", "black", "--severity", "general", "--basis", "platform_rule", "--authority", "platform-a",
            "--decided-on", "2026-11-03", "--listed-on", "2026-11-03", "--publish-until", "2027-05-03")


def _cli(*args: object) -> int:
    return CliRunner().invoke(app, [str(a) for a in args]).exit_code


def _finding(record: dict, n: int, issued_at: str) -> dict:
    """``record`` as finding ``n`` of platform-a's detection run, issued at ``issued_at``."""
    record["id"] = f"acr--{uuid.uuid5(uuid.NAMESPACE_URL, f'finding-{n}')}"
    record.update(created=issued_at, modified=issued_at)
    record["events"][0]["at"] = issued_at
    return record


class StoreMachine(RuleBasedStateMachine):
    findings = Bundle("findings")

    def __init__(self, new_record, members_in) -> None:  # noqa: ANN001
        super().__init__()
        self.new_record = new_record
        self.root = Path(tempfile.mkdtemp())
        self.members = members_in(self.root / "keys")
        for name in ("platform-a", "platform-b"):
            self.members.key(name)
        self.own, self.peer = RecordStore(self.root / "own"), RecordStore(self.root / "peer")
        self.ever_accepted: dict[RecordStore, set[str]] = {self.own: set(), self.peer: set()}
        self.offered: dict[RecordStore, set[str]] = {self.own: set(), self.peer: set()}
        self.issues = 0
        self.feeds = 0

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _as_a(self) -> tuple:
        return ("--store", self.own.path, "--member", "platform-a", "--signing-key", self.members.key("platform-a"),
                "--keyring", self.members.folder)

    def _offer(self, store: RecordStore, path: Path, *, genuine: bool = True, **kwargs: object):  # noqa: ANN202
        if genuine:  # what is forged is turned away at the door (see forge), not stored
            for line in path.read_text(encoding="utf-8").splitlines():
                self.offered[store].add(record_hash(json.loads(line)))
        return import_feed(store, path, keyring=self.members.keyring(), **kwargs)

    @rule(target=findings, n=st.integers(0, 2))
    def issue(self, n: int) -> str:
        """detect's findings added to the store; adding a finding again (a re-run) changes nothing."""
        self.issues += 1
        record = self.members.sign(_finding(self.new_record(), n, timestamp(1_790_000_000 + self.issues)))
        path = self.root / f"findings-{self.issues}.jsonl"
        path.write_text(json.dumps(record) + "\n", encoding="utf-8")
        before = self.own.resolution().current.get(record["id"])
        report = self._offer(self.own, path, expect_manifest=False)
        assert report.rejected == [] and report.accepted == 1
        assert self.own.resolution().current[record["id"]] == (before or record)
        return record["id"]

    @rule(rid=findings, action=st.sampled_from(sorted(ACTIONS)))
    def change(self, rid: str, action: str) -> None:
        before = self.own.resolution().current[rid]
        code = _cli("records", action, rid, *self._as_a(), *ACTIONS[action])
        after = self.own.resolution().current[rid]
        if code == 0:
            assert after["version"] == before["version"] + 1
        else:
            assert code == 2 and after == before
        if before["status"] != "revoked" and action == "revoke":
            assert code == 0 and after["status"] == "revoked"  # revoke takes effect or says why not

    @rule(rid=findings)
    def list_entry_twice(self, rid: str) -> None:
        first = _cli("records", "list-entry", rid, *self._as_a(), *DECISION)
        assert _cli("records", "list-entry", rid, *self._as_a(), *DECISION) == 2
        if first == 0:
            entry = self.own.resolution().current
            assert sum(v["record_type"] == "list_entry" for v in entry.values()) >= 1

    @rule(rid=findings)
    def two_writers_at_once(self, rid: str) -> None:
        """Two processes change one record at the same moment: both changes land, one after the other."""
        before = self.own.resolution().current[rid]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(2) as pool:
            codes = pool.starmap(_cli, [("records", "amend", rid, *self._as_a(), "--set", f"behavior.metrics.w={i}",
                                         "--reason", f"writer {i}") for i in range(2)])
        chain = self.own.resolution().chains[rid]
        assert chain[-1]["version"] == before["version"] + codes.count(0)
        assert codes == ([2, 2] if before["status"] not in ("issued", "amended") else [0, 0])

    @rule()
    def sync(self) -> None:
        """platform-a exports a signed full feed; platform-c imports it (again is a no-op)."""
        self.feeds += 1
        out = self.root / f"feed-{self.feeds}"
        export_feed(self.own, out, member_id="platform-a", signer=self.members.signer("platform-a"))
        for _ in range(2):
            report = self._offer(self.peer, out / "feed.jsonl")
            assert report.ok, report
        assert self.peer.resolution().current == self.own.resolution().current

    @rule(rid=findings, how=st.sampled_from(["unsigned", "platform-b", "fork"]))
    def forge(self, rid: str, how: str) -> None:
        """A revocation in platform-a's name that platform-a did not make, offered to both stores."""
        current = self.own.resolution().current[rid]
        if current["status"] == "revoked":
            return
        forged = revoke(current, by="platform-a", at=timestamp(1_800_000_000), reason="forged")
        if how == "platform-b":
            forged = self.members.sign(forged, "platform-b")
        elif how == "fork":  # a genuine signature over a version that forks the chain
            forged = self.members.sign({**forged, "events": forged["events"][:-1] + [
                {**forged["events"][-1], "reason": "another branch"}]})
            self.own.add([self.members.sign(revoke(current, by="platform-a", at=timestamp(1_800_000_000),
                                                    reason="the real one"))])
        path = self.root / "forged.jsonl"
        path.write_text(json.dumps(forged) + "\n", encoding="utf-8")
        for store in (self.own,) if how == "fork" else (self.own, self.peer):
            report = self._offer(store, path, genuine=how == "fork", expect_manifest=False, allow_unsigned=True)
            assert report.accepted == 0 and len(report.rejected) == 1
            assert forged not in store.versions()

    @invariant()
    def nothing_accepted_is_lost(self) -> None:
        for store, seen in self.ever_accepted.items():
            resolution = store.resolution()
            accepted = {record_hash(v) for chain in resolution.chains.values() for v in chain}
            assert seen <= accepted
            seen |= accepted

    @invariant()
    def no_two_versions_claim_one_place(self) -> None:
        for store in (self.own, self.peer):
            places = [(v["id"], v["version"]) for v in store.versions()]
            assert len(places) == len(set(places))

    @invariant()
    def whatever_was_offered_is_kept_or_set_aside(self) -> None:
        for store, offered in self.offered.items():
            kept = {record_hash(v) for v in store.versions()} | {record_hash(v) for v, _ in store.quarantine()}
            places = {(v["id"], v["version"]) for v in store.versions()}
            for digest in offered - kept:  # only a re-issue of a version held may be absent
                assert digest in self._reissues(store, places)

    def _reissues(self, store: RecordStore, places: set) -> set[str]:
        out = set()
        for path in self.root.glob("findings-*.jsonl"):
            record = json.loads(path.read_text(encoding="utf-8"))
            if (record["id"], record["version"]) in places:
                out.add(record_hash(record))
        return out


def test_record_store_invariants(new_record, members_in):
    run_state_machine_as_test(lambda: StoreMachine(new_record, members_in),
                              settings=settings(max_examples=25, stateful_step_count=15, deadline=None))
