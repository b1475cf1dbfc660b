"""Each honest trap alone (issue 11): a world of honest traffic with one trap switched on, in
which the ensemble must report no ring and flag nobody, though the trap looks like brushing to
a detector of structure (crowds, shared identities, templates, bursts of bad reviews)."""

import pytest

from antifraud.detectors import BrushingEnsemble
from antifraud.features.data import prepare
from antifraud.ingest import PROFILES, ingest
from antifraud.synth import write_synthetic_export
from antifraud.synth.traps import TRAP_NAMES


@pytest.mark.parametrize("trap", TRAP_NAMES)
def test_an_honest_trap_alone_makes_no_ring(trap, tmp_path):
    out = write_synthetic_export(tmp_path, seed=11, n_orders=30_000, fraud_share=0.0, traps=(trap,))
    data = prepare(ingest([out / "orders.csv"], PROFILES["generic"]).table)
    ensemble = BrushingEnsemble(random_state=0).fit(data)
    assert [(r.kind, len(r.accounts)) for r in ensemble.rings_] == []
    assert not ensemble.account_labels_.any() and not ensemble.merchant_labels_.any()
