import numpy as np
import pytest

from antifraud.learning.pu import PUClassifier
from antifraud.learning.validation import grouped_folds, grouped_scores, operation_groups


def test_operation_groups_join_identities_rings_and_cases(fitted):
    data, ensemble = fitted
    none = {"accounts": np.full(data.graph.n_rows, "", dtype=object)}
    groups = operation_groups(data, ensemble, none)["accounts"]
    members = np.split(data.identity.members, data.identity.indptr[1:-1])
    small = [m for m in members if len(m) <= 10]
    assert small and all(len(set(groups[m])) == 1 for m in small)
    for ring in ensemble.rings_:
        assert len(set(groups[ring.accounts])) == 1
    # two accounts in nothing together get one group once a case names both
    alone = np.flatnonzero(np.bincount(groups)[groups] == 1)[:2]
    assert groups[alone[0]] != groups[alone[1]]
    case = none["accounts"].copy()
    case[alone] = "case-1"
    joined = operation_groups(data, ensemble, {"accounts": case})["accounts"]
    assert joined[alone[0]] == joined[alone[1]]
    # a value shared by more accounts than max_identity_group joins nobody
    big = [m for m in members if len(m) > 2]
    assert big
    apart = operation_groups(data, ensemble, none, max_identity_group=2)["accounts"]
    assert len(np.unique(apart)) > len(np.unique(groups))


def test_no_group_on_both_sides_of_a_fold():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(300), 4)
    X = rng.normal(size=(1200, 2)) + (groups % 10 == 0)[:, None] * 3
    y = np.where((groups % 10 == 0) & (groups % 20 == 0), 1, -1)
    scores, fold, _ = grouped_scores(PUClassifier(random_state=0), X, y, groups, random_state=0)
    assert not np.isnan(scores).any()
    assert all(len(set(fold[groups == g])) == 1 for g in range(300))
    assert len(set(fold)) == 5


@pytest.mark.parametrize("fraud_groups", [[0, 0], [0] * 12 + [1]])
def test_a_case_that_leaves_too_few_fraud_to_learn_from_cannot_be_cross_validated(fraud_groups):
    """One case, or one case holding all the fraud but one: some fold would train on fewer
    than two confirmed fraud."""
    n = len(fraud_groups)
    y = np.concatenate([np.ones(n, int), np.full(20, -1)])
    groups = np.concatenate([fraud_groups, np.arange(20) + 100])
    assert grouped_folds(y, groups) == []
    with pytest.raises(ValueError, match=f"{n} confirmed fraud in {len(set(fraud_groups))} case group"):
        grouped_scores(PUClassifier(), np.zeros((n + 20, 1)), y, groups)
