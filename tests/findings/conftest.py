"""A small synthetic export with planted rings of every kind, its detection data and findings."""

from __future__ import annotations

import json

import pytest


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
