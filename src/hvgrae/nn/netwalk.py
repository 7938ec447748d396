"""NetWalk's clique-embedding autoencoder (Yu et al., KDD 2018, Sec. 3.2), as a baseline.

Each node is a one-hot vector x (N,); the encoder ``f(x) = sigmoid(W1 x + b1)`` is therefore an embedding
row plus a bias (no N x N identity is built) and the decoder is ``g(f) = sigmoid(W2 f + b2)`` (N,). The
loss over a batch of walks (each walk a clique of ``l`` nodes) is, with the official code's normalisation
(``src/framework/Model.py``, ``DenoisingAE.py``)::

    J = mean_walks sum_{p<q} ||f(x_p) - f(x_q)||^2          clique embedding (Eq. 6, as tr(F L F^T))
      + gamma / 2 * mean_occurrences (1/N) ||g(f(x)) - x||^2   reconstruction
      + beta * mean_units KL(rho || rho_hat)                   sparsity, rho_hat = mean activation
      + lamb / 2 * (mean(W1^2) + mean(W2^2))                   weight decay

The reconstruction's sum over the N outputs is exact when N <= ``recon_samples`` and otherwise estimated
without bias from ``recon_samples`` output columns drawn uniformly (the target column always exact), so a
step costs O(batch x samples), not O(batch x N).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class NetWalkConfig:
    """NetWalk settings; defaults from the official code (``src/NetWalk_anomaly.py``) unless noted."""

    dim: int = 20  # official code: representation_size = 20
    walk_len: int = 3  # official code: walk_length = 3
    walks_per_node: int = 20  # official code: number_walks = 20
    rho: float = 0.5  # official code: sparsity ratio rho = 0.5
    beta: float = 1.0  # official code: sparsity weight beta = 1
    gamma: float = 340.0  # official code: autoencoder (reconstruction) weight gama = 340
    lamb: float = 0.0017  # official code: weight decay lamb = 0.0017
    lr: float = 0.01  # official code: Adam, learning_rate = 0.01
    epochs: int = 30  # official code: epoch = 30 (initial embedding, on the training graph)
    update_epochs: int = 5  # ours (official: 30 per snapshot): epochs of warm-started retraining per snapshot
    batch_size: int = 256  # ours (official: 40 walks): walks per Adam step, larger for speed
    recon_samples: int = 512  # ours: decoder columns sampled per step when N is larger (exact below)
    clusters: int = 3  # official code: k = 3 clusters of edge codes
    alpha: float = 0.01  # official code: alfa = 0.01, weight of the old centres in Eq. 15
    update_first: bool = True  # official order: update embeddings with snapshot t, then score it
    centre_update: str = "refit"  # "refit" (official code) or "stream" (new edges of t, paper Eq. 15)

    def __post_init__(self) -> None:
        if self.centre_update not in ("refit", "stream"):
            raise ValueError(f"centre_update must be 'refit' or 'stream', got {self.centre_update!r}")
        if self.walk_len < 2:
            raise ValueError("walk_len must be >= 2")
        if min(self.epochs, self.update_epochs) < 0 or min(self.batch_size, self.recon_samples, self.clusters) < 1:
            raise ValueError("epochs must be >= 0; batch_size, recon_samples and clusters >= 1")


class CliqueAutoencoder(nn.Module):
    """Single-layer sparse autoencoder on one-hot node inputs (NetWalk, Sec. 3.2; official ``dimension=[n, d]``).

    Args:
        num_nodes: N, the input and output size.
        dim: d, the embedding size.

    """

    def __init__(self, num_nodes: int, dim: int) -> None:
        super().__init__()
        self.num_nodes, self.dim = num_nodes, dim
        self.w1 = nn.Embedding(num_nodes, dim)  # column i of W1 = row i here
        self.b1 = nn.Parameter(torch.zeros(dim))
        self.decoder = nn.Linear(dim, num_nodes)  # W2 (N, d), b2 (N,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The official code's init: TF1 ``uniform_unit_scaling`` on W1 (d, N) and W2 (N, d), zero biases.

        That initialiser draws U(+-sqrt(3 / prod(shape[:-1]))): U(+-sqrt(3 / d)) for W1 whatever N, which
        gives the nodes distinct initial codes, and U(+-sqrt(3 / N)) for W2.
        """
        nn.init.uniform_(self.w1.weight, -((3 / self.dim) ** 0.5), (3 / self.dim) ** 0.5)
        nn.init.uniform_(self.decoder.weight, -((3 / self.num_nodes) ** 0.5), (3 / self.num_nodes) ** 0.5)
        nn.init.zeros_(self.b1)
        nn.init.zeros_(self.decoder.bias)

    def embed(self, nodes: Tensor) -> Tensor:
        """f(x) = sigmoid(W1 x + b1) for node ids of any shape S -> (*S, d)."""
        return torch.sigmoid(self.w1(nodes) + self.b1)

    def embeddings(self) -> Tensor:
        """All node embeddings (N, d)."""
        return torch.sigmoid(self.w1.weight + self.b1)

    @staticmethod
    def clique_loss(codes: Tensor) -> Tensor:
        """Mean over walks of sum_{p<q} ||f_p - f_q||^2; codes (W, l, d).

        Uses ``sum_{p<q} ||f_p - f_q||^2 = l sum_p ||f_p||^2 - ||sum_p f_p||^2`` (the trace form tr(F L F^T)
        of the official code, L the Laplacian of the complete graph on the walk).
        """
        length = codes.shape[1]
        return (length * codes.pow(2).sum((1, 2)) - codes.sum(1).pow(2).sum(-1)).mean()

    def reconstruction_loss(self, nodes: Tensor, codes: Tensor, columns: Tensor | None = None) -> Tensor:
        """Mean over occurrences of (1/N) ||g(f(x)) - x||^2; nodes (B,), codes (B, d).

        ``||g - x||^2 = sum_j g_j^2 + 1 - 2 g_i`` for the one-hot x of node i. ``sum_j g_j^2`` runs over all N
        outputs when ``columns`` is None, else is estimated as ``N / m * sum over the m given columns``.
        """
        w2, b2 = self.decoder.weight, self.decoder.bias
        g_target = torch.sigmoid((codes * w2[nodes]).sum(-1) + b2[nodes])
        if columns is None:
            g_sq = torch.sigmoid(self.decoder(codes)).pow(2).sum(-1)
        else:
            g_sq = torch.sigmoid(codes @ w2[columns].T + b2[columns]).pow(2).sum(-1) * (
                self.num_nodes / columns.numel()
            )
        return ((g_sq + 1.0 - 2.0 * g_target) / self.num_nodes).mean()

    @staticmethod
    def sparsity_loss(codes: Tensor, rho: float) -> Tensor:
        """Mean over hidden units of KL(rho || rho_hat), rho_hat the unit's mean activation; codes (B, d)."""
        rho_hat = codes.mean(0).clamp(1e-6, 1 - 1e-6)
        return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).mean()

    def weight_decay(self) -> Tensor:
        """(mean(W1^2) + mean(W2^2)) / 2, the official code's per-layer mean."""
        return 0.5 * (self.w1.weight.pow(2).mean() + self.decoder.weight.pow(2).mean())

    def loss(
        self, walks: Tensor, rho: float, beta: float, gamma: float, lamb: float, columns: Tensor | None = None
    ) -> Tensor:
        """NetWalk's objective J on a batch of walks (W, l) of node ids (see the module docstring)."""
        codes = self.embed(walks)  # (W, l, d)
        flat = codes.reshape(-1, self.dim)
        return (
            self.clique_loss(codes)
            + 0.5 * gamma * self.reconstruction_loss(walks.reshape(-1), flat, columns)
            + beta * self.sparsity_loss(flat, rho)
            + lamb * self.weight_decay()
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_nodes}, {self.dim})"
