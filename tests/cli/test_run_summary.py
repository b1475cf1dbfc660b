"""What ``antifraud detect`` prints: the run summary, its rings by strength and the next commands."""

import json

from typer.testing import CliRunner

from antifraud.cli.main import app


def test_detect_prints_the_rings_with_their_shops_and_reasons_and_what_to_run_next(fixtures, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["detect", str(fixtures / "generic" / "orders.csv"), "--out", str(out)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "run.json").read_text(encoding="utf-8"))["summary"]
    assert summary["rings"], "the generic fixture holds planted rings"
    text = result.stdout
    assert "Rings by strength (times +08:00)" in text
    for ring in summary["rings"][:10]:
        assert f"{ring['ring_id']}  score {ring['score']:.2f}  {ring['kind']}: {ring['what']}" in text
        assert f"why: {ring['reason']}" in text
        assert ring["period"][0].rsplit(" ", 1)[0] in text  # local time, without the offset repeated
    assert f"antifraud bundle {out} --finding R0001 --out R0001.zip" in text
    assert "summary.md" in text
