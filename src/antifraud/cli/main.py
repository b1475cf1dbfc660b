"""``antifraud``: the command-line entry point.

Every command follows the conventions of :mod:`antifraud.cli.conventions` (``-h``, metavars, an
example and the exit codes in its help, ``--quiet`` and ``--json``) and prints its result through
:mod:`antifraud.cli.output`. Exit codes: :data:`~antifraud.cli.errors.EXIT_CODES_HELP`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from antifraud.cli import output
from antifraud.cli.conventions import App, JsonOpt, QuietOpt
from antifraud.cli.errors import EXIT_FINDINGS, user_errors
from antifraud.cli.records import KeyringOpt, OptionalMemberOpt

if TYPE_CHECKING:
    from antifraud.ingest.pseudonym import Pseudonymizer

app = App(name="antifraud", help="Find brushing (刷单炒信) in e-commerce order and review exports.",
          pretty_exceptions_enable=False)


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
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Find brushing (刷单炒信) in e-commerce order and review exports.

    Run [bold]antifraud COMMAND -h[/bold] for a command's options and an example. --quiet and --json
    go before or after the command.

    Example: antifraud detect orders.csv --out run/
    """


ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", metavar="NAME|FILE", help="Column profile: generic, taobao, yelp, or a TOML profile file "
                                         "(default: the first built-in one the export's headers fit)."),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", "-m", metavar="CANONICAL=SOURCE", help="Map one column: canonical=source header (repeatable)."),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", "-e", help="Text encoding (utf-8, gbk, gb18030); detected when omitted."),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", metavar="OFFSET", help="UTC offset of times without one, e.g. +08:00 (the profile's by default)."),
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


ExportsArg = Annotated[list[Path], typer.Argument(metavar="EXPORT",
                                                  help="Export files: CSV (.gz), Excel (.xlsx, .xls), Parquet or JSON Lines.")]
RUN_KEY_WARNING = ("no alliance pseudonym key is set (ANTIFRAUD_PSEUDONYM_KEY_FILE or ANTIFRAUD_PSEUDONYM_KEY): this "
                   "run uses a key of its own, so its records cannot be shared with or matched by other members; "
                   "create the alliance's key with 'antifraud keys alliance FILE' or ask the alliance for it")


def _pseudonymizer() -> Pseudonymizer:
    """The alliance key from the environment, else a run key, with :data:`RUN_KEY_WARNING`."""
    from antifraud.ingest.pseudonym import Pseudonymizer

    pseudonymizer = Pseudonymizer.from_environment()
    if not pseudonymizer.shareable:
        output.warn(RUN_KEY_WARNING)
    return pseudonymizer


@app.command()
@user_errors
def validate(
    exports: ExportsArg,
    profile: ProfileOpt = None,
    mapping: MapOpt = None,
    encoding: EncodingOpt = None,
    timezone: TimezoneOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", help="Write run.json and quarantine.csv to this folder.")
    ] = None,
    fail_on_quarantine: Annotated[
        bool, typer.Option("--fail-on-quarantine", help="Exit 1 when any row is quarantined.")
    ] = False,
) -> None:
    """Read exports, check every row, and print the accounting and the signals available.

    Every row is either accepted or quarantined with its file, line, column and reason;
    personal fields are pseudonymised (key from ANTIFRAUD_PSEUDONYM_KEY_FILE or _KEY, else a run
    key, with a warning). With --json, prints the run manifest (run.json). Exit 1 with
    --fail-on-quarantine when any row was quarantined.

    Example: antifraud validate 订单报表.csv --profile taobao --out run/
    """
    from antifraud.cli.report import print_ingest_summary
    from antifraud.ingest import ingest

    prof = _profile(profile, mapping, timezone, exports, encoding)
    pseudonymizer = _pseudonymizer()
    with output.progress() as progress:
        result = ingest(exports, prof, encoding=encoding, pseudonymizer=pseudonymizer, progress=progress)
        written = result.write(out) if out else {}
    quarantined = result.quarantine.num_rows
    output.result(json.loads(written["manifest"].read_text(encoding="utf-8")) if out else result.manifest(),
                  essential=f"{result.rows_read:,} read = {result.rows_accepted:,} accepted + {quarantined:,} "
                            f"quarantined",
                  human=lambda: print_ingest_summary(result, written))
    if fail_on_quarantine and result.quarantine.num_rows:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
@user_errors
def detect(
    exports: ExportsArg,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Folder for the findings, quarantine and run.json.")],
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
        typer.Option("--config", "-c", metavar="FILE", help=r"TOML file selecting and parameterising the detectors, e.g. "
                                            r"\[detectors] dense_block = 'drop', \[detectors.lockstep] "
                                            r"window = 1800, \[ensemble] contamination = 0.03 (docs/detectors.md)."),
    ] = None,
    fail_on_findings: Annotated[
        bool, typer.Option("--fail-on-findings", help="Exit 1 when any account or merchant is flagged.")
    ] = False,
    member: OptionalMemberOpt = None,
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
        typer.Option("--signing-key", envvar="ANTIFRAUD_SIGNING_KEY", metavar="FILE",
                     help="Ed25519 private key to sign the records."),
    ] = None,
    issued_at: Annotated[
        str | None,
        typer.Option("--issued-at", metavar="TIME", help="Issue the records at this RFC 3339 time (default: SOURCE_DATE_EPOCH, "
                                         "else now); fixed, the same inputs and seed give identical files."),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Detectors run at once, in threads (-1: one per core); the "
                                               "results do not depend on it.")
    ] = -1,
    model: Annotated[
        Path | None,
        typer.Option("--model", metavar="DIR", help="Model folder from antifraud train: its probabilities join the accounts' and "
                                     "merchants' evidence (rings still come from the detectors)."),
    ] = None,
    work: Annotated[
        Path | None,
        typer.Option("--work", metavar="DIR", help="Work folder (owner-only) keeping each finished stage: a rerun "
                                    "with the same inputs, key and parameters resumes after the last one."),
    ] = None,
) -> None:
    """Find brushing rings and score every account, merchant and order.

    Writes accounts.csv, merchants.csv, orders.csv, rings.jsonl, quarantine.csv, run.json and
    findings.jsonl (acr/1 credit records issued by your member id, accounts pseudonymised under
    the alliance key; without one, a run key is used, with a warning, and the records cannot be
    shared). Options given here win over the --config file. With --json, prints the run
    manifest (run.json). Exit 1 with --fail-on-findings when anything was flagged. With --work,
    an interrupted run rerun the same way resumes from its last finished stage.

    Example: antifraud detect orders.csv --out run/ --member platform-a --signing-key keys/platform-a
    """
    from antifraud.cli.report import print_detection_summary
    from antifraud.detect import detect as run_detection
    from antifraud.detectors import BrushingEnsemble, load_config
    from antifraud.records.issuing import Issuer, issuing_time
    from antifraud.signing import Signer

    prof = _profile(profile, mapping, timezone, exports, encoding)
    issued = issuing_time(issued_at)  # the option, else SOURCE_DATE_EPOCH, else the clock
    signer = Signer.from_file(signing_key) if signing_key is not None else None
    issuer = Issuer.from_environment(member_id=member, uscc=member_uscc, role=member_role,
                                     platform=platform or prof.name)
    ensemble = BrushingEnsemble(random_state=0)
    if config is not None:
        load_config(config, ensemble)
    given = {"random_state": seed, "contamination": contamination}
    ensemble.set_params(**{k: v for k, v in given.items() if v is not None})
    pseudonymizer = _pseudonymizer()
    with output.progress() as progress:
        run = run_detection(
            exports, prof, out_dir=out, encoding=encoding, issuer=issuer, signer=signer, issued_at=issued,
            progress=progress, ensemble=ensemble, pseudonymizer=pseudonymizer, config_file=config,
            n_jobs=jobs, model=model, work_dir=work,
        )
    flagged = ", ".join(f"{int(s.flagged.sum()):,} {kind}" for kind, s in run.findings.scores.items())
    output.result(json.loads(run.paths["manifest"].read_text(encoding="utf-8")),
                  essential=f"{run.paths['manifest'].parent}: {len(run.findings.rings):,} rings; flagged {flagged}",
                  human=lambda: print_detection_summary(run))
    if fail_on_findings and any(run.findings.scores[kind].flagged.any() for kind in ("accounts", "merchants")):
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
@user_errors
def train(
    exports: ExportsArg,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Model folder to write.")],
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", "-l", metavar="FILE", help="Label CSV: account_id, seller_id and/or order_id, and label (1 "
                                            "confirmed fraud, 0 confirmed honest), optionally group (the case). "
                                            "Repeatable."),
    ] = None,
    labels_store: Annotated[
        Path | None,
        typer.Option("--labels-store", metavar="DIR", help="Record store: its reviewed findings and list entries, yours and other "
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
    never on both sides) and scores.csv (every entity's out-of-fold score). With --json, prints
    model.json.

    Example: antifraud train orders.csv --labels blacklist.csv --labels-store store/ --keyring keys/ --out model/
    """
    from antifraud.cli.report import print_training_summary
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
    with output.progress() as progress:
        trained = run_training(exports, prof, labels=labels or (), store=store, out_dir=out, seed=seed,
                               encoding=encoding, progress=progress, n_jobs=jobs)
    output.result(trained.about, essential=f"wrote model.skops, model.json, scores.csv to {trained.path}",
                  human=lambda: print_training_summary(trained))


@app.command()
@user_errors
def evaluate(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="Folder written by antifraud detect.")],
    truth: Annotated[Path, typer.Option("--truth", "-t", metavar="DIR", help="Ground truth folder (synth's truth/).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE",
                                             help="Also write the report as JSON here.")] = None,
) -> None:
    """Score a detection run against ground truth: ROC-AUC, AP, P/R/F1 and ring recall.

    With --json, prints the report.

    Example: antifraud evaluate run/ --truth export/truth
    """
    from antifraud.cli.report import print_evaluation
    from antifraud.evaluate import evaluate as run_evaluation
    from antifraud.io import write_json

    for path in (run_dir / "accounts.csv", truth / "accounts.csv"):
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    report = run_evaluation(run_dir, truth)
    if out:
        write_json(out, report)
    rings = report["rings"]
    output.result(report, essential=f"ring recall {rings['recall']:.2f}, precision {rings['precision']:.2f}",
                  human=lambda: print_evaluation(report))


@app.command()
@user_errors
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Folder for orders.csv and truth/.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")] = 0,
    orders: Annotated[int, typer.Option("--orders", "-n", min=1000, help="Number of orders.")] = 100_000,
    traps: Annotated[
        str | None,
        typer.Option(metavar="NAMES", help="Honest traps to switch on, comma-separated names (default: all; 'none' for none)."),
    ] = None,
    randomise: Annotated[bool, typer.Option(
        "--randomise", help="Draw the world from the randomised bench's ranges for this seed (synth.bench).")] = False,
) -> None:
    """Write a synthetic platform export with injected brushing rings, honest traps and their ground truth.

    Example: antifraud synth --out export/ --seed 7 --orders 50000
    """
    from antifraud.synth import SynthConfig, bench_config, generate

    config = bench_config(seed, orders) if randomise else SynthConfig(n_orders=orders, seed=seed)
    if traps is not None:
        config = dataclasses.replace(
            config, traps=[t.strip() for t in traps.split(",") if t.strip() not in ("", "none")]
        )
    with output.progress() as progress:
        progress(f"generating {orders:,} orders")
        path = generate(config).write(out)
    world = "randomised bench world" if randomise else "seed"
    output.result({"path": path, "seed": seed, "orders": orders, "randomised": randomise},
                  essential=f"wrote synthetic export to {path} ({world} {seed}, {orders:,} orders)")


@app.command()
def uscc(
    codes: Annotated[list[str], typer.Argument(metavar="CODE", help="Unified social credit codes (统一社会信用代码).")],
) -> None:
    """Check credit codes and explain what is wrong with each.

    Exit 1 when any code is invalid (pilot-area exceptions are valid).

    Example: antifraud uscc 91350211M0000XUF46 914403001922038217
    """
    from antifraud.uscc import validate as check

    results = [check(code) for code in codes]
    lines = []
    for code, result in zip(codes, results):
        shown = result.code if result.code == code else f"{code!r} -> {result.code}"
        verdict = {"valid": "valid", "pilot_exception": "valid (pilot-area exception)"}.get(result.status, "INVALID")
        lines += [f"{shown}: {verdict}", *(f"  {line}" for line in (*result.reasons,
                                                                  *(f"warning: {w}" for w in result.warnings)))]
    output.result([{"given": code, "code": r.code, "status": r.status, "valid": r.valid, "reasons": list(r.reasons),
                    "warnings": list(r.warnings)} for code, r in zip(codes, results)], essential="\n".join(lines))
    if not all(r.valid for r in results):
        raise typer.Exit(EXIT_FINDINGS)


def _sub_apps() -> None:
    from antifraud.cli.records import feed_app, query, records_app

    app.add_typer(records_app)
    app.add_typer(feed_app)
    app.command()(user_errors(query))


@app.command()
@user_errors
def bundle(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="Folder written by antifraud detect.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="The evidence bundle to write (.zip).")],
    finding: Annotated[
        str | None, typer.Option("--finding", "-f", metavar="RING|ID", help="A ring id (R0001) or finding record id: bundle only that.")
    ] = None,
    signing_key: Annotated[
        Path | None,
        typer.Option("--signing-key", envvar="ANTIFRAUD_SIGNING_KEY", metavar="FILE",
                     help="Ed25519 private key to sign the manifest."),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the reports: zh (Chinese, the default) or en (English).")
    ] = "zh",
) -> None:
    """Write a self-contained evidence bundle for a regulator: report, pictures, orders, subgraph,
    signals and finding records, with a manifest of every file's SHA-256 (signed with a key).

    With --json, prints the bundle's manifest.

    Example: antifraud bundle run/ --finding R0001 --out R0001.zip --signing-key keys/platform-a
    """
    from antifraud.evidence.bundle import write_bundle
    from antifraud.signing import Signer

    signer = Signer.from_file(signing_key) if signing_key is not None else None
    manifest = write_bundle(run_dir, out, finding=finding, signer=signer, lang=lang)
    signed = f"signed with {signer.key_id}" if signer else "unsigned (antifraud verify needs --allow-unsigned)"
    output.result(manifest, essential=f"wrote {out}: {len(manifest['rings'])} rings, {len(manifest['files'])} files, "
                                      f"{signed}")


@app.command()
@user_errors
def verify(
    bundle: Annotated[Path, typer.Argument(metavar="FILE",
                                           help="Evidence bundle (.zip), e.g. one received from another member.")],
    keyring: KeyringOpt = None,
    allow_unsigned: Annotated[
        bool, typer.Option("--allow-unsigned", help="Accept a bundle whose manifest is not signed.")
    ] = False,
    extract: Annotated[
        Path | None,
        typer.Option("--extract", metavar="DIR", help="Once verified, unpack into this folder (nothing outside it is written)."),
    ] = None,
) -> None:
    """Check an evidence bundle without extracting it: names, sizes, every file's hash, the signature.

    Prints each problem with the file it concerns, then a summary. Exit 0 when everything checks,
    1 when verification fails (nothing is extracted then), 2 when the file is not a zip archive.

    Example: antifraud verify R0001.zip --keyring keys/
    """
    from antifraud.evidence import safe_extract, verify_archive
    from antifraud.signing import Keyring

    ring = Keyring.from_directory(keyring) if keyring is not None else None
    report = verify_archive(bundle, ring, require_signature=not allow_unsigned)
    output.result({"ok": report.ok, "summary": report.summary(), "problems": [str(p) for p in report.problems],
                   "signature": report.signature, "key_id": report.key_id, "signer": report.signer},
                  essential="\n".join([*(f"  {problem}" for problem in report.problems), report.summary()]))
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)
    if extract is not None:
        safe_extract(bundle, extract, ring, require_signature=not allow_unsigned)
        if not output.as_json():
            typer.echo(f"extracted to {extract}; open {extract / 'index.html'} in a browser")


keys_app = App(name="keys", help="Make keys: members' Ed25519 signing keys and the alliance's pseudonym key.")
app.add_typer(keys_app)


@keys_app.command("generate")
@user_errors
def keys_generate(
    path: Annotated[Path, typer.Argument(metavar="FILE",
                                         help="Where to write the private key; the public key goes to FILE.pub.")],
    encrypt: Annotated[
        bool, typer.Option("--encrypt", help="Protect the private key with a passphrase (asked for, not echoed).")
    ] = False,
) -> None:
    """Write a new key pair (private key readable by its owner only) and print its key id.

    Never overwrites an existing key. Share FILE.pub with the alliance; keep FILE secret.

    Example: antifraud keys generate keys/platform-a
    """
    from antifraud.signing import generate_key

    passphrase = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=True) if encrypt else None
    info = generate_key(path, passphrase=passphrase.encode("utf-8") if passphrase else None)
    output.result({"key_id": info.key_id, "public_key": info.public_path},
                  essential=f"key id: {info.key_id}\npublic key: {info.public_path}")


@keys_app.command("alliance")
@user_errors
def keys_alliance(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the alliance key (never overwritten).")],
    key_id: Annotated[str | None, typer.Option(
        "--key-id", metavar="NAME", help="The key's name in the alliance, e.g. alliance-2026q4 (default: k- and its "
                                         "fingerprint).")] = None,
) -> None:
    """Make the alliance's pseudonym key: 32 random bytes, in a file readable by its owner only.

    One member makes it once and hands the file to every other member over a channel the
    alliance trusts; all then pseudonymise accounts, phones and devices under the same key, so
    that their records match. It never leaves the members: records carry only its key id.

    Example: antifraud keys alliance alliance.key --key-id alliance-2026q4
    """
    from antifraud.ingest.pseudonym import KEY_FILE_ENV, KEY_ID_ENV, generate_key_file

    made = generate_key_file(path, key_id)
    output.result({"path": path, "key_id": made.key_id, "env": {KEY_FILE_ENV: str(path), KEY_ID_ENV: made.key_id}},
                  essential=f"alliance key: {path} (key id {made.key_id}; readable by you only)",
                  human=lambda: typer.echo(
                      f"wrote the alliance pseudonym key to {path} (key id {made.key_id}; readable by you only)\n"
                      f"share: give the file to each member over a channel the alliance trusts (never by e-mail or "
                      f"in a repository); keep it 0600\n"
                      f"use: export {KEY_FILE_ENV}={path} {KEY_ID_ENV}={made.key_id}\n"
                      f"     then antifraud detect, validate, train and query pseudonymise under it"))


_sub_apps()

__all__ = ["app"]
