"""AddGraph: attention-based temporal GCN for anomalous edges (Zheng et al., IJCAI 2019), as a baseline.

Node states H^t (N, d). One step (AddGraph, Sec. 4.1-4.2):

- ``Current^t = GCN_L(H^{t-1}, A^t)``: L GCN layers over the symmetric-normalised snapshot adjacency with
  self loops, ReLU and dropout (with node attributes, the first layer reads ``[H^{t-1}, X(t)]``: our
  extension, since the paper's GCN input is H^{t-1} only);
- ``Short^t = CAB(H^{t-w}, ..., H^{t-1})``: contextual attention over the window of the last w states,
  ``e = r^T tanh(Q C^T)``, softmax over the window, weighted sum;
- ``H^t = GRU(Current^t, Short^t)``: a GRU with Current as input and Short as previous state;
- edge score ``f(i, j) = sigmoid(beta (||a * h_i + b * h_j||^2 - mu))`` (high = anomalous).

Choices where the paper leaves room: the GRU is ``torch.nn.GRUCell`` (the cuDNN variant, which applies
the reset gate after the state's linear map, ``r * (W h + b)``, where AddGraph writes ``W (r * h)``); H^0 is
a learned (N, d) parameter (the paper does not say how H^0 is set; a learned one also stands in for node
identities when there are no attributes); the attention size q equals d.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv


@dataclass(frozen=True)
class AddGraphConfig:
    """AddGraph settings; defaults from the AddGraph paper (Sec. 5.1) as summarised in design/methods.md."""

    hidden: int = 100  # AddGraph Sec. 5.1: d = 100
    gcn_layers: int = 2  # ours: the paper's GCN_L has "a few" layers, L not fixed here
    window: int = 3  # AddGraph Sec. 5.1: w = 3
    dropout: float = 0.2  # AddGraph Sec. 5.1: dropout 0.2
    beta: float = 1.0  # AddGraph Sec. 5.1: beta = 1 in the edge score
    mu: float = 0.3  # AddGraph Sec. 5.1: mu = 0.3 in the edge score
    margin: float = 0.5  # AddGraph Sec. 5.1: margin gamma ~ 0.5
    l2: float = 5e-7  # AddGraph Sec. 5.1: lambda of the L2 regulariser
    lr: float = 1e-3  # AddGraph Sec. 5.1: Adam, learning rate 0.001
    epochs: int = 50  # ours (the paper gives none); one Adam step per snapshot, so 50 x T steps
    score_with: str = "previous"  # test edges of t scored with H^{t-1} ("previous") or H^t ("current")
    use_attributes: bool = True  # with X(t) present, the first GCN layer reads [H^{t-1}, X(t)] (ours)
    adjacency: str = "snapshot"  # GCN graph: A^t of snapshot t (paper) or "cumulative" (all edges so far)

    def __post_init__(self) -> None:
        if self.score_with not in ("previous", "current"):
            raise ValueError(f"score_with must be 'previous' or 'current', got {self.score_with!r}")
        if self.adjacency not in ("snapshot", "cumulative"):
            raise ValueError(f"adjacency must be 'snapshot' or 'cumulative', got {self.adjacency!r}")
        if self.window < 1 or self.gcn_layers < 1:
            raise ValueError("window and gcn_layers must be >= 1")
        if self.epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {self.epochs}")


class ContextualAttention(nn.Module):
    """Contextual attention block (AddGraph, Eq. 3-5): per node, a softmax-weighted sum over its window.

    ``C_i`` (w, d) holds node i's last w states; ``e_i = r^T tanh(Q C_i^T)`` (w,), ``a_i = softmax(e_i)``,
    ``short_i = a_i C_i`` (d,). Shapes: (N, w, d) -> (N, d).
    """

    def __init__(self, dim: int, attention_dim: int) -> None:
        super().__init__()
        self.q = nn.Linear(dim, attention_dim, bias=False)
        self.r = nn.Parameter(torch.empty(attention_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Default Linear init for Q, uniform(+-1/sqrt(q)) for r."""
        self.q.reset_parameters()
        bound = self.r.numel() ** -0.5
        nn.init.uniform_(self.r, -bound, bound)

    def forward(self, window: Tensor) -> Tensor:
        """Attention-weighted sum of the window (N, w, d) -> (N, d)."""
        e = torch.tanh(self.q(window)) @ self.r  # (N, w)
        return (torch.softmax(e, dim=1).unsqueeze(-1) * window).sum(dim=1)


class EdgeScorer(nn.Module):
    """AddGraph's edge score (Eq. 8): ``beta (||a * h_i + b * h_j||^2 - mu)``, the logit of f(i, j).

    The logit is returned (``sigmoid`` of it is the paper's f): same ranking, and no ties where the sigmoid
    saturates. ``a`` and ``b`` are learned (d,) vectors; the order (i, j) matters (directed edges).
    """

    def __init__(self, dim: int, beta: float, mu: float) -> None:
        super().__init__()
        self.beta, self.mu = beta, mu
        self.a = nn.Parameter(torch.empty(dim))
        self.b = nn.Parameter(torch.empty(dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """uniform(+-1/sqrt(d)) for a and b."""
        bound = self.a.numel() ** -0.5
        nn.init.uniform_(self.a, -bound, bound)
        nn.init.uniform_(self.b, -bound, bound)

    def forward(self, h: Tensor, pairs: Tensor) -> Tensor:
        """Logits (P,) for ``pairs`` (2, P) given node states ``h`` (N, d)."""
        v = self.a * h[pairs[0]] + self.b * h[pairs[1]]
        return self.beta * (v.pow(2).sum(-1) - self.mu)


class AddGraph(nn.Module):
    """The AddGraph network: learned H^0, one-step cell (:meth:`step`) and the edge scorer.

    Args:
        num_nodes: N (H^0 has one learned row per node).
        x_dim: attribute dimension D read by the first GCN layer, or 0.
        config: sizes and the edge-score constants.

    """

    def __init__(self, num_nodes: int, x_dim: int, config: AddGraphConfig) -> None:
        super().__init__()
        d = config.hidden
        self.num_nodes, self.x_dim, self.config = num_nodes, x_dim, config
        self.h0 = nn.Parameter(torch.empty(num_nodes, d))
        dims = [d + x_dim] + [d] * config.gcn_layers
        self.gcn = nn.ModuleList(GCNConv(i, o, normalize=False) for i, o in zip(dims[:-1], dims[1:], strict=True))
        self.attention = ContextualAttention(d, d)
        self.gru = nn.GRUCell(d, d)
        self.scorer = EdgeScorer(d, config.beta, config.mu)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """H^0 ~ uniform(+-1/sqrt(d)); PyTorch/PyG defaults elsewhere."""
        bound = self.config.hidden ** -0.5
        nn.init.uniform_(self.h0, -bound, bound)
        for m in (*self.gcn, self.attention, self.gru, self.scorer):
            m.reset_parameters()

    def current(self, h: Tensor, edge_index: Tensor, edge_weight: Tensor, x: Tensor | None) -> Tensor:
        """Current^t (N, d): L GCN layers with ReLU, dropout on each layer's input (Eq. 1-2)."""
        out = h if x is None else torch.cat([h, x], dim=1)
        for conv in self.gcn:
            out = F.dropout(out, self.config.dropout, training=self.training)
            out = F.relu(conv(out, edge_index, edge_weight))
        return out

    def step(
        self, window: list[Tensor], edge_index: Tensor, edge_weight: Tensor, x: Tensor | None = None
    ) -> Tensor:
        """H^t (N, d) from the last w states ``window`` (oldest first; ``window[-1]`` is H^{t-1}).

        ``edge_index``/``edge_weight``: the snapshot's symmetric GCN graph (see ``nn.vgrnn.symmetric_gcn_graph``).
        """
        if self.x_dim and x is None:
            raise ValueError("this AddGraph was built for node attributes; pass x of shape (N, D)")
        current = self.current(window[-1], edge_index, edge_weight, x if self.x_dim else None)
        short = self.attention(torch.stack(window, dim=1))
        return self.gru(current, short)

    def initial_window(self) -> list[Tensor]:
        """The window before the first snapshot: w copies of H^0."""
        return [self.h0] * self.config.window


def selective_negative_sampling(
    edges: Tensor, num_nodes: int, generator: torch.Generator, max_rounds: int = 100
) -> tuple[Tensor, Tensor, Tensor]:
    """One corrupted pair per edge, never an existing edge of the snapshot (AddGraph, Sec. 4.3).

    For edge (i, j) the source i is replaced with probability ``d_i / (d_i + d_j)`` (else j), d = degree in
    the snapshot's undirected graph, so the higher-degree endpoint is replaced more often and the kept one
    is more likely a low-degree node whose true neighbours are few. The replacement is drawn uniformly
    among the nodes that are neither the kept node nor adjacent to it (rejection sampling); an edge still
    without a valid replacement after ``max_rounds`` draws (in practice: its kept node is adjacent to
    almost every node) is dropped.

    Args:
        edges: (2, E) directed edges without self loops.
        num_nodes: N; replacements are drawn from 0..N-1.
        generator: the torch generator driving every draw.
        max_rounds: rejection-sampling rounds before an edge is dropped.

    Returns:
        ``negatives`` (2, E'), ``index`` (E',) of the positive each one corrupts, ``replaced_src`` (E',) bool.

    """
    src, dst = edges
    lo, hi = torch.minimum(src, dst), torch.maximum(src, dst)
    keys = torch.unique(lo * num_nodes + hi)
    deg = torch.bincount(torch.cat([keys // num_nodes, keys % num_nodes]), minlength=num_nodes).double()
    p_src = deg[src] / (deg[src] + deg[dst])
    replaced_src = torch.rand(src.shape, generator=generator, dtype=torch.float64) < p_src
    kept = torch.where(replaced_src, dst, src)
    cand = torch.full_like(kept, -1)
    todo = torch.arange(kept.numel())
    for _ in range(max_rounds):
        if todo.numel() == 0:
            break
        draw = torch.randint(0, num_nodes, (todo.numel(),), generator=generator)
        k = kept[todo]
        ok = (draw != k) & ~torch.isin(torch.minimum(draw, k) * num_nodes + torch.maximum(draw, k), keys)
        cand[todo[ok]] = draw[ok]
        todo = todo[~ok]
    index = torch.nonzero(cand >= 0).squeeze(1)
    c, k, rs = cand[index], kept[index], replaced_src[index]
    negatives = torch.stack([torch.where(rs, c, k), torch.where(rs, k, c)])
    return negatives, index, rs
