"""Detection metrics over per-snapshot labels and scores (protocol.md, section 5).

All functions share one signature: ``labels`` and ``scores`` are lists with one array per test snapshot.
Labels are 1 (anomaly), 0 (normal) or -1 (context edge, not evaluated); -1 entries are ignored.
AUC and AP come from scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def _pool(labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} label arrays but {len(scores)} score arrays")
    y = np.concatenate([np.asarray(a) for a in labels]) if labels else np.zeros(0)
    s = np.concatenate([np.asarray(a, dtype=np.float64) for a in scores]) if scores else np.zeros(0)
    if y.shape != s.shape:
        raise ValueError(f"labels {y.shape} and scores {s.shape} differ in shape")
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or inf")
    keep = y >= 0
    return y[keep].astype(np.int64), s[keep]


def auc(labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]) -> float:
    """ROC AUC pooled over all evaluated edges of all snapshots (NaN if only one class is present)."""
    y, s = _pool(labels, scores)
    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def per_snapshot_auc(labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]) -> list[float]:
    """ROC AUC of each snapshot separately (the paper's Fig. 7); NaN where a snapshot has one class."""
    return [auc([y], [s]) for y, s in zip(labels, scores, strict=True)]


def average_precision(labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]) -> float:
    """Average precision pooled over all evaluated edges."""
    y, s = _pool(labels, scores)
    return float(average_precision_score(y, s)) if y.sum() > 0 else float("nan")


def precision_recall_f1(
    labels: Sequence[np.ndarray], scores: Sequence[np.ndarray], threshold: float
) -> dict[str, float]:
    """Precision, recall and F1 of the rule "anomalous iff score > threshold"."""
    y, s = _pool(labels, scores)
    pred = s > threshold
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "threshold": float(threshold), "flagged": int(pred.sum())}


def evaluate(labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]) -> dict[str, Any]:
    """All threshold-free metrics, plus the counts behind them."""
    per = per_snapshot_auc(labels, scores)
    finite = [a for a in per if np.isfinite(a)]
    return {
        "auc": auc(labels, scores),
        "ap": average_precision(labels, scores),
        "mean_snapshot_auc": float(np.mean(finite)) if finite else float("nan"),
        "per_snapshot_auc": per,
        "test_edges": int(sum((np.asarray(y) >= 0).sum() for y in labels)),
        "test_anomalies": int(sum((np.asarray(y) == 1).sum() for y in labels)),
        "anomalies_per_snapshot": [int((np.asarray(y) == 1).sum()) for y in labels],
    }


def auc_standard_error(auc_value: float, num_anomalies: int, num_normal: int) -> float:
    """Standard error of an AUC estimated from ``num_anomalies`` positives and ``num_normal`` negatives.

    Hanley & McNeil (Radiology, 1982), Eq. 2, with Q1 = A / (2 - A) and Q2 = 2 A^2 / (1 + A): tells how many
    decimals of an AUC mean anything when a test set holds few anomalies.
    """
    a, n1, n0 = auc_value, num_anomalies, num_normal
    if n1 < 1 or n0 < 1:
        return float("nan")
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0)
    return float(np.sqrt(max(var, 0.0)))
