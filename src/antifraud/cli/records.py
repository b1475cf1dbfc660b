"""``antifraud records``, ``antifraud feed`` and ``antifraud query``: credit records as a member
keeps, changes, shares and looks them up.

The store folder comes from ``--store`` or ``ANTIFRAUD_STORE``; the member acting from
``--as`` or ``ANTIFRAUD_MEMBER_ID``. Only the issuer of a record may make its next version; with
``ANTIFRAUD_SIGNING_KEY`` set, each new version is signed with that key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from antifraud.cli.errors import EXIT_FINDINGS, fail, user_errors

records_app = typer.Typer(name="records", help="Keep and change your own credit records (acr/1).",
                          no_args_is_help=True)
feed_app = typer.Typer(name="feed", help="Share records with alliance members: export and import feeds.",
                       no_args_is_help=True)

StoreOpt = Annotated[Path, typer.Option("--store", "-s", envvar="ANTIFRAUD_STORE",
                                        help="Record store folder (or ANTIFRAUD_STORE).")]
AsOpt = Annotated[str, typer.Option("--as", envvar="ANTIFRAUD_MEMBER_ID",
                                    help="Your member id (or ANTIFRAUD_MEMBER_ID); only the issuer changes a record.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="Time of the change, RFC 3339 UTC (default: now).")]
IdArg = Annotated[str, typer.Argument(help="Record id (acr--...).")]


def _store(path: Path):  # noqa: ANN202
    from antifraud.records.store import RecordStore

    return RecordStore(path)


def _own_current(store_path: Path, record_id: str, member: str) -> dict:
    """The current version of one of ``member``'s own records."""
    current = _store(store_path).resolution().current.get(record_id)
    if current is None:
        raise ValueError(f"{record_id}: not in the store {store_path}")
    if current["issuer"]["member_id"] != member:
        raise ValueError(f"{record_id} was issued by {current['issuer']['member_id']}; only the issuer makes new "
                         f"versions (others file an objection or a finding of their own)")
    return current


def _signed(record: dict) -> dict:
    """``record`` signed with ``ANTIFRAUD_SIGNING_KEY``, if that is set."""
    if os.environ.get("ANTIFRAUD_SIGNING_KEY"):
        from antifraud.signing import Signer, sign_json

        record["signature"] = sign_json(record, Signer.from_file(os.environ["ANTIFRAUD_SIGNING_KEY"]))
    return record


def _change(store_path: Path, record_id: str, member: str, action: str, **kwargs: Any) -> None:
    """Apply a lifecycle action to the current version of one of ``member``'s records."""
    from antifraud.records import lifecycle

    current = _own_current(store_path, record_id, member)
    kwargs["at"] = kwargs.get("at") or lifecycle.utc_now()
    new = _signed(getattr(lifecycle, action)(current, **kwargs))
    _store(store_path).add([new])
    typer.echo(f"{record_id}: version {new['version']}, {new['status']}")


@records_app.command("add")
@user_errors
def add(files: Annotated[list[Path], typer.Argument(help="Record files (JSON Lines), e.g. RUN/findings.jsonl.")],
        store: StoreOpt) -> None:
    """Add records (your run's findings.jsonl) to the store, validating every line."""
    from antifraud.records.feed import import_feed

    bad = False
    for path in files:
        report = import_feed(_store(store), path, expect_manifest=False)
        _print_import(report)
        bad |= bool(report.rejected or report.held)
    if bad:
        raise typer.Exit(EXIT_FINDINGS)


@records_app.command("show")
@user_errors
def show(record_id: IdArg, store: StoreOpt,
         history: Annotated[bool, typer.Option("--history", help="Every version, not just the current one.")]
         = False) -> None:
    """Print a record's current version (or whole chain) as JSON."""
    from antifraud.records.validation import schema

    chain = _store(store).resolution().chains.get(record_id)
    if chain is None:
        raise ValueError(f"{record_id}: not in the store {store}")
    order = list(schema()["properties"])  # the store keeps canonical (sorted) keys; show the schema's order
    shown = [{k: v[k] for k in order if k in v} for v in chain]
    typer.echo(json.dumps(shown if history else shown[-1], ensure_ascii=False, indent=2))


@records_app.command("validate")
@user_errors
def validate_records(files: Annotated[list[Path], typer.Argument(help="Record files (JSON Lines).")]) -> None:
    """Check every line against acr/1 and every chain of versions; name each broken field."""
    from antifraud.records.feed import read_feed
    from antifraud.records.store import resolve

    problems, versions = 0, []
    for path in files:
        with open(path, "rb") as fh:
            for number, record, problem in read_feed(fh):
                if record is None:
                    problems += 1
                    typer.echo(f"{path}:{number}: {problem}")
                else:
                    versions.append(record)
    resolution = resolve(versions)
    for version, reason in resolution.rejected + resolution.held:
        problems += 1
        typer.echo(f"{version['id']} version {version['version']}: {reason}")
    typer.echo(f"{len(versions)} valid versions of {len(resolution.chains)} records; {problems} problems")
    if problems:
        raise typer.Exit(EXIT_FINDINGS)


@records_app.command("review")
@user_errors
def review(record_id: IdArg, store: StoreOpt, member: AsOpt,
           reviewer: Annotated[str, typer.Option(help="Who reviewed the finding.")],
           reason: Annotated[str, typer.Option(help="What the review found.")] = "", at: AtOpt = None) -> None:
    """Record a person's review of a finding (needed to share beyond amber or to list it)."""
    _change(store, record_id, member, "review", reviewer=reviewer, reason=reason, at=at)


@records_app.command("amend")
@user_errors
def amend(record_id: IdArg, store: StoreOpt, member: AsOpt,
          set_: Annotated[list[str], typer.Option("--set", help="field.path=JSON value (repeatable), e.g. "
                                                  "sharing.level='\"green\"' or behavior.metrics.orders=412.")],
          reason: Annotated[str, typer.Option(help="Why the record changes.")], at: AtOpt = None) -> None:
    """Change fields of a record; its identity and history stay."""
    changes = {}
    for item in set_:
        path, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set takes field.path=value, got {item!r}")
        try:
            changes[path.strip()] = json.loads(value)
        except json.JSONDecodeError:
            changes[path.strip()] = value  # a bare word is a string
    _change(store, record_id, member, "amend", changes=changes, by=member, reason=reason, at=at)


@records_app.command("object")
@user_errors
def object_(record_id: IdArg, store: StoreOpt, member: AsOpt,
            by: Annotated[str, typer.Option(help="Who objects (the subject or its representative).")],
            statement: Annotated[str, typer.Option(help="The objection in the subject's words.")],
            at: AtOpt = None) -> None:
    """Record an objection (异议) received from the subject; the record is under objection."""
    _change(store, record_id, member, "object_to", by=by, statement=statement, at=at)


@records_app.command("resolve")
@user_errors
def resolve_objection(record_id: IdArg, store: StoreOpt, member: AsOpt,
                      result: Annotated[str, typer.Option(help="upheld (revokes), rejected or partial.")],
                      reason: Annotated[str, typer.Option(help="Why.")], at: AtOpt = None) -> None:
    """Resolve a pending objection."""
    _change(store, record_id, member, "resolve", result=result, by=member, reason=reason, at=at)


@records_app.command("repair")
@user_errors
def repair(record_id: IdArg, store: StoreOpt, member: AsOpt,
           commitment: Annotated[str, typer.Option(help="The subject's public credit promise.")],
           applied_at: Annotated[str, typer.Option(help="When the subject applied, RFC 3339 UTC.")],
           reason: Annotated[str, typer.Option(help="Why repair is granted.")] = "", at: AtOpt = None) -> None:
    """Grant credit repair (信用修复): stop publishing and sharing, keep the history."""
    _change(store, record_id, member, "repair", commitment=commitment, applied_at=applied_at, by=member,
            reason=reason, at=at)


@records_app.command("revoke")
@user_errors
def revoke(record_id: IdArg, store: StoreOpt, member: AsOpt,
           reason: Annotated[str, typer.Option(help="Why the record was issued in error.")],
           at: AtOpt = None) -> None:
    """Revoke a record issued in error. Final."""
    _change(store, record_id, member, "revoke", by=member, reason=reason, at=at)


@records_app.command("expire")
@user_errors
def expire(record_id: IdArg, store: StoreOpt, member: AsOpt, at: AtOpt = None) -> None:
    """Mark a record expired once its publication and retention periods have passed."""
    _change(store, record_id, member, "expire", by=member, at=at)


@records_app.command("list-entry")
@user_errors
def list_entry(
    record_id: IdArg, store: StoreOpt, member: AsOpt,
    list_name: Annotated[str, typer.Option("--list", help="black, red or watch.")],
    severity: Annotated[str, typer.Option(help="minor, general or serious.")],
    basis: Annotated[str, typer.Option(help="platform_rule, administrative_penalty, court or alliance.")],
    authority: Annotated[str, typer.Option(help="Who decided (name).")],
    decided_on: Annotated[str, typer.Option(help="Date of the decision, YYYY-MM-DD.")],
    listed_on: Annotated[str, typer.Option(help="First day of publication, YYYY-MM-DD.")],
    publish_until: Annotated[str, typer.Option(help="Last day of publication (公示截止期), YYYY-MM-DD.")],
    measure: Annotated[list[str] | None, typer.Option(help="A measure taken (repeatable).")] = None,
    authority_uscc: Annotated[str | None, typer.Option(help="The authority's credit code.")] = None,
    document_no: Annotated[str | None, typer.Option(help="Decision document number (决定书文号).")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="The rule or law applied.")] = None,
    at: AtOpt = None,
) -> None:
    """Issue a list entry from a reviewed finding and the decision taken on it."""
    from antifraud.records import lifecycle

    current = _own_current(store, record_id, member)
    decision = {"basis": basis, "authority": {"name": authority} | ({"uscc": authority_uscc} if authority_uscc else {}),
                "decided_on": decided_on, "measures": measure or [], "severity": severity}
    decision |= {k: v for k, v in (("document_no", document_no), ("legal_basis", legal_basis)) if v}
    entry = lifecycle.list_entry(current, list_name=list_name, determination=decision, listed_on=listed_on,
                                 publish_until=publish_until, by=member, at=at or lifecycle.utc_now())
    _store(store).add([_signed(entry)])
    typer.echo(f"{entry['id']}: {list_name} list entry from {record_id}, published {listed_on} to {publish_until}")


@feed_app.command("export")
@user_errors
def export(store: StoreOpt, member: AsOpt,
           out: Annotated[Path, typer.Option("--out", "-o", help="Folder for feed.jsonl and feed.manifest.json.")],
           since: Annotated[str | None, typer.Option(help="Delta feed: versions modified after this time.")]
           = None,
           signing_key: Annotated[Path | None, typer.Option("--signing-key", envvar="ANTIFRAUD_SIGNING_KEY",
                                                             help="Ed25519 private key to sign the manifest.")]
           = None) -> None:
    """Write your records as a full feed, or a delta feed with --since (manifest signed with a key)."""
    from antifraud.records.feed import export_feed
    from antifraud.signing import Signer

    signer = Signer.from_file(signing_key) if signing_key is not None else None
    manifest = export_feed(_store(store), out, member_id=member, since=since, signer=signer)
    kind = f"delta since {since}" if since else "full"
    typer.echo(f"wrote {manifest['records']} versions ({kind}) to {out}; sha256 {manifest['sha256']}")


@feed_app.command("import")
@user_errors
def import_(
    feeds: Annotated[list[Path], typer.Argument(help="Feed folders or feed.jsonl files.")],
    store: StoreOpt,
    keyring: Annotated[Path | None, typer.Option("--keyring", "-k", envvar="ANTIFRAUD_KEYRING",
                                                 help="Folder of members' public keys (*.pub).")] = None,
    require_signatures: Annotated[bool, typer.Option(
        "--require-signatures", help="Reject versions not signed by a key in the keyring.")] = False,
) -> None:
    """Validate other members' feeds line by line and merge the good versions (idempotent).

    Signed versions are checked against the keyring: a bad signature is rejected. Exit 1 when
    any line was rejected or held, or a manifest did not check.
    """
    from antifraud.records.feed import import_feed
    from antifraud.signing import Keyring

    if require_signatures and keyring is None:
        raise ValueError("--require-signatures needs --keyring")
    ring = Keyring.from_directory(keyring) if keyring is not None else None
    clean = True
    for path in feeds:
        report = import_feed(_store(store), path, keyring=ring, require_signatures=require_signatures)
        _print_import(report)
        clean &= report.ok
    if not clean:
        raise typer.Exit(EXIT_FINDINGS)


def _print_import(report: Any) -> None:
    typer.echo(f"{report.source}: {report.lines} lines, {report.accepted} accepted, {report.new} new, "
               f"{report.duplicates} already held, {len(report.held)} held, {len(report.rejected)} rejected")
    for problem in report.feed_problems:
        typer.echo(f"  feed: {problem}")
    for item in report.rejected:
        typer.echo(f"  rejected {item}")
    for item in report.held:
        typer.echo(f"  held {item}")


def query(
    store: StoreOpt,
    uscc: Annotated[str | None, typer.Option(help="A merchant's unified social credit code.")] = None,
    pseudonym: Annotated[str | None, typer.Option(help="An account pseudonym (64 hex characters).")] = None,
    account: Annotated[str | None, typer.Option(help="A raw account id, pseudonymised here under the alliance "
                                                "key (ANTIFRAUD_PSEUDONYM_KEY); it never leaves this machine.")]
    = None,
    kind: Annotated[str, typer.Option(help="Kind of --account: platform_account, phone, device, payment, address.")]
    = "platform_account",
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as JSON Lines.")] = False,
) -> None:
    """What the alliance holds on a credit code or an account: every current record about it."""
    from antifraud import uscc as codes
    from antifraud.records.store import IN_FORCE, holdings

    if sum(x is not None for x in (uscc, pseudonym, account)) != 1:
        raise ValueError("give exactly one of --uscc, --pseudonym or --account")
    if uscc is not None:
        result = codes.validate(uscc)
        if not result.valid:
            raise ValueError(f"{uscc!r} is not a valid credit code: {'; '.join(result.reasons)}")
        uscc = result.code
    if account is not None:
        pseudonym = _pseudonym_of(account, kind)
    found = holdings(_store(store).resolution().current, uscc=uscc, pseudonym=pseudonym)
    if as_json:
        for record in found:
            typer.echo(json.dumps(record, ensure_ascii=False))
        return
    typer.echo(f"{len(found)} records ({sum(r['status'] in IN_FORCE for r in found)} in force)")
    for r in found:
        a = r["assessment"]
        typer.echo(f"{r['id']}  v{r['version']}  {r['status']:<15} {r['record_type']:<16} "
                   f"{r['issuer']['member_id']:<14} {r['behavior']['category']:<24} "
                   f"confidence {a['confidence']:>3}  {'reviewed' if a['human_reviewed'] else 'unreviewed'}  "
                   f"{r['behavior']['period']['start'][:10]}..{r['behavior']['period']['end'][:10]}")


def _pseudonym_of(value: str, kind: str) -> str:
    import pyarrow as pa

    from antifraud.ingest.pseudonym import KEY_ENV, KEY_FILE_ENV, Pseudonymizer, normalize_personal

    if not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        raise fail(f"--account needs the alliance key in {KEY_ENV} or {KEY_FILE_ENV}")
    normal = normalize_personal(kind, pa.array([value])).to_pylist()[0]
    if normal is None:
        raise ValueError("--account is empty")
    return Pseudonymizer.from_environment().pseudonymize(kind, [normal]).to_pylist()[0]
