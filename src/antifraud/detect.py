"""The main job: export files in, findings out.

>>> from antifraud.detect import detect
>>> run = detect(["fixtures/generic/orders.csv"], out_dir="run", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from antifraud import __version__
from antifraud.detectors.ensemble import BrushingEnsemble
from antifraud.features.data import DetectionData, prepare
from antifraud.findings import describe_rings, write_findings
from antifraud.findings.evidence import write_evidence_tables
from antifraud.ingest import IngestResult, Profile, ingest
from antifraud.ingest.manifest import sha256_file
from antifraud.io import write_csv, write_json, write_jsonl
from antifraud.records.chain import canonical_bytes
from antifraud.records.findings import Issuer, RunContext, build_records, issuing_time
from antifraud.records.lifecycle import timestamp
from antifraud.signing import Signer

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
    issuer: Issuer | None = None,
    signer: Signer | None = None,
    issued_at: str | None = None,
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
        Seed of every randomised step. The same inputs, parameters, seed and pseudonym key with a
        fixed issuing time give byte-identical files (``run.json`` but for its timings).
    contamination : float
        Expected share of fraudulent entities, which sets the flagging thresholds.
    issuer : Issuer, optional
        Who issues the ``findings.jsonl`` credit records (default: from the environment).
    signer : Signer, optional
        Signs every record (Ed25519).
    issued_at : str, optional
        When the records are issued (RFC 3339); else ``SOURCE_DATE_EPOCH``, else the clock
        (:func:`~antifraud.records.findings.issuing_time`). ``run.json`` says which.
    """
    say = progress or (lambda *_args: None)
    issued = issuing_time(issued_at)
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
    rings = describe_rings(data, ensemble)
    written = write_evidence_tables(data, ensemble, out, pseudonymizer=result.pseudonymizer)
    # The score files are written (mostly in Arrow, without the GIL) while the records are built.
    files = ThreadPoolExecutor(1)
    scores = files.submit(write_findings, data, ensemble, out, rings)
    written["quarantine"] = out / "quarantine.csv"
    parameters = {"seed": seed, "contamination": contamination,
                  "ensemble": {k: repr(v) for k, v in ensemble.get_params(deep=True).items()}}
    inputs = tuple(f.sha256 for f in result.files)
    run_id = "run-" + hashlib.sha256(canonical_bytes([list(inputs), parameters])).hexdigest()[:16]
    context = RunContext(
        issuer=issuer or Issuer.from_environment(platform=profile.name),
        pseudonymizer=result.pseudonymizer,
        run_id=run_id,
        input_sha256=inputs,
        data_as_of=timestamp(data.times.max()) if data.times.size else issued.at,
        toolkit_version=__version__,
        issued_at=issued.at,
        evidence=({"bundle_id": run_id, "path": "evidence/orders.parquet", "media_type": "application/vnd.apache.parquet",
                   "sha256": sha256_file(written["evidence_orders"])},),
        signer=signer,
    )
    written["findings"] = out / "findings.jsonl"
    try:
        write_jsonl(written["findings"], build_records(data, ensemble, rings, context))
        write_csv(result.quarantine, written["quarantine"])
    finally:
        files.shutdown()
    written = scores.result() | written
    timings["write"] = time.perf_counter() - t0
    result.timings.update(timings)  # the run's stages, after ingest's own
    written["manifest"] = out / "run.json"
    manifest = result.manifest("detect", {
        "run_id": run_id,
        "issuer": context.issuer.to_record() | {"platform": context.issuer.platform},
        "issued": issued._asdict(),
        "parameters": parameters,
        "detectors": {"skipped": ensemble.skipped_, "thresholds": ensemble.threshold_},
        "findings": {
            "rings": len(ensemble.rings_),
            "accounts_flagged": int((ensemble.account_scores_ >= ensemble.threshold_["accounts"]).sum()),
            "merchants_flagged": int((ensemble.merchant_scores_ >= ensemble.threshold_["merchants"]).sum()),
            "orders_flagged": int((ensemble.order_scores_ >= ensemble.threshold_["orders"]).sum()),
        },
        "outputs": {k: p.relative_to(out).as_posix() for k, p in written.items()},
    })
    write_json(written["manifest"], manifest)
    return Detection(result, data, ensemble, dict(result.timings), written)
