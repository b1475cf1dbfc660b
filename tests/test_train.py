import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from antifraud.cli.main import app
from antifraud.learning.folder import ModelFolderError, load_model, model_about

FIXTURE = Path(__file__).parents[1] / "fixtures" / "generic"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model folder trained by the command line on the bundled export, four of its seven rings confirmed."""
    root = tmp_path_factory.mktemp("train")
    rings = [json.loads(line) for line in (FIXTURE / "truth" / "rings.jsonl").read_text().splitlines()]
    lines = ["account_id,label,group", *(f"{a},1,{r['kind']}" for r in rings[:4] for a in r["accounts"]),
             "b9999999,1,unknown"]
    (root / "black.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", str(FIXTURE / "orders.csv"), "--labels", str(root / "black.csv"),
                                      "--out", str(root / "model"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return root, result.stdout


def test_the_folder_says_what_it_learned_from(trained):
    root, stdout = trained
    about = model_about(root / "model")
    assert about["labels"]["accounts"] == {"fraud": 26, "honest": 0, "matched": 25, "unmatched": 1}
    assert about["training"]["exports"][0]["sha256"] and about["training"]["labels"][0]["sha256"]
    assert about["cross_validation"]["accounts"]["case_groups"] == 4
    assert "1 accounts labels name no account of the export" in stdout
    model, _ = load_model(root / "model")
    assert set(model.models_) == {"accounts"} and model.features_ == about["features"]


def test_an_altered_folder_is_refused(trained, tmp_path):
    root, _ = trained
    altered = tmp_path / "model"
    altered.mkdir()
    for name in ("model.json", "model.skops", "scores.csv"):
        (altered / name).write_bytes((root / "model" / name).read_bytes())
    with (altered / "scores.csv").open("a") as f:
        f.write("accounts,b0000001,1,0,0.99\n")
    with pytest.raises(ModelFolderError, match="scores.csv: its SHA-256 is not the one model.json records"):
        load_model(altered)


def folder_of(tmp_path, obj):
    """A model folder holding ``obj``, its files' SHA-256 recorded."""
    import skops.io as sio

    from antifraud.ingest.manifest import sha256_file
    from antifraud.learning.folder import FORMAT

    sio.dump(obj, tmp_path / "model.skops")
    (tmp_path / "scores.csv").write_text("kind\n")
    files = {name: sha256_file(tmp_path / name) for name in ("model.skops", "scores.csv")}
    (tmp_path / "model.json").write_text(json.dumps({"format": FORMAT, "files": files}))
    return tmp_path


def test_a_model_holding_untrusted_types_is_refused_unless_trusted(tmp_path):
    import numpy as np
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    from antifraud.learning.model import BrushingModel

    model = BrushingModel()
    model.models_ = {"accounts": DecisionTreeClassifier().fit(np.eye(2), [0, 1])}
    (tmp_path / "a").mkdir()
    folder = folder_of(tmp_path / "a", model)
    with pytest.raises(ModelFolderError, match=r"holds types nobody trusted: sklearn\.tree\._tree\.Tree"):
        load_model(folder)
    assert load_model(folder, trust=("sklearn.tree._tree.Tree",))[0].models_["accounts"].tree_.node_count == 3
    (tmp_path / "b").mkdir()
    with pytest.raises(ModelFolderError, match="not a BrushingModel"):
        load_model(folder_of(tmp_path / "b", make_pipeline(StandardScaler())))


def test_labels_that_cannot_be_used_exit_2(tmp_path):
    (tmp_path / "bad.csv").write_text("account_id,label\nb0000001,maybe\n")
    result = CliRunner().invoke(app, ["train", str(FIXTURE / "orders.csv"), "--labels", str(tmp_path / "bad.csv"),
                                      "--out", str(tmp_path / "model")])
    assert result.exit_code == 2
    assert "bad.csv, line 2, column label: 'maybe' is not a label" in result.output
    assert not (tmp_path / "model" / "model.json").exists()


def test_detect_with_a_model_ranks_with_it_and_accuses_as_before(trained, tmp_path):
    import pandas as pd

    root, _ = trained
    runs = {}
    for name, extra in (("plain", []), ("learned", ["--model", str(root / "model")])):
        result = CliRunner().invoke(app, ["detect", str(FIXTURE / "orders.csv"), "--out", str(tmp_path / name),
                                          "--jobs", "1", *extra])
        assert result.exit_code == 0, result.output
        runs[name] = (pd.read_csv(tmp_path / name / "accounts.csv"),
                      json.loads((tmp_path / name / "run.json").read_text()))
    (plain, plain_about), (learned, about) = runs["plain"], runs["learned"]
    assert about["model"]["sha256"] == about["parameters"]["model"] and "model" not in plain_about
    assert about["model"]["kinds"] == ["accounts"] and about["model"]["lacking"] == {"accounts": []}
    assert about["run_id"] != plain_about["run_id"]
    merged = plain.merge(learned, on="account_id", suffixes=("", "_learned"))
    assert merged["flagged"].equals(merged["flagged_learned"])
    # The three rings nobody confirmed rank at least as well among the unconfirmed accounts.
    from sklearn.metrics import average_precision_score

    rings = [json.loads(line) for line in (FIXTURE / "truth" / "rings.jsonl").read_text().splitlines()]
    truth = pd.read_csv(FIXTURE / "truth" / "accounts.csv").merge(merged, on="account_id")
    unconfirmed = truth[~truth["account_id"].isin({a for r in rings[:4] for a in r["accounts"]})]
    ap = {name: average_precision_score(unconfirmed["is_fraud"], unconfirmed[f"score{name}"])
          for name in ("", "_learned")}
    assert ap["_learned"] >= ap[""] and not np.allclose(truth["score"], truth["score_learned"])


def test_confirmed_orders_rank_the_orders_nobody_confirmed(tmp_path):
    """Orders of four rings confirmed (a reviewed set of fake reviews): the orders of the other
    three rank far better with the model than without."""
    import pandas as pd
    from sklearn.metrics import average_precision_score

    rings = [json.loads(line) for line in (FIXTURE / "truth" / "rings.jsonl").read_text().splitlines()]
    truth = pd.read_csv(FIXTURE / "truth" / "orders.csv", dtype=str)
    confirmed = truth[truth["ring_id"].isin([r["ring_id"] for r in rings[:4]])]
    confirmed.assign(label=1).rename(columns={"ring_id": "group"})[["order_id", "label", "group"]].to_csv(
        tmp_path / "orders.csv", index=False)
    result = CliRunner().invoke(app, ["train", str(FIXTURE / "orders.csv"), "--labels", str(tmp_path / "orders.csv"),
                                      "--out", str(tmp_path / "model"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    about = model_about(tmp_path / "model")
    assert about["labels"]["orders"]["matched"] == len(confirmed) and set(about["features"]) == {"orders"}
    ap = {}
    for name, extra in (("plain", []), ("learned", ["--model", str(tmp_path / "model")])):
        result = CliRunner().invoke(app, ["detect", str(FIXTURE / "orders.csv"), "--out", str(tmp_path / name),
                                          "--jobs", "1", *extra])
        assert result.exit_code == 0, result.output
        scored = pd.read_csv(tmp_path / name / "orders.csv", dtype={"order_id": str}).merge(truth, on="order_id")
        other = scored[~scored["order_id"].isin(confirmed["order_id"])]
        ap[name] = average_precision_score(other["is_fraud"].astype(int), other["score"])
    assert ap["learned"] > ap["plain"] + 0.2
