"""Feed import on hostile input: a signed feed mangled at random never crashes the import,
never lets a changed version in, and accounts for every line."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antifraud.records.chain import record_hash
from antifraud.records.feed import FEED, MANIFEST, export_feed, import_feed
from antifraud.records.lifecycle import amend, review
from antifraud.records.store import RecordStore

HOSTILE_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.just("\x00"), st.just("=cmd|' /C calc'!A0"), st.just("9" * 400),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@pytest.fixture(scope="module")
def signed_feed(tmp_path_factory, new_record, members_in):
    """platform-a's signed feed of three versions, and the keyring to check it."""
    root = tmp_path_factory.mktemp("fuzz")
    members = members_in(root / "keys")
    v1 = members.sign(new_record())
    v2 = members.sign(review(v1, reviewer="r", at="2026-11-02T00:00:00.000Z"))
    v3 = members.sign(amend(v2, {"sharing.level": "green"}, by="platform-a", at="2026-11-03T00:00:00.000Z",
                            reason="shareable"))
    store = RecordStore(root / "own")
    store.add([v1, v2, v3])
    export_feed(store, root / "feed", member_id="platform-a", signer=members.signer("platform-a"))
    return root / "feed", members.keyring(), {record_hash(v) for v in (v1, v2, v3)}


def _set(obj: object, path: list[int], value: object) -> object:
    """``obj`` with the node reached by walking ``path`` (indices into keys or items) replaced."""
    if not path or not isinstance(obj, (dict, list)) or not obj:
        return value
    keys = list(obj) if isinstance(obj, dict) else list(range(len(obj)))
    key = keys[path[0] % len(keys)]
    obj[key] = _set(obj[key], path[1:], value)
    return obj


def _numbers(obj: object, path: tuple = ()) -> list[tuple]:
    """The paths of every number in ``obj``."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _numbers(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _numbers(v, (*path, i))]
    return [path] if isinstance(obj, (int, float)) and not isinstance(obj, bool) else []


mutation = st.one_of(
    st.tuples(st.just("number"), st.integers(0, 2), st.integers(0, 50),
              st.sampled_from([float("nan"), float("inf"), 2**53 + 1, -(2**60), 1e308, 10**400, 0.1 + 0.2, -0.0])),
    st.tuples(st.just("value"), st.integers(0, 2), st.lists(st.integers(0, 50), min_size=1, max_size=4),
              HOSTILE_VALUES),
    st.tuples(st.just("bytes"), st.integers(0, 2), st.integers(0, 10_000), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("cut"), st.integers(0, 2), st.integers(0, 10_000)),
    st.tuples(st.just("duplicate"), st.integers(0, 2)),
    st.tuples(st.just("junk"), st.binary(max_size=200)),
)


def _mangle(lines: list[bytes], steps: list[tuple]) -> list[bytes]:
    lines = list(lines)
    for step in steps:
        kind, *args = step
        if kind == "junk":
            lines.append(args[0].replace(b"\n", b" "))
            continue
        i = args[0] % len(lines)
        if not lines[i]:
            continue
        if kind in ("value", "number"):
            try:
                record = json.loads(lines[i])
            except ValueError:
                continue
            if kind == "number":
                paths = _numbers(record)
                *parents, leaf = paths[args[1] % len(paths)]
                node = record
                for key in parents:
                    node = node[key]
                node[leaf] = args[2]
            else:
                record = _set(record, args[1], args[2])
            lines[i] = json.dumps(record, ensure_ascii=False).encode("utf-8", "replace")
        elif kind == "bytes":
            at = args[1] % len(lines[i])
            lines[i] = (lines[i][:at] + args[2] + lines[i][at + len(args[2]):]).replace(b"\n", b" ")
        elif kind == "cut":
            lines[i] = lines[i][: args[1] % len(lines[i])]
        else:
            lines.append(lines[i])
    return lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(mutation, min_size=1, max_size=4), keep_manifest=st.booleans(), signed=st.booleans())
def test_a_mangled_feed_never_crashes_and_never_lets_a_change_in(signed_feed, steps, keep_manifest, signed):
    """Signed: nothing changed gets in. Unsigned and allowed (no keyring): whatever is valid
    gets in, and still nothing crashes."""
    feed, keyring, genuine = signed_feed
    original = feed.joinpath(FEED).read_bytes().splitlines()
    if not signed:
        original = [json.dumps({k: v for k, v in json.loads(line).items() if k != "signature"}).encode()
                    for line in original]
    work = Path(tempfile.mkdtemp())
    try:
        lines = _mangle(original, steps)
        written = b"\n".join(lines) + b"\n"
        (work / FEED).write_bytes(written)
        if keep_manifest:
            shutil.copy(feed / MANIFEST, work / MANIFEST)
        store = RecordStore(work / "store")
        report = import_feed(store, work, keyring=keyring if signed else None, allow_unsigned=not signed,
                             expect_manifest=keep_manifest)
        accounted = report.accepted + len(report.held) + len(report.rejected)
        assert accounted == sum(bool(line.strip()) for line in written.split(b"\n"))
        if signed:
            assert {record_hash(v) for v in store.versions()} <= genuine
            assert {record_hash(v) for v, _ in store.quarantine()} <= genuine
        if keep_manifest and lines != original:
            assert report.feed_problems and store.versions() == []
    finally:
        shutil.rmtree(work)
