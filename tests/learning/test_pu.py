import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from antifraud.learning.pu import PUClassifier, default_estimator


def operations(seed=0, n_honest=3000, n_ops=12, size=25):
    """Honest entities around 0. Fraud in operations: all of it high on a shared signal
    (column 0, as a detector's score is), each operation a tight cluster of its own in the
    other columns; the first half of the operations confirmed."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_ops, 3))
    centres = 3 * centres / np.linalg.norm(centres, axis=1, keepdims=True)
    fraud = np.concatenate([np.column_stack([rng.normal(2.5, 0.7, size), c + 0.5 * rng.normal(size=(size, 3))])
                            for c in centres])
    X = np.vstack([rng.normal(size=(n_honest, 4)), fraud])
    groups = np.concatenate([np.arange(n_honest) + n_ops, np.repeat(np.arange(n_ops), size)])
    truth = np.concatenate([np.zeros(n_honest, int), np.ones(n_ops * size, int)])
    y = np.where(truth.astype(bool) & (groups < n_ops // 2), 1, -1)
    return X, y, groups, truth


def auc_of_unconfirmed(scores, y, truth):
    """How often unconfirmed fraud scores above an honest entity."""
    other = scores[(truth == 1) & (y == -1)]
    return np.mean(other[:, None] > scores[truth == 0][None, :])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_unconfirmed_operations_are_not_learned_as_honest(seed):
    X, y, groups, truth = operations(seed)
    model = PUClassifier(random_state=0).fit(X, y, groups=groups)
    # Confirmed against all the rest learns the confirmed operations' own traits, and that
    # high on the shared signal without them is honest.
    naive = default_estimator(0).fit(X, (y == 1).astype(int)).predict_proba(X)[:, 1]
    spied = auc_of_unconfirmed(model.predict_proba(X)[:, 1], y, truth)
    assert spied > 0.94 and spied > auc_of_unconfirmed(naive, y, truth)
    assert model.negatives_ > 2000


def test_confirmed_honest_are_negatives_and_fully_labelled_data_is_supervised():
    X, _, groups, truth = operations()
    model = PUClassifier(LogisticRegression(), random_state=0).fit(X[:, :1], truth, groups=groups)
    assert model.negatives_ == (truth == 0).sum()
    assert np.mean(model.predict(X[:, :1]) == truth) > 0.94  # base rate 0.91


@pytest.mark.parametrize(("y", "match"), [
    (np.array([1, 2, -1]), "labels must be"),
    (np.array([1, -1, -1]), "at least two confirmed fraud"),
])
def test_refuses_labels_it_cannot_learn_from(y, match):
    with pytest.raises(ValueError, match=match):
        PUClassifier().fit(np.zeros((3, 1)), y)


def test_what_other_evidence_holds_is_never_a_reliable_negative():
    """An operation unlike every confirmed one (its own traits far from theirs) scores below
    the spies and is learned as honest, although the detectors' shared signal holds it; marked
    ``suspected``, it is left out of the negatives and scored as the fraud it is."""
    plain, spared = [], []
    for seed in (0, 1):
        X, y, groups, truth = operations(seed)
        rng = np.random.default_rng(seed + 100)
        centre = rng.normal(size=3)
        far = np.column_stack([rng.normal(2.5, 0.7, 60), 6 * centre / np.linalg.norm(centre)
                               + 0.5 * rng.normal(size=(60, 3))])
        X, y = np.vstack([X, far]), np.concatenate([y, np.full(60, -1)])
        groups = np.concatenate([groups, np.full(60, groups.max() + 1)])
        held = (X[:, 0] > 1.5) & (y == -1)
        for out, suspected in ((plain, None), (spared, held)):
            model = PUClassifier(random_state=0).fit(X, y, groups=groups, suspected=suspected)
            out.append(np.median(model.predict_proba(X[-60:])[:, 1]))
    assert min(spared) > 0.9 > 0.5 > min(plain)
