"""Learning fixtures: the bundled generic export, ingested and detected once."""

from __future__ import annotations

from pathlib import Path

import pytest

EXPORT = Path(__file__).parents[2] / "fixtures" / "generic" / "orders.csv"


@pytest.fixture(scope="package")
def fitted():  # noqa: ANN201
    """``(data, ensemble)`` of the bundled generic export."""
    from antifraud.detectors import BrushingEnsemble
    from antifraud.features.data import prepare
    from antifraud.ingest import PROFILES, ingest

    data = prepare(ingest([EXPORT], PROFILES["generic"]).table)
    return data, BrushingEnsemble(random_state=0).fit(data)
