"""Shared test fixtures: paths to the bundled exports and the shared data folder."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}; benchmarks on real data are skipped")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fixed_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTIFRAUD_PSEUDONYM_KEY", "00" * 16 + "ab" * 16)


_RECORD = {
    "schema": "acr/1",
    "id": "acr--0b9a4a34-4c1e-5d0e-9d2a-6c3f8f1e2a10",
    "version": 1,
    "created": "2026-11-01T08:00:00.000Z",
    "modified": "2026-11-01T08:00:00.000Z",
    "prev_hash": None,
    "record_type": "merchant_finding",
    "status": "issued",
    "issuer": {"member_id": "platform-a", "uscc": "914403001922038216", "role": "platform"},
    "subject": {"merchant": {"uscc": "91440300708461136T", "uscc_check": "ok", "name": "某某旗舰店",
                             "shop_ids": ["s00042"], "platform": "platform-a"}},
    "behavior": {"category": "fake_transaction", "role": "beneficiary",
                 "period": {"start": "2026-10-01T00:00:00.000Z", "end": "2026-10-20T00:00:00.000Z"},
                 "metrics": {"orders": 412, "flagged_order_share": 0.61}},
    "assessment": {"confidence": 93, "detector": "ensemble", "detector_version": "0.1.0", "score": 0.93,
                   "threshold": 0.5, "human_reviewed": False, "reviewer": None,
                   "signals": [{"name": "burst_1h", "value": 31, "population_percentile": 99.6,
                                "explanation": "most orders in any hour: 31, higher than 100% of shops"}]},
    "evidence": [],
    "events": [{"type": "issued", "at": "2026-11-01T08:00:00.000Z", "by": "platform-a", "reason": "run"}],
    "sharing": {"level": "amber", "purpose": "anti-brushing", "legal_basis": "alliance agreement",
                "retention_until": "2029-11-01", "contains_personal_data": False},
    "provenance": {"source_system": "antifraud", "data_as_of": "2026-10-31T00:00:00.000Z",
                   "input_sha256": ["ab" * 32], "run_id": "run-1", "toolkit_version": "0.1.0"},
}


@pytest.fixture
def record() -> dict:
    """A valid version-1 merchant finding, fresh for each test."""
    return copy.deepcopy(_RECORD)


class Members:
    """Alliance members' Ed25519 keys for tests: ``<member>`` private keys and ``<member>.pub``
    public keys in one folder, which is also the keyring."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def key(self, member: str) -> Path:
        """The private key file of ``member`` (generated on first use)."""
        from antifraud.signing import generate_key

        path = self.folder / member
        if not path.exists():
            generate_key(path)
        return path

    def signer(self, member: str):  # noqa: ANN201
        from antifraud.signing import Signer

        return Signer.from_file(self.key(member))

    def keyring(self):  # noqa: ANN201
        from antifraud.signing import Keyring

        return Keyring.from_directory(self.folder)

    def sign(self, record: dict, member: str | None = None) -> dict:
        """``record`` signed by ``member`` (its issuer by default)."""
        from antifraud.signing import sign_json

        signed = {k: v for k, v in record.items() if k != "signature"}
        signed["signature"] = sign_json(signed, self.signer(member or record["issuer"]["member_id"]))
        return signed


@pytest.fixture
def members(tmp_path: Path) -> Members:
    """Keys of alliance members; ``platform-a`` (the issuer of :func:`record`) has one from the start."""
    out = Members(tmp_path / "keys")
    out.key("platform-a")
    return out


@pytest.fixture(scope="session")
def new_record():  # noqa: ANN201
    """A function that returns a fresh copy of :func:`record`, for fixtures wider than one test."""
    return lambda: copy.deepcopy(_RECORD)


@pytest.fixture(scope="session")
def members_in():  # noqa: ANN201
    """A function giving the :class:`Members` whose keys are in a folder, for fixtures wider than one test."""
    return Members
