"""The dynamic-network container: a fixed node set, T snapshots of directed edges, optional attributes.

Storage is plain numpy (one ``(2, E_t)`` int64 array per snapshot) so the data and protocol layers stay
free of torch; :meth:`DynamicGraph.to_pyg` and iteration give PyG ``Data`` objects for the models.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hvgrae.data.errors import DataError


@dataclass(frozen=True)
class EdgeStream:
    """A raw, time-ordered stream of directed interactions, ids already remapped to ``0..N-1``.

    Attributes:
        src, dst: ``(K,)`` int64 node indices.
        time: ``(K,)`` float64 timestamps in the source file's own units (seconds for Unix time).

    """

    src: np.ndarray
    dst: np.ndarray
    time: np.ndarray

    def __len__(self) -> int:
        return int(self.src.shape[0])


@dataclass
class DynamicGraph:
    """A dynamic network G = {G(t)}: N nodes fixed over time, T snapshots (paper, Section III-A).

    Attributes:
        name: data-set name (``uci_message``, ``synthetic``, ...).
        num_nodes: N, the size of the fixed node set.
        edges: T arrays of shape ``(2, E_t)``, int64, the distinct directed edges (src, dst) of snapshot t.
        x: optional T arrays of shape ``(N, D)`` float32, node attributes X(t); ``None`` = no attributes.
        labels: optional T arrays of shape ``(E_t,)`` int8, 1 for an injected anomalous edge.
        start_times: ``(T,)`` float64, start of each snapshot in the source file's time units.
        node_ids: ``(N,)`` the original node ids, as in the source file.
        stream: the raw interaction stream the snapshots were built from (needed by the ``taddy`` protocol).
        info: free-form provenance (snapshot mode, period, filters, duplicates and self loops dropped, ...).

    """

    name: str
    num_nodes: int
    edges: list[np.ndarray]
    start_times: np.ndarray
    node_ids: np.ndarray
    x: list[np.ndarray] | None = None
    labels: list[np.ndarray] | None = None
    stream: EdgeStream | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.start_times = np.asarray(self.start_times, dtype=np.float64)
        t = len(self.edges)
        if self.start_times.shape != (t,):
            raise DataError(f"{self.name}: {t} snapshots but {self.start_times.shape[0]} start times")
        for i, e in enumerate(self.edges):
            if e.ndim != 2 or e.shape[0] != 2:
                raise DataError(f"{self.name}: snapshot {i} edges must have shape (2, E), got {e.shape}")
            if e.size and (e.min() < 0 or e.max() >= self.num_nodes):
                raise DataError(f"{self.name}: snapshot {i} has node indices outside 0..{self.num_nodes - 1}")
        if self.x is not None:
            if len(self.x) != t:
                raise DataError(f"{self.name}: {t} snapshots but {len(self.x)} attribute matrices")
            for i, xi in enumerate(self.x):
                if xi.shape[0] != self.num_nodes:
                    raise DataError(f"{self.name}: X({i}) has {xi.shape[0]} rows, expected N={self.num_nodes}")
                if not np.isfinite(xi).all():
                    r, c = np.argwhere(~np.isfinite(xi))[0]
                    raise DataError(f"{self.name}: X({i}) has a NaN/inf attribute at node {r}, column {c}")
        if self.labels is not None:
            if len(self.labels) != t:
                raise DataError(f"{self.name}: {t} snapshots but {len(self.labels)} label arrays")
            for i, (e, y) in enumerate(zip(self.edges, self.labels, strict=True)):
                if y.shape != (e.shape[1],):
                    raise DataError(f"{self.name}: snapshot {i} has {e.shape[1]} edges but {y.shape} labels")

    # ------------------------------------------------------------------ basic protocol
    def __len__(self) -> int:
        return len(self.edges)

    @property
    def num_snapshots(self) -> int:
        """T, the number of snapshots."""
        return len(self.edges)

    @property
    def num_features(self) -> int:
        """D, the attribute dimension (0 without attributes)."""
        return 0 if self.x is None else int(self.x[0].shape[1])

    def __getitem__(self, index: int | slice) -> DynamicGraph:
        """Slice snapshots; an int gives a one-snapshot graph, so slicing always keeps the type."""
        if isinstance(index, int):
            i = index + len(self) if index < 0 else index
            if not 0 <= i < len(self):
                raise IndexError(f"snapshot {index} out of range for {len(self)} snapshots")
            index = slice(i, i + 1)
        return replace(
            self,
            edges=self.edges[index],
            start_times=self.start_times[index],
            x=None if self.x is None else self.x[index],
            labels=None if self.labels is None else self.labels[index],
            info=dict(self.info),
        )

    def __iter__(self) -> Iterator[Any]:
        """Yield one PyG ``Data`` per snapshot (see :meth:`to_pyg`)."""
        for t in range(len(self)):
            yield self.to_pyg(t)

    def to_pyg(self, t: int) -> Any:
        """Snapshot t as a PyG ``Data``: ``edge_index (2, E_t)``, ``x (N, D)`` or None, ``y (E_t,)``."""
        import torch
        from torch_geometric.data import Data

        data = Data(edge_index=torch.from_numpy(self.edges[t].astype(np.int64)), num_nodes=self.num_nodes)
        if self.x is not None:
            data.x = torch.from_numpy(np.asarray(self.x[t], dtype=np.float32))
        if self.labels is not None:
            data.y = torch.from_numpy(self.labels[t].astype(np.int64))
        data.t = t
        return data

    # ------------------------------------------------------------------ helpers
    def label_list(self) -> list[np.ndarray]:
        """Per-snapshot labels, zeros where none were injected."""
        if self.labels is not None:
            return self.labels
        return [np.zeros(e.shape[1], dtype=np.int8) for e in self.edges]

    def concat(self, other: DynamicGraph) -> DynamicGraph:
        """This graph's snapshots followed by ``other``'s (same node set)."""
        if other.num_nodes != self.num_nodes:
            raise DataError(f"cannot concatenate graphs with {self.num_nodes} and {other.num_nodes} nodes")
        if (self.x is None) != (other.x is None):
            raise DataError("cannot concatenate a graph with attributes and one without")
        has_labels = self.labels is not None or other.labels is not None
        return replace(
            self,
            edges=self.edges + other.edges,
            start_times=np.concatenate([self.start_times, other.start_times]),
            x=None if self.x is None else self.x + other.x,  # type: ignore[operator]
            labels=(self.label_list() + other.label_list()) if has_labels else None,
            info=dict(self.info),
        )

    def stats(self) -> dict[str, Any]:
        """The paper's Table I statistics for this graph (density = mean over t of E_t / (N (N - 1)))."""
        counts = np.array([e.shape[1] for e in self.edges])
        n = self.num_nodes
        active = len(np.unique(np.concatenate(self.edges, axis=1))) if counts.sum() else 0
        return {
            "snapshots": len(self),
            "nodes": n,
            "active_nodes": active,
            "edges_min": int(counts.min()) if len(counts) else 0,
            "edges_max": int(counts.max()) if len(counts) else 0,
            "density": float((counts / (n * (n - 1))).mean()) if len(counts) and n > 1 else 0.0,
            "attribute_dim": self.num_features,
        }


def unique_edges(src: np.ndarray, dst: np.ndarray, num_nodes: int) -> np.ndarray:
    """Distinct directed pairs of the given endpoints as a ``(2, E)`` array, sorted by (src, dst)."""
    key = np.unique(src.astype(np.int64) * num_nodes + dst.astype(np.int64))
    return np.stack([key // num_nodes, key % num_nodes])


def edge_keys(edges: np.ndarray, num_nodes: int) -> np.ndarray:
    """Encode ``(2, E)`` directed edges as int64 keys ``src * N + dst`` (for set operations)."""
    return edges[0].astype(np.int64) * num_nodes + edges[1].astype(np.int64)


def undirected_keys(edges: np.ndarray, num_nodes: int) -> np.ndarray:
    """Encode edges ignoring direction: ``min * N + max``."""
    lo = np.minimum(edges[0], edges[1]).astype(np.int64)
    hi = np.maximum(edges[0], edges[1]).astype(np.int64)
    return lo * num_nodes + hi


def stack_snapshots(edges: Sequence[np.ndarray]) -> np.ndarray:
    """All snapshots' edges concatenated into one ``(2, sum E_t)`` array."""
    if not edges:
        return np.zeros((2, 0), dtype=np.int64)
    return np.concatenate(list(edges), axis=1)
