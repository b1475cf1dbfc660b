"""Ed25519 signatures for records, feeds and evidence bundles.

Keys are PEM files made by :func:`generate_key`: the private key (PKCS #8, owner-only, encrypted
when a passphrase is given) and, beside it, the public key ``<name>.pub`` (SubjectPublicKeyInfo),
in the manner of OpenSSH's ``id_ed25519`` / ``id_ed25519.pub``. A key is named by its ``key_id``,
``"ed25519:"`` plus the first 16 hex digits of the SHA-256 of the raw 32-byte public key.

A signature is the object ``{"alg": "ed25519", "key_id": ..., "value": ...}`` whose ``value`` is
the 64-byte Ed25519 signature in unpadded base64url (RFC 4648 section 5: 86 characters, safe in
JSON, file names and URLs). JSON objects are signed in their RFC 8785 canonical form without their
``signature`` member (:func:`sign_json`, :func:`verify_json`).

Private key material is never logged, printed, or put into an exception message or a ``repr``.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> info = generate_key(folder / "alliance")
>>> signer = Signer.from_file(info.private_path)
>>> record = {"id": "acr--1", "version": 1}
>>> record["signature"] = sign_json(record, signer)
>>> verify_json(record, record["signature"], Keyring.from_directory(folder))
<SignatureStatus.VALID: 'valid'>
>>> record["version"] = 2
>>> verify_json(record, record["signature"], Keyring.from_directory(folder))
<SignatureStatus.BAD_SIGNATURE: 'bad_signature'>
"""

from __future__ import annotations

import base64
import binascii
import enum
import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from antifraud.io import canonical_bytes

__all__ = [
    "ALG",
    "KeyInfo",
    "KeyFileError",
    "Keyring",
    "SignatureStatus",
    "Signer",
    "signed_bytes",
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "public_key_path",
    "sign_json",
    "verify",
    "verify_json",
    "write_new_file",
]

ALG = "ed25519"
_SIGNATURE_BYTES = 64


class KeyFileError(ValueError):
    """A key file cannot be used: unreadable, of the wrong kind, or with unsafe permissions."""


class SignatureStatus(enum.StrEnum):
    """The outcome of checking a signature; only ``VALID`` means the content is authentic."""

    VALID = "valid"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class KeyInfo:
    """Where :func:`generate_key` wrote a key pair, and the pair's key id."""

    key_id: str
    private_path: Path
    public_path: Path


def key_id(public_key: Ed25519PublicKey) -> str:
    """Name a public key: ``"ed25519:"`` + the first 16 hex digits of SHA-256 of its raw bytes.

    Examples
    --------
    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    >>> key_id(key)
    'ed25519:139e3940e64b5491'
    """
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{ALG}:{hashlib.sha256(raw).hexdigest()[:16]}"


def public_key_path(private_path: str | os.PathLike[str]) -> Path:
    """The public key file beside a private key: its name with ``.pub`` appended.

    Examples
    --------
    >>> public_key_path("keys/alliance").as_posix()
    'keys/alliance.pub'
    """
    private_path = Path(private_path)
    return private_path.with_name(private_path.name + ".pub")


def generate_key(path: str | os.PathLike[str], *, passphrase: bytes | None = None) -> KeyInfo:
    """Write a new Ed25519 key pair: the private key at ``path`` and the public key beside it.

    The private key file is created with mode 0600 by :func:`os.open` (it is never readable by
    anyone else, not even for an instant) and an existing file is never overwritten.

    Parameters
    ----------
    path : path-like
        Where to write the private key (PEM, PKCS #8). The public key goes to ``<path>.pub``.
    passphrase : bytes, optional
        Encrypt the private key with this passphrase (unencrypted when omitted).

    Returns
    -------
    KeyInfo
        The key id and both paths.

    Raises
    ------
    FileExistsError
        If either file already exists.
    """
    private_path = Path(path)
    public_path = public_key_path(private_path)
    for existing in (private_path, public_path):
        if existing.exists() or existing.is_symlink():
            raise FileExistsError(errno.EEXIST, "a key file already exists; refusing to overwrite it", str(existing))
    key = Ed25519PrivateKey.generate()
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase is not None else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    write_new_file(private_path, private_pem, 0o600)
    try:
        write_new_file(public_path, public_pem, 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return KeyInfo(key_id(key.public_key()), private_path, public_path)


def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (never following or replacing anything) with ``mode`` and write ``data``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        os.fchmod(fd, mode)  # exactly ``mode`` whatever the umask; the umask can only have narrowed it
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def load_private_key(path: str | os.PathLike[str], *, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from a PEM file that only its owner can read.

    Raises
    ------
    KeyFileError
        If group or others may access the file (fix with ``chmod 600``), if it is not an
        unencrypted-or-correctly-decrypted Ed25519 private key, or if the passphrase is wrong.
        The message names the file, never its content.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if stat.S_IMODE(mode) & 0o077:
            raise KeyFileError(
                f"{path}: private key file is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
                f"refusing to use it: run chmod 600 {path}"
            )
        data = fh.read()
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        raise KeyFileError(
            f"{path}: the private key is encrypted and needs a passphrase"
            if passphrase is None
            else f"{path}: the private key is not encrypted; give no passphrase"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path}: not a readable PEM private key (or wrong passphrase)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Read an Ed25519 public key from a PEM (SubjectPublicKeyInfo) file.

    Raises
    ------
    KeyFileError
        If the file is not an Ed25519 public key.
    """
    path = Path(path)
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path}: not a readable PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key


class Signer:
    """Signs bytes with one private key; its ``repr`` shows only the key id.

    Examples
    --------
    >>> signer = Signer(Ed25519PrivateKey.from_private_bytes(bytes(32)))
    >>> signer
    Signer(key_id='ed25519:139e3940e64b5491')
    >>> value = signer.sign(b"hello")
    >>> len(value), verify(signer.public_key, b"hello", value), verify(signer.public_key, b"hellO", value)
    (86, True, False)
    """

    __slots__ = ("_key", "key_id")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.key_id = key_id(private_key.public_key())

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, passphrase: bytes | None = None) -> Signer:
        """A signer for the private key in ``path`` (see :func:`load_private_key`)."""
        return cls(load_private_key(path, passphrase=passphrase))

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half of the key."""
        return self._key.public_key()

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature of ``data`` as unpadded base64url text."""
        return base64.urlsafe_b64encode(self._key.sign(data)).rstrip(b"=").decode("ascii")

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"


def _decode_value(value: object) -> bytes | None:
    """The signature bytes of an unpadded base64url ``value``, or None unless exactly canonical."""
    if not isinstance(value, str) or len(value) != 86 or not value.isascii():
        return None
    try:
        raw = base64.b64decode(value + "==", altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    # Reject encodings with stray low bits, so one signature has exactly one spelling.
    if len(raw) != _SIGNATURE_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != value:
        return None
    return raw


def verify(public_key: Ed25519PublicKey, data: bytes, value: str) -> bool:
    """Whether ``value`` (unpadded base64url, as made by :meth:`Signer.sign`) signs ``data``.

    Malformed values are simply not valid: this never raises for bad input.
    """
    raw = _decode_value(value)
    if raw is None:
        return False
    try:
        public_key.verify(raw, data)
    except InvalidSignature:
        return False
    return True


class Keyring:
    """Trusted public keys, looked up by key id, each with the member that holds it.

    Examples
    --------
    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    >>> ring = Keyring([key], owners=["platform-a"])
    >>> "ed25519:139e3940e64b5491" in ring, ring.get("ed25519:0000000000000000") is None, len(ring)
    (True, True, 1)
    >>> ring.owner("ed25519:139e3940e64b5491"), ring.key_ids_of("platform-a")
    ('platform-a', ['ed25519:139e3940e64b5491'])
    """

    def __init__(self, keys: Iterable[Ed25519PublicKey] = (), owners: Iterable[str | None] | None = None) -> None:
        keys = list(keys)
        self._keys = {key_id(k): k for k in keys}
        self._owners = {key_id(k): o for k, o in zip(keys, owners if owners is not None else [None] * len(keys))}

    def owner(self, kid: str) -> str | None:
        """The member holding key ``kid``: the name of its ``<member id>.pub`` file (None if unknown)."""
        return self._owners.get(kid)

    def key_ids_of(self, member: str) -> list[str]:
        """The ids of the keys the keyring holds for ``member`` (empty if none)."""
        return sorted(kid for kid, owner in self._owners.items() if owner == member)

    @classmethod
    def from_directory(cls, folder: str | os.PathLike[str]) -> Keyring:
        """Every ``*.pub`` file in ``folder`` (not its subfolders); key ids come from the keys themselves,
        and each file's name (``<member id>.pub``) says which member holds the key.

        Raises
        ------
        KeyFileError
            If ``folder`` is not a directory or one of its ``.pub`` files is not an Ed25519 public key.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise KeyFileError(f"{folder}: keyring is not a directory")
        files = [p for p in sorted(folder.glob("*.pub")) if p.is_file()]
        return cls((load_public_key(p) for p in files), owners=[p.stem for p in files])

    def get(self, kid: str) -> Ed25519PublicKey | None:
        """The public key named ``kid``, or None."""
        return self._keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"Keyring({sorted(self._keys)!r})"


def signed_bytes(obj: Mapping[str, Any]) -> bytes:
    """The RFC 8785 canonical JSON of ``obj`` without its ``signature`` member: what gets signed.

    Raises
    ------
    ValueError
        (``rfc8785.CanonicalizationError``) for values JSON cannot represent exactly, such as NaN
        or integers beyond 2**53.

    Examples
    --------
    >>> signed_bytes({"b": 1, "a": "é", "signature": {"alg": "ed25519"}})
    b'{"a":"\\xc3\\xa9","b":1}'
    """
    return canonical_bytes({k: v for k, v in obj.items() if k != "signature"})


def sign_json(obj: Mapping[str, Any], signer: Signer) -> dict[str, str]:
    """The signature object for ``obj``: ``{"alg", "key_id", "value"}`` over :func:`signed_bytes`.

    Store it as ``obj["signature"]``; an existing ``signature`` member is ignored when signing.
    """
    return {"alg": ALG, "key_id": signer.key_id, "value": signer.sign(signed_bytes(obj))}


def verify_json(obj: Mapping[str, Any], signature: object, keyring: Keyring | None) -> SignatureStatus:
    """Check ``signature`` (a signature object, or None) against ``obj`` and the trusted keys.

    Never raises for hostile input: a wrong shape, an unknown algorithm or content that has no
    canonical form is ``MALFORMED``; a key id not in ``keyring`` (or no keyring) is ``UNKNOWN_KEY``.
    """
    if signature is None:
        return SignatureStatus.UNSIGNED
    if (
        not isinstance(signature, Mapping)
        or set(signature) != {"alg", "key_id", "value"}
        or signature["alg"] != ALG
        or not isinstance(signature["key_id"], str)
        or not isinstance(signature["value"], str)
    ):
        return SignatureStatus.MALFORMED
    public_key = keyring.get(signature["key_id"]) if keyring is not None else None
    if public_key is None:
        return SignatureStatus.UNKNOWN_KEY
    try:
        data = signed_bytes(obj)
    except (ValueError, TypeError, RecursionError):
        return SignatureStatus.MALFORMED
    return SignatureStatus.VALID if verify(public_key, data, signature["value"]) else SignatureStatus.BAD_SIGNATURE
