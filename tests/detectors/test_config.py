"""Configuring the ensemble from a mapping or a TOML file (``antifraud.detectors.config``)."""

import pytest

from antifraud.detectors import DETECTORS, BrushingEnsemble, configure, load_config


def _params(ensemble):
    """The ensemble's deep parameters, estimators by their repr, for before-and-after comparisons."""
    return {k: repr(v) for k, v in ensemble.get_params(deep=True).items()}


def _running(ensemble):
    return [name for name, step in ensemble.detectors if step != "drop"]


def test_a_dropped_detector_leaves_the_others_and_the_defaults_alone():
    defaults = [repr(step) for _, step in DETECTORS]
    ensemble = configure(BrushingEnsemble(), {"detectors": {"dense_block": "drop"}})
    assert _running(ensemble) == ["promoted_shops", "lockstep", "takeover", "communities", "mutual_brushing",
                                  "rating_anomalies", "returning_buyers", "review_texts", "empty_parcels"]
    assert ensemble.get_params()["dense_block"] == "drop"
    assert [repr(step) for _, step in DETECTORS] == defaults  # the shared default steps are untouched
    assert _running(BrushingEnsemble()) == [name for name, _ in DETECTORS]


def test_a_detector_table_sets_that_step_only():
    ensemble = configure(BrushingEnsemble(), {"detectors": {"lockstep": {"window": 3600, "min_size": 4}}})
    params = ensemble.get_params(deep=True)
    assert (params["lockstep__window"], params["lockstep__min_size"]) == (3600, 4)
    assert ensemble.detectors[2][1] is not DETECTORS[2][1]  # configured on a copy of the default step
    assert DETECTORS[2][1].min_size == 3
    assert params["communities__min_size"] == BrushingEnsemble().get_params(deep=True)["communities__min_size"]


def test_the_ensemble_table_sets_the_ensembles_and_its_review_scorers_parameters():
    config = {"ensemble": {"contamination": 0.03, "min_ring_score": 0.6, "reviews": {"min_lift": 5.0}}}
    ensemble = configure(BrushingEnsemble(), config)
    params = ensemble.get_params(deep=True)
    assert (ensemble.contamination, ensemble.min_ring_score, params["reviews__min_lift"]) == (0.03, 0.6, 5.0)


def test_load_config_reads_toml(tmp_path):
    path = tmp_path / "detectors.toml"
    path.write_text('[detectors]\ndense_block = "drop"\n\n[detectors.lockstep]\nwindow = 1800\n\n'
                    "[ensemble]\ncontamination = 0.03\n", encoding="utf-8")
    ensemble = load_config(path)
    assert "dense_block" not in _running(ensemble)
    assert (ensemble.get_params(deep=True)["lockstep__window"], ensemble.contamination) == (1800, 0.03)
    given = BrushingEnsemble(random_state=7)
    assert load_config(path, given) is given and given.random_state == 7


@pytest.mark.parametrize(("config", "message"), [
    ({"detectors": {"dense_blok": "drop"}}, "unknown detector 'dense_blok' (did you mean 'dense_block'?)"),
    ({"detectors": {"lockstep": {"windw": 60}}},
     "unknown parameter detectors.lockstep.windw of LockstepDetector (did you mean detectors.lockstep.window?)"),
    ({"ensemble": {"contaminaton": 0.1}},
     "unknown parameter ensemble.contaminaton of BrushingEnsemble (did you mean ensemble.contamination?)"),
    ({"ensemble": {"reviews": {"min_lyft": 5.0}}},
     "unknown parameter ensemble.reviews.min_lyft of ReviewScorer (did you mean ensemble.reviews.min_lift?)"),
    ({"detector": {"dense_block": "drop"}}, "unknown table [detector] (did you mean detectors?)"),
    ({"ensemble": {"lockstep": "drop"}}, "ensemble.lockstep is set in [detectors], not in [ensemble]"),
    ({"detectors": {"lockstep": {"window": "an hour"}}},
     "detectors.lockstep.window = 'an hour': expected a number, like its current value 3600.0"),
    ({"detectors": {"dense_block": {"n_blocks": 2.5}}}, "detectors.dense_block.n_blocks = 2.5: expected a whole number"),
    ({"detectors": {"lockstep": "off"}}, "detectors.lockstep = 'off': a detector takes \"drop\" or a table"),
    ({"ensemble": {"contamination": 1.5}}, "ensemble.contamination = 1.5: The 'contamination' parameter of "
                                           "BrushingEnsemble must be a float in the range (0.0, 0.5] or None. Got 1.5"),
    ({"detectors": {"dense_block": {"n_blocks": 0}}},
     "detectors.dense_block.n_blocks = 0: The 'n_blocks' parameter of DenseBlockDetector must be an int in the range "
     "[1, inf). Got 0"),
    ({"ensemble": {"reviews": {"alpha": 1.0}}},
     "ensemble.reviews.alpha = 1.0: The 'alpha' parameter of ReviewScorer must be a float in the range (0.0, 1.0)"),
])
def test_a_wrong_key_or_value_is_refused_by_name_and_changes_nothing(config, message):
    ensemble = BrushingEnsemble(random_state=3)
    before = _params(ensemble)
    # A valid setting next to the wrong one: nothing of the configuration may be applied.
    config = {"detectors": {"communities": "drop", **config.get("detectors", {})},
              **{k: v for k, v in config.items() if k != "detectors"}}
    with pytest.raises(ValueError) as info:
        configure(ensemble, config, source="detectors.toml")
    assert str(info.value).startswith("detectors.toml: ") and message in str(info.value)
    assert _params(ensemble) == before


def test_a_file_that_is_not_toml_is_refused_with_its_name(tmp_path):
    path = tmp_path / "detectors.toml"
    path.write_text("[detectors\ndense_block = drop\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"detectors\.toml: not valid TOML"):
        load_config(path)


def test_a_step_parameter_out_of_range_is_refused_by_its_dotted_key_before_anything_runs(tmp_path):
    path = tmp_path / "detectors.toml"
    path.write_text("[detectors.lockstep]\nwindow = -1\n", encoding="utf-8")
    ensemble = BrushingEnsemble(random_state=3)
    before = _params(ensemble)
    with pytest.raises(ValueError) as info:
        load_config(path, ensemble)
    assert str(info.value) == (f"{path}: detectors.lockstep.window = -1: The 'window' parameter of LockstepDetector "
                               "must be a float in the range (0.0, inf). Got -1 instead.")
    assert _params(ensemble) == before
