import numpy as np
import pytest
import torch

from hvgrae.data.graph import DynamicGraph
from hvgrae.data.synthetic import SyntheticConfig, make_synthetic
from hvgrae.detectors import make_detector
from hvgrae.metrics import evaluate
from hvgrae.nn.addgraph import ContextualAttention, EdgeScorer, selective_negative_sampling
from hvgrae.protocol.splits import make_split


def test_negative_sampler_never_returns_an_existing_edge():
    g = torch.Generator().manual_seed(0)
    n = 12
    pairs = torch.combinations(torch.arange(n), 2)
    edges = pairs[torch.randperm(len(pairs), generator=g)[:40]].T  # a dense random graph (density ~0.6)
    existing = {(min(a, b), max(a, b)) for a, b in edges.T.tolist()}
    for _ in range(50):
        neg, index, replaced_src = selective_negative_sampling(edges, n, g)
        assert neg.shape[1] == index.numel() > 0
        for (a, b), i, rs in zip(neg.T.tolist(), index.tolist(), replaced_src.tolist(), strict=True):
            assert a != b and (min(a, b), max(a, b)) not in existing
            kept = edges[1, i] if rs else edges[0, i]  # the endpoint that was not replaced stays in place
            assert (b if rs else a) == kept


def test_negative_sampler_keeps_the_low_degree_endpoint_with_the_selective_probability():
    n = 30
    star = torch.stack([torch.zeros(10, dtype=torch.long), torch.arange(1, 11)])  # hub 0, degree 10
    probe = torch.tensor([[0, 5]] * 4000 + [[5, 0]] * 4000).T  # leaf 5 has degree 1
    edges = torch.cat([star, probe], dim=1)
    _, index, replaced_src = selective_negative_sampling(edges, n, torch.Generator().manual_seed(1))
    assert index.numel() == edges.shape[1]
    rs = replaced_src[index >= 10]
    forward, backward = rs[:4000].double().mean().item(), rs[4000:].double().mean().item()
    tol = 4 * np.sqrt((10 / 11) * (1 / 11) / 4000)
    assert abs(forward - 10 / 11) < tol  # (0, 5): the hub (source) is replaced with p = 10 / 11
    assert abs(backward - 1 / 11) < tol  # (5, 0): the source is now the leaf, replaced with p = 1 / 11


def test_attention_is_a_convex_combination_of_the_window():
    att = ContextualAttention(4, 3)
    same = torch.randn(5, 1, 4).expand(5, 3, 4)
    torch.testing.assert_close(att(same), same[:, 0])
    with torch.no_grad():
        att.r.zero_()  # no preference: the plain mean of the window
    window = torch.randn(5, 3, 4)
    torch.testing.assert_close(att(window), window.mean(1))


def test_edge_score_by_hand():
    scorer = EdgeScorer(2, beta=2.0, mu=0.3)
    with torch.no_grad():
        scorer.a.copy_(torch.tensor([1.0, 0.0]))
        scorer.b.copy_(torch.tensor([1.0, 2.0]))
    h = torch.tensor([[1.0, 1.0], [0.5, -1.0]])
    # (0, 1): a*h0 + b*h1 = (1.5, -2) -> 6.25; (1, 0): (1.5, 2) -> 6.25; (0, 0): (2, 2) -> 8
    torch.testing.assert_close(scorer(h, torch.tensor([[0, 1, 0], [1, 0, 0]])),
                               2.0 * (torch.tensor([6.25, 6.25, 8.0]) - 0.3))


@pytest.fixture(scope="module")
def split():
    return make_split(make_synthetic(SyntheticConfig(num_nodes=120, num_snapshots=16)), anomaly_ratio=0.05, seed=0)


def test_addgraph_beats_chance_on_synthetic_and_is_deterministic(split):
    det = make_detector("addgraph", seed=0, epochs=40, progress=False).fit(split.train, split.val)
    assert evaluate(split.test.label_list(), det.score(split.test, progress=False))["auc"] >= 0.6
    runs = [make_detector("addgraph", seed=0, epochs=3, progress=False).fit(split.train).score(split.test, False)
            for _ in range(2)]
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_cumulative_adjacency_accumulates_the_gcn_graph():
    edges = [np.array([[0], [1]]), np.array([[2], [3]])]
    train = DynamicGraph(name="hand", num_nodes=5, edges=edges, start_times=np.arange(2.0), node_ids=np.arange(5))
    det = make_detector("addgraph", seed=0, epochs=1, hidden=4, adjacency="cumulative", progress=False).fit(train)
    assert det.seen_.tolist() == [0 * 5 + 1, 2 * 5 + 3]
    det.score_snapshot(np.array([[4], [0]]))
    assert det.seen_.tolist() == [1, 4, 13]  # undirected keys min * N + max: (0,1), (0,4), (2,3)
