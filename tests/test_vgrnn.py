import copy
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from hvgrae.data.synthetic import SyntheticConfig, make_synthetic
from hvgrae.detectors import make_detector
from hvgrae.metrics import evaluate
from hvgrae.nn.vgrnn import (
    VGRNN,
    GraphGRUCell,
    VGRNNConfig,
    kl_normal,
    sample_non_edges,
    sampled_edge_nll,
    symmetric_gcn_graph,
)
from hvgrae.protocol.splits import make_split


@pytest.fixture(scope="module")
def split():
    return make_split(make_synthetic(SyntheticConfig(num_nodes=120, num_snapshots=16)), anomaly_ratio=0.05, seed=0)


def test_kl_matches_closed_form_and_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu_q, mu_p = torch.randn(7, 5, generator=g), torch.randn(7, 5, generator=g)
    std_q, std_p = torch.rand(7, 5, generator=g) + 0.1, torch.rand(7, 5, generator=g) + 0.1
    closed = (torch.log(std_p / std_q) + (std_q**2 + (mu_q - mu_p) ** 2) / (2 * std_p**2) - 0.5).sum(-1)
    ours = kl_normal(mu_q, std_q, mu_p, std_p)
    torch.testing.assert_close(ours, closed)
    torch.testing.assert_close(ours, kl_divergence(Normal(mu_q, std_q), Normal(mu_p, std_p)).sum(-1))
    assert ours.shape == (7,)
    torch.testing.assert_close(kl_normal(mu_q, std_q, mu_q, std_q), torch.zeros(7))  # KL(q || q) = 0


def test_inner_product_decoder_exact_values_on_a_hand_made_graph():
    model = VGRNN(3, 0, VGRNNConfig(z_dim=2))
    z = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    pairs = torch.tensor([[0, 0, 1, 2], [1, 2, 2, 2]])
    logits = model.edge_logits(z, pairs)
    torch.testing.assert_close(logits, torch.tensor([0.0, 1.0, 2.0, 2.0]))
    # the anomaly score -log sigmoid(z_i . z_j)
    torch.testing.assert_close(F.softplus(-logits), -torch.log(torch.sigmoid(torch.tensor([0.0, 1.0, 2.0, 2.0]))))


def test_message_passing_is_symmetric():
    ei, ew = symmetric_gcn_graph(torch.tensor([[0], [1]]), 3, improved=True)
    pairs = set(map(tuple, ei.T.tolist()))
    assert {(0, 1), (1, 0), (0, 0), (1, 1), (2, 2)} == pairs
    # D^-1/2 (A + 2I) D^-1/2 with degrees 3, 3, 2
    weight = dict(zip(map(tuple, ei.T.tolist()), ew.tolist(), strict=True))
    assert weight[(0, 1)] == pytest.approx(1 / 3) and weight[(0, 0)] == pytest.approx(2 / 3)
    assert weight[(2, 2)] == pytest.approx(1.0)


def test_every_parameter_is_registered_and_trained():
    cell = GraphGRUCell(4, 3)
    assert len(list(cell.parameters())) == 12  # six GCNs, weight and bias each (the official code: none)
    torch.manual_seed(0)
    model = VGRNN(5, 0, VGRNNConfig(h_dim=4, z_dim=2))
    ei, ew = symmetric_gcn_graph(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]), 5, improved=True)
    h = model.init_state()
    total = torch.zeros(())
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):  # h_0 = 0: the state-side GCNs see a non-zero h from step 2, reaching the loss at step 3
        out = model.step(None, h, ei, ew, generator=gen)
        h = out.h
        total = total + kl_normal(out.enc_mean, out.enc_std, out.prior_mean, out.prior_std).sum()
        total = total + model.edge_logits(out.z, torch.tensor([[0, 1], [1, 2]])).sum()
    total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert any(name.startswith("rnn.hh") for name, _ in model.named_parameters())


def test_sampled_edge_likelihood_is_unbiased_for_the_exact_n2_sum():
    n = 6
    g = torch.Generator().manual_seed(1)
    z = torch.randn(n, 3, generator=g)
    edges = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    adj = torch.zeros(n, n)
    adj[edges[0], edges[1]] = 1.0
    e, pairs = edges.shape[1], n * n
    pos_weight, norm = (pairs - e) / e, pairs / (2 * (pairs - e))
    exact = norm * F.binary_cross_entropy_with_logits(
        z @ z.T, adj, pos_weight=torch.tensor(pos_weight), reduction="sum"
    )
    pos_logits = (z[edges[0]] * z[edges[1]]).sum(-1)
    draws = []
    for _ in range(3000):
        neg = sample_non_edges(edges, n, 3, g)
        assert adj[neg[0], neg[1]].sum() == 0  # never an observed edge
        draws.append(sampled_edge_nll(pos_logits, (z[neg[0]] * z[neg[1]]).sum(-1), pairs).item())
    draws = np.array(draws)
    assert abs(draws.mean() - exact.item()) < 4 * draws.std() / np.sqrt(len(draws))
    assert draws.std() > 0  # a real estimate, not the exact sum in disguise


def test_vgrnn_beats_chance_on_synthetic_and_is_deterministic(split):
    det = make_detector("vgrnn", seed=0, epochs=30, progress=False).fit(split.train, split.val)
    prior = copy.deepcopy(det)
    prior.cfg = replace(prior.cfg, score_from="prior")
    assert evaluate(split.test.label_list(), det.score(split.test, progress=False))["auc"] >= 0.6
    assert evaluate(split.test.label_list(), prior.score(split.test, progress=False))["auc"] >= 0.6
    runs = [make_detector("vgrnn", seed=0, epochs=3, progress=False).fit(split.train).score(split.test, False)
            for _ in range(2)]
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_options_reach_the_config_and_bad_values_are_rejected():
    det = make_detector("vgrnn", seed=3, epochs=7, h_dim=8, M=2)  # M: not a vgrnn option, ignored
    assert det.config()["epochs"] == 7 and det.config()["h_dim"] == 8 and det.config()["seed"] == 3
    with pytest.raises(ValueError, match="score_from"):
        make_detector("vgrnn", score_from="middle")
