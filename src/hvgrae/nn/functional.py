"""Log-likelihoods and divergences of H-VGRAE's ELBO (Eq. 3-5, 16), as pure functions of tensors.

Edge term: the Bernoulli log-likelihood of A(t) sums over all ordered pairs i != j (self loops never occur
in the data and are excluded, as PyG's ``negative_sampling`` excludes them; the paper's double sum also runs
over the constant diagonal A_ii = 0, which changes nothing but a learnable constant). It can be computed
exactly from all N(N-1) logits (small N only) or estimated without bias from every observed edge plus a
uniform sample of non-edges, reweighted by (number of non-edges) / (number sampled).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.utils import negative_sampling

LOG_2PI = math.log(2 * math.pi)


def gaussian_log_prob(x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Elementwise log N(x; mean, std^2); all arguments broadcast to one shape."""
    return -0.5 * (LOG_2PI + 2 * torch.log(std) + ((x - mean) / std) ** 2)


def gaussian_kl(mean_q: Tensor, std_q: Tensor, mean_p: Tensor, std_p: Tensor) -> Tensor:
    """Elementwise closed-form KL(N(mean_q, std_q^2) || N(mean_p, std_p^2))."""
    return (
        torch.log(std_p / std_q) + (std_q**2 + (mean_q - mean_p) ** 2) / (2 * std_p**2) - 0.5
    )


def bernoulli_kl(p: Tensor, q: Tensor | float, eps: float = 1e-12) -> Tensor:
    """Elementwise KL(Bernoulli(p) || Bernoulli(q))."""
    q_t = torch.as_tensor(q, dtype=p.dtype)
    p = p.clamp(eps, 1 - eps)
    q_t = q_t.clamp(eps, 1 - eps)
    return p * torch.log(p / q_t) + (1 - p) * torch.log((1 - p) / (1 - q_t))


def num_pairs(num_nodes: int) -> int:
    """Number of ordered pairs i != j, the support of the edge likelihood."""
    return num_nodes * (num_nodes - 1)


def edge_log_likelihood_exact(all_logits: Tensor, edge_index: Tensor) -> Tensor:
    """Exact sum over i != j of A_ij log y_ij + (1 - A_ij) log(1 - y_ij), per sample.

    Uses log sigma(l) - log sigma(-l) = l: the sum is sum_{i != j} log sigma(-l_ij) + sum_{edges} l_ij, so
    no dense A is built. ``all_logits (S, N, N)``, ``edge_index (2, E)`` distinct, loop-free -> ``(S,)``.
    """
    neg = F.logsigmoid(-all_logits)
    off_diag = neg.sum((-2, -1)) - torch.diagonal(neg, dim1=-2, dim2=-1).sum(-1)
    return off_diag + all_logits[:, edge_index[0], edge_index[1]].sum(-1)


def sample_non_edges(edge_index: Tensor, num_nodes: int, num_samples: int) -> Tensor:
    """A uniform random set of about ``num_samples`` non-edges ``(2, m)`` (PyG ``negative_sampling``).

    ``negative_sampling`` draws pairs without replacement and discards edges and self loops, so the result,
    given its size m (which may fall a little short of the request), is a uniform m-subset of the non-edges:
    reweighting by (number of non-edges) / m is unbiased. It draws from Python's ``random`` module.
    """
    return negative_sampling(edge_index, num_nodes=num_nodes, num_neg_samples=num_samples)


def edge_log_likelihood_sampled(pos_logits: Tensor, neg_logits: Tensor, num_non_edges: int) -> Tensor:
    """Unbiased estimate of the exact edge log-likelihood from all edges and a uniform non-edge sample.

    ``pos_logits (S, E)`` of every observed edge, ``neg_logits (S, m)`` of m sampled non-edges,
    ``num_non_edges`` = N(N-1) - E -> ``(S,)``.
    """
    pos = F.logsigmoid(pos_logits).sum(-1)
    if neg_logits.shape[-1] == 0:
        return pos
    return pos + (num_non_edges / neg_logits.shape[-1]) * F.logsigmoid(-neg_logits).sum(-1)
