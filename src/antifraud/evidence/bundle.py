"""Evidence bundles: everything a regulator needs to check a finding, in one verifiable zip.

A bundle holds, for each ring it covers (``rings/<ring id>/``):

- ``report.html``: the ring's evidence on one page that opens offline;
- ``ring-graph.png``, ``timeline.png``, ``rating-history.png``: the pictures on their own;
- ``orders.csv``: every order at the ring's shops, ring orders marked, accounts and personal
  fields as pseudonyms;
- ``edges.csv``: the ring's subgraph as an edge list (account pseudonym, shop key, orders);
- ``signals.csv``: why the ring is suspicious, each signal with its population percentile;
- ``findings.jsonl``: the ``acr/1`` records about the ring, its merchants and its accounts.

and at the top ``index.html`` (the rings, linked), ``run.json`` (the run's manifest, with input
files and column profile named by file name only: no local path leaves the analyst's machine;
inputs keep their SHA-256; without the timings, so two identical runs give identical bundles)
and, in a bundle of the whole run, ``evidence/orders.parquet`` (the file the records' evidence
references name, checked against their SHA-256 before it is packed). ``manifest.json`` lists the SHA-256 of every file, the inputs' SHA-256, the parameters,
seed and toolkit version, so the finding can be reproduced; with a signing key it is signed
(Ed25519). ``antifraud verify`` checks all of it.

Raw account ids never enter a bundle: accounts appear as in the finding records, as their
alliance pseudonyms. Its CSV files are written by :func:`antifraud.io.csv_bytes`, spreadsheet-safe
like every CSV of the toolkit.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path, PureWindowsPath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from joblib import Parallel, delayed

from antifraud.evidence.archive import write_archive
from antifraud.evidence.consistency import FINDINGS_NAME, evidence_mismatches
from antifraud.evidence.report import CSP, render_report, ring_pictures
from antifraud.evidence.wording import DEFAULT_LANGUAGE, HTML_LANG, LANGUAGES, counted, kind_texts, text
from antifraud.findings.rings import listed_targets
from antifraud.io import csv_bytes
from antifraud.io.run_folder import RUN_TIMINGS
from antifraud.records.validation import validate_record
from antifraud.signing import Signer

__all__ = ["write_bundle", "select_rings", "shareable_run"]

_NAMESPACE = uuid.UUID("0c7f3d0e-52a1-5b2c-8d3e-3f8f0a1b2c44")
_EDGES = pa.schema([("src", pa.string()), ("dst", pa.string()), ("relation", pa.string()), ("weight", pa.int64())])


def select_rings(records: Sequence[Mapping[str, Any]], rings: Sequence[Mapping[str, Any]],
                 finding: str | None) -> list[str]:
    """The ring ids a bundle covers: all of the run's, or the ring a finding is about.

    ``finding`` is a ring id (``R0001``) or the id of a finding record; a merchant or account
    finding leads to the ring named by its ``ring`` signal.
    """
    ids = [r["ring_id"] for r in rings]
    if finding is None:
        return ids
    if finding in ids:
        return [finding]
    for record in records:
        if record["id"] == finding:
            ring = _ring_of(record)
            if ring is None:
                raise ValueError(f"finding {finding} is not about a ring of this run; nothing to bundle")
            return [ring]
    raise ValueError(f"{finding}: neither a ring id ({', '.join(ids[:3])}...) nor a finding of this run")


def write_bundle(run_dir: str | Path, out: str | Path, *, finding: str | None = None,
                 signer: Signer | None = None, lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Write the evidence bundle of a detection run (or of one finding) to ``out``.

    Parameters
    ----------
    run_dir : path
        A folder written by ``antifraud detect``.
    out : path
        The ``.zip`` to write (atomically).
    finding : str, optional
        A ring id or finding record id: bundle that ring only.
    signer : Signer, optional
        Sign the manifest with this key.
    lang : {"zh", "en"}
        Language of the reports, their pictures and the index: Chinese by default.

    Returns
    -------
    dict
        The manifest written.

    Raises
    ------
    ValueError
        If the folder's files are not all of one run: findings of another run than ``run.json``'s,
        or citing another ``evidence/orders.parquet`` than the folder holds; or ``lang`` is not
        one of :data:`~antifraud.evidence.wording.LANGUAGES`.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: the report is written in {' or '.join(LANGUAGES)}")
    run_dir = Path(run_dir)
    run = shareable_run(json.loads(_read(run_dir / "run.json")))
    rings = [json.loads(line) for line in _read(run_dir / "rings.jsonl").decode("utf-8").splitlines()]
    findings = run_dir / FINDINGS_NAME
    records = [validate_record(json.loads(line)) for line in _read(findings).decode("utf-8").splitlines()]
    evidence = _read(run_dir / "evidence" / "orders.parquet")  # read once: what is checked is what is packed
    others = sorted({r["provenance"]["run_id"] for r in records} - {run.get("run_id")})
    mismatches = evidence_mismatches(records, {"evidence/orders.parquet": hashlib.sha256(evidence).hexdigest()})
    if others or mismatches:
        why = f"holds findings of run {others[0]}, run.json is of run {run.get('run_id')}" if others else mismatches[0]
        raise ValueError(f"{findings} {why}: the folder mixes two runs' files; run detect again")
    orders = pq.read_table(pa.BufferReader(evidence))
    chosen = select_rings(records, rings, finding)
    by_id = {r["ring_id"]: r for r in rings}
    files: dict[str, bytes] = {"run.json": (json.dumps(run, ensure_ascii=False, indent=2) + "\n").encode("utf-8")}
    if finding is None:
        files["evidence/orders.parquet"] = evidence
    about: dict[str, list[dict]] = {}
    for record in records:
        about.setdefault(_ring_of(record), []).append(record)
    jobs = [delayed(_ring_files)(by_id[rid], about.get(rid, []), _shop_orders(orders, by_id[rid]), run, lang)
            for rid in chosen]
    for ring_files in Parallel(n_jobs=min(len(jobs), os.cpu_count() or 1))(jobs):  # pictures take ~1 s a ring
        files.update(ring_files)
    files["index.html"] = _index(chosen, by_id, run, lang).encode("utf-8")
    included = [r["id"] for r in records if _ring_of(r) in chosen]
    manifest = {
        "bundle_id": "bundle--" + str(uuid.uuid5(_NAMESPACE, f"{run.get('run_id')}|{','.join(chosen)}")),
        "run_id": run.get("run_id"),
        "issuer": run.get("issuer"),
        "rings": chosen,
        "findings": included,
        "inputs": [{"name": i["path"], "sha256": i["sha256"], "bytes": i["bytes"]} for i in run.get("inputs", [])],
        "parameters": run.get("parameters", {}),
        "seed": run.get("parameters", {}).get("seed"),
        "toolkit": run.get("toolkit", {}),
        "reproduce": "antifraud detect " + " ".join(i["path"] for i in run.get("inputs", []))
                     + f" --profile {run.get('profile', {}).get('name', 'generic')} --seed "
                     + f"{run.get('parameters', {}).get('seed')} --contamination "
                     + f"{run.get('parameters', {}).get('contamination')}",
    }
    return write_archive(out, files, manifest, signer=signer)


def shareable_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """``run.json`` as a bundle carries it: input files, a profile file and a detector
    configuration file by name only, and without its timings
    (:data:`~antifraud.io.run_folder.RUN_TIMINGS`).

    Examples
    --------
    >>> shared = shareable_run({"inputs": [{"path": "/home/ana/exports/o.csv", "sha256": "ab"}],
    ...                         "started_at": "2026-12-03T07:00:00+00:00",
    ...                         "profile": {"name": "mine", "source": "C:\\\\Users\\\\ana\\\\mine.toml"},
    ...                         "config": {"path": "/home/ana/detectors.toml", "sha256": "cd"}})
    >>> sorted(shared), shared["inputs"][0]["path"], shared["profile"]["source"], shared["config"]["path"]
    (['config', 'inputs', 'profile'], 'o.csv', 'mine.toml', 'detectors.toml')
    """
    shared = {k: v for k, v in run.items() if k not in RUN_TIMINGS}
    shared["inputs"] = [{**i, "path": _file_name(i["path"])} for i in run.get("inputs", [])]
    profile = dict(run.get("profile", {}))
    if profile.get("source") not in (None, "built-in"):
        profile["source"] = _file_name(profile["source"])
    shared["profile"] = profile
    if "config" in run:
        shared["config"] = {**run["config"], "path": _file_name(run["config"]["path"])}
    return shared


def _file_name(path: str) -> str:
    """The last part of a POSIX or Windows path."""
    return PureWindowsPath(path).name


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; is {path.parent} a folder written by antifraud detect?")
    return path.read_bytes()


def _ring_of(record: Mapping[str, Any]) -> str | None:
    for signal in record["assessment"]["signals"]:
        if signal["name"] == "ring":
            return str(signal["value"])
    return None


def _shop_orders(orders: pa.Table, ring: Mapping[str, Any]) -> pa.Table:
    """The evidence orders at a ring's shops (its own orders are all among them)."""
    targets = pa.array(listed_targets(ring), pa.string())
    return orders.filter(pc.is_in(pc.cast(orders.column("seller_id"), pa.string()), value_set=targets))


def _ring_files(ring: Mapping[str, Any], mine: Sequence[Mapping[str, Any]], orders: pa.Table,
                run: Mapping[str, Any], lang: str) -> dict[str, bytes]:
    """Every file of one ring's folder in a bundle, from the records about it and its shops' orders."""
    rid = ring["ring_id"]
    ring_record = next((r for r in mine if r["record_type"] == "ring_finding"), None)
    if ring_record is None:
        raise ValueError(f"findings.jsonl has no ring finding for {rid}")
    members = ring_record["subject"]["ring"]["members"]
    shared = {**ring, "accounts": [m["ref"] for m in members if m["kind"] == "account"]}
    pictures = ring_pictures(shared, orders, run, lang=lang)
    prefix = f"rings/{rid}/"
    files = {prefix + p.name: p.png for p in pictures}
    page = render_report(shared, list(mine), orders, dict(run), pictures, lang=lang)
    files[prefix + "report.html"] = page.encode("utf-8")
    files[prefix + "findings.jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in mine).encode()
    ring_subgraph = ring_record["subject"]["ring"]
    files[prefix + "edges.csv"] = csv_bytes(pa.Table.from_pylist(ring_subgraph["edges"], _EDGES))
    signals = ring_record["assessment"]["signals"]
    files[prefix + "signals.csv"] = csv_bytes(pa.table({
        "name": pa.array([s["name"] for s in signals], pa.string()),
        "value": pa.array([None if s["value"] is None else str(s["value"]) for s in signals], pa.string()),
        "population_percentile": pa.array([s["population_percentile"] for s in signals], pa.float64()),
        "explanation": pa.array([s["explanation"] for s in signals], pa.string()),
    }))
    files[prefix + "orders.csv"] = _ring_orders_csv(orders, rid)
    return files


def _ring_orders_csv(orders: pa.Table, rid: str) -> bytes:
    """The ring's shops' orders with ``in_ring`` (before ``weight``) and ``ring_ids`` joined by ``;``."""
    ring_ids = orders.column("ring_ids").combine_chunks()
    in_ring = np.zeros(orders.num_rows, dtype=bool)
    in_ring[pc.list_parent_indices(ring_ids).filter(pc.equal(pc.list_flatten(ring_ids), rid)).to_numpy()] = True
    table = orders.set_column(orders.schema.get_field_index("ring_ids"), "ring_ids", pc.binary_join(ring_ids, ";"))
    return csv_bytes(table.add_column(table.num_columns - 1, "in_ring", pa.array(in_ring)))


def _index(chosen: Sequence[str], rings: Mapping[str, Mapping[str, Any]], run: Mapping[str, Any],
           lang: str) -> str:
    e = html.escape
    rows = "".join(
        f'<tr><td><a href="rings/{e(rid)}/report.html">{e(rid)}</a></td>'
        f'<td>{e(kind_texts(str(rings[rid]["kind"])).title[lang])} ({e(str(rings[rid]["kind"]))})</td>'
        f'<td>{float(rings[rid]["score"]):.3f}</td><td>{len(rings[rid]["accounts"])}</td>'
        f'<td>{e(", ".join(listed_targets(rings[rid])))}</td></tr>'
        for rid in chosen)
    inputs = "".join(f"<li><code>{e(i['path'])}</code> sha256 <code>{e(i['sha256'])}</code></li>"
                     for i in run.get("inputs", []))
    title = e(text("index_title", lang, run=run.get("run_id")))
    head = "".join(f"<th>{e(text(h, lang))}</th>" for h in ("ring", "kind", "score", "accounts", "shop"))
    return f"""<!DOCTYPE html>
<html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">
<title>{title}</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;max-width:1000px;margin:2em auto;overflow-wrap:anywhere}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.25em .5em}}</style></head>
<body><h1>{title}</h1>
<p>{e(text("index_note", lang, rings=counted("n_rings", len(chosen), lang)))}</p>
<table><tr>{head}</tr>{rows}</table>
<h2>{e(text("inputs", lang))}</h2><ul>{inputs}</ul></body></html>
"""
