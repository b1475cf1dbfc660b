import numpy as np
import pytest

from antifraud.learning.pu import PUClassifier
from antifraud.learning.validation import grouped_scores, operation_groups


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


def test_one_case_cannot_be_cross_validated():
    with pytest.raises(ValueError, match="1 case group"):
        grouped_scores(PUClassifier(), np.zeros((6, 1)), np.array([1, 1, -1, -1, -1, -1]), np.array([0, 0, 1, 2, 3, 4]))
