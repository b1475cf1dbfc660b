"""Findings fixtures: a small synthetic export with planted rings of every kind (its detection data
and findings), and a whole detection run under the alliance key (for the records written from them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ALLIANCE_KEY = "00" * 16 + "ab" * 16


@pytest.fixture(scope="package")
def run(tmp_path_factory):  # noqa: ANN201
    """``(data, ensemble, findings, truth rings)`` of a 20k-order synthetic export."""
    from antifraud.detectors import BrushingEnsemble
    from antifraud.features.data import prepare
    from antifraud.findings import build_findings
    from antifraud.ingest import PROFILES, ingest
    from antifraud.synth import write_synthetic_export

    out = write_synthetic_export(tmp_path_factory.mktemp("synth"), seed=5, n_orders=20_000)
    data = prepare(ingest([out / "orders.csv"], PROFILES["generic"]).table)
    ensemble = BrushingEnsemble(random_state=0).fit(data)
    truth = [json.loads(line) for line in (out / "truth" / "rings.jsonl").read_text().splitlines()]
    return data, ensemble, build_findings(data, ensemble), truth


@pytest.fixture(scope="session")
def detection_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A detection run on a small synthetic export with known rings, under the alliance key."""
    from antifraud.detect import detect
    from antifraud.ingest import PROFILES
    from antifraud.ingest.pseudonym import Pseudonymizer
    from antifraud.records.issuing import Issuer
    from antifraud.synth import write_synthetic_export

    root = tmp_path_factory.mktemp("records-run")
    export = root / "export"
    write_synthetic_export(export, seed=3, n_orders=20_000)
    issuer = Issuer(member_id="platform-a", uscc="914403001922038216", role="platform", platform="platform-a")
    detect([export / "orders.csv"], PROFILES["generic"], out_dir=root / "run", seed=3, issuer=issuer,
           pseudonymizer=Pseudonymizer(bytes.fromhex(ALLIANCE_KEY), key_id="alliance-test"))
    return root


@pytest.fixture
def alliance_key() -> bytes:
    return bytes.fromhex(ALLIANCE_KEY)


@pytest.fixture
def read_jsonl():  # noqa: ANN201
    """Read a JSON Lines file into a list of objects."""
    return lambda path: [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
