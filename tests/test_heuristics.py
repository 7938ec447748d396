import numpy as np
import pytest

from hvgrae.data.graph import DynamicGraph
from hvgrae.data.synthetic import SyntheticConfig, make_synthetic
from hvgrae.detectors import REGISTRY, make_detector
from hvgrae.metrics import evaluate
from hvgrae.protocol.splits import make_split


def _graph(edge_lists, n=6):
    edges = [np.array(e, dtype=np.int64).T.reshape(2, -1) for e in edge_lists]
    return DynamicGraph(name="hand", num_nodes=n, edges=edges, start_times=np.arange(len(edges), dtype=float),
                        node_ids=np.arange(n))


# history: a path 0-1-2 and a triangle 3-4-5 plus chord 0-3
HIST = [[(0, 1), (1, 2)], [(3, 4), (4, 5), (5, 3), (0, 3)]]


def test_common_neighbors_and_adamic_adar_by_hand():
    test = np.array([[0, 3, 2], [2, 4, 5]])
    cn = make_detector("common-neighbors").fit(_graph(HIST)).score_snapshot(test)
    np.testing.assert_allclose(cn, [-1, -1, 0])  # 0,2 share 1; 3,4 share 5; 2,5 share nothing
    aa = make_detector("adamic-adar").fit(_graph(HIST)).score_snapshot(test)
    np.testing.assert_allclose(aa, [-1 / np.log(2), -1 / np.log(2), 0])  # deg(1) = 2, deg(5) = 2


def test_preferential_attachment_excludes_the_pair_itself():
    # deg: 0:2, 1:2, 2:1, 3:3, 4:2, 5:2; pair (3,4) exists -> (3-1)(2-1)
    pa = make_detector("preferential-attachment").fit(_graph(HIST)).score_snapshot(np.array([[0, 3], [2, 4]]))
    np.testing.assert_allclose(pa, [-2 * 1, -2 * 1])


def test_edge_history_counts_and_updates_after_scoring():
    det = make_detector("edge-history").fit(_graph([[(0, 1)], [(1, 0), (2, 3)]]))
    np.testing.assert_allclose(det.score_snapshot(np.array([[0, 2, 4], [1, 3, 5]])), [-2, -1, 0])
    # the scored snapshot joined the history
    np.testing.assert_allclose(det.score_snapshot(np.array([[4], [5]])), [-1])


def test_use_current_counts_the_current_snapshot():
    cur = np.array([[0, 1], [2, 5]])  # 0-2 and 1-5 arrive together
    plain = make_detector("common-neighbors").fit(_graph(HIST)).score_snapshot(cur)
    with_cur = make_detector("common-neighbors", use_current=True).fit(_graph(HIST)).score_snapshot(cur)
    np.testing.assert_allclose(plain, [-1, 0])
    np.testing.assert_allclose(with_cur, [-1, 0])
    # a triangle closed within the snapshot: 2-4 with 2-3 and 3-4 arriving now
    cur = np.array([[2, 2, 4], [4, 3, 3]])
    with_cur = make_detector("common-neighbors", use_current=True).fit(_graph(HIST)).score_snapshot(cur)
    assert with_cur[0] == -1


@pytest.mark.parametrize("name", ["common-neighbors", "adamic-adar", "edge-history"])
def test_heuristics_detect_injected_anomalies_on_synthetic(name):
    split = make_split(make_synthetic(SyntheticConfig(num_nodes=150, num_snapshots=16)), anomaly_ratio=0.05, seed=0)
    scores = make_detector(name).fit(split.train).score(split.test, progress=False)
    assert evaluate(split.test.label_list(), scores)["auc"] >= 0.75


def test_registry_and_unknown_method():
    assert {"common-neighbors", "adamic-adar", "preferential-attachment", "edge-history"} <= set(REGISTRY)
    with pytest.raises(ValueError, match="unknown method"):
        make_detector("nope")
    # options a detector does not take are ignored
    assert make_detector("edge-history", epochs=3, seed=1).seed == 1
