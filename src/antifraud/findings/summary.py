"""The run summary an analyst reads: what was read and lost, what the export lacked, the rings by
strength with their shops and reasons, and what to do next.

:func:`run_summary` gathers it once, into ``run.json`` (key ``summary``); :func:`summary_markdown`
writes ``summary.md`` from ``run.json`` alone, and the terminal prints the same. Times for people
are in the export's time zone (the profile's, ``+08:00`` for China time), written by
:func:`~antifraud.times.local_time`; the machine records keep UTC, as ``acr/1`` requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from antifraud.findings.model import Findings
from antifraud.kinds import KIND_WORDS
from antifraud.times import local_time

__all__ = ["RUN", "SHOWN_RINGS", "run_summary", "shops_text", "summary_markdown"]

#: Rings the terminal lists; ``summary.md`` lists every ring.
SHOWN_RINGS = 10

#: Stands for the run folder in the next commands that ``run.json`` and ``summary.md`` give: a run's
#: files name no local path (they go into evidence bundles), and two runs of the same inputs into
#: two folders write the same summary. The terminal puts the folder in.
RUN = "RUN"


def _quarantine_examples(quarantine: pa.Table) -> dict[str, str]:
    """The first quarantined row of each reason, as ``file:line column: detail``."""
    if not quarantine.num_rows:
        return {}
    reasons = quarantine.column("reason").to_pandas().drop_duplicates()  # the first row of each, in order
    out = {}
    for reason, index in zip(reasons, reasons.index):
        row = quarantine.slice(int(index), 1).to_pylist()[0]
        where = f"{Path(str(row['source_file'])).name}:{row['line']}"
        column = f" {row['column']}" if row["column"] else ""
        out[reason] = f"{where}{column}: {row['detail']}"
    return out


def run_summary(findings: Findings, quarantine: pa.Table, timezone: str,
                orders: pa.Table | None = None) -> dict[str, Any]:
    """What ``run.json`` keeps for people (key ``summary``).

    Parameters
    ----------
    findings : Findings
        The run's findings.
    quarantine : pyarrow.Table
        The quarantined rows (their first example of each reason is kept).
    timezone : str
        The export's UTC offset: rings' periods are written in it.
    orders : pyarrow.Table, optional
        The canonical orders, for each ring's amount (the sum of its orders' ``amount``).

    Returns
    -------
    dict
        ``timezone``, ``flagged`` (per kind), ``rings`` (best first: id, score, kind and what
        it means, accounts, shops with names, orders, amount, period, one-line reason),
        ``quarantine_examples`` (the first row of each reason) and ``next`` (each a
        ``command`` to run next, with :data:`RUN` for the run folder, and ``why``).
    """
    amounts = None
    if orders is not None and "amount" in orders.column_names:
        amounts = pc.fill_null(orders.column("amount"), 0.0).to_numpy()
    rings = []
    for ring in findings.rings:
        targets = ring.targets
        rings.append({
            "ring_id": ring.ring_id,
            "score": round(float(ring.score), 3),
            "kind": ring.kind,
            "what": KIND_WORDS[ring.kind],
            "role": ring.target_role,
            "accounts": int(len(ring.accounts)),
            "shops": [{"seller_id": str(findings.seller_ids[j]), "name": findings.seller_names[j]}
                      for j in np.asarray(targets).tolist()],
            "orders": int(len(ring.orders)),
            "amount": None if amounts is None else round(float(amounts[ring.orders].sum()), 2),
            "period": None if ring.period is None else [local_time(t, timezone) for t in ring.period],
            "reason": ring.signals[0].text if ring.signals else "",
        })
    run = RUN
    steps = []
    if findings.rings:
        first = findings.rings[0].ring_id
        steps += [
            {"command": f"antifraud bundle {run} --finding {first} --out {first}.zip --signing-key KEY",
             "why": "the strongest ring's evidence, signed, for a regulator (a bundle per ring)"},
            {"command": f"antifraud records add {run}/findings.jsonl --store STORE --keyring KEYS",
             "why": "keep the findings as signed credit records, to review and share with the alliance"},
        ]
    return {
        "timezone": timezone,
        "flagged": {kind: int(s.flagged.sum()) for kind, s in findings.scores.items()},
        "rings": rings,
        "quarantine_examples": _quarantine_examples(quarantine),
        "next": steps,
    }


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    """A Markdown table (``|`` in values escaped)."""
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
            *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)]


def shops_text(ring: Mapping[str, Any]) -> str:
    """A summary ring's shops as people read them: names with ids, ``victim:`` first for an attack."""
    shops = ", ".join(f"{s['name']} ({s['seller_id']})" if s["name"] else s["seller_id"] for s in ring["shops"])
    return f"victim: {shops}" if ring["role"] == "victim" else shops


def summary_markdown(manifest: Mapping[str, Any]) -> str:
    """``summary.md``: the run summary in Markdown, from a ``detect`` run's ``run.json``.

    Examples
    --------
    >>> import json
    >>> text = summary_markdown(json.load(open("run/run.json")))  # doctest: +SKIP
    """
    rows, summary = manifest["rows"], manifest["summary"]
    profile = manifest["profile"]
    lines = [f"# Brushing run {manifest.get('run_id', '')}".rstrip(), ""]
    files = ", ".join(f"`{Path(f['path']).name}` ({f['format']}"
                      + (f", sheet {f['sheet']}" if f.get("sheet") else "")
                      + (f", {f['encoding']}" if f.get("encoding") else "") + ")" for f in manifest["inputs"])
    lines += ["## What was read", "",
              f"{files}, read with the `{profile['name']}` profile; times in {summary['timezone']}.", "",
              f"- {rows['read']:,} rows read = {rows['accepted']:,} accepted + {rows['quarantined']:,} quarantined."]
    examples = summary["quarantine_examples"]
    for reason, n in sorted(rows["quarantined_by_reason"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  - `{reason}`: {n:,} rows, e.g. {examples.get(reason, '')}")
    if rows["quarantined"]:
        lines.append("- Each quarantined row, with its file, line, column and reason, is in `quarantine.csv`.")
    missing = manifest.get("missing_columns", {})
    if missing:
        lines += ["", "## What the export lacks", "",
                  *_table(["column", "why", "signals it disables"],
                          [[c, m["reason"], ", ".join(m["disables"]) or "-"] for c, m in missing.items()])]
    signals = manifest["signals"]
    n_signals = len(signals["available"]) + len(signals["unavailable"])
    lines += ["", f"{len(signals['available'])} of {n_signals} signals could be read."]
    flagged = summary["flagged"]
    rings = summary["rings"]
    lines += ["", "## What was found", "",
              f"{len(rings):,} rings; flagged {flagged['accounts']:,} accounts, {flagged['merchants']:,} shops "
              f"and {flagged['orders']:,} orders.", ""]
    if rings:
        lines += _table(["ring", "score", "kind", "accounts", "shops", "orders", "amount", "period", "reason"], [
            [r["ring_id"], f"{r['score']:.2f}", f"{r['kind']}: {r['what']}", r["accounts"], shops_text(r), r["orders"],
             "-" if r["amount"] is None else f"{r['amount']:,.2f}",
             " to ".join(r["period"]) if r["period"] else "-", r["reason"]]
            for r in rings])
    else:
        lines.append("No ring was found.")
    if summary["next"]:
        lines += ["", f"## Next ({RUN} is this run's folder)", ""]
        for step in summary["next"]:
            lines += [f"{step['why'][0].upper()}{step['why'][1:]}:", "", f"    {step['command']}", ""]
        lines.pop()
    return "\n".join(lines) + "\n"
