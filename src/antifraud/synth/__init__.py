"""Synthetic order/review exports with planted brushing rings and their ground truth.

The researchers' test bench: :func:`generate` builds an export in memory from a
:class:`SynthConfig`; :meth:`SyntheticExport.write` or :func:`write_synthetic_export` write
``orders.csv`` (canonical columns of :mod:`antifraud.schema`, raw personal values) and a
``truth/`` folder. The honest background (Zipf shop popularity, heavy-tailed buyers, daily and
weekly rhythms) carries the honest traps that fool naive detectors, each of which can be switched
on or off (:data:`antifraud.synth.traps.TRAPS`; their instances in ``truth/traps.jsonl``); every
ring kind of :data:`antifraud.kinds.RING_KINDS` is injected, easy, medium or hard (see
:mod:`antifraud.synth.rings`). :func:`bench_config` draws a different world per seed for the
randomised bench, whose tuning and held-out seeds are :data:`TUNING_SEEDS` and
:data:`HELD_OUT_SEEDS` (:mod:`antifraud.synth.bench`).

Examples
--------
>>> from antifraud.synth import SynthConfig, generate
>>> export = generate(SynthConfig(n_orders=5_000, seed=42))
>>> int(export.order_labels["is_fraud"].sum()) > 0
True
>>> honest = generate(SynthConfig(n_orders=5_000, seed=42, fraud_share=0, traps={"parcel_station"}))
>>> honest.rings.empty, set(honest.traps["trap"])
(True, {'parcel_station'})
"""

from antifraud.synth.bench import HELD_OUT_SEEDS, TUNING_SEEDS, bench_config
from antifraud.synth.config import SynthConfig
from antifraud.synth.export import SyntheticExport, generate, write_synthetic_export

__all__ = [
    "HELD_OUT_SEEDS",
    "TUNING_SEEDS",
    "SynthConfig",
    "SyntheticExport",
    "bench_config",
    "generate",
    "write_synthetic_export",
]
