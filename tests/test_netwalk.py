import numpy as np
import pytest
import scipy.sparse as sp
import torch

from hvgrae.data.graph import DynamicGraph
from hvgrae.data.synthetic import SyntheticConfig, make_synthetic
from hvgrae.detectors import make_detector
from hvgrae.detectors.netwalk import merge_centres, random_walks
from hvgrae.metrics import evaluate
from hvgrae.nn.netwalk import CliqueAutoencoder
from hvgrae.protocol.splits import make_split


def _undirected(pairs, n):
    s, d = np.array(pairs).T
    return sp.csr_matrix((np.ones(2 * len(s)), (np.r_[s, d], np.r_[d, s])), shape=(n, n))


def _edge_set(adj):
    a = adj.tocoo()
    return set(zip(a.row.tolist(), a.col.tolist(), strict=True))


def test_walks_only_follow_existing_edges():
    adj = _undirected([(0, 1), (1, 2), (2, 3), (3, 0), (4, 5)], 7)  # node 6 is isolated
    starts = np.repeat([0, 1, 2, 3, 4, 5], 50)
    walks = random_walks(adj, starts, 4, np.random.default_rng(0))
    assert walks.shape == (300, 4) and (walks[:, 0] == starts).all()
    edges = _edge_set(adj)
    assert all((a, b) in edges for w in walks.tolist() for a, b in zip(w[:-1], w[1:], strict=True))
    assert set(walks[starts == 4].ravel().tolist()) == {4, 5}  # never leaves its component
    with pytest.raises(ValueError, match="neighbour"):
        random_walks(adj, np.array([6]), 3, np.random.default_rng(0))


def test_incremental_update_redraws_walks_on_the_grown_graph():
    n = 8
    train = DynamicGraph(name="hand", num_nodes=n, edges=[np.array([[0, 1, 2], [1, 2, 3]])],
                         start_times=np.zeros(1), node_ids=np.arange(n))
    det = make_detector("netwalk", seed=0, epochs=1, update_epochs=1, walks_per_node=5, progress=False).fit(train)
    assert len(det.walks_) == 4 * 5  # 5 walks from each of the 4 nodes with an edge
    det.score_snapshot(np.array([[3, 5, 5], [4, 6, 6]]))  # two new pairs; (5, 6) twice
    assert len(det.walks_) == 7 * 5
    edges = _edge_set(det.adj_)
    assert (3, 4) in edges and (6, 5) in edges
    assert all((a, b) in edges for w in det.walks_.tolist() for a, b in zip(w[:-1], w[1:], strict=True))


def test_losses_against_brute_force():
    torch.manual_seed(0)
    model = CliqueAutoencoder(7, 3)
    walks = torch.randint(0, 7, (5, 4))
    codes = model.embed(walks)
    brute = sum(((codes[w, p] - codes[w, q]) ** 2).sum() for w in range(5) for p in range(4) for q in range(p + 1, 4))
    torch.testing.assert_close(model.clique_loss(codes), brute / 5)
    nodes, flat = walks.reshape(-1), codes.reshape(-1, 3)
    x = torch.nn.functional.one_hot(nodes, 7).float()
    exact = ((torch.sigmoid(model.decoder(flat)) - x) ** 2).mean()  # official: mean over N x occurrences
    torch.testing.assert_close(model.reconstruction_loss(nodes, flat), exact)
    # sampled output columns: unbiased for the exact value
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([model.reconstruction_loss(nodes, flat, torch.randint(0, 7, (3,), generator=g)).detach()
                         for _ in range(3000)])
    assert abs(draws.mean() - exact.detach()) < 4 * draws.std() / np.sqrt(3000)


def test_centre_merge_eq15_by_hand():
    old, new = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[2.0, 0.0], [3.0, 3.0]])
    merged = merge_centres(old, np.array([10.0, 0.0]), new, np.array([10.0, 0.0]), alpha=0.25)
    np.testing.assert_allclose(merged, [[1.5, 0.0], [1.0, 1.0]])  # (0.25*10*0 + 0.75*10*2) / 10; empty keeps old


@pytest.fixture(scope="module")
def split():
    return make_split(make_synthetic(SyntheticConfig(num_nodes=120, num_snapshots=16)), anomaly_ratio=0.05, seed=0)


def test_netwalk_is_deterministic(split):
    runs = [make_detector("netwalk", seed=0, epochs=3, update_epochs=1, progress=False).fit(split.train)
            .score(split.test, False) for _ in range(2)]
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.xfail(strict=True, reason="NetWalk with its official objective collapses the embeddings on this "
                   "graph (clique term >> one-hot reconstruction); AUC ~0.5. See detectors/netwalk.py.")
def test_netwalk_beats_chance_on_synthetic(split):
    det = make_detector("netwalk", seed=0, progress=False).fit(split.train)
    assert evaluate(split.test.label_list(), det.score(split.test, progress=False))["auc"] >= 0.6
