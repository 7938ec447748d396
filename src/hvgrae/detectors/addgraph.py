"""AddGraph as an anomalous-edge detector (Zheng et al., IJCAI 2019; network in ``nn/addgraph.py``).

Training (AddGraph, Algorithm 1): for each training snapshot t in order, H^t is computed from the window of
earlier states and A^t, every edge of t is paired with one selectively sampled negative, and one Adam step
minimises ``sum max(0, gamma + f(pos) - f(neg)) + lambda * sum ||theta||^2`` with f on H^t. States are
detached between snapshots (backpropagation through one step; the paper trains snapshot by snapshot).

The GCN reads A^t, the snapshot's own edges (paper), or with ``adjacency="cumulative"`` every edge seen so
far (what the public re-implementation github.com/Ljiajie/Addgraph does; with fixed-size chunks of first
occurrences, as in the ``taddy`` protocol, a snapshot alone is a sparse graph whose pairs never recur).

Online scoring: the edges of snapshot t are scored with H^{t-1} (``score_with="previous"``, the default)
or with H^t computed from snapshot t itself (``"current"``: the objective the model was trained on); then
H^t is computed from the snapshot as observed and the window moves on. The score is the logit
``beta (||a * h_i + b * h_j||^2 - mu)`` of the paper's f (same ranking). ``val`` is not used.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any, ClassVar, Self

import numpy as np
import torch
from tqdm import tqdm

from hvgrae.data.graph import DynamicGraph, undirected_keys
from hvgrae.detectors.base import Detector, register
from hvgrae.detectors.vgrnn import config_options, seeded_torch
from hvgrae.nn.addgraph import AddGraph, AddGraphConfig, selective_negative_sampling
from hvgrae.nn.vgrnn import symmetric_gcn_graph


@register("addgraph")
class AddGraphDetector(Detector):
    """AddGraph trained with selective negative sampling and the margin loss (see the module docstring).

    Options: ``seed``, ``progress`` and every field of :class:`~hvgrae.nn.addgraph.AddGraphConfig`
    (``epochs``, ``lr``, ``hidden``, ``window``, ``margin``, ``score_with``, ...).
    """

    options: ClassVar[tuple[str, ...]] = config_options(AddGraphConfig)

    def __init__(self, seed: int = 0, progress: bool = True, **config: Any) -> None:
        super().__init__(seed)
        self.progress = progress
        self.cfg = replace(AddGraphConfig(), **config)

    def config(self) -> dict[str, Any]:
        """Seed plus the full model/training configuration."""
        return {"seed": self.seed, **asdict(self.cfg)}

    def _x(self, x: np.ndarray | None) -> torch.Tensor | None:
        if self.model_.x_dim == 0:
            return None
        if x is None:
            raise ValueError("addgraph was fitted with node attributes; score_snapshot needs x of shape (N, D)")
        return torch.as_tensor(np.asarray(x, dtype=np.float32))

    def _graph(self, edges: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The GCN graph of the next snapshot: its own edges, or with ``adjacency="cumulative"`` all so far."""
        if self.cfg.adjacency == "cumulative":
            keys = np.unique(undirected_keys(edges[:, edges[0] != edges[1]], self.num_nodes_))
            self.seen_ = np.union1d(self.seen_, keys)
            edges = np.stack([self.seen_ // self.num_nodes_, self.seen_ % self.num_nodes_])
        return symmetric_gcn_graph(torch.as_tensor(edges, dtype=torch.long), self.num_nodes_, improved=False)

    def _advance(self, h: torch.Tensor) -> None:
        self.window_ = [*self.window_[1:], h]

    def fit(self, train: DynamicGraph, val: DynamicGraph | None = None) -> Self:
        """Train for ``epochs`` passes over the training snapshots, then roll the states through them."""
        if len(train) == 0:
            raise ValueError("addgraph needs at least one training snapshot")
        n = self.num_nodes_ = train.num_nodes
        use_x = self.cfg.use_attributes and train.x is not None
        self.seen_ = np.zeros(0, dtype=np.int64)
        graphs = [self._graph(e) for e in train.edges]
        positives = [torch.as_tensor(e[:, e[0] != e[1]], dtype=torch.long) for e in train.edges]
        with seeded_torch(self.seed):
            self.model_ = AddGraph(n, train.num_features if use_x else 0, self.cfg)
            xs = [self._x(train.x[t]) if use_x else None for t in range(len(train))]  # type: ignore[index]
            gen = torch.Generator().manual_seed(self.seed)
            opt = torch.optim.Adam(self.model_.parameters(), lr=self.cfg.lr)
            self.losses_: list[float] = []
            bar = tqdm(range(self.cfg.epochs), desc="addgraph: train", disable=not self.progress, leave=False)
            for _ in bar:
                self.model_.train()
                window = self.model_.initial_window()
                total = 0.0
                for x, (ei, ew), pos in zip(xs, graphs, positives, strict=True):
                    h = self.model_.step(window, ei, ew, x)
                    if pos.shape[1]:
                        loss = self._loss(h, pos, gen)
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
                        total += loss.item()
                    window = [*window[1:], h.detach()]
                self.losses_.append(total)
                bar.set_postfix(loss=f"{total:.4f}")
            self.model_.eval()
            self.window_ = self.model_.initial_window()
            with torch.no_grad():
                for x, (ei, ew) in zip(xs, graphs, strict=True):
                    self._advance(self.model_.step(self.window_, ei, ew, x))
        return self

    def _loss(self, h: torch.Tensor, pos: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Margin loss over (edge, corrupted edge) pairs plus L2 on every parameter (AddGraph, Eq. 9)."""
        neg, index, _ = selective_negative_sampling(pos, self.num_nodes_, gen)
        f = self.model_.scorer
        margin = torch.relu(self.cfg.margin + torch.sigmoid(f(h, pos[:, index])) - torch.sigmoid(f(h, neg)))
        l2 = sum(p.pow(2).sum() for p in self.model_.parameters())
        return margin.sum() + self.cfg.l2 * l2

    def score_snapshot(self, edges: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Logit of f(i, j) per edge with H^{t-1} (or H^t, see ``score_with``), then H^t joins the window."""
        if not hasattr(self, "model_"):
            raise RuntimeError("call fit() before score_snapshot()")
        ei, ew = self._graph(edges)
        pairs = torch.as_tensor(edges, dtype=torch.long)
        with seeded_torch(self.seed), torch.no_grad():
            h_next = self.model_.step(self.window_, ei, ew, self._x(x))
            h = self.window_[-1] if self.cfg.score_with == "previous" else h_next
            scores = self.model_.scorer(h, pairs)
            self._advance(h_next)
        return scores.numpy().astype(np.float64)
