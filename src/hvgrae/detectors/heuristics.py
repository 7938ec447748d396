"""Similarity heuristics: the sanity floor every learned model is compared with (not in the paper).

Each scores an edge (i, j) by how unexpected it is given the history (training snapshots plus the test
snapshots already seen): the negated common-neighbour count, Adamic-Adar index, degree product, or number
of earlier snapshots containing the pair. The graph is taken as undirected.

With ``use_current=True`` the current snapshot's other edges are added to the history before scoring: the
context that a reconstruction model (H-VGRAE, VGRNN, TADDY) also sees when it scores snapshot t.
scipy sparse matrices do the work; no N x N dense array is built.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from hvgrae.data.graph import DynamicGraph, undirected_keys
from hvgrae.detectors.base import Detector, register


class HistoryHeuristic(Detector):
    """Shared state: the undirected adjacency of the history and per-pair snapshot counts."""

    options: ClassVar[tuple[str, ...]] = ("seed", "use_current")

    def __init__(self, seed: int = 0, use_current: bool = False) -> None:
        super().__init__(seed)
        self.use_current = use_current

    def fit(self, train: DynamicGraph, val: DynamicGraph | None = None) -> Self:
        """Start the history with the training snapshots."""
        self.num_nodes_ = train.num_nodes
        self.adj_ = sp.csr_matrix((train.num_nodes, train.num_nodes), dtype=np.float64)
        self.pair_counts_: dict[int, int] = {}
        for e in train.edges:
            self._add(e)
        return self

    def _sym(self, edges: np.ndarray) -> sp.csr_matrix:
        n = self.num_nodes_
        keep = edges[0] != edges[1]
        s, d = edges[0, keep], edges[1, keep]
        a = sp.coo_matrix((np.ones(2 * s.size), (np.r_[s, d], np.r_[d, s])), shape=(n, n)).tocsr()
        a.data[:] = 1.0
        return a

    def _add(self, edges: np.ndarray) -> None:
        a = self.adj_ + self._sym(edges)
        a.data[:] = 1.0
        self.adj_ = a
        for k in np.unique(undirected_keys(edges, self.num_nodes_)).tolist():
            self.pair_counts_[k] = self.pair_counts_.get(k, 0) + 1

    def score_snapshot(self, edges: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Score the edges against the history (plus the current snapshot if ``use_current``), then add them."""
        adj = self.adj_
        if self.use_current:
            adj = adj + self._sym(edges)
            adj.data[:] = 1.0
        scores = self._score(adj, edges)
        self._add(edges)
        return scores

    def _score(self, adj: sp.csr_matrix, edges: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@register("common-neighbors")
class CommonNeighbors(HistoryHeuristic):
    """Score = -|N(i) & N(j)| in the history graph."""

    def _score(self, adj: sp.csr_matrix, edges: np.ndarray) -> np.ndarray:
        return -np.asarray(adj[edges[0]].multiply(adj[edges[1]]).sum(axis=1)).ravel()


@register("adamic-adar")
class AdamicAdar(HistoryHeuristic):
    """Score = -sum over common neighbours k of 1 / log(deg k) (Adamic & Adar, 2003)."""

    def _score(self, adj: sp.csr_matrix, edges: np.ndarray) -> np.ndarray:
        deg = np.asarray(adj.sum(axis=1)).ravel()
        w = np.where(deg > 1, 1.0 / np.log(np.maximum(deg, 2)), 0.0)
        return -np.asarray(adj[edges[0]].multiply(adj[edges[1]]) @ w).ravel()


@register("preferential-attachment")
class PreferentialAttachment(HistoryHeuristic):
    """Score = -deg(i) * deg(j), degrees excluding the scored pair itself."""

    def _score(self, adj: sp.csr_matrix, edges: np.ndarray) -> np.ndarray:
        deg = np.asarray(adj.sum(axis=1)).ravel()
        own = np.asarray(adj[edges[0], edges[1]]).ravel()  # 1 if the pair itself is in the graph
        return -(deg[edges[0]] - own) * (deg[edges[1]] - own)


@register("edge-history")
class EdgeHistory(HistoryHeuristic):
    """Score = -(number of earlier snapshots in which the pair occurred, either direction)."""

    def _score(self, adj: sp.csr_matrix, edges: np.ndarray) -> np.ndarray:
        keys = undirected_keys(edges, self.num_nodes_).tolist()
        return -np.array([self.pair_counts_.get(k, 0) for k in keys], dtype=np.float64)
