"""The randomised bench: worlds drawn per seed from stated ranges, tuning and held-out seeds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from antifraud.cli.main import app
from antifraud.kinds import RING_KINDS
from antifraud.synth import HELD_OUT_SEEDS, TUNING_SEEDS, bench_config, generate
from antifraud.synth.bench import RANGES

SEEDS = TUNING_SEEDS + HELD_OUT_SEEDS


def test_tuning_and_held_out_seeds_are_apart() -> None:
    assert TUNING_SEEDS and HELD_OUT_SEEDS and not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS)


def test_a_seed_gives_one_world_and_seeds_give_different_worlds() -> None:
    assert bench_config(1001, 300_000) == bench_config(1001, 300_000)
    worlds = [bench_config(seed, 300_000) for seed in SEEDS]
    drawn = [{k: v for k, v in dataclasses.asdict(w).items() if k != "seed"} for w in worlds]
    for name in ("fraud_share", "hard_share", "medium_share", "camouflage_scale", "n_shops", "n_buyers"):
        assert len({d[name] for d in drawn}) == len(SEEDS), name
    for name in ("days", "start", "rings_per_kind"):  # whole numbers of days and rings may repeat
        assert len({d[name] for d in drawn}) > 1, name
    assert {w.festival_day is None for w in worlds} == {True, False}


def test_a_world_keeps_its_mix_at_every_size() -> None:
    small, large = bench_config(3, 100_000), bench_config(3, 1_000_000)
    assert (small.fraud_share, small.hard_share, small.days) == (large.fraud_share, large.hard_share, large.days)
    assert large.n_shops > 5 * small.n_shops and large.rings_per_kind > small.rings_per_kind


@pytest.mark.parametrize("seed", SEEDS)
def test_every_parameter_is_inside_its_stated_range(seed: int) -> None:
    n = 300_000
    w = bench_config(seed, n)
    within = {
        "days": w.days,
        "fraud_share": w.fraud_share,
        "medium_share": w.medium_share,
        "hard_share": w.hard_share,
        "camouflage_scale": w.camouflage_scale,
        "festival_share": w.festival_share,
        "review_share": w.review_share,
        "household_share": w.household_share,
        "mobile_share": w.mobile_share,
        "buyers_per_nat_ip": w.buyers_per_nat_ip,
        "fresh_share": w.fresh_share,
        "loyal_share": w.loyal_share,
        "orders_per_shop": n / w.n_shops,
        "orders_per_buyer": n / w.n_buyers,
    }
    for name, value in within.items():
        low, high = RANGES[name]
        assert low * 0.999 <= value <= high * 1.001, name
    assert n / RANGES["orders_per_ring_of_each_kind"][1] - 1 <= w.rings_per_kind
    assert w.rings_per_kind <= n / RANGES["orders_per_ring_of_each_kind"][0] + 1
    if w.festival_day is not None:
        assert w.start + dt.timedelta(days=7) <= w.festival_day <= w.end - dt.timedelta(days=11)


@pytest.mark.parametrize("seed", TUNING_SEEDS[:2])
def test_a_small_world_plants_every_kind_with_hard_rings(seed: int) -> None:
    export = generate(bench_config(seed, 30_000))
    assert set(export.rings["kind"]) == set(RING_KINDS)
    counts = export.counts()["difficulties"]
    assert counts["hard"] >= 0.25 * len(export.rings) and counts["easy"] > 0
    assert 0.005 < export.order_labels["is_fraud"].mean() < 0.08


def test_the_cli_writes_the_world_of_its_seed(tmp_path) -> None:
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "x"), "--seed", "4", "--orders", "20000",
                                      "--randomise"])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "x" / "truth" / "synth.json").read_text(encoding="utf-8"))
    assert meta["config"] == bench_config(4, 20_000).to_dict()
    assert "randomised bench world 4" in " ".join(result.output.split())
