import json
import stat
import subprocess
import sys
import zipfile

from typer.testing import CliRunner

from antifraud.cli.main import app
from antifraud.evidence import write_archive
from antifraud.signing import Signer

runner = CliRunner()
FILES = {"rings.jsonl": b'{"ring": 1}\n', "evidence/orders.csv": b"order_id\no1\n"}
FIELDS = {"issuer": {"member_id": "member"}, "seed": 1}


def run(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def make_key(tmp_path):
    result = run("keys", "generate", tmp_path / "keys" / "member")
    assert result.exit_code == 0, result.output
    return tmp_path / "keys" / "member", result


def test_keys_generate_prints_id_and_public_path_only(tmp_path):
    private, result = make_key(tmp_path)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    lines = result.stdout.splitlines()
    assert lines[0].startswith("key id: ed25519:") and lines[1] == f"public key: {private}.pub"
    secret = "".join(private.read_text().splitlines()[1:-1])
    assert secret not in result.output and "PRIVATE KEY" not in result.output
    again = run("keys", "generate", private)
    assert again.exit_code == 2 and "refusing to overwrite" in again.output


def test_keys_generate_encrypted(tmp_path):
    result = run("keys", "generate", tmp_path / "k", "--encrypt", input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    assert b"ENCRYPTED" in (tmp_path / "k").read_bytes() and "s3cret" not in result.output


def test_verify_good_tampered_and_unsigned_bundles(tmp_path):
    private, _ = make_key(tmp_path)
    good = tmp_path / "good.zip"
    write_archive(good, FILES, FIELDS, Signer.from_file(private))
    result = run("verify", good, "--keyring", private.parent)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK:") and "signature: valid" in result.stdout

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, b"order_id\no2\n" if info.filename == "evidence/orders.csv" else data)
    result = run("verify", tampered, "--keyring", private.parent)
    assert result.exit_code == 1
    assert "evidence/orders.csv: changed" in result.stdout and "FAILED" in result.stdout

    assert run("verify", good).exit_code == 1  # signed, but no keyring to check it
    plain = tmp_path / "plain.zip"
    write_archive(plain, FILES, FIELDS)
    result = run("verify", plain)
    assert result.exit_code == 1 and "manifest.json: unsigned" in result.stdout
    assert run("verify", plain, "--allow-unsigned").exit_code == 0


def test_verify_refuses_a_bundle_re_signed_by_another_member(tmp_path):
    keys = tmp_path / "keys"
    for member in ("platform-a", "platform-b"):
        assert run("keys", "generate", keys / member).exit_code == 0
    fields = {**FIELDS, "issuer": {"member_id": "platform-a"}}
    write_archive(tmp_path / "a.zip", FILES, fields, Signer.from_file(keys / "platform-a"))
    result = run("verify", tmp_path / "a.zip", "--keyring", keys)
    assert result.exit_code == 0 and "platform-a" in result.stdout, result.output
    altered = {**FILES, "evidence/orders.csv": b"order_id\no2\n"}
    write_archive(tmp_path / "b.zip", altered, fields, Signer.from_file(keys / "platform-b"))
    result = run("verify", tmp_path / "b.zip", "--keyring", keys)
    assert result.exit_code == 1 and "FAILED" in result.stdout
    assert "manifest.json: wrong_issuer: signed with platform-b's key" in result.stdout
    assert "names issuer platform-a" in result.stdout


def test_verify_hostile_names_are_printed_escaped(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("evil\x1b[2J", b"x")
        zf.writestr("manifest.json", json.dumps({"format": "antifraud-bundle/1", "files": {}}))
    result = run("verify", bad)
    assert result.exit_code == 1 and "\x1b" not in result.stdout and "evil\\x1b[2J: unsafe_name" in result.stdout


def test_verify_usage_errors_exit_2_without_traceback(tmp_path):
    not_zip = tmp_path / "x.zip"
    not_zip.write_bytes(b"hello")
    for target in (not_zip, tmp_path / "missing.zip"):
        cmd = [sys.executable, "-m", "antifraud", "verify", str(target)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: ")
    assert run("verify", not_zip, "--keyring", tmp_path / "nope").exit_code == 2


def test_help_does_not_import_crypto_or_zip_code():
    for cmd in (["verify"], ["keys"], ["keys", "generate"]):
        result = run(*cmd, "--help")
        assert result.exit_code == 0 and "Usage" in result.stdout
    heavy = "('cryptography', 'rfc8785', 'antifraud.evidence')"
    code = f"import sys, antifraud.cli.main; print([m for m in {heavy} if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"
