import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from hvgrae.metrics import auc, average_precision, evaluate, per_snapshot_auc, precision_recall_f1


def test_auc_matches_sklearn_and_ignores_context():
    rng = np.random.default_rng(0)
    y = [rng.integers(0, 2, 50).astype(np.int8) for _ in range(3)]
    s = [rng.normal(size=50) + yy for yy in y]
    y_ctx = [np.r_[yy, -1, -1] for yy in y]
    s_ctx = [np.r_[ss, 100.0, -100.0] for ss in s]
    assert auc(y_ctx, s_ctx) == pytest.approx(roc_auc_score(np.concatenate(y), np.concatenate(s)))
    assert average_precision(y_ctx, s_ctx) == pytest.approx(
        average_precision_score(np.concatenate(y), np.concatenate(s)))
    assert per_snapshot_auc(y, s) == pytest.approx([roc_auc_score(a, b) for a, b in zip(y, s)])


def test_single_class_snapshot_gives_nan_and_is_skipped_in_the_mean():
    out = evaluate([np.array([0, 0]), np.array([0, 1])], [np.array([0.1, 0.2]), np.array([0.0, 1.0])])
    assert np.isnan(out["per_snapshot_auc"][0]) and out["mean_snapshot_auc"] == 1.0
    assert out["test_anomalies"] == 1 and out["test_edges"] == 4


def test_precision_recall_f1_by_hand():
    r = precision_recall_f1([np.array([1, 1, 0, 0, 0])], [np.array([0.9, 0.2, 0.8, 0.1, 0.0])], 0.5)
    assert r["precision"] == 0.5 and r["recall"] == 0.5 and r["f1"] == 0.5 and r["flagged"] == 2


def test_nan_scores_are_rejected():
    with pytest.raises(ValueError, match="NaN"):
        auc([np.array([0, 1])], [np.array([np.nan, 1.0])])


def test_auc_standard_error_matches_the_bootstrap():
    from hvgrae.metrics import auc_standard_error

    rng = np.random.default_rng(0)
    n1, n0 = 30, 600
    y = np.r_[np.ones(n1), np.zeros(n0)].astype(int)
    # Hanley & McNeil derive the formula for exponentially distributed scores
    s = np.r_[rng.exponential(3.0, n1), rng.exponential(1.0, n0)]
    a = roc_auc_score(y, s)
    boot = []
    for _ in range(2000):
        i1, i0 = rng.integers(0, n1, n1), rng.integers(n1, n1 + n0, n0)
        idx = np.r_[i1, i0]
        boot.append(roc_auc_score(y[idx], s[idx]))
    assert auc_standard_error(a, n1, n0) == pytest.approx(np.std(boot), rel=0.15)
    # more anomalies, smaller error; none, undefined
    assert auc_standard_error(0.8, 300, 600) < auc_standard_error(0.8, 30, 600)
    assert np.isnan(auc_standard_error(0.8, 0, 600))
