"""VGRNN: variational graph recurrent neural network (Hajiramezanali et al., NeurIPS 2019), as a baseline.

One step t, for N nodes with hidden state ``h`` (N, H) and the snapshot's edges:

- ``phi_x = ReLU(Linear(X(t)))`` (N, H); without attributes a learned embedding row per node, which is
  exactly ``Linear`` applied to the identity matrix the paper feeds, without building the N x N identity;
- encoder (posterior): ``enc = ReLU(GCN([phi_x, h]))``, ``mu = GCN(enc)``, ``std = softplus(GCN(enc))``;
- prior: ``p = ReLU(Linear(h))``, ``mu_p = Linear(p)``, ``std_p = softplus(Linear(p))`` (no graph);
- ``z = mu + std * eps`` (N, Z); decoder: edge logit ``z_i . z_j`` (inner product);
- recurrence: a graph GRU whose six gate transforms are GCNs over the snapshot's edges, input
  ``[phi_x, phi_z]`` with ``phi_z = ReLU(Linear(z))``.

Differences from the official code (github.com/VGraphRNN/VGRNN), on purpose: the graph-GRU GCNs are
registered sub-modules (the official code keeps them in plain Python lists, so they are never trained),
message passing uses both directions of every edge (the official code passes the upper triangle only),
the edge likelihood is estimated from all observed edges plus sampled non-edges instead of the dense
N x N matrix, and gradient clipping happens before the optimiser step (see ``detectors/vgrnn.py``).

The loss helpers (:func:`kl_normal`, :func:`sample_non_edges`, :func:`sampled_edge_nll`) are generic and
could move to ``nn/functional.py`` to be shared with H-VGRAE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.models import InnerProductDecoder
from torch_geometric.utils import remove_self_loops, to_undirected


@dataclass(frozen=True)
class VGRNNConfig:
    """VGRNN settings; defaults from the official code (``VGRNN_detection.py``) unless noted."""

    h_dim: int = 32  # official code: h_dim = 32 (also phi_x, phi_z and the GRU state size)
    z_dim: int = 16  # official code: z_dim = 16
    improved: bool = True  # official GCNConv default improved=True: self loops of weight 2 in A + 2I
    lr: float = 0.01  # official code: learning_rate = 1e-2 (also H-VGRAE paper, Sec. V-A-3)
    clip: float = 10.0  # official code: clip = 10 (gradient-norm clipping), applied BEFORE the step here
    epochs: int = 100  # H-VGRAE paper, Sec. V-A-3 ("all the models ... for 100 epochs"); official: 1000
    neg_ratio: float = 1.0  # ours: sampled non-edges per observed (directed) edge in the sampled likelihood
    score_from: str = "posterior"  # ours: latent mean used to score: "posterior" (encoder) or "prior"
    use_attributes: bool = True  # paper Sec. V-A-1: X(t) as input when present; else a learned embedding

    def __post_init__(self) -> None:
        if self.score_from not in ("posterior", "prior"):
            raise ValueError(f"score_from must be 'posterior' or 'prior', got {self.score_from!r}")
        if self.neg_ratio <= 0:
            raise ValueError(f"neg_ratio must be positive, got {self.neg_ratio}")
        if self.epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {self.epochs}")


# ---------------------------------------------------------------------------------------------- maths
def kl_normal(mu_q: Tensor, std_q: Tensor, mu_p: Tensor, std_p: Tensor) -> Tensor:
    """KL(N(mu_q, std_q^2) || N(mu_p, std_p^2)) of diagonal Gaussians, summed over the last axis.

    Closed form per dimension: ``log(std_p / std_q) + (std_q^2 + (mu_q - mu_p)^2) / (2 std_p^2) - 1/2``.
    Shapes ``(N, Z)`` in, ``(N,)`` out (one KL per node).
    """
    var_ratio = (std_q / std_p).pow(2)
    mean_term = ((mu_q - mu_p) / std_p).pow(2)
    return 0.5 * (var_ratio + mean_term - 1.0 - torch.log(var_ratio)).sum(-1)


def sample_non_edges(edge_index: Tensor, num_nodes: int, num_samples: int, generator: torch.Generator) -> Tensor:
    """``(2, num_samples)`` ordered pairs drawn uniformly, with replacement, from the pairs NOT in ``edge_index``.

    The population is all N^2 ordered pairs (self pairs included, as in the dense target of the official
    code, whose diagonal is 0) minus the observed ones; rejection sampling makes every non-edge equally
    likely, so ``(number of non-edges / num_samples) * sum`` is an unbiased estimate of a sum over all of
    them. PyG's ``negative_sampling`` is not used: it draws from Python's global ``random`` module (not
    seedable per detector) and may return fewer pairs than asked, which would bias the reweighting.
    """
    n2 = num_nodes * num_nodes
    keys = torch.unique(edge_index[0] * num_nodes + edge_index[1])
    if keys.numel() >= n2:
        raise ValueError("the graph is complete: there is no non-edge to sample")
    out = torch.empty(0, dtype=torch.long)
    accept = 1.0 - keys.numel() / n2
    while out.numel() < num_samples:
        need = num_samples - out.numel()
        cand = torch.randint(0, n2, (int(need / accept * 1.1) + 16,), generator=generator)
        cand = cand[~torch.isin(cand, keys)]
        out = torch.cat([out, cand[:need]])
    return torch.stack([out // num_nodes, out % num_nodes])


def sampled_edge_nll(
    pos_logits: Tensor,
    neg_logits: Tensor,
    num_pairs: int,
    pos_weight: float | None = None,
    norm: float | None = None,
) -> Tensor:
    """Unbiased estimate of the weighted Bernoulli NLL summed over all ``num_pairs`` entries of A.

    Exact form: ``norm * sum_ij [pos_weight * A_ij * softplus(-l_ij) + (1 - A_ij) * softplus(l_ij)]``,
    i.e. ``binary_cross_entropy_with_logits(..., pos_weight, reduction="sum") * norm``. Every observed edge
    enters exactly (``pos_logits``: all E of them); the non-edge sum is estimated from ``neg_logits``, a
    uniform sample of the non-edges, reweighted by ``(num_pairs - E) / len(neg_logits)``.
    Defaults are Kipf's VGAE balancing (used by VGRNN): ``pos_weight = (P - E) / E``, ``norm = P / (2 (P - E))``.
    """
    e = pos_logits.numel()
    m = num_pairs - e
    if e == 0 or neg_logits.numel() == 0:
        raise ValueError("the sampled likelihood needs at least one edge and one sampled non-edge")
    pos_weight = m / e if pos_weight is None else pos_weight
    norm = num_pairs / (2.0 * m) if norm is None else norm
    pos = F.softplus(-pos_logits).sum() * pos_weight
    neg = F.softplus(neg_logits).sum() * (m / neg_logits.numel())
    return norm * (pos + neg)


def symmetric_gcn_graph(edge_index: Tensor, num_nodes: int, improved: bool) -> tuple[Tensor, Tensor]:
    """Both directions of every edge, self loops added, symmetric GCN weights D^-1/2 (A + cI) D^-1/2.

    Computed once per snapshot and shared by all GCN layers of a step (they then run with
    ``normalize=False``). ``improved=True`` gives self loops weight 2 (the official VGRNN GCN). Returns
    ``edge_index (2, E')`` and ``edge_weight (E',)``.
    """
    ei, _ = remove_self_loops(to_undirected(edge_index, num_nodes=num_nodes))
    # explicit unit weights: with edge_weight=None, PyG 2.8.1's gcn_norm silently ignores improved=True
    ones = torch.ones(ei.shape[1])
    return gcn_norm(ei, ones, num_nodes, improved=improved, add_self_loops=True)


# ---------------------------------------------------------------------------------------------- modules
class GraphGRUCell(nn.Module):
    """One step of the graph GRU (VGRNN, Eq. 4 with GCN gates): every gate transform is a GCN.

    ``z = sigmoid(G_xz(x) + G_hz(h))``, ``r = sigmoid(G_xr(x) + G_hr(h))``,
    ``h~ = tanh(G_xh(x) + G_hh(r * h))``, ``h' = z * h + (1 - z) * h~``. Shapes: x (N, I), h (N, H) -> (N, H).
    """

    def __init__(self, in_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.in_dim, self.hidden_dim = in_dim, hidden_dim
        self.xz = GCNConv(in_dim, hidden_dim, normalize=False)
        self.hz = GCNConv(hidden_dim, hidden_dim, normalize=False)
        self.xr = GCNConv(in_dim, hidden_dim, normalize=False)
        self.hr = GCNConv(hidden_dim, hidden_dim, normalize=False)
        self.xh = GCNConv(in_dim, hidden_dim, normalize=False)
        self.hh = GCNConv(hidden_dim, hidden_dim, normalize=False)

    def reset_parameters(self) -> None:
        """Re-initialise the six GCNs."""
        for conv in (self.xz, self.hz, self.xr, self.hr, self.xh, self.hh):
            conv.reset_parameters()

    def forward(self, x: Tensor, h: Tensor, edge_index: Tensor, edge_weight: Tensor) -> Tensor:
        """Next state from input ``x`` and state ``h`` over the (normalised) graph."""
        z = torch.sigmoid(self.xz(x, edge_index, edge_weight) + self.hz(h, edge_index, edge_weight))
        r = torch.sigmoid(self.xr(x, edge_index, edge_weight) + self.hr(h, edge_index, edge_weight))
        h_tilde = torch.tanh(self.xh(x, edge_index, edge_weight) + self.hh(r * h, edge_index, edge_weight))
        return z * h + (1.0 - z) * h_tilde

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_dim}, {self.hidden_dim})"


class StepOutput(NamedTuple):
    """What one VGRNN step produces; all (N, Z) except ``h`` (N, H)."""

    enc_mean: Tensor
    enc_std: Tensor
    prior_mean: Tensor
    prior_std: Tensor
    z: Tensor
    h: Tensor


class VGRNN(nn.Module):
    """The VGRNN model: ``step`` runs one snapshot; the time loop lives in the detector.

    Args:
        num_nodes: N (the learned input embedding has one row per node when there are no attributes).
        x_dim: attribute dimension D, or 0 to use the learned embedding instead of attributes.
        config: sizes (``h_dim``, ``z_dim``) and GCN normalisation.

    """

    def __init__(self, num_nodes: int, x_dim: int, config: VGRNNConfig) -> None:
        super().__init__()
        h, z = config.h_dim, config.z_dim
        self.num_nodes, self.x_dim, self.config = num_nodes, x_dim, config
        # phi_x: Linear on attributes, or Linear on the identity == an embedding row per node
        self.phi_x = nn.Linear(x_dim, h) if x_dim > 0 else nn.Embedding(num_nodes, h)
        self.phi_z = nn.Linear(z, h)
        self.enc = GCNConv(2 * h, h, normalize=False)
        self.enc_mean = GCNConv(h, z, normalize=False)
        self.enc_std = GCNConv(h, z, normalize=False)
        self.prior = nn.Linear(h, h)
        self.prior_mean = nn.Linear(h, z)
        self.prior_std = nn.Linear(h, z)
        self.rnn = GraphGRUCell(2 * h, h)
        self.decoder = InnerProductDecoder()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch/PyG defaults; the embedding is drawn like ``Linear(N, H)`` on one-hot inputs would be."""
        for m in (self.phi_z, self.enc, self.enc_mean, self.enc_std, self.prior, self.prior_mean,
                  self.prior_std, self.rnn, self.phi_x):
            m.reset_parameters()
        if isinstance(self.phi_x, nn.Embedding):
            bound = self.num_nodes ** -0.5
            nn.init.uniform_(self.phi_x.weight, -bound, bound)

    def init_state(self) -> Tensor:
        """h_0 = 0, shape (N, H)."""
        return torch.zeros(self.num_nodes, self.config.h_dim)

    def embed_input(self, x: Tensor | None) -> Tensor:
        """phi_x (N, H) from attributes ``x`` (N, D), or from the node embedding when ``x_dim == 0``."""
        if self.x_dim == 0:
            return F.relu(self.phi_x.weight)
        if x is None:
            raise ValueError("this VGRNN was built for node attributes; pass x of shape (N, D)")
        return F.relu(self.phi_x(x))

    def encode(self, phi_x: Tensor, h: Tensor, edge_index: Tensor, edge_weight: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior q(Z(t) | A(t), X(t), h_{t-1}): mean and std, each (N, Z)."""
        enc = F.relu(self.enc(torch.cat([phi_x, h], dim=1), edge_index, edge_weight))
        return self.enc_mean(enc, edge_index, edge_weight), F.softplus(self.enc_std(enc, edge_index, edge_weight))

    def prior_params(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """Recurrent prior p(Z(t) | h_{t-1}): mean and std, each (N, Z); an MLP without the graph."""
        p = F.relu(self.prior(h))
        return self.prior_mean(p), F.softplus(self.prior_std(p))

    def step(
        self,
        x: Tensor | None,
        h: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor,
        generator: torch.Generator | None = None,
    ) -> StepOutput:
        """One snapshot. ``edge_index``/``edge_weight`` from :func:`symmetric_gcn_graph`.

        In training mode z is sampled (reparameterised) with ``generator``; in eval mode z is the
        posterior mean, so scoring and the recurrent state are deterministic.
        """
        phi_x = self.embed_input(x)
        enc_mean, enc_std = self.encode(phi_x, h, edge_index, edge_weight)
        prior_mean, prior_std = self.prior_params(h)
        if self.training:
            eps = torch.randn(enc_mean.shape, generator=generator)
            z = enc_mean + enc_std * eps
        else:
            z = enc_mean
        h_next = self.rnn(torch.cat([phi_x, F.relu(self.phi_z(z))], dim=1), h, edge_index, edge_weight)
        return StepOutput(enc_mean, enc_std, prior_mean, prior_std, z, h_next)

    def edge_logits(self, z: Tensor, pairs: Tensor) -> Tensor:
        """Inner-product decoder logits ``z_i . z_j`` for ``pairs`` (2, P) -> (P,)."""
        return self.decoder(z, pairs, sigmoid=False)
