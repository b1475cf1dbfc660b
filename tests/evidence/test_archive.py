import hashlib
import io
import json
import os
import stat
import struct
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antifraud.evidence import (
    ArchiveError,
    ProblemKind,
    safe_extract,
    verify_archive,
    write_archive,
)
from antifraud.evidence.names import name_problem
from antifraud.signing import Keyring, SignatureStatus, Signer, generate_key

FILES = {
    "rings.jsonl": b'{"ring": 1, "members": ["a", "b"]}\n',
    "evidence/orders.csv": b"order_id,buyer\no1,p1\no2,p2\n",
    "notes/店铺.txt": "刷单 evidence".encode(),
}
FIELDS = {"issuer": {"member_id": "member"}, "inputs": [{"path": "orders.csv", "sha256": "ab" * 32}], "seed": 7,
          "toolkit_version": "0.1.0"}
MB = 1 << 20


@pytest.fixture
def key(tmp_path):
    return generate_key(tmp_path / "keys" / "member")


@pytest.fixture
def keyring(key):
    return Keyring.from_directory(key.public_path.parent)


@pytest.fixture
def signed(tmp_path, key):
    path = tmp_path / "bundle.zip"
    write_archive(path, FILES, FIELDS, Signer.from_file(key.private_path))
    return path


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def rewrite(src: Path, dst: Path, change=lambda name, data: data, add=None):
    """Copy a zip, passing each member through ``change`` (None drops it), then adding ``add``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def craft(path: Path, entries) -> Path:
    """A zip built by hand; entries are (name or ZipInfo, bytes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in entries:
                zf.writestr(info, data)
    return path


def kinds(report):
    return {(p.name, p.kind) for p in report.problems}


def test_signed_bundle_round_trip(signed, keyring, key):
    report = verify_archive(signed, keyring)
    assert report.ok, report.problems
    assert report.signature is SignatureStatus.VALID and report.key_id == key.key_id
    assert sorted(report.matched) == sorted(FILES)
    assert report.manifest["seed"] == 7 and report.manifest["format"] == "antifraud-bundle/1"
    assert report.summary().startswith("OK:") and "member" in report.summary()


@pytest.mark.parametrize(("issuer", "why"), [
    ({"member_id": "platform-a"}, "signed with member's key, but the manifest names issuer platform-a"),
    (None, "signed with member's key, but the manifest names no issuer"),
    ("member", "signed with member's key, but the manifest names no issuer"),
])
def test_the_signer_must_be_the_issuer_the_manifest_names(tmp_path, key, keyring, issuer, why):
    fields = {**FIELDS, "issuer": issuer}
    write_archive(tmp_path / "b.zip", FILES, fields, Signer.from_file(key.private_path))
    report = verify_archive(tmp_path / "b.zip", keyring)
    assert report.signature is SignatureStatus.VALID and not report.ok
    assert [(p.name, p.kind) for p in report.problems] == [("manifest.json", ProblemKind.WRONG_ISSUER)]
    assert why in report.problems[0].detail
    anonymous = Keyring([keyring.get(key.key_id)])  # a keyring that does not say who holds the key
    write_archive(tmp_path / "c.zip", FILES, FIELDS, Signer.from_file(key.private_path))
    assert kinds(verify_archive(tmp_path / "c.zip", anonymous)) == {("manifest.json", ProblemKind.WRONG_ISSUER)}


def _findings(*citations):
    return "".join(json.dumps({"issuer": {"member_id": "member"},
                               "evidence": [{"path": path, "sha256": sha} for path, sha in citations]}) + "\n"
                   for _ in range(2)).encode()


def test_findings_must_cite_the_evidence_the_bundle_holds(tmp_path, key, keyring):
    evidence = FILES["evidence/orders.csv"]
    right = hashlib.sha256(evidence).hexdigest()
    signer = Signer.from_file(key.private_path)
    files = {**FILES, "rings/R1/findings.jsonl": _findings(("evidence/orders.csv", right), ("elsewhere.bin", "0" * 64))}
    write_archive(tmp_path / "good.zip", files, FIELDS, signer)
    assert verify_archive(tmp_path / "good.zip", keyring).ok  # evidence the bundle does not hold is not checked
    files["rings/R1/findings.jsonl"] = _findings(("evidence/orders.csv", "1" * 64))
    write_archive(tmp_path / "bad.zip", files, FIELDS, signer)
    report = verify_archive(tmp_path / "bad.zip", keyring)
    assert kinds(report) == {("rings/R1/findings.jsonl", ProblemKind.EVIDENCE_MISMATCH)}
    assert "evidence/orders.csv" in report.problems[0].detail and len(report.problems) == 1


def test_findings_must_name_the_manifests_issuer(tmp_path, key, keyring):
    other = _findings().replace(b'"member"', b'"platform-a"')
    write_archive(tmp_path / "b.zip", {**FILES, "rings/R1/findings.jsonl": other}, FIELDS,
                  Signer.from_file(key.private_path))
    report = verify_archive(tmp_path / "b.zip", keyring)
    assert kinds(report) == {("rings/R1/findings.jsonl", ProblemKind.WRONG_ISSUER)}
    write_archive(tmp_path / "c.zip", {**FILES, "rings/R1/findings.jsonl": b"{not json\n"}, FIELDS,
                  Signer.from_file(key.private_path))
    assert kinds(verify_archive(tmp_path / "c.zip", keyring)) == {("rings/R1/findings.jsonl", ProblemKind.UNREADABLE)}


def test_archive_is_deterministic_and_sorted(tmp_path, key):
    signer = Signer.from_file(key.private_path)
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    write_archive(a, FILES, FIELDS, signer)
    write_archive(b, dict(reversed(FILES.items())), dict(reversed(FIELDS.items())), signer)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        names = [i.filename for i in zf.infolist()]
        assert names == sorted([*FILES, "manifest.json"])
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("target", sorted(FILES))
def test_one_changed_byte_in_any_file_is_named(signed, keyring, tmp_path, target):
    def flip(name, data):
        return bytes([data[0] ^ 1]) + data[1:] if name == target else data

    report = verify_archive(rewrite(signed, tmp_path / "changed.zip", flip), keyring)
    assert not report.ok
    assert kinds(report) == {(target, ProblemKind.CHANGED)}
    assert report.summary().startswith("FAILED:")


def test_added_and_removed_files_are_named(signed, keyring, tmp_path):
    def drop(name, data):
        return None if name == "rings.jsonl" else data

    report = verify_archive(rewrite(signed, tmp_path / "x.zip", drop, add={"extra/payload.exe": b"MZ"}), keyring)
    assert kinds(report) == {("rings.jsonl", ProblemKind.REMOVED), ("extra/payload.exe", ProblemKind.ADDED)}


def test_changed_manifest_breaks_the_signature(signed, keyring, tmp_path):
    def edit(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["seed"] = 8
        return json.dumps(manifest).encode()

    report = verify_archive(rewrite(signed, tmp_path / "x.zip", edit), keyring)
    assert report.signature is SignatureStatus.BAD_SIGNATURE
    assert kinds(report) == {("manifest.json", ProblemKind.BAD_SIGNATURE)}


def test_a_forger_who_updates_hashes_still_fails_the_signature(signed, keyring, tmp_path):
    evil = b"order_id,buyer\no1,someone-else\n"

    def forge(name, data):
        if name == "evidence/orders.csv":
            return evil
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"]["evidence/orders.csv"] = {"sha256": hashlib.sha256(evil).hexdigest(), "bytes": len(evil)}
            return json.dumps(manifest).encode()
        return data

    report = verify_archive(rewrite(signed, tmp_path / "x.zip", forge), keyring)
    assert kinds(report) == {("manifest.json", ProblemKind.BAD_SIGNATURE)}


def test_unsigned_unknown_key_and_no_keyring_are_distinct(tmp_path, signed, keyring):
    plain = tmp_path / "plain.zip"
    write_archive(plain, FILES, FIELDS)
    report = verify_archive(plain, keyring)
    assert report.signature is SignatureStatus.UNSIGNED
    assert kinds(report) == {("manifest.json", ProblemKind.UNSIGNED)}
    assert verify_archive(plain, keyring, require_signature=False).ok

    stranger = Keyring.from_directory(generate_key(tmp_path / "other" / "k").public_path.parent)
    report = verify_archive(signed, stranger)
    assert kinds(report) == {("manifest.json", ProblemKind.UNKNOWN_KEY)}
    assert verify_archive(signed).signature is SignatureStatus.UNKNOWN_KEY


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("../evil", ProblemKind.UNSAFE_NAME),
        ("docs/../../evil", ProblemKind.UNSAFE_NAME),
        ("/tmp/evil", ProblemKind.UNSAFE_NAME),
        ("..\\evil", ProblemKind.UNSAFE_NAME),
        ("C:evil", ProblemKind.UNSAFE_NAME),
        ("evil\x1b[2J", ProblemKind.UNSAFE_NAME),
    ],
)
def test_unsafe_names_are_refused_and_nothing_is_written(tmp_path, monkeypatch, name, kind):
    work = tmp_path / "work" / "inner"
    work.mkdir(parents=True)
    bad = craft(tmp_path / "bad.zip", [("manifest.json", b"{}"), (name, b"pwned")])
    monkeypatch.chdir(work)
    before = tree(tmp_path)
    report = verify_archive(bad)
    assert (name, kind) in kinds(report) and not report.ok
    assert report.manifest is None  # refused before reading any content
    with pytest.raises(ArchiveError, match="unsafe_name"):
        safe_extract(bad, work / "out")
    assert tree(tmp_path) == before
    assert not Path("/tmp/evil").exists()


def test_symlink_encrypted_duplicate_and_special_entries_are_refused(tmp_path):
    link = zipfile.ZipInfo("link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    fifo = zipfile.ZipInfo("fifo")
    fifo.create_system = 3
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    bad = craft(
        tmp_path / "bad.zip",
        [(link, b"/etc/passwd"), (fifo, b""), ("a.txt", b"1"), ("a.txt", b"2"), ("A.TXT", b"3"),
         ("f", b"file"), ("f/under", b"x")],
    )
    report = verify_archive(bad)
    assert kinds(report) == {
        ("link", ProblemKind.SYMLINK),
        ("fifo", ProblemKind.SPECIAL_FILE),
        ("a.txt", ProblemKind.DUPLICATE),
        ("A.TXT", ProblemKind.DUPLICATE),
        ("f/under", ProblemKind.DUPLICATE),
    }


def test_encrypted_entries_are_refused(tmp_path):
    plain = craft(tmp_path / "plain.zip", [("locked", b"x")])
    locked = patch_first_member(plain, tmp_path / "locked.zip", "<H", local_at=6, central_at=8, value=0x1)
    assert kinds(verify_archive(locked)) == {("locked", ProblemKind.ENCRYPTED)}


def test_too_many_entries(tmp_path):
    bad = craft(tmp_path / "many.zip", [(f"f{i}", b"") for i in range(20)])
    report = verify_archive(bad, max_entries=10)
    assert kinds(report) == {(None, ProblemKind.TOO_MANY_ENTRIES)}
    # The end record can understate the count; the parsed directory is counted too.
    data = bytearray(bad.read_bytes())
    assert data[-22:-18] == b"PK\x05\x06"
    data[-14:-10] = struct.pack("<HH", 1, 1)
    (tmp_path / "understated.zip").write_bytes(bytes(data))
    report = verify_archive(tmp_path / "understated.zip", max_entries=10)
    assert kinds(report) == {(None, ProblemKind.TOO_MANY_ENTRIES)}
    assert "20 entries" in report.problems[0].detail


def test_oversized_central_directory_is_refused_before_parsing(tmp_path):
    padded = zipfile.ZipInfo("a")
    padded.comment = b"c" * 60_000
    report = verify_archive(craft(tmp_path / "padded.zip", [(padded, b"x")]), max_entries=5)
    assert kinds(report) == {(None, ProblemKind.TOO_LARGE)} and "central directory" in report.problems[0].detail


@pytest.fixture(scope="module")
def zeros_zip(tmp_path_factory):
    """200 MB of zeros, deflated to about 200 KB."""
    path = tmp_path_factory.mktemp("bomb") / "zeros.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros.bin", "w") as fh:
        block = bytes(MB)
        for _ in range(200):
            fh.write(block)
    return path


def test_decompression_bomb_is_refused_before_reading(zeros_zip, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    report = verify_archive(zeros_zip, max_total_bytes=50 * MB)
    assert kinds(report) == {(None, ProblemKind.TOO_LARGE), ("zeros.bin", ProblemKind.SUSPICIOUS_RATIO)}
    with pytest.raises(ArchiveError):
        safe_extract(zeros_zip, tmp_path / "out", max_total_bytes=50 * MB)
    assert tree(tmp_path) == before


def patch_first_member(src: Path, dst: Path, fmt: str, *, local_at: int, central_at: int, value: int) -> Path:
    """Overwrite one field of the first member's local and central headers."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        local, central = zf.infolist()[0].header_offset, zf.start_dir
    assert data[local : local + 4] == b"PK\x03\x04" and data[central : central + 4] == b"PK\x01\x02"
    size = struct.calcsize(fmt)
    data[local + local_at : local + local_at + size] = struct.pack(fmt, value)
    data[central + central_at : central + central_at + size] = struct.pack(fmt, value)
    dst.write_bytes(bytes(data))
    return dst


def lie_about_size(src: Path, dst: Path, claimed: int) -> Path:
    """Make both headers of the single member declare ``claimed`` uncompressed bytes."""
    return patch_first_member(src, dst, "<I", local_at=22, central_at=24, value=claimed)


def test_a_header_that_lies_about_its_size_cannot_exceed_the_limit(zeros_zip, tmp_path, monkeypatch):
    liar = lie_about_size(zeros_zip, tmp_path / "liar.zip", claimed=1000)
    with zipfile.ZipFile(liar) as zf:
        assert zf.infolist()[0].file_size == 1000  # passes every check made before reading
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    tracemalloc.start()
    try:
        report = verify_archive(liar, max_total_bytes=50 * MB, require_signature=False)
        with pytest.raises(ArchiveError):
            safe_extract(liar, tmp_path / "out", max_total_bytes=50 * MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ("zeros.bin", ProblemKind.UNREADABLE) in kinds(report)
    assert not report.ok
    assert peak < 10 * MB
    assert tree(tmp_path) == before


def test_stated_sizes_under_a_generous_ratio_still_stop_at_the_limit(zeros_zip, tmp_path):
    liar = lie_about_size(zeros_zip, tmp_path / "liar.zip", claimed=40 * MB)
    report = verify_archive(liar, max_total_bytes=50 * MB, max_ratio=1e9)
    assert ("zeros.bin", ProblemKind.UNREADABLE) in kinds(report)  # 40 MB read, then a CRC failure


class EndlessZeros(io.RawIOBase):
    """A member stream that never ends, as from a zip reader that trusts the data over the headers."""

    def readable(self):
        return True

    def readinto(self, buffer):
        buffer[:] = bytes(len(buffer))
        return len(buffer)


def test_decompressed_bytes_are_counted_whatever_the_headers_say(tmp_path, monkeypatch):
    small = craft(tmp_path / "small.zip", [("a", b"tiny"), ("manifest.json", b"{}")])
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, info: io.BufferedReader(EndlessZeros()))
    report = verify_archive(small, max_total_bytes=50 * MB)
    assert kinds(report) == {("a", ProblemKind.DECOMPRESSION_BOMB)}
    with pytest.raises(ArchiveError):
        safe_extract(small, tmp_path / "out", max_total_bytes=50 * MB)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "top level is not an object"),
        (b'{"format": "other/9", "files": {}}', "'format' is not"),
        (b'{"format": "antifraud-bundle/1", "files": {"a": {"sha256": 5, "bytes": 1}}}', "'files' entry for 'a'"),
        (b'{"format": "antifraud-bundle/1", "files": {"a": {"sha256": "' + b"0" * 64 + b'", "bytes": true}}}',
         "'files' entry"),
        (b'{"format": "antifraud-bundle/1", "files": {}, "files": {}}', "duplicate key"),
        (b'{"format": "antifraud-bundle/1", "files": {}, "x": NaN}', "NaN is not JSON"),
        (b'{"format": "antifraud-bundle/1", "files": {"../x": {}}}', "unusable name"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than"),
        (b'{"format": "antifraud-bundle/1", "files": {}, "x": ' + b"[" * 70 + b"]" * 70 + b"}", "nested deeper"),
        (b'{"pad": "' + os.urandom(MB).hex().encode() + b'"}', "larger than"),
    ],
)
def test_malformed_manifest_gives_a_clear_problem(tmp_path, manifest, message):
    bad = craft(tmp_path / "bad.zip", [("manifest.json", manifest), ("a", b"data")])
    report = verify_archive(bad)
    assert not report.ok
    [problem] = [p for p in report.problems if p.kind is ProblemKind.MALFORMED_MANIFEST]
    assert problem.name == "manifest.json" and message in problem.detail


def test_missing_manifest(tmp_path):
    report = verify_archive(craft(tmp_path / "bare.zip", [("a", b"data")]))
    assert kinds(report) == {("manifest.json", ProblemKind.MISSING_MANIFEST)}


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"PK but not really")
    with pytest.raises(ArchiveError, match="not a usable zip"):
        verify_archive(path)


def test_safe_extract_writes_only_inside_target(signed, keyring, tmp_path):
    target = tmp_path / "out"
    report = safe_extract(signed, target, keyring)
    assert report.ok
    assert tree(target) == sorted(["evidence", "evidence/orders.csv", "manifest.json", "notes", "notes/店铺.txt",
                                   "rings.jsonl"])
    assert (target / "rings.jsonl").read_bytes() == FILES["rings.jsonl"]
    with pytest.raises(FileExistsError):
        safe_extract(signed, target, keyring)


def test_safe_extract_does_not_follow_a_symlinked_folder_out_of_target(signed, keyring, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "out"
    target.mkdir()
    (target / "evidence").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ArchiveError, match="outside"):
        safe_extract(signed, target, keyring)
    assert list(outside.iterdir()) == []
    assert not [p for p in target.rglob("*") if p.is_file()]


def test_safe_extract_removes_what_it_wrote_if_the_archive_changes_after_verification(tmp_path, monkeypatch):
    import antifraud.evidence.archive as archive

    path = tmp_path / "b.zip"
    # a.txt is large enough that b.txt is read from disk again, not from a buffer, when extracting
    write_archive(path, {"a.txt": os.urandom(256 * 1024), "b.txt": b"second file"}, {})
    real_verify = archive._verify

    def verify_then_tamper(zf, *args):
        found = real_verify(zf, *args)
        data = path.read_bytes()
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("b.txt")
        start = info.header_offset + 30 + len(info.filename)  # b.txt's compressed data
        path.write_bytes(data[:start] + bytes([data[start] ^ 0xFF]) + data[start + 1 :])
        return found

    monkeypatch.setattr(archive, "_verify", verify_then_tamper)
    with pytest.raises(ArchiveError, match="b.txt"):
        safe_extract(path, tmp_path / "out", require_signature=False)
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


@given(st.text(st.sampled_from("ab./\\:\x00é"), min_size=1, max_size=12))
def test_every_name_accepted_resolves_inside_the_target(name):
    root = Path("/srv/target")
    if name_problem(name) is None:
        assert (root / name).resolve().is_relative_to(root) and (root / name).resolve() != root


def test_safe_extract_refuses_a_bundle_that_fails_verification(signed, tmp_path):
    target = tmp_path / "out"
    with pytest.raises(ArchiveError, match="unknown_key"):
        safe_extract(signed, target)
    assert not target.exists()


@pytest.mark.parametrize(
    ("files", "fields", "message"),
    [
        ({"../x": b""}, {}, "'..' component"),
        ({"manifest.json": b""}, {}, "reserved"),
        ({"a.txt": b"", "A.txt": b""}, {}, "collides with 'a.txt'"),
        ({"f": b"", "f/g": b""}, {}, "lies under the file 'f'"),
        ({"MANIFEST.JSON": b""}, {}, "reserved"),
        ({"a": b""}, {"files": {}}, "set by the bundle writer"),
        ({"a": b""}, {"x": float("nan")}, "Out of range float"),
    ],
)
def test_write_archive_refuses_bad_input(tmp_path, files, fields, message):
    with pytest.raises(ValueError, match=message):
        write_archive(tmp_path / "b.zip", files, fields)
    assert list(tmp_path.iterdir()) == []
