"""Layers and likelihood functions of H-VGRAE against autograd, closed forms and torch.distributions."""

import math
import random

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_dense_adj, to_undirected

from hvgrae.nn import functional as HF
from hvgrae.nn.hvgrae import SnapshotInput
from hvgrae.nn.layers import (
    BernoulliEdgeDecoder,
    DilatedGRUCell,
    LagBuffer,
    NormalizingFlow,
    PlanarFlow,
    precision_weighted_merge,
)


def _jacobian_logdet(f, z: torch.Tensor) -> torch.Tensor:
    """log|det df/dz| of a row-wise map, row by row, with autograd."""
    out = []
    for row in z:
        jac = torch.autograd.functional.jacobian(lambda v: f(v.unsqueeze(0))[0][0], row)
        out.append(torch.linalg.slogdet(jac)[1])
    return torch.stack(out)


@pytest.mark.parametrize("adversarial", [False, True])
def test_planar_flow_logdet_matches_autograd_jacobian(adversarial):
    torch.manual_seed(0)
    flow = PlanarFlow(5).double()
    if adversarial:  # w.u far below -1: the raw flow would not be invertible
        with torch.no_grad():
            flow.w.copy_(torch.tensor([3.0, -1.0, 2.0, 0.5, 1.0], dtype=torch.float64))
            flow.u.copy_(-7.0 * flow.w)
            flow.b.fill_(0.3)
    z = torch.randn(6, 5, dtype=torch.float64)
    _, logdet = flow(z)
    torch.testing.assert_close(logdet, _jacobian_logdet(flow, z), atol=1e-8, rtol=1e-8)


def test_planar_flow_invertibility_constraint_holds_for_any_u_w():
    torch.manual_seed(1)
    flow = PlanarFlow(4).double()  # float64: in float32 softplus(w.u) underflows to 0 for w.u << 0
    for scale in (0.01, 1.0, 100.0):
        for _ in range(50):
            with torch.no_grad():
                flow.w.copy_(torch.randn(4) * scale)
                flow.u.copy_(-torch.randn(4).abs() * scale * 10 * flow.w.sign())  # pushes w.u very negative
                assert float(flow.w @ flow.u) < -1.0 or scale < 1  # the raw flow would not be invertible
                wu_hat = float(flow.w @ flow.u_hat())
                rounding = 1e-12 * float(flow.w.norm() * flow.u_hat().norm())  # error of the dot product
                assert wu_hat >= -1.0 - rounding
                assert math.isclose(wu_hat, -1 + math.log1p(math.exp(float(flow.w @ flow.u))), abs_tol=rounding + 1e-12)
                assert torch.isfinite(flow(torch.randn(8, 4, dtype=torch.float64) * scale)[1]).all()


def test_flow_chain_logdet_is_the_sum_and_zero_flows_are_identity():
    torch.manual_seed(2)
    chain = NormalizingFlow(3, num_flows=3).double()
    z = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(chain(z)[1], _jacobian_logdet(chain, z), atol=1e-8, rtol=1e-8)
    identity = NormalizingFlow(3, num_flows=0)
    out, logdet = identity(z.float())
    torch.testing.assert_close(out, z.float())
    assert torch.equal(logdet, torch.zeros(4))


def test_precision_weighted_merge_is_the_normalised_product_of_gaussians():
    torch.manual_seed(3)
    m1, s1, m2, s2 = torch.randn(5).double(), torch.rand(5).double() + 0.2, torch.randn(5).double(), torch.rand(5).double() + 0.2
    mean, std = precision_weighted_merge(m1, s1, m2, s2)
    # closed form (Eq. 15): var = 1 / (1/v1 + 1/v2), mean = (m1/v1 + m2/v2) var
    var = 1 / (1 / s1**2 + 1 / s2**2)
    torch.testing.assert_close(std**2, var)
    torch.testing.assert_close(mean, (m1 / s1**2 + m2 / s2**2) * var)
    # independent check: log N(x; m1, s1) + log N(x; m2, s2) - log N(x; mean, std) does not depend on x
    xs = torch.linspace(-3, 3, 7).double()[:, None]
    diff = Normal(m1, s1).log_prob(xs) + Normal(m2, s2).log_prob(xs) - Normal(mean, std).log_prob(xs)
    torch.testing.assert_close(diff - diff[0], torch.zeros_like(diff))


def test_precision_weighted_merge_with_an_infinitely_wide_prior_returns_the_encoder():
    m1, s1 = torch.tensor([0.3, -1.2]), torch.tensor([0.5, 2.0])
    mean, std = precision_weighted_merge(m1, s1, torch.tensor([5.0, 7.0]), torch.full((2,), math.inf))
    torch.testing.assert_close(mean, m1)
    torch.testing.assert_close(std, s1)


def test_lag_buffer_returns_the_value_written_length_steps_earlier():
    buf = LagBuffer(4)
    written: list[torch.Tensor] = []
    for t in range(10):
        assert buf.read(t) is (written[t - 4] if t >= 4 else None)
        written.append(torch.tensor(float(t)))
        buf.write(t, written[-1])


def _dilated_run(cell: DilatedGRUCell, xs: torch.Tensor) -> torch.Tensor:
    buf = LagBuffer(cell.dilation)
    for t, x in enumerate(xs):
        h = cell(x, buf.read(t))
        buf.write(t, h)
    return h


@pytest.mark.parametrize("dilation", [2, 4])
def test_dilated_cell_depends_on_t_minus_dilation_not_on_t_minus_one(dilation):
    torch.manual_seed(4)
    cell = DilatedGRUCell(3, 5, dilation)
    xs = torch.randn(2 * dilation + 1, 6, 3)
    h = _dilated_run(cell, xs)
    t = len(xs) - 1
    only_previous = xs.clone()
    only_previous[t - 1] += 1.0
    assert torch.equal(_dilated_run(cell, only_previous), h)
    lagged = xs.clone()
    lagged[t - dilation] += 1.0
    assert not torch.allclose(_dilated_run(cell, lagged), h)


def test_snapshot_adjacency_is_the_symmetric_gcn_normalisation_block_diagonal_over_samples():
    edges = torch.tensor([[0, 1, 2, 3, 3], [1, 2, 0, 0, 3]])  # includes a self loop, which is dropped
    snap = SnapshotInput(edges, num_nodes=5)
    assert snap.num_edges == 4
    sym = to_undirected(snap.edge_index, num_nodes=5)
    ei, w = gcn_norm(sym, None, 5, add_self_loops=True)
    dense = to_dense_adj(ei, edge_attr=w, max_num_nodes=5)[0]
    torch.testing.assert_close(snap.adjacency(1).to_dense(), dense.T)
    block = snap.adjacency(2).to_dense()
    torch.testing.assert_close(block, torch.block_diag(dense.T, dense.T))


def test_pair_logits_agree_with_the_all_pairs_matrix():
    torch.manual_seed(5)
    pairs = torch.tensor([[0, 3, 6, 2], [1, 3, 0, 5]])
    for target in ("static", "features"):
        dec = BernoulliEdgeDecoder(4, 6, num_nodes=7, target=target)
        f = torch.randn(2 * 7, 4)
        hidden = dec.hidden(f)
        full = dec.all_logits(hidden, num_samples=2)
        torch.testing.assert_close(dec.logits(hidden, pairs, num_samples=2), full[:, pairs[0], pairs[1]])
    # the "features" form: logit(k -> j) = tanh(W1 F_k + b1) . (U F_j) + b2_j, by hand
    fs = f.view(2, 7, 4)
    src = torch.tanh(fs @ dec.lin1.weight.T + dec.lin1.bias)
    expected = src @ (fs @ dec.target_map.weight.T).transpose(1, 2) + dec.target_bias
    torch.testing.assert_close(full, expected)


def _random_graph(n: int, e: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    keys = torch.randperm(n * n, generator=g)
    keys = keys[(keys // n) != (keys % n)][:e]
    return torch.stack([keys // n, keys % n])


def test_exact_edge_log_likelihood_matches_a_dense_bernoulli_sum_off_the_diagonal():
    torch.manual_seed(6)
    n = 9
    edges = _random_graph(n, 15, seed=0)
    logits = torch.randn(2, n, n, dtype=torch.float64)
    adj = torch.zeros(n, n, dtype=torch.float64)
    adj[edges[0], edges[1]] = 1
    off = ~torch.eye(n, dtype=torch.bool)
    expected = torch.stack([Bernoulli(logits=lg[off]).log_prob(adj[off]).sum() for lg in logits])
    torch.testing.assert_close(HF.edge_log_likelihood_exact(logits, edges), expected)


def test_sampled_edge_log_likelihood_is_unbiased_for_the_exact_term():
    torch.manual_seed(7)
    n, e = 30, 40
    edges = _random_graph(n, e, seed=1)
    logits = torch.randn(1, n, n, dtype=torch.float64) - 2
    exact = float(HF.edge_log_likelihood_exact(logits, edges))
    pos = logits[:, edges[0], edges[1]]
    draws = []
    random.seed(0)  # negative_sampling draws from Python's random module
    for _ in range(400):
        neg = HF.sample_non_edges(edges, n, 60)
        assert not (neg[0] == neg[1]).any()
        draws.append(float(HF.edge_log_likelihood_sampled(pos, logits[:, neg[0], neg[1]], HF.num_pairs(n) - e)))
    draws_t = torch.tensor(draws)
    stderr = float(draws_t.std() / math.sqrt(len(draws)))
    assert abs(float(draws_t.mean()) - exact) < 4 * stderr
    assert stderr < 0.05 * abs(exact)  # the check has power: the estimator is not trivially noisy


def test_gaussian_and_bernoulli_pieces_match_torch_distributions():
    torch.manual_seed(8)
    x, m, s = torch.randn(10).double(), torch.randn(10).double(), torch.rand(10).double() + 0.1
    m2, s2 = torch.randn(10).double(), torch.rand(10).double() + 0.1
    torch.testing.assert_close(HF.gaussian_log_prob(x, m, s), Normal(m, s).log_prob(x))
    torch.testing.assert_close(HF.gaussian_kl(m, s, m2, s2), kl_divergence(Normal(m, s), Normal(m2, s2)))
    p = torch.rand(10).double() * 0.98 + 0.01
    torch.testing.assert_close(HF.bernoulli_kl(p, 0.2), kl_divergence(Bernoulli(p), Bernoulli(torch.full_like(p, 0.2))))


def test_monte_carlo_kl_converges_to_the_closed_form_and_a_shared_flow_cancels():
    torch.manual_seed(9)
    mq, sq, mp, sp = torch.randn(3).double(), torch.rand(3).double() + 0.3, torch.randn(3).double(), torch.rand(3).double() + 0.5
    flow = NormalizingFlow(3, num_flows=2).double()
    zg = mq + sq * torch.randn(20000, 3, dtype=torch.float64)
    with torch.no_grad():
        _, logdet = flow(zg)
    log_q = HF.gaussian_log_prob(zg, mq, sq).sum(-1) - logdet  # Eq. 13
    log_p = HF.gaussian_log_prob(zg, mp, sp).sum(-1) - logdet  # Eq. 14, the same flow
    kl_mc = log_q - log_p
    closed = float(HF.gaussian_kl(mq, sq, mp, sp).sum())
    assert abs(float(kl_mc.mean()) - closed) < 4 * float(kl_mc.std()) / math.sqrt(len(kl_mc))
    gaussian_only = (HF.gaussian_log_prob(zg, mq, sq) - HF.gaussian_log_prob(zg, mp, sp)).sum(-1)
    torch.testing.assert_close(kl_mc, gaussian_only)  # the flow's log-determinant cancels exactly
