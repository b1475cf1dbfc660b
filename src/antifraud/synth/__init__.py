"""Synthetic order/review exports with planted brushing rings and their ground truth.

The researchers' test bench: :func:`generate` builds an export in memory from a
:class:`SynthConfig`; :meth:`SyntheticExport.write` or :func:`write_synthetic_export` write
``orders.csv`` (canonical columns of :mod:`antifraud.schema`, raw personal values) and a
``truth/`` folder. The honest background carries the noise that fools naive detectors (Zipf shop
popularity, heavy-tailed buyers, daily and weekly rhythms, a festival rush, households, carrier
NAT, fresh and one-shop honest buyers); every ring kind of the domain notes is injected, easy and
hard (see :mod:`antifraud.synth.rings`).

Examples
--------
>>> from antifraud.synth import SynthConfig, generate
>>> export = generate(SynthConfig(n_orders=5_000, seed=42))
>>> int(export.order_labels["is_fraud"].sum()) > 0
True
"""

from antifraud.synth.config import SynthConfig
from antifraud.synth.export import SyntheticExport, generate, write_synthetic_export

__all__ = ["SynthConfig", "SyntheticExport", "generate", "write_synthetic_export"]
