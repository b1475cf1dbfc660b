import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from antifraud.signing import (
    KeyFileError,
    Keyring,
    SignatureStatus,
    Signer,
    generate_key,
    key_id,
    load_private_key,
    load_public_key,
    sign_json,
    verify,
    verify_json,
)


@pytest.fixture
def key(tmp_path):
    return generate_key(tmp_path / "keys" / "alliance")


def test_generate_writes_owner_only_private_key_and_public_key_beside_it(key):
    assert stat.S_IMODE(key.private_path.stat().st_mode) == 0o600
    assert key.public_path.name == "alliance.pub"
    assert key.private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert key.public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert key.key_id.startswith("ed25519:") and len(key.key_id) == len("ed25519:") + 16
    assert key_id(load_public_key(key.public_path)) == key.key_id


def test_private_key_is_created_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        info = generate_key(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE(info.private_path.stat().st_mode) == 0o600


def test_generate_refuses_to_overwrite(key):
    before = key.private_path.read_bytes()
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        generate_key(key.private_path)
    assert key.private_path.read_bytes() == before


def test_generate_refuses_when_only_the_public_key_exists(tmp_path):
    (tmp_path / "k.pub").write_text("someone else's key")
    with pytest.raises(FileExistsError):
        generate_key(tmp_path / "k")
    assert not (tmp_path / "k").exists()


def test_load_refuses_group_or_world_readable_private_key(key):
    os.chmod(key.private_path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600") as err:
        load_private_key(key.private_path)
    assert "PRIVATE KEY" not in str(err.value)


def test_encrypted_key_needs_its_passphrase(tmp_path):
    info = generate_key(tmp_path / "k", passphrase=b"correct horse")
    assert b"ENCRYPTED" in info.private_path.read_bytes()
    with pytest.raises(KeyFileError, match="needs a passphrase"):
        load_private_key(info.private_path)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_private_key(info.private_path, passphrase=b"wrong")
    assert Signer.from_file(info.private_path, passphrase=b"correct horse").key_id == info.key_id
    with pytest.raises(ValueError):
        generate_key(tmp_path / "empty", passphrase=b"")
    assert not (tmp_path / "empty").exists()


def test_bad_key_files_give_clear_errors(tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a key")
    os.chmod(junk, 0o600)
    with pytest.raises(KeyFileError, match="not a readable PEM private key"):
        load_private_key(junk)
    with pytest.raises(KeyFileError, match="not a readable PEM public key"):
        load_public_key(junk)


def test_signer_never_shows_the_private_key(key):
    signer = Signer.from_file(key.private_path)
    pem = key.private_path.read_text()
    body = "".join(pem.splitlines()[1:-1])
    for text in (repr(signer), str(signer)):
        assert body not in text and key.key_id in text
    with pytest.raises(AttributeError):
        signer.private_bytes  # noqa: B018


def test_sign_verify_round_trip_and_any_changed_byte_fails(key):
    signer = Signer.from_file(key.private_path)
    data = b"order 42 was brushed"
    value = signer.sign(data)
    assert verify(signer.public_key, data, value)
    for i in range(len(data)):
        changed = bytearray(data)
        changed[i] ^= 1
        assert not verify(signer.public_key, bytes(changed), value)
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify(other, data, value)


@pytest.mark.parametrize("value", ["", "x" * 86, "A" * 85 + "=", "A" * 88, "é" * 86, "A" * 85 + "B"])
def test_malformed_signature_values_are_not_valid(key, value):
    assert not verify(load_public_key(key.public_path), b"data", value)


def test_sign_json_over_canonical_form_without_signature(key):
    signer = Signer.from_file(key.private_path)
    keyring = Keyring.from_directory(key.public_path.parent)
    record = {"id": "acr--1", "version": 1, "subject": {"name": "店铺", "shop_ids": ["s1", "s2"]}}
    sig = sign_json(record, signer)
    assert sig["alg"] == "ed25519" and sig["key_id"] == key.key_id
    record["signature"] = sig
    assert verify_json(record, sig, keyring) is SignatureStatus.VALID
    # Key order and whitespace do not matter: the canonical form is signed.
    reordered = {"subject": {"shop_ids": ["s1", "s2"], "name": "店铺"}, "version": 1, "id": "acr--1"}
    assert verify_json(reordered, sig, keyring) is SignatureStatus.VALID
    record["subject"]["shop_ids"][1] = "s3"
    assert verify_json(record, sig, keyring) is SignatureStatus.BAD_SIGNATURE


def test_verify_json_distinguishes_unsigned_unknown_key_and_malformed(key, tmp_path):
    signer = Signer.from_file(key.private_path)
    record = {"id": "acr--1"}
    sig = sign_json(record, signer)
    keyring = Keyring.from_directory(key.public_path.parent)
    assert verify_json(record, None, keyring) is SignatureStatus.UNSIGNED
    assert verify_json(record, sig, None) is SignatureStatus.UNKNOWN_KEY
    assert verify_json(record, sig, Keyring()) is SignatureStatus.UNKNOWN_KEY
    assert verify_json(record, {**sig, "alg": "rsa"}, keyring) is SignatureStatus.MALFORMED
    assert verify_json(record, "signature", keyring) is SignatureStatus.MALFORMED
    assert verify_json({"id": float("nan")}, sig, keyring) is SignatureStatus.MALFORMED


def test_keyring_reads_only_pub_files(key, tmp_path):
    second = generate_key(key.private_path.parent / "second")
    ring = Keyring.from_directory(key.private_path.parent)
    assert len(ring) == 2 and key.key_id in ring and second.key_id in ring
    with pytest.raises(KeyFileError, match="not a directory"):
        Keyring.from_directory(tmp_path / "missing")
