import numpy as np
import pytest

from hvgrae.data.errors import DataError
from hvgrae.data.graph import DynamicGraph, undirected_keys
from hvgrae.protocol.injection import anomaly_count, sample_anomalous_pairs, spectral_clusters
from hvgrae.protocol.splits import ProtocolConfig, make_split

from .conftest import tiny_graph


def _all_pairs(g):
    return set(undirected_keys(np.concatenate(g.edges, axis=1), g.num_nodes).tolist())


def test_split_is_a_pure_function_of_inputs_and_seed(tiny):
    a, b = make_split(tiny, seed=3), make_split(tiny, seed=3)
    c = make_split(tiny, seed=4)
    for x, y in zip(a.test.edges + a.train.edges + a.val.edges, b.test.edges + b.train.edges + b.val.edges):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.test.labels, b.test.labels):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a.test.edges, c.test.edges))
    # the input graph is not modified
    assert all(e.shape[1] == 30 for e in tiny.edges)


def test_paper_protocol_on_tiny_graph(tiny):
    s = make_split(tiny, protocol="paper", anomaly_ratio=0.1, seed=0, num_clusters=4)
    assert len(s.train) == 2 and len(s.test) == 10 and len(s.val) == 2
    existing = _all_pairs(tiny)
    for t, (e, y) in enumerate(zip(s.test.edges, s.test.labels)):
        normal = e[:, y == 0]
        anom = e[:, y == 1]
        np.testing.assert_array_equal(np.sort(normal[0] * 40 + normal[1]),
                                      np.sort(tiny.edges[2 + t][0] * 40 + tiny.edges[2 + t][1]))
        assert anom.shape[1] == anomaly_count(0.1, 30) == 3
        assert not (anom[0] == anom[1]).any()
        assert not set(undirected_keys(anom, 40).tolist()) & existing
    # training keeps half of each snapshot's edges; val holds the other half plus anomalies
    for t in range(2):
        kept = set((tiny.edges[t][0] * 40 + tiny.edges[t][1]).tolist())
        tr = set((s.train.edges[t][0] * 40 + s.train.edges[t][1]).tolist())
        v = s.val.edges[t][:, s.val.labels[t] == 0]
        va = set((v[0] * 40 + v[1]).tolist())
        assert len(tr) == 15 and tr | va == kept and not tr & va
        assert (s.val.labels[t] == 1).sum() == 2  # round(0.1 * 15) = 2
    # every injected pair is distinct across val and test
    inj = np.concatenate([e[:, y == 1] for e, y in zip(s.test.edges + s.val.edges, s.test.labels + s.val.labels)],
                         axis=1)
    assert len(set(undirected_keys(inj, 40).tolist())) == inj.shape[1]


def test_clustered_injection_crosses_clusters():
    g = tiny_graph(n=60, per=60)
    cfg = ProtocolConfig(num_clusters=5, seed=1, cluster_on="train")
    s = make_split(g, cfg)
    train_edges = np.concatenate(s.train.edges, axis=1)
    # the clustering is reproducible from the same seed stream; check the defining property instead
    from hvgrae.protocol.splits import _streams

    clusters = spectral_clusters(train_edges, 60, 5, int(_streams(1)[3].integers(2**31)))
    for e, y in zip(s.test.edges, s.test.labels):
        a = e[:, y == 1]
        assert (clusters[a[0]] != clusters[a[1]]).all()


def test_uniform_injection_and_global_count(tiny):
    s = make_split(tiny, injection="uniform", count="global", anomaly_ratio=0.05, seed=0)
    assert sum(int((y == 1).sum()) for y in s.test.labels) == round(0.05 * 300)


def test_cumulative_mode_marks_old_edges_as_context():
    g = tiny_graph(mode="cumulative", per=10)
    s = make_split(g, seed=0, anomaly_ratio=0.1)
    for t, (e, y) in enumerate(zip(s.test.edges, s.test.labels)):
        prev = g.edges[2 + t - 1]
        prev_keys = set((prev[0] * 40 + prev[1]).tolist())
        keys = e[0] * 40 + e[1]
        ctx = np.array([k in prev_keys for k in keys.tolist()])
        np.testing.assert_array_equal(ctx, y == -1)
        assert (y >= 0).sum() > 0


def test_cumulative_validation_mirrors_the_test_task():
    """Held-out edges already present at t - 1 are context in validation too: model selection must not reward
    remembering old edges when the test scores only new ones."""
    g = tiny_graph(mode="cumulative", per=10)
    s = make_split(g, seed=0, anomaly_ratio=0.1)
    n_context = 0
    for t, (e, y) in enumerate(zip(s.val.edges, s.val.labels)):
        held = e[:, y != 1]
        prev_keys = set() if t == 0 else set((g.edges[t - 1][0] * 40 + g.edges[t - 1][1]).tolist())
        old = np.array([k in prev_keys for k in (held[0] * 40 + held[1]).tolist()], dtype=bool)
        np.testing.assert_array_equal(old, y[y != 1] == -1)
        assert (y == 1).sum() == anomaly_count(0.1, int((y == 0).sum()))  # anomalies relative to the new edges
        n_context += int(old.sum())
    assert n_context > 0


def test_taddy_protocol_first_occurrence_and_fixed_snapshots():
    g = tiny_graph(num_snapshots=20, n=50, per=25)
    s = make_split(g, protocol="taddy", snap_size=40, anomaly_ratio=0.1, seed=0, num_clusters=4)
    # first occurrences of undirected pairs, no loops, time order
    keys = undirected_keys(np.stack([g.stream.src, g.stream.dst]), 50)
    n_unique = len(np.unique(keys))
    n_train = n_unique // 2
    assert sum(e.shape[1] for e in s.train.edges) == n_train
    assert all(e.shape[1] == 40 for e in s.train.edges[:-1])
    n_test = n_unique - n_train
    n_anom = int(np.floor(0.1 * n_test))
    labels = np.concatenate(s.test.labels)
    assert labels.sum() == n_anom and labels.size == n_test + n_anom
    assert all(e.shape[1] == 40 for e in s.test.edges[:-1])
    assert 0 < s.test.edges[-1].shape[1] <= 40  # the last partial snapshot is kept
    assert s.val is None and s.test.x is None
    all_train = np.concatenate(s.train.edges, axis=1)
    assert len(np.unique(undirected_keys(all_train, 50))) == n_train


def test_too_few_snapshots_is_a_clear_error():
    with pytest.raises(DataError, match="last 10"):
        make_split(tiny_graph(num_snapshots=10))


def test_anomaly_sampler_raises_when_no_free_pair():
    n = 5
    forbidden = {min(a, b) * n + max(a, b) for a in range(n) for b in range(n) if a != b}
    with pytest.raises(DataError, match="too few free node pairs"):
        sample_anomalous_pairs(1, n, forbidden, np.random.default_rng(0), max_tries=5)


def test_anomaly_count_rule():
    assert anomaly_count(0.01, 30) == 1  # at least one
    assert anomaly_count(0.05, 1000) == 50
    assert anomaly_count(0.0, 1000) == 0 and anomaly_count(0.1, 0) == 0


def test_bad_protocol_settings():
    for bad in ({"protocol": "x"}, {"injection": "x"}, {"cluster_on": "x"}, {"anomaly_ratio": 1.5}):
        with pytest.raises(ValueError):
            ProtocolConfig(**bad)


def test_graph_slicing_keeps_type_and_validates(tiny):
    part = tiny[2:5]
    assert isinstance(part, DynamicGraph) and len(part) == 3
    assert isinstance(tiny[-1], DynamicGraph) and len(tiny[-1]) == 1
    data = tiny.to_pyg(0)
    assert data.edge_index.shape == (2, 30) and data.num_nodes == 40
    with pytest.raises(DataError, match="NaN"):
        DynamicGraph(name="bad", num_nodes=2, edges=[np.zeros((2, 0), np.int64)], start_times=[0.0],
                     node_ids=np.arange(2), x=[np.array([[np.nan], [0.0]], np.float32)])
