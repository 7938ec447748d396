"""Streaming baselines (GOutlier, CM-Sketch, MIDAS-R) and the count-min sketch behind two of them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.metrics import roc_auc_score

from hvgrae.data.graph import DynamicGraph
from hvgrae.data.synthetic import SyntheticConfig, make_synthetic
from hvgrae.detectors import make_detector
from hvgrae.detectors.sketch import CountMinSketch
from hvgrae.detectors.streaming import (
    BiasedReservoir,
    GOutlier,
    midas_score,
    partition_fit,
    structural_partitions,
)
from hvgrae.metrics import evaluate
from hvgrae.protocol.splits import make_split


def _graph(snapshots: list[list[tuple[int, int]]], num_nodes: int) -> DynamicGraph:
    edges = [np.array(s, dtype=np.int64).T.reshape(2, -1) for s in snapshots]
    return DynamicGraph(
        name="tiny",
        num_nodes=num_nodes,
        edges=edges,
        start_times=np.arange(len(edges), dtype=np.float64),
        node_ids=np.arange(num_nodes),
    )


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two label vectors describe the same partition (up to renaming)."""
    return bool(np.array_equal(a[:, None] == a[None, :], b[:, None] == b[None, :]))


@pytest.fixture(scope="module")
def split():
    graph = make_synthetic(SyntheticConfig(num_nodes=150, num_snapshots=16))
    return make_split(graph, anomaly_ratio=0.05, seed=0)


# ------------------------------------------------------------------ count-min sketch
@pytest.mark.parametrize("seed", range(5))
def test_count_min_never_underestimates_and_meets_its_error_bound(seed):
    rng = np.random.default_rng(seed)
    keys = rng.zipf(1.3, size=20_000) % 5_000  # skewed stream over 5,000 keys
    counts = rng.integers(1, 4, size=keys.size).astype(np.float64)
    cms = CountMinSketch.from_error(eps=0.01, delta=0.05, seed=seed)
    assert (cms.width, cms.depth) == (272, 3)  # ceil(e / 0.01), ceil(ln 20)
    for chunk in np.array_split(np.arange(keys.size), 7):  # batched adds equal one big add
        cms.add(keys[chunk], counts[chunk])
    exact = np.bincount(keys, weights=counts, minlength=5_000)
    queried = np.arange(5_000)
    estimate = cms.query(queried)
    assert cms.total == pytest.approx(counts.sum())
    assert (estimate >= exact - 1e-9).all()
    violations = (estimate - exact > cms.eps * cms.total).mean()
    assert violations <= cms.delta


def test_count_min_scale_hash_and_validation():
    a = CountMinSketch(64, 2, seed=3)
    b = CountMinSketch(64, 2, seed=3)
    keys = np.array([0, 5, 2**40, 7])
    np.testing.assert_array_equal(a.buckets(keys), b.buckets(keys))  # seeded: identical hashes
    a.add(np.array([5, 5, 7]))
    a.scale(0.5)
    assert a.query(np.array([5]))[0] >= 1.0 and a.total == pytest.approx(1.5)
    with pytest.raises(ValueError, match="non-negative"):
        a.add(np.array([-1]))
    with pytest.raises(ValueError, match="integer"):
        a.query(np.array([1.5]))
    with pytest.raises(ValueError, match="eps and delta"):
        CountMinSketch.from_error(0.0, 0.1)


# ------------------------------------------------------------------ MIDAS-R
def test_midas_score_closed_form():
    assert midas_score(np.array([1.5]), np.array([2.0]), 2)[0] == pytest.approx(0.5)
    np.testing.assert_array_equal(midas_score(np.array([3.0, 0.0]), np.array([5.0, 0.0]), 1), [0.0, 0.0])
    assert midas_score(np.array([0.0]), np.array([0.0]), 4)[0] == 0.0


def test_midas_r_matches_a_hand_computed_stream():
    # t=1: (0,1). t=2: (0,1). t=3: (0,1), (2,0). Current counts halve at each new tick.
    # t=2: a = 0.5 + 1 = 1.5, s = 2 for the edge, its source and destination: (1.5 - 1)^2 4 / (2 * 1) = 0.5.
    # t=3: (0,1): a = 0.75 + 1 = 1.75, s = 3: (1.75 - 1)^2 9 / (3 * 2) = 0.84375 (all three alike);
    #      (2,0): a = 1, s = 1 for the edge, source 2 and destination 0: (1 - 1/3)^2 9 / (1 * 2) = 2.
    det = make_detector("midas-r", seed=0).fit(_graph([[(0, 1)]], 3))
    for current, _ in det.sketches_.values():  # precondition: no collisions among the few keys used
        assert len(np.unique(current.buckets(np.array([0, 1, 2, 6]))[0])) == 4
    np.testing.assert_allclose(det.score_snapshot(np.array([[0], [1]])), [0.5])
    np.testing.assert_allclose(det.score_snapshot(np.array([[0, 2], [1, 0]])), [0.84375, 2.0])


def test_midas_r_flags_a_microcluster_burst():
    # MIDAS's own use case: a node that suddenly sends to many others in one tick.
    rng = np.random.default_rng(0)
    n = 200
    normal = [np.unique(rng.integers(0, n, size=(2, 300)), axis=1) for _ in range(12)]
    normal = [e[:, e[0] != e[1]] for e in normal]
    det = make_detector("midas-r", seed=0).fit(DynamicGraph("tiny", n, normal[:10], np.arange(10.0), np.arange(n)))
    det.score_snapshot(normal[10])
    burst = np.stack([np.full(40, 7), rng.choice(np.arange(8, n), size=40, replace=False)])
    test = np.concatenate([normal[11][:, normal[11][0] != 7], burst], axis=1)
    labels = (np.arange(test.shape[1]) >= test.shape[1] - 40).astype(int)
    assert roc_auc_score(labels, det.score_snapshot(test)) >= 0.95


# ------------------------------------------------------------------ GOutlier building blocks
def test_biased_reservoir_is_bounded_and_favours_recent_edges():
    capacity = 50
    res = BiasedReservoir(capacity, np.random.default_rng(0))
    stream = np.stack([np.arange(1_000), np.arange(1_000) + 1])  # edge i = (i, i + 1): its arrival index
    for chunk in np.array_split(np.arange(1_000), 13):
        res.insert(stream[:, chunk])
        assert res.size <= capacity
        assert res.sample[0, :].tolist().count(int(chunk[-1])) == 1  # the newest edge always enters
    assert res.size == capacity
    np.testing.assert_array_equal(res.sample[1], res.sample[0] + 1)  # residents are stream edges
    # survival ~ exp(-age / capacity): nearly all residents arrived in the last 3 x capacity edges
    # (a uniform reservoir over the whole stream would hold only 15% of those)
    assert (res.sample[0] >= 1_000 - 3 * capacity).mean() >= 0.85


@pytest.mark.parametrize("seed", range(4))
def test_structural_partitions_are_the_connected_components_of_the_sample(seed):
    rng = np.random.default_rng(seed)
    n = 30
    sample = rng.integers(0, n, size=(2, 18))
    sample = sample[:, sample[0] != sample[1]]
    priority = rng.random(sample.shape[1])
    adj = sp.coo_matrix((np.ones(sample.shape[1]), (sample[0], sample[1])), shape=(n, n))
    _, reference = connected_components(adj, directed=False)
    assert _same_partition(structural_partitions(sample, priority, n, max_size=n), reference)

    # with a size bound: partitions are no larger, connected in the sample, and refine the components
    labels = structural_partitions(sample, priority, n, max_size=3)
    assert np.bincount(labels).max() <= 3
    for p in np.unique(labels):
        members = np.flatnonzero(labels == p)
        assert len(np.unique(reference[members])) == 1
        inside = np.isin(sample[0], members) & np.isin(sample[1], members)
        sub = sp.coo_matrix((np.ones(inside.sum()), (sample[0, inside], sample[1, inside])), shape=(n, n))
        _, comp = connected_components(sub, directed=False)
        assert len(np.unique(comp[members])) == 1


def test_partition_fit_matches_hand_computation():
    # partitions {0, 1} and {2, 3}; history: (0,1) twice, (1,2) once, (2,3) once: n = 4 edges
    labels = np.array([0, 0, 1, 1])
    rows, cols, vals = [0, 1, 2], [1, 2, 3], [2.0, 1.0, 1.0]
    history = sp.coo_matrix((vals + vals, (rows + cols, cols + rows)), shape=(4, 4)).tocsr()
    fit = partition_fit(labels, history, np.array([0, 0, 2]), np.array([1, 3, 3]))
    # (0,1): n_aa = 2 over 1 pair -> 2 / 4; (0,3): n_ab = 1 over 4 pairs -> 1 / 16; (2,3): 1 / 4
    np.testing.assert_allclose(fit, [0.5, 1 / 16, 0.25])


def test_goutlier_standardises_low_fit_as_high_score():
    g = _graph([[(0, 1), (1, 2), (3, 4)], [(0, 1), (1, 2), (3, 4)]], 6)
    det = GOutlier(seed=0, reservoir_size=10, num_summaries=2, num_partitions=1).fit(g)
    scores = det.score_snapshot(np.array([[0, 0], [2, 5]]))  # (0,2): same component; (0,5): 5 unseen
    assert scores[1] > scores[0]


def test_goutlier_rejects_bad_input():
    with pytest.raises(ValueError, match="reservoir_size"):
        make_detector("goutlier", reservoir_size=0)
    det = make_detector("goutlier").fit(_graph([[(0, 1)]], 3))
    with pytest.raises(ValueError, match="0..2"):
        det.score_snapshot(np.array([[0], [3]]))


# ------------------------------------------------------------------ CM-Sketch
def test_cm_sketch_matches_hand_computation():
    # stream: t1 (0,1), (1,2); t2 (0,1). m = 3 pair arrivals, 1 of them a repeat: rho = 1/3.
    # degrees d0 = 2, d1 = 3, d2 = 1; P_0 = 2 / (4 * 3) = 1/6.
    # (0,1): P_G = 1/3 * 2/3 + 2/3 * 2*3 / (2*9) = 4/9, G = 8/11; N(0)={1}, N(1)={0,2}: L = 0 -> 1 - 4/11.
    # (0,2): P_G = 2/3 * 2*1 / 18 = 2/27, G = 4/13; N(0) = N(2) = {1}: L = 1 -> 1 - (2/13 + 1/2).
    det = make_detector("cm-sketch", seed=0).fit(_graph([[(0, 1), (1, 2)], [(1, 0)]], 4))
    np.testing.assert_allclose(det.score_snapshot(np.array([[0, 2], [1, 0]])), [7 / 11, 9 / 26])


# ------------------------------------------------------------------ all three on the synthetic protocol
@pytest.mark.parametrize("name", ["goutlier", "cm-sketch"])
def test_detects_injected_anomalies_above_chance(split, name):
    scores = make_detector(name, seed=0).fit(split.train, split.val).score(split.test, progress=False)
    assert evaluate(split.test.label_list(), scores)["auc"] >= 0.6


@pytest.mark.parametrize("name", ["goutlier", "cm-sketch", "midas-r"])
def test_deterministic_given_the_seed(split, name):
    runs = [make_detector(name, seed=3).fit(split.train).score(split.test, progress=False) for _ in range(2)]
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_config_is_recorded_and_overridable():
    det = make_detector("midas-r", seed=2, buckets=64, epochs=5)  # epochs: not a MIDAS option, ignored
    assert det.config() == {"seed": 2, "rows": 2, "buckets": 64, "decay": 0.5}
