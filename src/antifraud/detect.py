"""The main job: export files in, findings out.

>>> from antifraud.detect import detect
>>> run = detect(["fixtures/generic/orders.csv"], out_dir="run", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from antifraud.detectors.ensemble import BrushingEnsemble
from antifraud.features.data import DetectionData, prepare
from antifraud.findings import write_findings
from antifraud.ingest import IngestResult, Profile, ingest
from antifraud.io import write_csv, write_json

__all__ = ["Detection", "detect"]


@dataclass
class Detection:
    """A finished detection run."""

    ingest: IngestResult
    data: DetectionData
    ensemble: BrushingEnsemble
    timings: dict[str, float]
    paths: dict[str, Path]


def detect(
    paths: Sequence[str | Path],
    profile: Profile,
    *,
    out_dir: str | Path,
    seed: int = 0,
    contamination: float = 0.05,
    encoding: str | None = None,
    progress: Callable[..., None] | None = None,
) -> Detection:
    """Ingest ``paths``, run the ensemble and write findings, quarantine and ``run.json``.

    Parameters
    ----------
    paths : sequence of path
        Export files, read with ``profile``.
    out_dir : path
        Where ``accounts.csv``, ``merchants.csv``, ``orders.csv``, ``rings.jsonl``,
        ``quarantine.csv`` and ``run.json`` go.
    seed : int
        Seed of every randomised step; the same seed gives identical files.
    contamination : float
        Expected share of fraudulent entities, which sets the flagging thresholds.
    """
    say = progress or (lambda *_args: None)
    result = ingest(paths, profile, encoding=encoding, progress=progress)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    say("building graphs and features")
    data = prepare(result.table)
    timings["graphs_and_features"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    say("running detectors")
    ensemble = BrushingEnsemble(contamination=contamination, random_state=seed).fit(data)
    timings["detectors"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    say("writing findings")
    out = Path(out_dir)
    written = write_findings(data, ensemble, out)
    written["quarantine"] = out / "quarantine.csv"
    write_csv(result.quarantine, written["quarantine"])
    timings["write"] = time.perf_counter() - t0
    result.timings.update(timings)  # the run's stages, after ingest's own
    written["manifest"] = out / "run.json"
    manifest = result.manifest("detect", {
        "parameters": {"seed": seed, "contamination": contamination,
                       "ensemble": {k: repr(v) for k, v in ensemble.get_params(deep=True).items()}},
        "detectors": {"skipped": ensemble.skipped_, "thresholds": ensemble.threshold_},
        "findings": {
            "rings": len(ensemble.rings_),
            "accounts_flagged": int((ensemble.account_scores_ >= ensemble.threshold_["accounts"]).sum()),
            "merchants_flagged": int((ensemble.merchant_scores_ >= ensemble.threshold_["merchants"]).sum()),
            "orders_flagged": int((ensemble.order_scores_ >= ensemble.threshold_["orders"]).sum()),
        },
        "outputs": {k: p.name for k, p in written.items()},
    })
    write_json(written["manifest"], manifest)
    return Detection(result, data, ensemble, dict(result.timings), written)
