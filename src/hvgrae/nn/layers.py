"""Building blocks of H-VGRAE: one-step dilated GRU cell with its lag buffer, spatial-temporal scale, Gaussian
heads, planar normalizing flows and the precision-weighted merge of two Gaussians.

Every recurrent piece is a one-step cell: the caller passes the lagged state in and gets the new state out;
the time loop lives in one place (:meth:`hvgrae.nn.hvgrae.HVGRAE.rollout`). Node tensors are 2-D, ``(B, F)``,
where ``B`` is the number of nodes times the number of Monte-Carlo samples (samples are stacked along the node
axis, with a block-diagonal adjacency; see :class:`hvgrae.nn.hvgrae.SnapshotInput`).

Initialisation (the paper does not give one) is variance-preserving: He for layers followed by a ReLU,
Xavier for linear/tanh outputs, Xavier input and orthogonal recurrent weights for the GRUs, zero biases
(GCN layers keep PyG's Glorot). With PyTorch's defaults (gain about 1/sqrt(3) per layer) the decoder path
Z -> phi_Z -> GCN -> DRNN -> F -> tanh shrinks the node-to-node variation about 100-fold at initialisation;
the KL term then pulls the posterior onto the prior before the decoder can use Z, and it never recovers
(posterior collapse, observed on the synthetic data).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv


def init_linear(layer: nn.Linear, relu: bool) -> None:
    """He-uniform (``relu=True``) or Xavier-uniform weights and a zero bias."""
    if relu:
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
    else:
        nn.init.xavier_uniform_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def gcn(in_dim: int, out_dim: int) -> GCNConv:
    """A PyG ``GCNConv`` (Eq. 6) that expects a pre-normalised sparse adjacency ``D^-1/2 (A + I) D^-1/2``.

    Normalisation is done once per snapshot (:class:`hvgrae.nn.hvgrae.SnapshotInput`) and shared by every
    layer, scale, epoch and sample, instead of once per layer call (``normalize=False``).
    """
    return GCNConv(in_dim, out_dim, normalize=False)


class DilatedGRUCell(nn.Module):
    r"""One step of the dilated GRU DRNN(i) (Chang et al., NeurIPS 2017; paper, Section IV-A-1, Step 3).

    h(t) = GRU(x(t), h(t - s)) with dilation s = 2^(i-1) at scale i: the previous state is the one written
    s steps earlier, which the caller reads from a :class:`LagBuffer` of length s.

    The paper's GRU equations end with ``h(t) = (1 - u) * h(t - s) + u * S'(t)``, mixing in the input rather
    than the candidate state h~(t); for i >= 2 the input S' is wider than h, so that line cannot be meant
    literally. We use the standard GRU update ``(1 - u) * h(t - s) + u * h~(t)`` (``torch.nn.GRUCell``).

    Shapes: ``x (B, in_dim)``, ``h_lag (B, hidden_dim)`` or ``None`` (zero state) -> ``(B, hidden_dim)``.
    """

    def __init__(self, in_dim: int, hidden_dim: int, dilation: int) -> None:
        super().__init__()
        if dilation < 1:
            raise ValueError(f"dilation must be >= 1, got {dilation}")
        self.dilation = dilation
        self.cell = nn.GRUCell(in_dim, hidden_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier input weights, orthogonal recurrent weights (per gate), zero biases."""
        h = self.cell.hidden_size
        for g in range(3):
            nn.init.xavier_uniform_(self.cell.weight_ih.data[g * h : (g + 1) * h])
            nn.init.orthogonal_(self.cell.weight_hh.data[g * h : (g + 1) * h])
        nn.init.zeros_(self.cell.bias_ih)
        nn.init.zeros_(self.cell.bias_hh)

    def forward(self, x: Tensor, h_lag: Tensor | None) -> Tensor:
        """h(t) from the input x(t) and the state h(t - dilation)."""
        return self.cell(x, h_lag)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.cell.input_size}, {self.cell.hidden_size}, dilation={self.dilation})"


class LagBuffer:
    """A ring buffer of the last ``length`` values of one recurrent quantity (one state per slot).

    At step t, :meth:`read` returns the value written at step t - length (``None`` before that: a zero
    initial state), and :meth:`write` stores the value of step t in the same slot. Slot = t mod length.
    """

    def __init__(self, length: int) -> None:
        if length < 1:
            raise ValueError(f"lag buffer length must be >= 1, got {length}")
        self.slots: list[Tensor | None] = [None] * length

    def read(self, t: int) -> Tensor | None:
        """The value written at step ``t - length`` (None if there was none)."""
        return self.slots[t % len(self.slots)]

    def write(self, t: int, value: Tensor) -> None:
        """Store the value of step ``t``."""
        self.slots[t % len(self.slots)] = value

    def detach_(self) -> None:
        """Cut the autograd history of every stored value (truncated back-propagation through time)."""
        self.slots = [None if v is None else v.detach() for v in self.slots]

    def __len__(self) -> int:
        return len(self.slots)


class SpatialTemporalScale(nn.Module):
    """Scale i of a multi-scale spatial-temporal block (encoder Steps 2-3, decoder Steps 3-4).

    S(i) = ReLU(GCN(dropout(s_in), A))  (Eq. 6); S'(i) = [S(i) || ST(i-1)] for i >= 2, S(i) for i = 1;
    ST(i) = h(i)(t) = DRNN(i)(S'(i), h(i)(t - 2^(i-1))).

    Shapes: ``s_in (B, in_dim)``, ``st_below (B, hidden_dim)`` or None, ``h_lag (B, hidden_dim)`` or None,
    ``adj (B, B)`` sparse -> ``(S (B, spatial_dim), ST (B, hidden_dim))``.
    """

    def __init__(self, in_dim: int, spatial_dim: int, hidden_dim: int, scale: int, dropout: float) -> None:
        super().__init__()
        self.scale = scale
        self.dropout = dropout
        self.conv = gcn(in_dim, spatial_dim)
        below = hidden_dim if scale > 1 else 0
        self.drnn = DilatedGRUCell(spatial_dim + below, hidden_dim, dilation=2 ** (scale - 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the GCN and the GRU."""
        self.conv.reset_parameters()
        self.drnn.reset_parameters()

    def forward(
        self, s_in: Tensor, adj: Tensor, st_below: Tensor | None, h_lag: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """Spatial features S(i) and spatial-temporal features ST(i) = h(i)(t)."""
        s = F.relu(self.conv(F.dropout(s_in, self.dropout, self.training), adj))
        s_cat = s if st_below is None else torch.cat([s, st_below], dim=-1)
        return s, self.drnn(s_cat, h_lag)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scale={self.scale}, {self.conv}, {self.drnn})"


class GaussianHead(nn.Module):
    """Diagonal-Gaussian head: hidden layer (ReLU), then a linear mean and a softplus standard deviation.

    With ``graph=True`` every layer is a GCN: the encoder's inference network "GNN - (GNN Linear, GNN
    Softplus)" (Eq. 7-8, 11). With ``graph=False`` they are per-node linear layers: the predictive prior's
    output layer (Section IV-A-3), which may not look at A(t).

    Eq. 8 calls the softplus output sigma^2; we read it as the standard deviation (as VGRNN does); both
    parametrise the same family. ``min_std`` keeps densities finite. ``dropout`` acts on the input.

    Shapes: ``x (B, in_dim)`` (+ ``adj (B, B)`` sparse if graph) -> ``mean, std: (B, out_dim)``.
    """

    def __init__(
        self, in_dim: int, hidden_dim: int, out_dim: int, graph: bool, dropout: float = 0.0, min_std: float = 1e-4
    ) -> None:
        super().__init__()
        self.graph = graph
        self.dropout = dropout
        self.min_std = min_std
        layer = gcn if graph else nn.Linear
        self.hidden = layer(in_dim, hidden_dim)
        self.mean = layer(hidden_dim, out_dim)
        self.std = layer(hidden_dim, out_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GCN layers: PyG's Glorot; linear layers: He for the hidden layer, Xavier for the outputs."""
        for m, relu in ((self.hidden, True), (self.mean, False), (self.std, False)):
            if isinstance(m, nn.Linear):
                init_linear(m, relu)
            else:
                m.reset_parameters()

    def _apply(self, layer: nn.Module, x: Tensor, adj: Tensor | None) -> Tensor:
        return layer(x, adj) if self.graph else layer(x)

    def forward(self, x: Tensor, adj: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Mean and standard deviation of the Gaussian."""
        if self.graph and adj is None:
            raise ValueError("a graph Gaussian head needs the adjacency")
        hid = F.relu(self._apply(self.hidden, F.dropout(x, self.dropout, self.training), adj))
        mean = self._apply(self.mean, hid, adj)
        std = F.softplus(self._apply(self.std, hid, adj)) + self.min_std
        return mean, std

    def __repr__(self) -> str:
        kind = "GCN" if self.graph else "MLP"
        return f"{type(self).__name__}({kind}, {self.hidden}, out={self.mean})"


class PlanarFlow(nn.Module):
    r"""One planar flow f(z) = z + u_hat tanh(w.z + b) (Rezende & Mohamed, ICML 2015; paper Eq. 10).

    Invertibility needs w.u_hat >= -1; u_hat = u + (m(w.u) - w.u) w / ||w||^2 with m(x) = -1 + softplus(x)
    gives w.u_hat = m(w.u) > -1 for every u, w, and is used both in f and in the log-determinant
    log|det df/dz| = log|1 + u_hat.psi(z)|, psi(z) = (1 - tanh^2(w.z + b)) w (Eq. 9).

    Parameters are global (one u, w, b per flow layer and scale, shared by all nodes and snapshots), not
    amortised per node: the paper applies "the same planar NF in the encoder" to the prior (Eq. 13-14), and
    the prior may not see A(t) or X(t), so the flow cannot depend on the encoder's input.

    Shapes: ``z (B, dim)`` -> ``(f(z) (B, dim), log|det J| (B,))``.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.u = nn.Parameter(torch.empty(dim))
        self.w = nn.Parameter(torch.empty(dim))
        self.b = nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Small random u, w (a near-identity map) and b = 0."""
        bound = 1.0 / math.sqrt(self.dim)
        nn.init.uniform_(self.u, -bound, bound)
        nn.init.uniform_(self.w, -bound, bound)
        nn.init.zeros_(self.b)

    def u_hat(self) -> Tensor:
        """The constrained u with w.u_hat = -1 + softplus(w.u) > -1."""
        wu = self.w @ self.u
        return self.u + (F.softplus(wu) - 1 - wu) * self.w / (self.w @ self.w).clamp_min(1e-12)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """f(z) and log|det df/dz| per row."""
        u = self.u_hat()
        lin = z @ self.w + self.b  # (B,)
        act = torch.tanh(lin)
        out = z + act.unsqueeze(-1) * u
        det = 1 + (1 - act**2) * (self.w @ u)  # 1 + u_hat . psi(z), > 0 by the constraint
        return out, torch.log(det.abs() + 1e-12)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dim})"


class NormalizingFlow(nn.Module):
    """A chain of ``num_flows`` planar flows f = f_L o ... o f_1 (paper, Step 5); zero flows = identity.

    Shapes: ``z (B, dim)`` -> ``(f(z) (B, dim), sum_k log|det J_k| (B,))``.
    """

    def __init__(self, dim: int, num_flows: int) -> None:
        super().__init__()
        if num_flows < 0:
            raise ValueError(f"num_flows must be >= 0, got {num_flows}")
        self.flows = nn.ModuleList(PlanarFlow(dim) for _ in range(num_flows))

    def reset_parameters(self) -> None:
        """Re-initialise every flow layer."""
        for f in self.flows:
            f.reset_parameters()

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Push z through the chain, summing the log-determinants."""
        logdet = z.new_zeros(z.shape[:-1])
        for f in self.flows:
            z, ld = f(z)
            logdet = logdet + ld
        return z, logdet

    def __repr__(self) -> str:
        dim = self.flows[0].dim if len(self.flows) else "-"
        return f"{type(self).__name__}(dim={dim}, num_flows={len(self.flows)})"


def precision_weighted_merge(
    mean_enc: Tensor, std_enc: Tensor, mean_prior: Tensor, std_prior: Tensor
) -> tuple[Tensor, Tensor]:
    r"""Information sharing (Eq. 15a/15b; Ladder VAE, Sonderby et al., 2016): merge two diagonal Gaussians.

    var = 1 / (var_enc^-1 + var_prior^-1); mean = (mean_enc var_enc^-1 + mean_prior var_prior^-1) var.
    Eq. 15a writes the left-hand side as sigma-bar although the right-hand side is a variance; we read it
    as the variance and return the standard deviation sqrt(var). An infinitely wide prior returns the
    encoder's Gaussian. All tensors share one shape; returns ``(mean, std)`` of that shape.
    """
    prec_enc, prec_prior = std_enc.pow(-2), std_prior.pow(-2)
    var = 1.0 / (prec_enc + prec_prior)
    mean = (mean_enc * prec_enc + mean_prior * prec_prior) * var
    return mean, var.sqrt()


class ContentBlock(nn.Module):
    r"""The content feature block phi_X (encoder Step 1): C_X(t) = ReLU(W X(t) + b), per node.

    Without attributes the paper feeds X(t) = I_N; W I_N + b is a lookup of one learned 64-vector per node,
    so we use ``nn.Embedding(N, out_dim)`` (same maths, O(N d) memory, never an N x N matrix).

    Shapes: ``x (N, in_dim)`` or ``None`` -> ``(N, out_dim)``.
    """

    def __init__(self, num_nodes: int, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.embed: nn.Module = nn.Embedding(num_nodes, out_dim) if in_dim == 0 else nn.Linear(in_dim, out_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Embedding: N(0, 1) entries; linear layer: He."""
        if isinstance(self.embed, nn.Linear):
            init_linear(self.embed, relu=True)
        else:
            self.embed.reset_parameters()

    def forward(self, x: Tensor | None) -> Tensor:
        """Content features of every node."""
        if isinstance(self.embed, nn.Embedding):
            if x is not None:
                raise ValueError("this model was built without node attributes; pass x=None")
            out = self.embed.weight
        else:
            if x is None:
                raise ValueError("this model was built with node attributes; pass x (N, D)")
            out = self.embed(x)
        return F.relu(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.embed})"


class MLP(nn.Module):
    """Per-node fully connected layer(s) with ReLU, e.g. phi_Z (decoder Step 2) and the fusion layer F(t).

    Shapes: ``(B, in_dim)`` -> ``(B, out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_dim, out_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He initialisation (the layer feeds a ReLU)."""
        init_linear(self.lin, relu=True)

    def forward(self, x: Tensor) -> Tensor:
        """ReLU(W x + b)."""
        return F.relu(self.lin(x))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.lin.in_features}, {self.lin.out_features})"


class BernoulliEdgeDecoder(nn.Module):
    r"""The Bernoulli MLP for A(t) (Section IV-A-2, Step 5): Y_k(t) = sigmoid(W2 tanh(W1 F_k(t) + b1) + b2).

    Row k of Y is the vector of edge probabilities k -> j for all j, so W2 holds one learned vector per
    target node: logit(k -> j) = w2_j . tanh(W1 F_k + b1) + b2_j (``target="static"``, the paper's form). It
    is transductive: w2_j is a free parameter, fitted only through j's training in-edges, and blind to j's
    state at t. ``target="features"`` (our variant, not the paper's) computes that row from the target's
    fused features instead, w2_j(t) = U F_j(t), a bilinear decoder in F(t) like VGRNN's inner product. Only
    the requested pairs are computed (:meth:`logits`), or all N^2 for the exact likelihood on small graphs
    (:meth:`all_logits`).

    Shapes: ``hidden(F (B, in_dim)) -> (B, hidden_dim)`` (static) or ``(B, 2 hidden_dim)`` (features: the
    source part tanh(W1 F + b1), then the target part U F).
    """

    def __init__(self, in_dim: int, hidden_dim: int, num_nodes: int, target: str = "static") -> None:
        super().__init__()
        if target not in ("static", "features"):
            raise ValueError(f"target must be 'static' or 'features', got {target!r}")
        self.num_nodes, self.hidden_dim = num_nodes, hidden_dim
        self.lin1 = nn.Linear(in_dim, hidden_dim)
        # rows of W2: one free vector per node, or a map of the node's features
        self.target = nn.Embedding(num_nodes, hidden_dim) if target == "static" else None
        self.target_map = nn.Linear(in_dim, hidden_dim, bias=False) if target == "features" else None
        self.target_bias = nn.Parameter(torch.zeros(num_nodes))  # b2
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier W1 (and U), zero b1; W2 rows uniform(+-1/sqrt(h)); b2 = 0 (see :meth:`initialize_bias`)."""
        init_linear(self.lin1, relu=False)
        if self.target is not None:
            bound = 1.0 / math.sqrt(self.hidden_dim)
            nn.init.uniform_(self.target.weight, -bound, bound)
        if self.target_map is not None:
            nn.init.xavier_uniform_(self.target_map.weight)
        nn.init.zeros_(self.target_bias)

    def initialize_bias(self, density: float) -> None:
        """Set b2 to logit(density), the edge probability of a graph of that density.

        Otherwise the first updates, which must pull all N^2 logits from 0 down to a density of ~1%, move W1
        instead and saturate tanh(W1 F + b1) into the same vector for every node, and the decoder never
        recovers (observed on the synthetic data; the paper does not say how it initialises).
        """
        p = min(max(density, 1e-9), 1 - 1e-9)
        nn.init.constant_(self.target_bias, math.log(p / (1 - p)))

    def hidden(self, f: Tensor) -> Tensor:
        """tanh(W1 F + b1), followed by U F for ``target="features"``."""
        h = torch.tanh(self.lin1(f))
        return h if self.target_map is None else torch.cat([h, self.target_map(f)], -1)

    def _split(self, hidden: Tensor, num_samples: int) -> tuple[Tensor, Tensor]:
        """(source part (S, N, h), target rows (N, h) or (S, N, h)) of ``hidden (S*N, .)``."""
        h = hidden.view(num_samples, self.num_nodes, -1)
        if self.target is not None:
            return h, self.target.weight
        return h[..., : self.hidden_dim], h[..., self.hidden_dim :]

    def logits(self, hidden: Tensor, pairs: Tensor, num_samples: int) -> Tensor:
        """Logits of the ``(2, P)`` directed pairs for each sample: ``hidden (S*N, .)`` -> ``(S, P)``."""
        src, tgt = self._split(hidden, num_samples)
        w2 = tgt[pairs[1]] if tgt.dim() == 2 else tgt[:, pairs[1]]  # (P, h) or (S, P, h)
        return (src[:, pairs[0]] * w2).sum(-1) + self.target_bias[pairs[1]]

    def all_logits(self, hidden: Tensor, num_samples: int) -> Tensor:
        """Every N^2 logit per sample ``(S, N, N)``: for small N only (the exact likelihood)."""
        src, tgt = self._split(hidden, num_samples)
        return src @ tgt.transpose(-1, -2) + self.target_bias

    def __repr__(self) -> str:
        kind = "static" if self.target is not None else "features"
        return (f"{type(self).__name__}({self.lin1.in_features}, {self.hidden_dim}, num_nodes={self.num_nodes},"
                f" target={kind!r})")


class GaussianAttributeDecoder(nn.Module):
    r"""The Gaussian MLP for X(t) (Section IV-A-2, Step 5).

    mu = W4 tanh(W3 F + b3) + b4; var = softplus(W5 tanh(W3 F + b3) + b5) + min_var. The paper writes the
    variance without a positivity map; softplus makes it a valid variance.

    Shapes: ``F (B, in_dim)`` -> ``mean, var: (B, out_dim)``.
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, min_var: float = 1e-4) -> None:
        super().__init__()
        self.min_var = min_var
        self.lin3 = nn.Linear(in_dim, hidden_dim)
        self.mean = nn.Linear(hidden_dim, out_dim)
        self.var = nn.Linear(hidden_dim, out_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier weights, zero biases."""
        for m in (self.lin3, self.mean, self.var):
            init_linear(m, relu=False)

    def forward(self, f: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and variance of p(x_k(t) | ...)."""
        h = torch.tanh(self.lin3(f))
        return self.mean(h), F.softplus(self.var(h)) + self.min_var

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.lin3.in_features}, {self.lin3.out_features}, {self.mean.out_features})"
