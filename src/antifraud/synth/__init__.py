"""Synthetic order/review exports with planted brushing rings and their ground truth.

The researchers' test bench: :func:`generate` builds an export in memory from a
:class:`SynthConfig`; :meth:`SyntheticExport.write` or :func:`write_synthetic_export` write
``orders.csv`` (canonical columns of :mod:`antifraud.schema`, raw personal values) and a
``truth/`` folder. The honest background (Zipf shop popularity, heavy-tailed buyers, daily and
weekly rhythms) carries the honest traps that fool naive detectors, each of which can be switched
on or off (:data:`antifraud.synth.traps.TRAPS`; their instances in ``truth/traps.jsonl``); every
ring kind of the domain notes is injected, easy and hard (see :mod:`antifraud.synth.rings`).

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

from antifraud.synth.config import SynthConfig
from antifraud.synth.export import SyntheticExport, generate, write_synthetic_export

__all__ = ["SynthConfig", "SyntheticExport", "generate", "write_synthetic_export"]
