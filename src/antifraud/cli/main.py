"""``antifraud``: the command-line entry point.

Exit codes: 0 success; 1 findings or validation failures the user asked to fail on; 2 usage or
input errors (always one line on stderr, never a traceback).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from antifraud.cli.errors import EXIT_FINDINGS, user_errors
from antifraud.cli.records import KeyringOpt

app = typer.Typer(
    name="antifraud",
    help="Find brushing (刷单炒信) in e-commerce order and review exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        from antifraud import __version__

        typer.echo(f"antifraud {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Find brushing (刷单炒信) in e-commerce order and review exports.

    Run [bold]antifraud COMMAND --help[/bold] for a command's options.
    """


ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="Column profile: generic, taobao, yelp, or a TOML profile file "
                                         "(default: the first built-in one the export's headers fit)."),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", "-m", help="Map one column: canonical=source header (repeatable)."),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", "-e", help="Text encoding (utf-8, gbk, gb18030); detected when omitted."),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", help="UTC offset of times without one, e.g. +08:00 (the profile's by default)."),
]


def _profile(profile: str | None, mapping: list[str] | None, timezone: str | None,  # noqa: ANN202
             exports: list[Path], encoding: str | None):
    """The profile to read ``exports`` with: ``profile`` (a name or a TOML file) with ``--map``
    and ``--timezone`` applied, or without ``profile`` the first built-in one whose columns the
    first export's header holds (the summaries name it)."""
    from dataclasses import replace

    from antifraud.ingest import PROFILES, load_profile
    from antifraud.ingest.reader import guess_profile

    pairs = {}
    for item in mapping or []:
        canon, sep, source = item.partition("=")
        if not sep or not canon.strip() or not source.strip():
            raise ValueError(f"--map takes canonical=source, got {item!r}")
        pairs[canon.strip()] = source.strip()
    if profile is None:
        candidates = [p.with_overrides(pairs) if pairs else p for p in PROFILES.values()]
        prof = guess_profile(exports[0], candidates, encoding)
    else:
        prof = load_profile(profile)
        if pairs:
            prof = prof.with_overrides(pairs)
    if timezone:
        prof = replace(prof, timezone=timezone)
    return prof


@app.command()
@user_errors
def validate(
    exports: Annotated[list[Path], typer.Argument(help="Export files: CSV (.gz), Excel (.xlsx, .xls), Parquet or JSON Lines.")],
    profile: ProfileOpt = None,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write run.json and quarantine.csv to this folder.")
    ] = None,
    fail_on_quarantine: Annotated[
        bool, typer.Option("--fail-on-quarantine", help="Exit 1 when any row is quarantined.")
    ] = False,
) -> None:
    """Read exports, check every row, and print the accounting and the signals available.

    Every row is either accepted or quarantined with its file, line, column and reason;
    personal fields are pseudonymised (key from ANTIFRAUD_PSEUDONYM_KEY, or a run key).
    """
    from antifraud.cli.report import print_ingest_summary, stage_progress
    from antifraud.ingest import ingest
    from antifraud.ingest.pseudonym import Pseudonymizer

    prof = _profile(profile, mapping, timezone, exports, encoding)
    pseudonymizer = Pseudonymizer.from_environment()
    with stage_progress() as progress:
        result = ingest(exports, prof, encoding=encoding, pseudonymizer=pseudonymizer, progress=progress)
        written = result.write(out) if out else {}
    print_ingest_summary(result, written)
    if fail_on_quarantine and result.quarantine.num_rows:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
@user_errors
def detect(
    exports: Annotated[list[Path], typer.Argument(help="Export files: CSV (.gz), Excel (.xlsx, .xls), Parquet or JSON Lines.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the findings, quarantine and run.json.")],
    profile: ProfileOpt = None,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = None,
    seed: Annotated[
        int | None,
        typer.Option(help=r"Seed of every randomised step; same seed, same files. \[default: the config's "
                          "random_state, else 0]"),
    ] = None,
    contamination: Annotated[
        float | None,
        typer.Option(min=0.0, max=0.5, help="Flag this share of accounts, merchants and orders (a quota) instead "
                                            "of what the rings significant at the false-discovery rate hold. "
                                            r"\[default: the config's, else none]"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help=r"TOML file selecting and parameterising the detectors, e.g. "
                                            r"\[detectors] dense_block = 'drop', \[detectors.lockstep] "
                                            r"window = 1800, \[ensemble] contamination = 0.03 (docs/detectors.md)."),
    ] = None,
    fail_on_findings: Annotated[
        bool, typer.Option("--fail-on-findings", help="Exit 1 when any account or merchant is flagged.")
    ] = False,
    member_id: Annotated[
        str | None, typer.Option("--member-id", envvar="ANTIFRAUD_MEMBER_ID", help="Your alliance member id.")
    ] = None,
    member_uscc: Annotated[
        str | None, typer.Option("--member-uscc", envvar="ANTIFRAUD_MEMBER_USCC", help="Your credit code.")
    ] = None,
    member_role: Annotated[
        str | None, typer.Option("--member-role", envvar="ANTIFRAUD_MEMBER_ROLE", help="platform, analyst or regulator.")
    ] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", envvar="ANTIFRAUD_PLATFORM", help="Platform the export is from.")
    ] = None,
    signing_key: Annotated[
        Path | None,
        typer.Option("--signing-key", envvar="ANTIFRAUD_SIGNING_KEY", help="Ed25519 private key to sign the records."),
    ] = None,
    issued_at: Annotated[
        str | None,
        typer.Option("--issued-at", help="Issue the records at this RFC 3339 time (default: SOURCE_DATE_EPOCH, "
                                         "else now); fixed, the same inputs and seed give identical files."),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Detectors run at once, in threads (-1: one per core); the "
                                               "results do not depend on it.")
    ] = -1,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Model folder from antifraud train: its probabilities join the accounts' and "
                                     "merchants' evidence (rings still come from the detectors)."),
    ] = None,
) -> None:
    """Find brushing rings and score every account, merchant and order.

    Writes accounts.csv, merchants.csv, orders.csv, rings.jsonl, quarantine.csv, run.json and
    findings.jsonl (acr/1 credit records issued by your member id, accounts pseudonymised under
    the alliance key). Options given here win over the --config file.
    """
    from antifraud.cli.report import print_detection_summary, stage_progress
    from antifraud.detect import detect as run_detection
    from antifraud.detectors import BrushingEnsemble, load_config
    from antifraud.ingest.pseudonym import Pseudonymizer
    from antifraud.records.issuing import Issuer, issuing_time
    from antifraud.signing import Signer

    prof = _profile(profile, mapping, timezone, exports, encoding)
    issued = issuing_time(issued_at)  # the option, else SOURCE_DATE_EPOCH, else the clock
    signer = Signer.from_file(signing_key) if signing_key is not None else None
    issuer = Issuer.from_environment(member_id=member_id, uscc=member_uscc, role=member_role,
                                     platform=platform or prof.name)
    ensemble = BrushingEnsemble(random_state=0)
    if config is not None:
        load_config(config, ensemble)
    given = {"random_state": seed, "contamination": contamination}
    ensemble.set_params(**{k: v for k, v in given.items() if v is not None})
    with stage_progress() as progress:
        run = run_detection(
            exports, prof, out_dir=out, encoding=encoding, issuer=issuer, signer=signer, issued_at=issued,
            progress=progress, ensemble=ensemble, pseudonymizer=Pseudonymizer.from_environment(), config_file=config,
            n_jobs=jobs, model=model,
        )
    print_detection_summary(run)
    if fail_on_findings and any(run.findings.scores[kind].flagged.any() for kind in ("accounts", "merchants")):
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
@user_errors
def train(
    exports: Annotated[list[Path], typer.Argument(help="Export files: CSV (.gz), Excel (.xlsx, .xls), Parquet or JSON Lines.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", "-l", help="Label CSV: account_id, seller_id and/or order_id, and label (1 "
                                            "confirmed fraud, 0 confirmed honest), optionally group (the case). "
                                            "Repeatable."),
    ] = None,
    labels_store: Annotated[
        Path | None,
        typer.Option("--labels-store", help="Record store: its reviewed findings and list entries, yours and other "
                                            "members', signed by their issuer (accounts matched under the alliance "
                                            "key, ANTIFRAUD_PSEUDONYM_KEY)."),
    ] = None,
    keyring: KeyringOpt = None,
    platform: Annotated[
        str | None, typer.Option("--platform", envvar="ANTIFRAUD_PLATFORM",
                                 help="Platform the export is from, for records naming shops (default: the profile).")
    ] = None,
    profile: ProfileOpt = None,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the detectors and the model; same seed, same model.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Detectors run at once, in threads (-1: one per core).")] = -1,
) -> None:
    """Learn from confirmed cases: a model of fraud for accounts and merchants.

    Runs the detectors on the exports, learns from the labels (positive-only labels are the
    usual case) and writes MODEL_DIR: model.skops, model.json (what it was trained on, the
    label sources, the features, the cross-validated figures, by case so that one operation is
    never on both sides) and scores.csv (every entity's out-of-fold score).

    Example: antifraud train orders.csv --labels blacklist.csv --labels-store store/ --keyring keys/ --out model/
    """
    from antifraud.cli.report import print_training_summary, stage_progress
    from antifraud.train import train as run_training

    prof = _profile(profile, mapping, timezone, exports, encoding)
    store = None
    if labels_store is not None:
        from antifraud.cli.records import alliance_pseudonymizer
        from antifraud.learning.sources import StoreCases
        from antifraud.signing import Keyring

        if keyring is None:
            raise ValueError("--labels-store needs --keyring (or ANTIFRAUD_KEYRING): only records signed with their "
                             "issuer's key count")
        store = StoreCases.read(labels_store, Keyring.from_directory(keyring),
                                pseudonymizer=alliance_pseudonymizer("--labels-store"), platform=platform or prof.name)
    with stage_progress() as progress:
        trained = run_training(exports, prof, labels=labels or (), store=store, out_dir=out, seed=seed,
                               encoding=encoding, progress=progress, n_jobs=jobs)
    print_training_summary(trained)


@app.command()
@user_errors
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="Folder written by antifraud detect.")],
    truth: Annotated[Path, typer.Option("--truth", "-t", help="Ground truth folder (synth's truth/).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the report as JSON here.")] = None,
) -> None:
    """Score a detection run against ground truth: ROC-AUC, AP, P/R/F1 and ring recall."""
    from antifraud.cli.report import print_evaluation
    from antifraud.evaluate import evaluate as run_evaluation
    from antifraud.io import write_json

    for path in (run_dir / "accounts.csv", truth / "accounts.csv"):
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    report = run_evaluation(run_dir, truth)
    if out:
        write_json(out, report)
    print_evaluation(report)


@app.command()
@user_errors
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for orders.csv and truth/.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")] = 0,
    orders: Annotated[int, typer.Option("--orders", "-n", min=1000, help="Number of orders.")] = 100_000,
    traps: Annotated[
        str | None,
        typer.Option(help="Honest traps to switch on, comma-separated names (default: all; 'none' for none)."),
    ] = None,
    randomise: Annotated[bool, typer.Option(
        "--randomise", help="Draw the world from the randomised bench's ranges for this seed (synth.bench).")] = False,
) -> None:
    """Write a synthetic platform export with injected brushing rings, honest traps and their ground truth."""
    from antifraud.cli.report import console, stage_progress
    from antifraud.synth import SynthConfig, bench_config, generate

    config = bench_config(seed, orders) if randomise else SynthConfig(n_orders=orders, seed=seed)
    if traps is not None:
        config = dataclasses.replace(
            config, traps=[t.strip() for t in traps.split(",") if t.strip() not in ("", "none")]
        )
    with stage_progress() as progress:
        progress(f"generating {orders:,} orders")
        path = generate(config).write(out)
    world = "randomised bench world" if randomise else "seed"
    console().print(f"wrote synthetic export to [bold]{path}[/bold] ({world} {seed}, {orders:,} orders)")


@app.command()
def uscc(
    codes: Annotated[list[str], typer.Argument(help="Unified social credit codes (统一社会信用代码).")],
) -> None:
    """Check credit codes and explain what is wrong with each.

    Exit 0 when every code is valid (pilot-area exceptions included), 1 otherwise.
    """
    from antifraud.uscc import validate as check

    all_valid = True
    for code in codes:
        result = check(code)
        all_valid &= result.valid
        shown = result.code if result.code == code else f"{code!r} -> {result.code}"
        verdict = {"valid": "valid", "pilot_exception": "valid (pilot-area exception)"}.get(result.status, "INVALID")
        typer.echo(f"{shown}: {verdict}")
        for line in (*result.reasons, *(f"warning: {w}" for w in result.warnings)):
            typer.echo(f"  {line}")
    if not all_valid:
        raise typer.Exit(EXIT_FINDINGS)


def _sub_apps() -> None:
    from antifraud.cli.records import feed_app, query, records_app

    app.add_typer(records_app)
    app.add_typer(feed_app)
    app.command()(user_errors(query))



@app.command()
@user_errors
def bundle(
    run_dir: Annotated[Path, typer.Argument(help="Folder written by antifraud detect.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The evidence bundle to write (.zip).")],
    finding: Annotated[
        str | None, typer.Option("--finding", "-f", help="A ring id (R0001) or finding record id: bundle only that.")
    ] = None,
    signing_key: Annotated[
        Path | None,
        typer.Option("--signing-key", envvar="ANTIFRAUD_SIGNING_KEY", help="Ed25519 private key to sign the manifest."),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the reports: zh (Chinese, the default) or en (English).")
    ] = "zh",
) -> None:
    """Write a self-contained evidence bundle for a regulator: report, pictures, orders, subgraph,
    signals and finding records, with a manifest of every file's SHA-256 (signed with a key).
    """
    from antifraud.evidence.bundle import write_bundle
    from antifraud.signing import Signer

    signer = Signer.from_file(signing_key) if signing_key is not None else None
    manifest = write_bundle(run_dir, out, finding=finding, signer=signer, lang=lang)
    signed = f"signed with {signer.key_id}" if signer else "unsigned (antifraud verify needs --allow-unsigned)"
    typer.echo(f"wrote {out}: {len(manifest['rings'])} rings, {len(manifest['files'])} files, {signed}")


@app.command()
@user_errors
def verify(
    bundle: Annotated[Path, typer.Argument(help="Evidence bundle (.zip), e.g. one received from another member.")],
    keyring: Annotated[
        Path | None, typer.Option("--keyring", "-k", help="Folder of trusted public keys (*.pub files).")
    ] = None,
    allow_unsigned: Annotated[
        bool, typer.Option("--allow-unsigned", help="Accept a bundle whose manifest is not signed.")
    ] = False,
    extract: Annotated[
        Path | None,
        typer.Option("--extract", help="Once verified, unpack into this folder (nothing outside it is written)."),
    ] = None,
) -> None:
    """Check an evidence bundle without extracting it: names, sizes, every file's hash, the signature.

    Prints each problem with the file it concerns, then a summary. Exit 0 when everything checks,
    1 when verification fails (nothing is extracted then), 2 when the file is not a zip archive.
    """
    from antifraud.evidence import safe_extract, verify_archive
    from antifraud.signing import Keyring

    ring = Keyring.from_directory(keyring) if keyring is not None else None
    report = verify_archive(bundle, ring, require_signature=not allow_unsigned)
    for problem in report.problems:
        typer.echo(f"  {problem}")
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)
    if extract is not None:
        safe_extract(bundle, extract, ring, require_signature=not allow_unsigned)
        typer.echo(f"extracted to {extract}; open {extract / 'index.html'} in a browser")


keys_app = typer.Typer(
    name="keys",
    help="Manage the Ed25519 keys that sign records and evidence bundles.",
    no_args_is_help=True,
)
app.add_typer(keys_app)


@keys_app.command("generate")
@user_errors
def keys_generate(
    path: Annotated[Path, typer.Argument(help="Where to write the private key; the public key goes to PATH.pub.")],
    encrypt: Annotated[
        bool, typer.Option("--encrypt", help="Protect the private key with a passphrase (asked for, not echoed).")
    ] = False,
) -> None:
    """Write a new key pair (private key readable by its owner only) and print its key id.

    Never overwrites an existing key. Share PATH.pub with the alliance; keep PATH secret.
    """
    from antifraud.signing import generate_key

    passphrase = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=True) if encrypt else None
    info = generate_key(path, passphrase=passphrase.encode("utf-8") if passphrase else None)
    typer.echo(f"key id: {info.key_id}")
    typer.echo(f"public key: {info.public_path}")


_sub_apps()

__all__ = ["app"]
