"""The detect job end to end on hostile and degenerate exports."""

import json

import pandas as pd
import pytest

from antifraud.detect import detect
from antifraud.evidence.bundle import write_bundle
from antifraud.ingest import PROFILES
from antifraud.ingest.pseudonym import Pseudonymizer


def _hostile_export(fixtures, path):
    """The generic fixture with account and shop ids that a spreadsheet would run as formulas."""
    orders = pd.read_csv(fixtures / "generic" / "orders.csv", dtype=str, keep_default_na=False)
    orders["buyer_id"] = orders["buyer_id"].map({"b0000021": "+8613800000021", "b0000195": "=1+1"}).fillna(
        orders["buyer_id"])
    orders["seller_id"] = orders["seller_id"].replace({"s00013": "@s00013", "s00007": "-s00007"})
    orders.to_csv(path, index=False)
    return path


def test_ids_starting_with_formula_characters(fixtures, tmp_path):
    export = _hostile_export(fixtures, tmp_path / "orders.csv")
    run = detect([export], PROFILES["generic"], out_dir=tmp_path / "run", seed=1)
    accounts = pd.read_csv(run.paths["accounts"], dtype=str).set_index("account_id")
    assert {"+8613800000021", "'=1+1"} <= set(accounts.index)  # a plain number is not a formula
    merchants = set(pd.read_csv(run.paths["merchants"], dtype=str)["seller_id"])
    assert {"'@s00013", "'-s00007"} <= merchants
    assert run.paths["findings"].stat().st_size > 0


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _without_timings(run_json):
    from antifraud.io.run_folder import RUN_TIMINGS

    return {k: v for k, v in json.loads(run_json).items() if k not in RUN_TIMINGS}


def test_a_fixed_issuing_time_and_key_give_byte_identical_outputs(fixtures, tmp_path):
    from antifraud.records.issuing import issuing_time

    issued = issuing_time(environ={"SOURCE_DATE_EPOCH": "1764547200"})  # 2025-12-01T00:00:00Z
    key = Pseudonymizer(bytes.fromhex("00" * 16 + "ab" * 16))
    # one detector at a time, then two in threads: the same files
    runs = [detect([fixtures / "generic" / "orders.csv"], PROFILES["generic"], out_dir=tmp_path / name, seed=1,
                   issued_at=issued, pseudonymizer=key, n_jobs=jobs)
            for name, jobs in (("a", 1), ("b", 2))]
    a, b = (_files(tmp_path / name) for name in ("a", "b"))
    assert set(a) == set(b) and {"findings.jsonl", "evidence/orders.parquet", "run.json"} <= set(a)
    assert {name for name in a if a[name] != b[name]} <= {"run.json"}
    assert _without_timings(a["run.json"]) == _without_timings(b["run.json"])
    record = json.loads(a["findings.jsonl"].splitlines()[0])
    assert record["created"] == record["modified"] == record["events"][0]["at"] == "2025-12-01T00:00:00.000Z"
    assert json.loads(a["run.json"])["issued"] == {"at": "2025-12-01T00:00:00.000Z", "source": "SOURCE_DATE_EPOCH"}
    assert runs[0].paths["findings"] == tmp_path / "a" / "findings.jsonl"
    for name in ("a", "b"):
        write_bundle(tmp_path / name, tmp_path / f"{name}.zip", finding="R0001")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_detectors_run_in_threads(fixtures, tmp_path, monkeypatch):
    import threading

    import antifraud.detectors.ensemble as ensemble

    threads, fit_step = set(), ensemble._fit_step

    def recording(*args):
        threads.add(threading.get_ident())
        return fit_step(*args)

    monkeypatch.setattr(ensemble, "_fit_step", recording)
    detect([fixtures / "generic" / "orders.csv"], PROFILES["generic"], out_dir=tmp_path / "run", seed=1, n_jobs=2)
    assert len(threads) == 2


def test_detect_reads_nothing_from_the_environment(fixtures, tmp_path, monkeypatch):
    for name, value in {"SOURCE_DATE_EPOCH": "0", "ANTIFRAUD_MEMBER_ID": "platform-a",
                        "ANTIFRAUD_PLATFORM": "elsewhere", "ANTIFRAUD_PSEUDONYM_KEY_ID": "alliance-2026q4"}.items():
        monkeypatch.setenv(name, value)  # besides ANTIFRAUD_PSEUDONYM_KEY, set for every test
    run = detect([fixtures / "generic" / "orders.csv"], PROFILES["generic"], out_dir=tmp_path / "run", seed=1)
    manifest = json.loads(run.paths["manifest"].read_text())
    assert manifest["issued"]["source"] == "clock"
    assert manifest["issuer"] == {"member_id": "local", "uscc": None, "role": "analyst", "platform": "generic"}
    assert manifest["pseudonymisation"]["key_source"] == "generated run key"
    assert manifest["pseudonymisation"]["key_id"].startswith("run-")


@pytest.mark.parametrize(("given", "environ", "expected"), [
    ("2026-11-01T16:00:00+08:00", {"SOURCE_DATE_EPOCH": "0"}, ("2026-11-01T08:00:00.000Z", "given")),
    (None, {"SOURCE_DATE_EPOCH": "86400"}, ("1970-01-02T00:00:00.000Z", "SOURCE_DATE_EPOCH")),
])
def test_issuing_time(given, environ, expected):
    from antifraud.records.issuing import issuing_time

    assert tuple(issuing_time(given, environ)) == expected


@pytest.mark.parametrize(("given", "environ"), [
    ("2026-11-01T08:00:00", {}),  # no offset: whose 08:00?
    ("yesterday", {}),
    (None, {"SOURCE_DATE_EPOCH": "1.5"}),
    (None, {"SOURCE_DATE_EPOCH": "-1"}),
])
def test_issuing_time_refuses_what_it_cannot_read(given, environ):
    from antifraud.records.issuing import issuing_time

    with pytest.raises(ValueError, match="RFC 3339|SOURCE_DATE_EPOCH"):
        issuing_time(given, environ)


def test_the_clock_when_nothing_fixes_the_time():
    from antifraud.records.issuing import issuing_time

    at, source = issuing_time(None, {})
    assert source == "clock" and at.endswith("Z") and at[:2] == "20"


RUN_FILES = ["accounts.csv", "evidence", "findings.jsonl", "merchants.csv", "orders.csv", "quarantine.csv",
             "rings.jsonl", "run.json", "summary.md"]


def test_a_run_writes_exactly_its_files(fixtures, tmp_path):
    from antifraud.detect import RUN_FILES as declared

    run = detect([fixtures / "generic" / "orders.csv"], PROFILES["generic"], out_dir=tmp_path / "run", seed=1)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(declared) == RUN_FILES
    assert sorted(p.relative_to(tmp_path / "run").parts[0] for p in run.paths.values()) == RUN_FILES


def _cli(*args):
    from typer.testing import CliRunner

    from antifraud.cli.main import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_an_export_with_every_row_quarantined(tmp_path):
    export = tmp_path / "orders.csv"
    export.write_text("buyer_id,seller_id,created_at\nb1,s1,not a time\nb2,s2,2024-13-45\n")
    out = tmp_path / "run"
    (out / "evidence").mkdir(parents=True)
    (out / "findings.jsonl").write_text("a previous run's findings\n")
    (out / "evidence" / "orders.parquet").write_text("a previous run's evidence")
    result = _cli("detect", export, "--out", out)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "0 of 2 rows accepted: nothing to detect" in lines[0] and "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["quarantine.csv", "run.json"]  # nothing from the old run
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["rows"] == {"read": 2, "accepted": 0, "quarantined": 2,
                                "quarantined_by_reason": manifest["rows"]["quarantined_by_reason"]}
    assert manifest["findings"] is None and manifest["outputs"] == {"quarantine": "quarantine.csv",
                                                                    "manifest": "run.json"}
    assert len(pd.read_csv(out / "quarantine.csv")) == 2


def test_a_second_detect_into_the_same_folder_is_refused(fixtures, tmp_path):
    from antifraud.io.run_folder import staged_folder

    out = tmp_path / "run"
    with staged_folder(out, RUN_FILES):  # a run under way
        result = _cli("detect", fixtures / "generic" / "orders.csv", "--out", out)
    assert result.exit_code == 2 and "another run is writing" in result.output
    assert list(out.iterdir()) == []  # the refused run wrote nothing


def test_an_input_inside_the_output_folder_is_refused(fixtures, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    export = out / "orders.csv"
    export.write_bytes((fixtures / "generic" / "orders.csv").read_bytes())
    result = _cli("detect", export, "--out", out)
    assert result.exit_code == 2 and "inside" in result.output
    assert export.read_bytes() == (fixtures / "generic" / "orders.csv").read_bytes()


def test_a_tiny_export_runs_and_finds_no_rings(tmp_path):
    export = tmp_path / "orders.csv"
    export.write_text("buyer_id,seller_id,created_at\nb1,s1,2024-01-01 10:00:00\nb2,s2,2024-01-02 10:00:00\n")
    run = detect([export], PROFILES["generic"], out_dir=tmp_path / "run")
    assert run.ensemble.rings_ == [] and run.paths["findings"].read_text() == ""


def test_run_json_reports_the_signals_of_the_ensemble_that_ran(fixtures, tmp_path):
    from antifraud.detectors import BrushingEnsemble

    ensemble = BrushingEnsemble().set_params(dense_block="drop")
    run = detect([fixtures / "generic" / "orders.csv"], PROFILES["generic"], out_dir=tmp_path / "run", ensemble=ensemble)
    signals = json.loads(run.paths["manifest"].read_text(encoding="utf-8"))["signals"]
    reported = signals["available"] + list(signals["unavailable"])
    assert "dense_block" not in reported and {"lockstep", "promoted_shops", "reviews"} <= set(reported)


def _train(fixtures, tmp_path):
    """A model learned from the generic fixture's first four rings, in ``tmp_path / "model"``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from antifraud.learning.model import BrushingModel
    from antifraud.train import train

    rings = [json.loads(line) for line in (fixtures / "generic" / "truth" / "rings.jsonl").read_text().splitlines()]
    labels = tmp_path / "black.csv"
    labels.write_text("\n".join(["account_id,label,group", *(f"{a},1,{r['kind']}" for r in rings[:4]
                                                            for a in r["accounts"])]) + "\n")
    model = BrushingModel(HistGradientBoostingClassifier(max_iter=50, random_state=0), n_splits=3, random_state=0)
    return train([fixtures / "generic" / "orders.csv"], PROFILES["generic"], labels=[labels],
                 out_dir=tmp_path / "model", model=model, n_jobs=1)


def test_detect_with_a_model_explains_each_ring_by_the_models_contributions(fixtures, tmp_path):
    from antifraud.learning.explain import MIN_CONTRIBUTION

    export = fixtures / "generic" / "orders.csv"
    trained = _train(fixtures, tmp_path)
    plain = detect([export], PROFILES["generic"], out_dir=tmp_path / "plain", n_jobs=1)
    run = detect([export], PROFILES["generic"], out_dir=tmp_path / "run", model=tmp_path / "model", n_jobs=1)
    lines = [json.loads(line) for line in run.paths["rings"].read_text().splitlines()]
    assert lines and all("model" not in r for r in map(json.loads, plain.paths["rings"].read_text().splitlines()))
    records = run.paths["findings"].read_text()
    for ring in lines:
        explained = ring["model"]["accounts"]  # the model learned accounts only
        assert set(ring["model"]) == {"accounts"} and explained["members"] == len(ring["accounts"])
        contributions = [c["contribution"] for c in explained["contributions"]]
        assert contributions == sorted(contributions, reverse=True)
        assert min(contributions, default=1) >= MIN_CONTRIBUTION
        assert {c["feature"] for c in explained["contributions"]} <= set(trained.about["features"]["accounts"])
        said = [s for s in ring["signals"] if s["signal"].startswith("model:")]
        assert [s["signal"] for s in said] == [f"model:accounts:{c['feature']}" for c in explained["contributions"]]
        assert all(json.dumps(s["text"], ensure_ascii=False) in records for s in said)  # in the shared records too
    assert any(ring["model"]["accounts"]["contributions"] for ring in lines)


KEY = Pseudonymizer(bytes.fromhex("00" * 16 + "ab" * 16), key_id="alliance-test")


class _Calls:
    """Counts the ingests and ensemble fits of the runs of a test; ``interrupt`` makes the next
    fit raise KeyboardInterrupt, as Ctrl-C in the detectors would."""

    def __init__(self, monkeypatch):
        import antifraud.detect as job
        from antifraud.detectors.ensemble import BrushingEnsemble

        self.ingests = self.fits = 0
        self.interrupt = False
        ingest, fit = job.ingest, BrushingEnsemble.fit

        def counted_ingest(*args, **kwargs):
            self.ingests += 1
            return ingest(*args, **kwargs)

        def counted_fit(ensemble, data, y=None):
            self.fits += 1
            if self.interrupt:
                self.interrupt = False
                raise KeyboardInterrupt
            return fit(ensemble, data, y)

        monkeypatch.setattr(job, "ingest", counted_ingest)
        monkeypatch.setattr(BrushingEnsemble, "fit", counted_fit)


def _run(export, out, work=None, **given):
    from antifraud.records.issuing import issuing_time

    settings = {"seed": 1, "pseudonymizer": KEY, "n_jobs": 1,
                "issued_at": issuing_time(environ={"SOURCE_DATE_EPOCH": "1764547200"})} | given
    return detect([export], PROFILES["generic"], out_dir=out, work_dir=work, **settings)


def _same_outputs(a, b):
    """Whether two run folders hold the same files, byte for byte but for run.json's timings
    and its note of what the work folder resumed."""
    a, b = _files(a), _files(b)
    assert set(a) == set(b) and "evidence/orders.parquet" in a
    assert {name for name in a if a[name] != b[name]} <= {"run.json"}
    first, second = ({k: v for k, v in _without_timings(f["run.json"]).items() if k != "work"} for f in (a, b))
    return first == second


def test_a_run_interrupted_in_the_detectors_resumes_after_its_ingest_with_the_same_outputs(
        fixtures, tmp_path, monkeypatch):
    export = fixtures / "generic" / "orders.csv"
    _run(export, tmp_path / "plain")  # uninterrupted, without a work folder
    calls = _Calls(monkeypatch)
    calls.interrupt = True
    with pytest.raises(KeyboardInterrupt):
        _run(export, tmp_path / "run", tmp_path / "work")
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["ingest", "ingest.done.json"]
    assert (calls.ingests, calls.fits) == (1, 1)
    resumed = _run(export, tmp_path / "run", tmp_path / "work")
    assert (calls.ingests, calls.fits) == (1, 2)  # the ingest was not redone
    work = json.loads(resumed.paths["manifest"].read_text())["work"]
    assert work == {"folder": str(tmp_path / "work"), "resumed": ["ingest"], "computed": ["detectors"]}
    assert _same_outputs(tmp_path / "plain", tmp_path / "run")
    again = _run(export, tmp_path / "again", tmp_path / "work")
    assert (calls.ingests, calls.fits) == (1, 2)  # nor the fit, once finished
    manifest = json.loads(again.paths["manifest"].read_text())
    assert manifest["work"]["resumed"] == ["ingest", "detectors"] and manifest["work"]["computed"] == []
    assert {"hash_inputs", "resume_ingest", "resume_detectors"} <= set(manifest["timings_s"])
    assert _same_outputs(tmp_path / "plain", tmp_path / "again")


def _edited(export, path):
    """``export`` with the amount of its first order changed."""
    text = export.read_text(encoding="utf-8").splitlines(keepends=True)
    assert ",42.00," in text[1]
    path.write_text("".join([text[0], text[1].replace(",42.00,", ",43.00,"), *text[2:]]), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "computed"), [
    ("input", ["ingest", "detectors"]),
    ("seed", ["detectors"]),
    ("parameters", ["detectors"]),
    ("key", ["ingest", "detectors"]),  # another key under the same key id
])
def test_a_stage_is_recomputed_when_what_it_depends_on_changes(fixtures, tmp_path, monkeypatch, change, computed):
    from antifraud.detectors import BrushingEnsemble

    export = tmp_path / "orders.csv"
    export.write_bytes((fixtures / "generic" / "orders.csv").read_bytes())
    _run(export, tmp_path / "first", tmp_path / "work")
    given = {"seed": {"seed": 2},
             "parameters": {"ensemble": BrushingEnsemble(random_state=1).set_params(dense_block="drop")},
             "key": {"pseudonymizer": Pseudonymizer(b"another key of 32 bytes, same id", key_id=KEY.key_id)},
             }.get(change, {})
    if change == "input":
        _edited(fixtures / "generic" / "orders.csv", export)
    calls = _Calls(monkeypatch)
    run = _run(export, tmp_path / "changed", tmp_path / "work", **given)
    assert json.loads(run.paths["manifest"].read_text())["work"]["computed"] == computed
    assert (calls.ingests, calls.fits) == ("ingest" in computed, 1)
    _run(export, tmp_path / "fresh", **given)  # without the work folder
    assert _same_outputs(tmp_path / "fresh", tmp_path / "changed")


def test_the_work_folder_is_the_owners_and_holds_pseudonyms_not_personal_values(fixtures, tmp_path):
    import pyarrow.feather as feather

    export = tmp_path / "orders.csv"
    raw = (fixtures / "generic" / "orders.csv").read_text(encoding="utf-8")
    # one row quarantined, its phone and address with it
    export.write_text(raw.replace("2024-10-01 09:21:29", "not a time", 1), encoding="utf-8")
    _run(export, tmp_path / "run", tmp_path / "work")
    work = tmp_path / "work"
    assert work.stat().st_mode & 0o777 == 0o700
    orders = pd.read_csv(fixtures / "generic" / "orders.csv", dtype=str)
    table, quarantine = (feather.read_table(work / "ingest" / f"{name}.arrow") for name in ("table", "quarantine"))
    assert quarantine.num_rows == 1 and quarantine.column("reason")[0].as_py() == "bad_timestamp"
    for column in ("ship_phone", "ship_address", "buyer_ip", "device_id"):
        for kept in (table, quarantine):
            values = set(kept.column(column).to_pylist()) - {None}
            assert values and not values & set(orders[column]) and all(len(v) == 64 for v in values)
    # the tables are compressed: their values are searched as text, every other file as it is
    everything = b"".join(p.read_bytes() for p in work.rglob("*") if p.is_file() and p.suffix != ".arrow")
    everything += "".join(str(kept.to_pylist()) for kept in (table, quarantine)).encode()
    key = bytes.fromhex("00" * 16 + "ab" * 16)
    assert key not in everything and key.hex().encode() not in everything
    assert b"18614487322" not in everything  # the quarantined row's phone


def test_detect_with_a_model_resumes_its_stages(fixtures, tmp_path, monkeypatch):
    import antifraud.detect as job

    export = fixtures / "generic" / "orders.csv"
    _train(fixtures, tmp_path)
    _run(export, tmp_path / "plain", model=tmp_path / "model")
    scored, learned_evidence = [], job._learned_evidence
    monkeypatch.setattr(job, "_learned_evidence", lambda *args: scored.append(1) or learned_evidence(*args))
    first = _run(export, tmp_path / "first", tmp_path / "work", model=tmp_path / "model")
    second = _run(export, tmp_path / "second", tmp_path / "work", model=tmp_path / "model")
    assert len(scored) == 1
    assert json.loads(first.paths["manifest"].read_text())["work"]["computed"] == ["ingest", "detectors", "model"]
    assert json.loads(second.paths["manifest"].read_text())["work"]["resumed"] == ["ingest", "detectors", "model"]
    assert _same_outputs(tmp_path / "plain", tmp_path / "second")


def test_detect_work_on_the_command_line(fixtures, tmp_path):
    export = fixtures / "generic" / "orders.csv"
    for out in ("a", "b"):
        result = _cli("detect", export, "--out", tmp_path / out, "--work", tmp_path / "work", "--issued-at",
                      "2026-12-01T00:00:00Z", "--jobs", "1")
        assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "b" / "run.json").read_text())["work"]["resumed"] == ["ingest", "detectors"]
    assert _same_outputs(tmp_path / "a", tmp_path / "b")


def test_a_work_folder_inside_the_output_folder_is_refused(fixtures, tmp_path):
    with pytest.raises(ValueError, match="one in the other"):
        _run(fixtures / "generic" / "orders.csv", tmp_path / "run", tmp_path / "run" / "work")
    assert not (tmp_path / "run").exists()
