"""VGRNN as an anomalous-edge detector (Hajiramezanali et al., NeurIPS 2019; model in ``nn/vgrnn.py``).

VGRNN never published an anomaly-detection result; here, as in the H-VGRAE paper's Table II, it scores an
edge by how poorly its latent code reconstructs it: ``-log sigmoid(z_i . z_j)``, with ``z`` the posterior
mean (default; the encoder sees snapshot t, anomalies included, like every reconstruction model here) or
the prior mean (``score_from="prior"``: a pure prediction from ``h_{t-1}``, the snapshot unseen).

Training (one Adam step per epoch over the whole training sequence, as the official code): per snapshot
the loss is ``[sampled weighted edge NLL + sum_i KL_i] / N^2``. Dividing both terms by N^2 keeps the
relative weight of the exact ELBO (the official code divides its mean-reduced NLL and its KL by the same
N^2); the KL itself is the exact closed form, with no extra factor. Gradients are clipped (norm 10)
before the optimiser step. ``val`` is not used (no model selection).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, fields, replace
from typing import Any, ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from hvgrae.data.graph import DynamicGraph
from hvgrae.detectors.base import Detector, register
from hvgrae.nn.vgrnn import (
    VGRNN,
    VGRNNConfig,
    kl_normal,
    sample_non_edges,
    sampled_edge_nll,
    symmetric_gcn_graph,
)


@contextlib.contextmanager
def seeded_torch(seed: int) -> Iterator[None]:
    """Seed torch's global generator and run with deterministic algorithms, restoring the flag after.

    Used by every torch-based baseline (VGRNN, AddGraph, NetWalk) around ``fit`` and scoring.
    """
    previous = torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


def config_options(config_type: type) -> tuple[str, ...]:
    """The CLI options of a torch baseline: seed, progress, and every field of its config dataclass."""
    return ("seed", "progress", *(f.name for f in fields(config_type)))


@register("vgrnn")
class VGRNNDetector(Detector):
    """VGRNN trained on the training snapshots, scoring test edges online (see the module docstring).

    Options: ``seed``, ``progress`` and every field of :class:`~hvgrae.nn.vgrnn.VGRNNConfig`
    (``epochs``, ``lr``, ``h_dim``, ``z_dim``, ``score_from``, ``neg_ratio``, ...).
    """

    options: ClassVar[tuple[str, ...]] = config_options(VGRNNConfig)

    def __init__(self, seed: int = 0, progress: bool = True, **config: Any) -> None:
        super().__init__(seed)
        self.progress = progress
        self.cfg = replace(VGRNNConfig(), **config)

    def config(self) -> dict[str, Any]:
        """Seed plus the full model/training configuration."""
        return {"seed": self.seed, **asdict(self.cfg)}

    # ------------------------------------------------------------------ helpers
    def _x(self, x: np.ndarray | None) -> torch.Tensor | None:
        if self.model_.x_dim == 0:
            return None
        if x is None:
            raise ValueError("vgrnn was fitted with node attributes; score_snapshot needs x of shape (N, D)")
        return torch.as_tensor(np.asarray(x, dtype=np.float32))

    def _graph(self, edges: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(message-passing edge_index, edge_weight, likelihood targets): symmetric, no self loops."""
        ei, ew = symmetric_gcn_graph(torch.as_tensor(edges, dtype=torch.long), self.num_nodes_, self.cfg.improved)
        targets = ei[:, ei[0] != ei[1]]
        return ei, ew, targets

    # ------------------------------------------------------------------ interface
    def fit(self, train: DynamicGraph, val: DynamicGraph | None = None) -> Self:
        """Train on ``train`` for ``epochs`` full-sequence steps, then roll the state through it."""
        if len(train) == 0:
            raise ValueError("vgrnn needs at least one training snapshot")
        n = self.num_nodes_ = train.num_nodes
        use_x = self.cfg.use_attributes and train.x is not None
        graphs = [self._graph(e) for e in train.edges]
        with seeded_torch(self.seed):
            self.model_ = VGRNN(n, train.num_features if use_x else 0, self.cfg)
            xs = [self._x(train.x[t]) if use_x else None for t in range(len(train))]  # type: ignore[index]
            gen = torch.Generator().manual_seed(self.seed)
            opt = torch.optim.Adam(self.model_.parameters(), lr=self.cfg.lr)
            self.losses_: list[float] = []
            bar = tqdm(range(self.cfg.epochs), desc="vgrnn: train", disable=not self.progress, leave=False)
            for _ in bar:
                self.model_.train()
                opt.zero_grad()
                loss = self._sequence_loss(xs, graphs, gen)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), self.cfg.clip)
                opt.step()
                self.losses_.append(loss.item())
                bar.set_postfix(loss=f"{loss.item():.4f}")
            self.model_.eval()
            with torch.no_grad():
                h = self.model_.init_state()
                for x, (ei, ew, _) in zip(xs, graphs, strict=True):
                    h = self.model_.step(x, h, ei, ew).h
            self.h_ = h
        return self

    def _sequence_loss(self, xs: list[torch.Tensor | None], graphs: list[tuple], gen: torch.Generator) -> torch.Tensor:
        """Sum over training snapshots of (sampled edge NLL + KL) / N^2."""
        n = self.num_nodes_
        h = self.model_.init_state()
        total = torch.zeros(())
        for x, (ei, ew, targets) in zip(xs, graphs, strict=True):
            out = self.model_.step(x, h, ei, ew, generator=gen)
            h = out.h
            kl = kl_normal(out.enc_mean, out.enc_std, out.prior_mean, out.prior_std).sum()
            if targets.shape[1] == 0:  # an empty snapshot: only the KL term
                total = total + kl / n**2
                continue
            k = max(1, int(np.ceil(self.cfg.neg_ratio * targets.shape[1])))
            neg = sample_non_edges(targets, n, k, gen)
            nll = sampled_edge_nll(
                self.model_.edge_logits(out.z, targets), self.model_.edge_logits(out.z, neg), n * n
            )
            total = total + (nll + kl) / n**2
        return total

    def score_snapshot(self, edges: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """``-log sigmoid(mu_i . mu_j)`` per edge, then advance the recurrent state with this snapshot."""
        if not hasattr(self, "model_"):
            raise RuntimeError("call fit() before score_snapshot()")
        ei, ew, _ = self._graph(edges)
        pairs = torch.as_tensor(edges, dtype=torch.long)
        with seeded_torch(self.seed), torch.no_grad():
            out = self.model_.step(self._x(x), self.h_, ei, ew)
            z = out.enc_mean if self.cfg.score_from == "posterior" else out.prior_mean
            scores = F.softplus(-self.model_.edge_logits(z, pairs))
            self.h_ = out.h
        return scores.numpy().astype(np.float64)
