"""The folder a run writes.

Reproducibility: the same inputs, parameters, seed and pseudonym key, with the issuing time
fixed (``SOURCE_DATE_EPOCH`` or ``detect --issued-at``), give byte-identical files, all but
``run.json``, which also differs only in the members named by :data:`RUN_TIMINGS`.
"""

from __future__ import annotations

__all__ = ["RUN_TIMINGS"]

#: The members of ``run.json`` that say when and how long the run took: they vary run to run.
RUN_TIMINGS: tuple[str, ...] = ("started_at", "finished_at", "timings_s")
