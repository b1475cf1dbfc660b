"""The main job: export files in, findings out.

Everything a run depends on is passed in; only the command line reads the environment.

>>> from antifraud.detect import detect
>>> from antifraud.ingest import PROFILES, Pseudonymizer
>>> from antifraud.records.issuing import Issuer
>>> run = detect(["fixtures/generic/orders.csv"], PROFILES["generic"], out_dir="run", seed=0,
...              issuer=Issuer(member_id="platform-a", platform="generic"),
...              pseudonymizer=Pseudonymizer(alliance_key, key_id="alliance-2026q4"),
...              issued_at="2026-12-01T00:00:00Z")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from joblib import parallel_config

from antifraud import __version__
from antifraud.detectors.ensemble import BrushingEnsemble
from antifraud.features.data import DetectionData, prepare
from antifraud.findings.evidence import write_evidence_tables
from antifraud.findings.model import Findings, build_findings
from antifraud.findings.outputs import write_findings
from antifraud.findings.records import build_records
from antifraud.findings.summary import run_summary, summary_markdown
from antifraud.ingest import IngestResult, Profile, ingest
from antifraud.ingest.manifest import sha256_file
from antifraud.ingest.pseudonym import Pseudonymizer
from antifraud.io import write_csv, write_json, write_jsonl, write_text
from antifraud.io.run_folder import staged_folder
from antifraud.io.work_folder import WorkFolder, stage_key
from antifraud.learning.features import EntityFeatures, entity_features
from antifraud.learning.folder import load_model
from antifraud.learning.model import BrushingModel
from antifraud.records.chain import canonical_bytes
from antifraud.records.issuing import Issuer, IssuingTime, RunContext, issuing_time
from antifraud.records.lifecycle import timestamp
from antifraud.signing import Signer

__all__ = ["Detection", "NothingToDetect", "RUN_FILES", "STAGES", "detect"]

#: What a detection run writes at the top of its folder.
RUN_FILES: tuple[str, ...] = ("accounts.csv", "merchants.csv", "orders.csv", "rings.jsonl", "findings.jsonl",
                              "evidence", "quarantine.csv", "run.json", "summary.md")
#: The stages whose results a work folder keeps (:mod:`antifraud.io.work_folder`), in order.
STAGES: tuple[str, ...] = ("ingest", "detectors", "model")


class NothingToDetect(ValueError):
    """No row of the export was accepted: the run wrote its quarantine and ``run.json`` only."""


@dataclass
class Detection:
    """A finished detection run."""

    ingest: IngestResult
    data: DetectionData
    ensemble: BrushingEnsemble
    findings: Findings
    timings: dict[str, float]
    paths: dict[str, Path]
    model: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None


def detect(
    paths: Sequence[str | Path],
    profile: Profile,
    *,
    out_dir: str | Path,
    seed: int = 0,
    contamination: float | None = None,
    encoding: str | None = None,
    issuer: Issuer | None = None,
    signer: Signer | None = None,
    issued_at: str | IssuingTime | None = None,
    progress: Callable[..., None] | None = None,
    ensemble: BrushingEnsemble | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    config_file: str | Path | None = None,
    n_jobs: int | None = -1,
    model: str | Path | None = None,
    work_dir: str | Path | None = None,
) -> Detection:
    """Ingest ``paths``, run the ensemble and write findings, quarantine and ``run.json``.

    Everything the run depends on is a parameter: nothing is read from the environment (the
    command line reads ``ANTIFRAUD_*`` and ``SOURCE_DATE_EPOCH`` and passes what they say).

    Parameters
    ----------
    paths : sequence of path
        Export files, read with ``profile``.
    out_dir : path
        The run folder: ``accounts.csv``, ``merchants.csv``, ``orders.csv``, ``rings.jsonl``,
        ``findings.jsonl``, ``evidence/orders.parquet``, ``quarantine.csv``, ``run.json`` and
        ``summary.md``, the run summary for people (:data:`RUN_FILES`;
        :mod:`antifraud.findings.summary`). They replace the folder's previous outputs as a whole, and only once
        all are written (:func:`~antifraud.io.run_folder.staged_folder`); a second run into the
        same folder meanwhile is refused.
    seed : int
        Seed of every randomised step. The same inputs, parameters, seed and pseudonym key with a
        fixed issuing time give byte-identical files (``run.json`` but for its timings).
    contamination : float, optional
        Flag this share of each kind of entity (a quota) instead of what the rings significant
        at the ensemble's false-discovery rate hold (the default).
    issuer : Issuer, optional
        Who issues the ``findings.jsonl`` credit records; default ``Issuer(platform=profile.name)``,
        the unconfigured member ``local``, whose records ``antifraud feed export`` refuses to share.
    signer : Signer, optional
        Signs every record (Ed25519).
    issued_at : str or IssuingTime, optional
        When the records are issued: an RFC 3339 time, or an
        :class:`~antifraud.records.issuing.IssuingTime` resolved by the caller (the command line
        honours ``SOURCE_DATE_EPOCH`` that way); default the clock. ``run.json`` says which.
    ensemble : BrushingEnsemble, optional
        The unfitted ensemble to run, fitted in place (``seed`` and ``contamination`` are then
        its ``random_state`` and ``contamination``); default ``BrushingEnsemble(contamination=
        contamination, random_state=seed)``. Its ``get_params(deep=True)`` go to ``run.json``
        and into the run id.
    pseudonymizer : Pseudonymizer, optional
        Keys the pseudonyms of personal fields and accounts (the alliance key); default a key
        generated for this run (:meth:`~antifraud.ingest.pseudonym.Pseudonymizer.for_run`), whose
        pseudonyms link nothing outside the run and are never shared.
    config_file : path, optional
        The configuration file ``ensemble`` was built from
        (:func:`~antifraud.detectors.load_config`), recorded in ``run.json`` with its SHA-256.
    n_jobs : int or None
        Detectors fitted at once, in threads, where the ensemble's own ``n_jobs`` is None: -1
        (the default) every core, None or 1 one at a time. The outputs do not depend on it.
    model : path, optional
        A model folder written by :func:`antifraud.train.train`: its probabilities of fraud
        become the accounts' and merchants' evidence (:meth:`BrushingEnsemble.set_evidence`);
        ``run.json`` says which model, and which of its features this export leaves uninformed.
    work_dir : path, optional
        A work folder (:class:`~antifraud.io.work_folder.WorkFolder`, created owner-only, 0700)
        that keeps the result of each finished stage: ``ingest`` (the canonical table and
        quarantine as Arrow IPC files, the rest of the :class:`IngestResult` as JSON, never the key),
        ``detectors`` (the fitted ensemble, joblib) and ``model`` (the learned model's features
        and evidence). A rerun after a crash or an interrupt reuses each stage finished with
        the same inputs (their SHA-256, which costs a full read of them), profile, encoding,
        pseudonym key (id and fingerprint), ensemble parameters, seed, contamination, model and
        toolkit version, and recomputes and replaces the others; the outputs are the same as an
        uninterrupted run's, and ``run.json`` says under ``work`` which stages were resumed.
        Without an alliance key nothing is reused, since every run has a key of its own. The
        graphs and features are rebuilt from the table on every run. A resumed ``detectors``
        stage is loaded, not fitted: the returned :attr:`Detection.ensemble` is then not the
        ``ensemble`` given.

    Raises
    ------
    NothingToDetect
        If every row was quarantined; ``quarantine.csv`` and ``run.json`` are written first.
    ValueError
        If an input lies inside ``out_dir``, ``out_dir`` and ``work_dir`` lie one in the other, or
        either is busy or holds other files.
    """
    say = progress or (lambda *_args: None)
    learned = load_model(model) if model is not None else None
    issued = issued_at if isinstance(issued_at, IssuingTime) else issuing_time(issued_at, environ={})
    out = Path(out_dir)
    for path in paths:
        if Path(path).resolve().is_relative_to(out.resolve()):
            raise ValueError(f"{path}: the input is inside the output folder {out}, which a run replaces as a whole")
    if work_dir is not None and _nested(Path(work_dir), out):
        raise ValueError(f"{work_dir}: the work folder and the output folder {out} must not lie one in the other")
    if ensemble is None:
        ensemble = BrushingEnsemble(contamination=contamination, random_state=seed)
    parameters = {"seed": ensemble.random_state, "contamination": ensemble.contamination,
                  "ensemble": {k: repr(v) for k, v in ensemble.get_params(deep=True).items()}}
    if learned is not None:
        parameters["model"] = sha256_file(Path(model) / "model.json")
    if issuer is None:
        issuer = Issuer(platform=profile.name)
    config = {} if config_file is None else {"config": {"path": str(config_file), "sha256": sha256_file(config_file)}}
    pseudonymizer = pseudonymizer or Pseudonymizer.for_run()  # before the ingest: it is part of the ingest's key
    with staged_folder(out, RUN_FILES) as stage, _work_folder(work_dir) as work:
        keys = {} if work is None else _timed(work.timings, "hash_inputs", _stage_keys, paths, profile, encoding,
                                              pseudonymizer, parameters, say)

        def resumable(name: str, compute: Callable[[], Any], save: Callable[[Any, Path], None],
                      load: Callable[[Path], Any]) -> Any:
            return compute() if work is None else work.reuse_or_run(name, keys[name], compute, save, load, say)

        result = resumable("ingest", lambda: ingest(paths, profile, encoding=encoding, pseudonymizer=pseudonymizer,
                                                    progress=progress),
                           IngestResult.save, lambda folder: IngestResult.load(folder, profile, pseudonymizer))
        inputs = tuple(f.sha256 for f in result.files)
        run_id = "run-" + hashlib.sha256(canonical_bytes([list(inputs), parameters])).hexdigest()[:16]
        about = {"run_id": run_id, "issuer": issuer.to_record() | {"platform": issuer.platform},
                 "issued": issued._asdict(), "parameters": parameters} | config
        data = None
        if result.rows_accepted:
            say("building graphs and features")
            data = _timed(result.timings, "graphs_and_features", prepare, result.table)

            def fit() -> BrushingEnsemble:
                say("running detectors")
                with parallel_config(backend="threading", n_jobs=n_jobs):
                    return _timed(result.timings, "detectors", ensemble.fit, data)

            ensemble = resumable("detectors", fit, _dump("ensemble.joblib"), _load("ensemble.joblib"))
            explained = None  # the learned model and the features it scored, to explain the rings by
            if learned is not None:

                def score() -> tuple[EntityFeatures, dict[str, np.ndarray]]:
                    say("scoring with the learned model")
                    return _timed(result.timings, "model", _learned_evidence, data, ensemble, learned[0])

                features, evidence = resumable("model", score, _dump("learned.joblib"), _load("learned.joblib"))
                ensemble.set_evidence(evidence)
                about["model"] = _about_model(learned, features, Path(model), parameters["model"])
                explained = learned[0], features
            say("writing findings")
            context = RunContext(issuer=issuer, pseudonymizer=result.pseudonymizer, run_id=run_id,
                                 input_sha256=inputs, data_as_of=timestamp(data.times.max()),
                                 toolkit_version=__version__, issued_at=issued.at, signer=signer)
            findings, written, summary = _timed(result.timings, "write", _write_findings, stage, result, data,
                                                ensemble, context, explained)
            summary["summary"] = run_summary(findings, result.quarantine, result.profile.timezone, result.table)
        else:
            findings, written, summary = None, {"quarantine": stage / "quarantine.csv"}, {"findings": None}
            write_csv(result.quarantine, written["quarantine"])
        if work is not None:
            about["work"] = {"folder": str(work.path), "resumed": work.resumed, "computed": work.written}
            result.timings.update(work.timings)
        written["manifest"] = stage / "run.json"
        if data is not None:
            written["summary"] = stage / "summary.md"
        outputs = {k: p.relative_to(stage).as_posix() for k, p in written.items()}
        manifest = result.manifest("detect", about | summary | {"outputs": outputs}, signals=ensemble.signals())
        write_json(written["manifest"], manifest)
        if data is not None:
            write_text(written["summary"], summary_markdown(manifest))
    paths = {k: out / name for k, name in outputs.items()}
    if data is None:
        raise NothingToDetect(f"{out}: 0 of {result.rows_read:,} rows accepted: nothing to detect; "
                              f"each row's reason is in {paths['quarantine']}")
    return Detection(result, data, ensemble, findings, dict(result.timings), paths, about.get("model"),
                     summary["summary"])


def _nested(a: Path, b: Path) -> bool:
    """Whether either folder is, or lies in, the other."""
    a, b = a.resolve(), b.resolve()
    return a.is_relative_to(b) or b.is_relative_to(a)


@contextlib.contextmanager
def _work_folder(path: str | Path | None) -> Iterator[WorkFolder | None]:
    """The work folder at ``path``, held for the run; None without one."""
    if path is None:
        yield None
        return
    with WorkFolder(path, STAGES).open() as work:
        yield work


def _stage_keys(paths: Sequence[str | Path], profile: Profile, encoding: str | None, pseudonymizer: Pseudonymizer,
                parameters: dict[str, Any], say: Callable[..., None]) -> dict[str, str]:
    """The key of each of :data:`STAGES`: what its result depends on, each stage's including the
    key of the stage before. Reads every input in full, to hash it."""
    if not pseudonymizer.shareable:
        say("the pseudonym key is this run's own: no later run can resume from the work folder")
    say("hashing the inputs to check the work folder")
    settings = {f.name: getattr(profile, f.name) for f in fields(profile) if f.compare}
    settings["columns"] = {name: list(headers) for name, headers in profile.columns.items()}
    keys = {"ingest": stage_key("ingest", __version__, [str(Path(p)) for p in paths], [sha256_file(p) for p in paths],
                                settings, encoding, pseudonymizer.key_id, pseudonymizer.fingerprint)}
    keys["detectors"] = stage_key("detectors", keys["ingest"], {k: v for k, v in parameters.items() if k != "model"})
    keys["model"] = stage_key("model", keys["detectors"], parameters.get("model"))
    return keys


def _dump(name: str) -> Callable[[Any, Path], None]:
    """Save a stage's result as ``name`` (joblib) in its folder."""
    return lambda value, folder: joblib.dump(value, folder / name)


def _load(name: str) -> Callable[[Path], Any]:
    """Load what :func:`_dump` saved as ``name``."""
    return lambda folder: joblib.load(folder / name)


def _learned_evidence(data: DetectionData, ensemble: BrushingEnsemble, model: BrushingModel,
                      ) -> tuple[EntityFeatures, dict[str, np.ndarray]]:
    """The features a learned model scores (which explain the rings,
    :func:`~antifraud.findings.model.build_findings`) and its probabilities of fraud, the fitted
    ensemble's new evidence."""
    features = entity_features(data, ensemble, orders="orders" in model.models_)
    return features, model.predict_proba(features)


def _about_model(learned: tuple[BrushingModel, dict], features: EntityFeatures, folder: Path,
                 sha256: str) -> dict[str, Any]:
    """What ``run.json`` says of the learned model (``sha256``: of its ``model.json``)."""
    model, trained = learned
    return {"path": str(folder), "sha256": sha256,
            "created_at": trained["created_at"], "toolkit_version": trained["toolkit_version"],
            "kinds": sorted(model.models_), "lacking": model.lacking(features)}


def _timed(timings: dict[str, float], stage: str, func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)``, its wall time recorded in ``timings[stage]``."""
    t0 = time.perf_counter()
    try:
        return func(*args)
    finally:
        timings[stage] = time.perf_counter() - t0


def _write_findings(out: Path, result: IngestResult, data: DetectionData, ensemble: BrushingEnsemble,
                    context: RunContext, explained: tuple[BrushingModel, EntityFeatures] | None,
                    ) -> tuple[Findings, dict[str, Path], dict[str, Any]]:
    """Build the findings (their rings explained by a learned model and its features, if given) and
    write the score files, rings, evidence table, records and quarantine into ``out``; return the
    findings, the files' paths and the ``run.json`` summary of what was found."""
    findings = build_findings(data, ensemble, explained)
    written = write_evidence_tables(data, findings, out, pseudonymizer=result.pseudonymizer)
    context = replace(context, evidence=({
        "bundle_id": context.run_id, "path": "evidence/orders.parquet", "media_type": "application/vnd.apache.parquet",
        "sha256": sha256_file(written["evidence_orders"])},))
    # The score files are written (mostly in Arrow, without the GIL) while the records are built.
    files = ThreadPoolExecutor(1)
    score_files = files.submit(write_findings, findings, out)
    written["quarantine"] = out / "quarantine.csv"
    written["findings"] = out / "findings.jsonl"
    try:
        write_jsonl(written["findings"], build_records(findings, context))
        write_csv(result.quarantine, written["quarantine"])
    finally:
        files.shutdown()
    summary = {
        "detectors": {"skipped": findings.skipped, "thresholds": {k: s.threshold for k, s in findings.scores.items()}},
        "findings": {
            "rings": len(findings.rings),
            **{f"{kind}_flagged": int(scores.flagged.sum()) for kind, scores in findings.scores.items()},
        },
    }
    return findings, score_files.result() | written, summary
