"""A small detection run shared by the evidence tests: export, run folder and evidence table
(``detect`` writes ``evidence/orders.parquet``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from antifraud.detect import Detection, detect
from antifraud.ingest import PROFILES
from antifraud.ingest.pseudonym import Pseudonymizer
from antifraud.records.issuing import Issuer
from antifraud.synth import write_synthetic_export


@dataclass
class SmallRun:
    export: Path
    run: Path
    detection: Detection
    evidence: Path


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> SmallRun:
    root = tmp_path_factory.mktemp("evidence-run")
    export = write_synthetic_export(root / "export", seed=3, n_orders=8_000)
    detection = detect([export / "orders.csv"], PROFILES["generic"], out_dir=root / "run", seed=3,
                       issuer=Issuer(member_id="platform-a", platform="generic"),  # whose key signs its bundles
                       pseudonymizer=Pseudonymizer(bytes.fromhex("00" * 16 + "ab" * 16)))
    return SmallRun(export, root / "run", detection, detection.paths["evidence_orders"])
