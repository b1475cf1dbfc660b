"""The conventions every command follows (antifraud.cli.conventions): -h, metavars, an example and
the exit codes in its help, --quiet and --json, one name per option with the old ones working."""

import json

import pytest
import typer
from typer.testing import CliRunner

from antifraud.cli.errors import EXIT_CODES_HELP
from antifraud.cli.main import app

runner = CliRunner()


def run(*args, **env):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200", **env})


def _commands(group, path=()):
    """Every command of the app: its words on the command line -> the command."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMAND = dict(_commands(typer.main.get_command(app)))
COMMANDS = sorted(COMMAND)


def _flat(text):
    return " ".join(text.replace("│", " ").split())


def test_the_app_has_the_commands_of_the_issue():
    assert {("records", "list"), ("keys", "alliance"), ("query",), ("detect",), ("feed", "export")} <= set(COMMANDS)
    members = {w for w in COMMANDS if any("--member" in p.opts for p in COMMAND[w].params)}
    assert {("detect",), ("records", "review"), ("records", "list-entry"), ("feed", "export")} <= members


@pytest.mark.parametrize("words", [(), ("records",), ("feed",), ("keys",)])
def test_groups_answer_h(words):
    result = run(*words, "-h")
    assert result.exit_code == 0 and "Usage" in result.stdout and "<bool>" not in result.stdout


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_help_has_h_an_example_the_exit_codes_and_no_python_types(words):
    short, long = run(*words, "-h"), run(*words, "--help")
    assert short.exit_code == long.exit_code == 0, short.output
    assert short.stdout == long.stdout
    text = _flat(short.stdout)
    assert f"Example: antifraud {' '.join(words)} " in text
    assert _flat(EXIT_CODES_HELP) in text
    for python_type in ("<bool>", "<list", "<str>", "<path>", "<int>", "<float>"):
        assert python_type not in text
    assert "--quiet" in text and "--json" in text and "-h" in text


@pytest.mark.parametrize("words", [w for w in COMMANDS if any("--member" in p.opts for p in COMMAND[w].params)],
                         ids=" ".join)
def test_the_member_option_is_member_and_the_old_names_are_hidden(words):
    text = _flat(run(*words, "-h").stdout)
    assert "--member " in text and "--member-id" not in text and "--as " not in text


def test_old_member_names_still_work_with_a_warning(fixtures, tmp_path):
    for old in ("--member-id", "--as"):
        result = run("detect", fixtures / "generic" / "orders.csv", "--out", tmp_path / old, old, "platform-x",
                     "--quiet")
        assert result.exit_code == 0, result.output
        manifest = json.loads((tmp_path / old / "run.json").read_text(encoding="utf-8"))
        assert manifest["issuer"]["member_id"] == "platform-x"
    warned = run("records", "revoke", "acr--x", "--store", tmp_path / "s", "--as", "platform-x", "--reason", "r")
    assert "warning: --as is an old name of --member; use --member" in warned.stderr


def test_every_missing_required_option_is_named_at_once(tmp_path):
    result = run("records", "list-entry", "R0001", "--store", tmp_path, "--member", "platform-a", "--list", "black")
    assert result.exit_code == 2
    text = _flat(result.output)
    for option in ("--severity (minor, general or serious)", "--basis", "--authority", "--decided-on", "--listed-on",
                   "--publish-until"):
        assert option in text
    assert "--list " not in text.split("missing", 1)[1] and "--member " not in text.split("missing", 1)[1]


def test_json_before_or_after_the_command_prints_one_document(fixtures, tmp_path):
    path = fixtures / "taobao_gbk" / "orders.csv"
    after = run("validate", path, "--out", tmp_path / "a", "--json")
    before = run("--json", "validate", path)
    assert after.exit_code == before.exit_code == 0, after.output
    manifest = json.loads(after.stdout)
    assert manifest == json.loads((tmp_path / "a" / "run.json").read_text(encoding="utf-8"))
    assert manifest["rows"]["read"] == json.loads(before.stdout)["rows"]["read"] == 21
    codes = json.loads(run("uscc", "914403001922038217", "--json").stdout)
    assert codes[0]["valid"] is False and "expected '6'" in codes[0]["reasons"][0]


def test_detect_json_is_the_run_manifest_and_quiet_is_one_line(fixtures, tmp_path):
    result = run("detect", fixtures / "generic" / "orders.csv", "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    quiet = run("detect", fixtures / "generic" / "orders.csv", "--out", tmp_path / "run", "-q")
    assert quiet.exit_code == 0 and quiet.stdout.splitlines() == [
        f"{tmp_path / 'run'}: 2 rings; flagged 20 accounts, 4 merchants, 89 orders"]
    assert quiet.stderr == ""


def test_quiet_silences_the_summary_but_not_errors(fixtures, tmp_path):
    summary = run("validate", fixtures / "broken" / "orders.csv")
    quiet = run("validate", fixtures / "broken" / "orders.csv", "--quiet")
    assert "Quarantined rows by reason" in summary.stdout
    assert quiet.stdout == "20 read = 5 accepted + 15 quarantined\n"
    failed = run("validate", fixtures / "broken" / "orders.csv", "--quiet", "--profile", "nope")
    assert failed.exit_code == 2 and "error:" in failed.stderr
