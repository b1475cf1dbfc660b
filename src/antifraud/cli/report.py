"""What the commands print: progress while working, then a summary a person can read."""

from __future__ import annotations

import contextlib
import functools
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from antifraud.detect import Detection
from antifraud.findings.summary import RUN, SHOWN_RINGS, shops_text
from antifraud.ingest import IngestResult
from antifraud.ingest.missing import MissingColumn
from antifraud.train import Training

__all__ = ["console", "stage_progress", "print_ingest_summary", "print_detection_summary", "print_evaluation",
           "print_training_summary"]


@functools.cache
def console() -> Console:
    """The stdout console (plain text when not a terminal)."""
    return Console(highlight=False)


@contextlib.contextmanager
def stage_progress() -> Iterator[Callable[..., None]]:
    """A progress bar on stderr for the current stage; yields ``update(message, fraction=None)``.

    ``fraction`` (0-1) fills the bar when the stage knows how far it is; elapsed time is shown
    either way. Nothing is drawn when stderr is not a terminal.
    """
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def update(message: str, fraction: float | None = None) -> None:
            if fraction is None:
                bar.update(task, description=message, total=None)
            else:
                bar.update(task, description=message, total=1.0, completed=min(fraction, 1.0))

        yield update


def print_ingest_summary(result: IngestResult, written: dict[str, Path]) -> None:
    """Print files, row accounting, quarantine reasons, signals and credit-code checks."""
    out = console()
    files = Table(title=f"Input (profile {result.profile.name})", title_justify="left", show_edge=False)
    for col in ("file", "format", "encoding", "read", "accepted", "quarantined"):
        files.add_column(col, justify="right" if col in ("read", "accepted", "quarantined") else "left")
    for f in result.files:
        files.add_row(
            str(f.path), f.format, f.encoding or "-", f"{f.rows_read:,}", f"{f.rows_accepted:,}",
            f"{sum(f.quarantined.values()):,}",
        )
    out.print(files)

    reasons = result.quarantined_by_reason
    total_q = sum(reasons.values())
    out.print(
        f"\nrows: {result.rows_read:,} read = {result.rows_accepted:,} accepted + {total_q:,} quarantined"
    )
    if reasons:
        table = Table(title="Quarantined rows by reason", title_justify="left", show_edge=False)
        table.add_column("reason")
        table.add_column("rows", justify="right")
        for reason, n in reasons.most_common():
            table.add_row(reason, f"{n:,}")
        out.print(table)

    signals = result.signals()
    available = [s.name for s in signals if not s.missing(result.columns)]
    out.print(f"\nsignals available ({len(available)} of {len(signals)}): " + ", ".join(available))
    _print_missing(result.missing(signals))

    if result.uscc.get("present"):
        by = result.uscc["by_status"]
        out.print(
            f"\nseller credit codes: {result.uscc['distinct_codes']:,} distinct, "
            + ", ".join(f"{k} {v:,}" for k, v in by.items())
        )
        for ex in result.uscc["invalid_examples"][:3]:
            out.print(f"  invalid {ex['code']}: {ex['reasons']}")
    personal = [c for c in result.columns if c in ("buyer_ip", "device_id", "ship_phone", "ship_address")]
    if personal:
        out.print(
            f"\npseudonymised: {', '.join(personal)} (HMAC-SHA256, key id "
            f"{result.pseudonymizer.key_id}, {result.pseudonymizer.source})"
        )
    if written:
        out.print("\nwrote " + ", ".join(str(p) for p in written.values()))


def print_detection_summary(run: Detection) -> None:
    """Print the run summary (:mod:`antifraud.findings.summary`): the accounting and the first
    quarantined row of each reason, what the export lacks, the strongest rings with their shops
    and reasons, the next commands, and where the files went."""
    out = console()
    result, found, summary = run.ingest, run.findings, run.summary
    out.print(
        f"rows: {result.rows_read:,} read = {result.rows_accepted:,} accepted + "
        f"{result.quarantine.num_rows:,} quarantined (profile {result.profile.name})"
    )
    for reason, example in summary["quarantine_examples"].items():
        out.print(f"  {reason}: {result.quarantined_by_reason[reason]:,} rows, e.g. {example}")
    missing = result.missing(run.ensemble.signals())
    _print_missing(missing)
    explained = {name for m in missing for name in m.disables}
    for name, reason in found.skipped.items():
        if name not in explained:
            out.print(f"  [yellow]skipped[/yellow] {name}: {reason}")
    if run.model is not None:
        out.print(f"learned model {run.model['path']} (trained {run.model['created_at']}) scored "
                  f"{', '.join(run.model['kinds'])}")
        for kind, names in run.model["lacking"].items():
            if names:
                out.print(f"  [yellow]{kind}: this export leaves {len(names)} of its features uninformed: "
                          f"{', '.join(names[:8])}{' ...' if len(names) > 8 else ''}[/yellow]")
    scores = found.scores
    flagged = [f"{int(s.flagged.sum()):,} of {len(s.score):,} {kind}" for kind, s in scores.items()]
    out.print(f"flagged: {', '.join(flagged)}; {len(found.rings):,} rings")
    rings = summary["rings"]
    if rings:
        out.print(f"\n[bold]Rings by strength[/bold] (times {summary['timezone']})")
        for ring in rings[:SHOWN_RINGS]:
            period = " to ".join(t.rsplit(" ", 1)[0] for t in ring["period"]) if ring["period"] else "-"
            out.print(f"[bold]{ring['ring_id']}[/bold]  score {ring['score']:.2f}  {ring['kind']}: {ring['what']}\n"
                      f"  {ring['accounts']:,} accounts, {ring['orders']:,} orders, {period}\n"
                      f"  shops: {shops_text(ring)}\n  why: {ring['reason']}")
        if len(rings) > SHOWN_RINGS:
            out.print(f"... and {len(rings) - SHOWN_RINGS:,} more rings in summary.md")
    folder = run.paths["manifest"].parent
    out.print("wrote " + ", ".join(p.relative_to(folder).as_posix() for p in run.paths.values()) + f" to {folder}")
    if summary["next"]:
        out.print("next:")
        for step in summary["next"]:
            command = step["command"].replace(RUN, shlex.quote(str(folder)))
            out.print(f"  {command}\n      {step['why']}", soft_wrap=True, markup=False)


def print_training_summary(trained: Training) -> None:
    """Print what the model learned from, its cross-validated figures and where it went."""
    out = console()
    about = trained.about
    table = Table(title="Learned from confirmed cases (cross-validated by case)", title_justify="left",
                  show_edge=False)
    for col in ("kind", "fraud", "honest", "unlabelled", "cases", "folds", "AUC vs unlabelled", "AUC vs honest"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for kind, cv in about["cross_validation"].items():
        figures = [cv[k]["auc"] for k in ("fraud_vs_unlabelled", "fraud_vs_honest")]
        table.add_row(kind, *(f"{cv['labels'][k]:,}" for k in ("fraud", "honest", "unlabelled")),
                      str(cv["case_groups"]), str(cv["folds"]),
                      *("-" if f is None or f != f else f"{f:.3f}" for f in figures))
    out.print(table)
    for source in about["training"]["labels"]:
        given = ", ".join(f"{kind} {n['fraud']:,} fraud / {n['honest']:,} honest"
                          for kind, n in source["labels"].items())
        out.print(f"  labels from {source['kind']} {source['path']}: {given}")
        for kind, n in source.get("unmatched", {}).items():
            if n:
                out.print(f"    [yellow]{n:,} {kind} it confirms are not in the export[/yellow]")
        for why, n in source.get("skipped", {}).items():
            out.print(f"    {n:,} gave no label: {why}")
    for kind, counts in about["labels"].items():
        if counts["unmatched"]:
            out.print(f"  [yellow]{counts['unmatched']:,} {kind} labels name no {kind[:-1]} of the export[/yellow]")
        if kind not in about["cross_validation"] and counts["fraud"]:
            out.print(f"  [yellow]{kind}: too few confirmed fraud to learn from[/yellow]")
    out.print("AUC vs unlabelled is a lower bound: some unlabelled entities are fraud.")
    out.print(f"wrote model.skops, model.json, scores.csv to {trained.path}")


def _print_missing(missing: list[MissingColumn]) -> None:
    """The one section on missing and masked columns: why each is missing, what it disables."""
    if not missing:
        return
    table = Table(title="Missing and masked columns", title_justify="left", show_edge=False)
    for col in ("column", "why", "disables"):
        table.add_column(col)
    for m in missing:
        table.add_row(m.column, m.reason, ", ".join(m.disables) or "-")
    console().print(table)


def print_evaluation(report: dict) -> None:
    """Print an evaluation report (:func:`antifraud.evaluate.evaluate`) as two tables (entities;
    ring recall per kind and per difficulty)."""
    out = console()
    table = Table(title="Entities", title_justify="left", show_edge=False)
    for col in ("kind", "n", "fraud", "ROC-AUC", "AP", "precision", "recall", "F1"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for kind in ("accounts", "merchants", "orders"):
        r = report[kind]
        table.add_row(kind, f"{r['n']:,}", f"{r['positives']:,}", *(
            f"{r[k]:.3f}" if k in r else "-" for k in ("roc_auc", "average_precision", "precision", "recall", "f1")
        ))
    out.print(table)
    rings = report["rings"]
    table = Table(title=f"Rings (Jaccard >= {rings['min_jaccard']})", title_justify="left", show_edge=False)
    table.add_column("kind or difficulty")
    table.add_column("true rings", justify="right")
    table.add_column("recall", justify="right")
    for group in ("by_kind", "by_difficulty"):
        for name, r in rings[group].items():
            table.add_row(name, str(r["rings"]), f"{r['recall']:.2f}")
        table.add_section()
    table.add_row("all", str(sum(r["rings"] for r in rings["by_kind"].values())), f"{rings['recall']:.2f}")
    out.print(table)
    out.print(f"found {rings['found']} rings, {rings['precision']:.2f} of them match a true ring; "
              f"{rings['kind_agreement']:.2f} of the true rings found are named with their own kind")
