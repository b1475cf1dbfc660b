"""``antifraud records``, ``antifraud feed`` and ``antifraud query``: credit records as a member
keeps, changes, shares and looks them up.

The store folder comes from ``--store`` or ``ANTIFRAUD_STORE``; the member acting from
``--as`` or ``ANTIFRAUD_MEMBER_ID``. Acting as a member takes that member's signing key
(``--signing-key`` or ``ANTIFRAUD_SIGNING_KEY``): only the issuer of a record makes its next
version, and every version it makes is signed. What enters the store is checked against the
keyring (``--keyring`` or ``ANTIFRAUD_KEYRING``): only versions signed with their issuer's key
are accepted unless ``--allow-unsigned`` says otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from antifraud.cli.errors import EXIT_FINDINGS, fail, user_errors

if TYPE_CHECKING:
    from antifraud.ingest.pseudonym import Pseudonymizer
    from antifraud.records.store import RecordStore
    from antifraud.signing import Keyring, Signer

records_app = typer.Typer(name="records", help="Keep and change your own credit records (acr/1).",
                          no_args_is_help=True)
feed_app = typer.Typer(name="feed", help="Share records with alliance members: export and import feeds.",
                       no_args_is_help=True)

StoreOpt = Annotated[Path, typer.Option("--store", "-s", envvar="ANTIFRAUD_STORE",
                                        help="Record store folder (or ANTIFRAUD_STORE).")]
AsOpt = Annotated[str, typer.Option("--as", envvar="ANTIFRAUD_MEMBER_ID",
                                    help="Your member id (or ANTIFRAUD_MEMBER_ID); only the issuer changes a record.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="Time of the change, RFC 3339 (default: now; never in the "
                                                        "future).")]
IdArg = Annotated[str, typer.Argument(help="Record id (acr--...).")]
SigningKeyOpt = Annotated[Path | None, typer.Option(
    "--signing-key", envvar="ANTIFRAUD_SIGNING_KEY",
    help="Your Ed25519 private key (or ANTIFRAUD_SIGNING_KEY); every version you make is signed with it.")]
KeyringOpt = Annotated[Path | None, typer.Option(
    "--keyring", "-k", envvar="ANTIFRAUD_KEYRING",
    help="Folder of members' public keys, <member id>.pub (or ANTIFRAUD_KEYRING).")]
AllowUnsignedOpt = Annotated[bool, typer.Option(
    "--allow-unsigned", help="Also accept versions that are unsigned or signed with a key the keyring does not hold, "
                             "from members whose key it does not hold.")]


def _store(path: Path) -> RecordStore:
    from antifraud.records.store import RecordStore

    return RecordStore(path)


def _keyring(path: Path | None) -> Keyring | None:
    from antifraud.signing import Keyring

    return Keyring.from_directory(path) if path is not None else None


def _member_signer(member: str, signing_key: Path | None, keyring: Keyring | None) -> Signer:
    """``member``'s signer from ``signing_key``, refused when the keyring says the key is not
    ``member``'s."""
    from antifraud.signing import Signer

    if signing_key is None:
        raise ValueError(f"acting as {member} needs {member}'s signing key (--signing-key or ANTIFRAUD_SIGNING_KEY): "
                         f"the alliance accepts in a member's name only what its key signed")
    signer = Signer.from_file(signing_key)
    if keyring is not None:
        owner, known = keyring.owner(signer.key_id), keyring.key_ids_of(member)
        if owner not in (None, member) or (owner is None and known):
            whose = f"{owner}'s key" if owner else f"not in the keyring, which holds {member}'s key {known[0]}"
            raise ValueError(f"{signing_key} ({signer.key_id}) is {whose}; you cannot act as {member}")
    return signer


def _check_signed_with(signer: Signer, keyring: Keyring | None, member: str, versions: Iterable[dict]) -> None:
    """Refuse to sign for ``member`` with a key other than the one its versions carry, unless the
    keyring vouches for the new key (key rotation)."""
    if keyring is not None and keyring.owner(signer.key_id) == member:
        return
    for v in versions:
        kid = (v.get("signature") or {}).get("key_id")
        if kid is not None and kid != signer.key_id:
            raise ValueError(f"{v['id']} version {v['version']} is signed with {kid}, not with {signer.key_id}: "
                             f"you cannot act as {member} with this key (to change keys, put the new one in the "
                             f"keyring as {member}.pub)")


def _own(current: dict, member: str) -> None:
    if current["issuer"]["member_id"] != member:
        raise ValueError(f"{current['id']} was issued by {current['issuer']['member_id']}; only the issuer makes "
                         f"new versions (others file an objection or a finding of their own)")


def _at(at: str | None) -> str | None:
    from antifraud.records.lifecycle import parse_timestamp

    return parse_timestamp(at, not_after_now=True) if at is not None else None


def _act(store_path: Path, record_id: str, member: str, signing_key: Path | None, keyring_path: Path | None,
         at: str | None, make: Callable[[dict, str], dict]) -> dict:
    """Make and store the version ``make(current, at)`` derives from one of ``member``'s records,
    signed with ``member``'s key, holding the store's lock from reading the record to writing."""
    from antifraud.records.lifecycle import utc_now
    from antifraud.signing import sign_json

    keyring = _keyring(keyring_path)
    signer = _member_signer(member, signing_key, keyring)
    at = _at(at)

    def signed_successor(current: dict) -> list[dict]:
        _own(current, member)
        _check_signed_with(signer, keyring, member, [current])
        new = make(current, at or utc_now())  # the time is taken under the lock, after any concurrent change
        new["signature"] = sign_json(new, signer)
        return [new]

    return _store(store_path).change(record_id, signed_successor)[0]


def _change(store_path: Path, record_id: str, member: str, signing_key: Path | None, keyring: Path | None,
            at: str | None, action: str, **kwargs: Any) -> None:
    """Apply a lifecycle action to the current version of one of ``member``'s records."""
    from antifraud.records import lifecycle

    new = _act(store_path, record_id, member, signing_key, keyring, at,
               lambda current, when: getattr(lifecycle, action)(current, at=when, **kwargs))
    typer.echo(f"{record_id}: version {new['version']}, {new['status']}")


@records_app.command("add")
@user_errors
def add(files: Annotated[list[Path], typer.Argument(help="Record files (JSON Lines), e.g. RUN/findings.jsonl.")],
        store: StoreOpt, keyring: KeyringOpt = None, allow_unsigned: AllowUnsignedOpt = False) -> None:
    """Add records (your run's findings.jsonl) to the store, validating every line and signature."""
    from antifraud.records.feed import import_feed

    ring = _keyring(keyring)
    bad = False
    for path in files:
        report = import_feed(_store(store), path, expect_manifest=False, keyring=ring, allow_unsigned=allow_unsigned)
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
def validate_records(files: Annotated[list[Path], typer.Argument(help="Record files (JSON Lines).")],
                     keyring: KeyringOpt = None, allow_unsigned: AllowUnsignedOpt = False) -> None:
    """Check every line against acr/1, its signature and every chain of versions; name each broken field."""
    from antifraud.records.feed import read_feed, signature_problem
    from antifraud.records.store import resolve

    ring = _keyring(keyring)
    problems, versions = 0, []
    for path in files:
        with open(path, "rb") as fh:
            for number, record, problem in read_feed(fh):
                if record is not None:
                    problem = signature_problem(record, record["issuer"]["member_id"], ring,
                                                allow_unsigned=allow_unsigned)
                if problem:
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


@records_app.command("quarantine")
@user_errors
def quarantine(store: StoreOpt, as_json: Annotated[bool, typer.Option("--json", help="Print JSON Lines.")]
               = False) -> None:
    """List the versions the store set aside (forks, broken chains), with the reason for each."""
    entries = _store(store).quarantine()
    if as_json:
        for version, reason in entries:
            typer.echo(json.dumps({"reason": reason, "version": version}, ensure_ascii=False))
        return
    typer.echo(f"{len(entries)} versions set aside in {store}")
    for version, reason in entries:
        typer.echo(f"{version['id']} version {version['version']} ({version['issuer']['member_id']}, "
                   f"{version['modified']}): {reason}")


@records_app.command("review")
@user_errors
def review(record_id: IdArg, store: StoreOpt, member: AsOpt,
           reviewer: Annotated[str, typer.Option(help="Who reviewed the finding.")],
           reason: Annotated[str, typer.Option(help="What the review found.")] = "", signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Record a person's review of a finding (needed to share beyond amber or to list it)."""
    _change(store, record_id, member, signing_key, keyring, at, "review", reviewer=reviewer, reason=reason)


@records_app.command("amend")
@user_errors
def amend(record_id: IdArg, store: StoreOpt, member: AsOpt,
          set_: Annotated[list[str], typer.Option("--set", help="field.path=JSON value (repeatable), e.g. "
                                                  "sharing.level='\"green\"' or behavior.metrics.orders=412.")],
          reason: Annotated[str, typer.Option(help="Why the record changes.")], signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
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
    _change(store, record_id, member, signing_key, keyring, at, "amend", changes=changes, by=member, reason=reason)


@records_app.command("object")
@user_errors
def object_(record_id: IdArg, store: StoreOpt, member: AsOpt,
            by: Annotated[str, typer.Option(help="Who objects (the subject or its representative).")],
            statement: Annotated[str, typer.Option(help="The objection in the subject's words.")],
            signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Record an objection (异议) received from the subject; the record is under objection."""
    _change(store, record_id, member, signing_key, keyring, at, "object_to", by=by, statement=statement)


@records_app.command("resolve")
@user_errors
def resolve_objection(record_id: IdArg, store: StoreOpt, member: AsOpt,
                      result: Annotated[str, typer.Option(help="upheld (revokes), rejected or partial.")],
                      reason: Annotated[str, typer.Option(help="Why.")], signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Resolve a pending objection."""
    _change(store, record_id, member, signing_key, keyring, at, "resolve", result=result, by=member, reason=reason)


@records_app.command("repair")
@user_errors
def repair(record_id: IdArg, store: StoreOpt, member: AsOpt,
           commitment: Annotated[str, typer.Option(help="The subject's public credit promise.")],
           applied_at: Annotated[str, typer.Option(help="When the subject applied, RFC 3339 UTC.")],
           reason: Annotated[str, typer.Option(help="Why repair is granted.")] = "", signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Grant credit repair (信用修复): stop publishing and sharing, keep the history."""
    from antifraud.records.lifecycle import parse_timestamp

    _change(store, record_id, member, signing_key, keyring, at, "repair", commitment=commitment,
            applied_at=parse_timestamp(applied_at, not_after_now=True), by=member, reason=reason)


@records_app.command("revoke")
@user_errors
def revoke(record_id: IdArg, store: StoreOpt, member: AsOpt,
           reason: Annotated[str, typer.Option(help="Why the record was issued in error.")],
           signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Revoke a record issued in error. Final."""
    _change(store, record_id, member, signing_key, keyring, at, "revoke", by=member, reason=reason)


@records_app.command("expire")
@user_errors
def expire(record_id: IdArg, store: StoreOpt, member: AsOpt, signing_key: SigningKeyOpt = None,
        keyring: KeyringOpt = None, at: AtOpt = None) -> None:
    """Mark a record expired once its publication and retention periods have passed."""
    _change(store, record_id, member, signing_key, keyring, at, "expire", by=member)


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
    signing_key: SigningKeyOpt = None,
    keyring: KeyringOpt = None,
    at: AtOpt = None,
) -> None:
    """Issue a list entry from a reviewed finding and the decision taken on it (once per list and day)."""
    from antifraud.records import lifecycle

    decision = {"basis": basis, "authority": {"name": authority} | ({"uscc": authority_uscc} if authority_uscc else {}),
                "decided_on": decided_on, "measures": measure or [], "severity": severity}
    decision |= {k: v for k, v in (("document_no", document_no), ("legal_basis", legal_basis)) if v}
    entry = _act(store, record_id, member, signing_key, keyring, at,
                 lambda current, when: lifecycle.list_entry(current, list_name=list_name, determination=decision,
                                                            listed_on=listed_on, publish_until=publish_until,
                                                            by=member, at=when))
    typer.echo(f"{entry['id']}: {list_name} list entry from {record_id}, published {listed_on} to {publish_until}")


@feed_app.command("export")
@user_errors
def export(store: StoreOpt, member: AsOpt,
           out: Annotated[Path, typer.Option("--out", "-o", help="Folder for feed.jsonl and feed.manifest.json.")],
           since: Annotated[str | None, typer.Option(help="Delta feed: versions modified after this RFC 3339 time, "
                                                          "e.g. 2026-12-01T00:00:00+08:00.")] = None,
           signing_key: SigningKeyOpt = None, keyring: KeyringOpt = None) -> None:
    """Write your records as a full feed, or a delta feed with --since; the manifest is signed with your key."""
    from antifraud.records.feed import export_feed

    ring = _keyring(keyring)
    signer = _member_signer(member, signing_key, ring)
    records = _store(store)
    own = [v for chain in records.resolution().chains.values() for v in chain if v["issuer"]["member_id"] == member]
    _check_signed_with(signer, ring, member, own)
    manifest = export_feed(records, out, member_id=member, since=since, signer=signer)
    kind = f"delta since {manifest['since']}" if since else "full"
    typer.echo(f"wrote {manifest['records']} versions ({kind}) to {out}; sha256 {manifest['sha256']}")


@feed_app.command("import")
@user_errors
def import_(
    feeds: Annotated[list[Path], typer.Argument(help="Feed folders or feed.jsonl files.")],
    store: StoreOpt,
    keyring: KeyringOpt = None,
    allow_unsigned: AllowUnsignedOpt = False,
    require_signatures: Annotated[bool, typer.Option(
        "--require-signatures", help="Reject versions not signed by their issuer's key (the default; kept for "
                                     "scripts).")] = False,
) -> None:
    """Validate other members' feeds line by line and merge the good versions (idempotent).

    A version is accepted only when signed with its issuer's key from the keyring, and a feed
    only when its manifest checks and is signed by the feed's issuer. Exit 1 when any line was
    rejected or held, or a manifest did not check.
    """
    from antifraud.records.feed import import_feed

    if require_signatures and allow_unsigned:
        raise ValueError("--require-signatures and --allow-unsigned contradict each other")
    ring = _keyring(keyring)
    clean = True
    for path in feeds:
        report = import_feed(_store(store), path, keyring=ring, allow_unsigned=allow_unsigned)
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


def alliance_pseudonymizer(needed_by: str) -> Pseudonymizer:
    """The pseudonymizer of the alliance key from the environment; without a configured key,
    exit 2 saying that ``needed_by`` needs it (a run's own key matches no record)."""
    from antifraud.ingest.pseudonym import KEY_ENV, KEY_FILE_ENV, Pseudonymizer

    if not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        raise fail(f"{needed_by} needs the alliance key in {KEY_ENV} or {KEY_FILE_ENV}")
    return Pseudonymizer.from_environment()


def _pseudonym_of(value: str, kind: str) -> str:
    import pyarrow as pa

    from antifraud.ingest.pseudonym import normalize_personal

    pseudonymizer = alliance_pseudonymizer("--account")
    normal = normalize_personal(kind, pa.array([value])).to_pylist()[0]
    if normal is None:
        raise ValueError("--account is empty")
    return pseudonymizer.pseudonymize(kind, [normal]).to_pylist()[0]
