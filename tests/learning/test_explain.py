import numpy as np

from antifraud.learning.explain import MIN_CONTRIBUTION, explain_ring

NONE = np.zeros(0, dtype=np.int64)


def test_the_feature_that_carries_the_signal_is_named_first(planted):
    model, (features, high, _) = planted
    ring = np.flatnonzero(high)[:30]
    (explained,) = explain_ring(model, features, ring, NONE)
    assert explained.kind == "accounts" and explained.members == 30
    first = explained.contributions[0]
    assert first.feature == "burst_1h"
    # set to the population's median, the members look as honest as the others: ~0.3 -> ~0.01
    assert first.contribution > 0.2 and first.contribution > 0.8 * explained.probability
    assert first.value > 2.5 and abs(first.reference - np.median(features.accounts["burst_1h"])) < 1e-6
    assert all(c.contribution < 0.05 for c in explained.contributions[1:])


def test_ordinary_members_and_kinds_the_model_did_not_learn_are_not_explained(planted):
    model, (features, high, _) = planted
    (explained,) = explain_ring(model, features, np.flatnonzero(~high)[:30], np.arange(3))
    assert explained.probability < 0.05 and explained.contributions == ()  # nothing raises them
    assert all(c.contribution >= MIN_CONTRIBUTION for c in explained.contributions)


def test_a_ring_bigger_than_the_occluded_sample_counts_all_its_members(planted):
    model, (features, high, _) = planted
    ring = np.flatnonzero(high)
    (explained,) = explain_ring(model, features, ring, NONE)
    assert explained.members == len(ring) > 256
    assert explained.contributions[0].feature == "burst_1h"
