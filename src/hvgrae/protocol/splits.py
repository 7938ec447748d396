"""Train / validation / test splits with injected anomalies, under protocols ``paper`` and ``taddy``.

See ``design/protocol.md`` (sections 3-4). Every split is a pure function of (graph, config): the seed
drives the training-edge sample, the clustering and the injection through independent child streams.

Labels in the returned graphs: 1 = injected anomaly, 0 = normal edge that is evaluated, -1 = context edge
that the detector sees but that is not evaluated (in cumulative mode, edges already present in the
previous snapshot: "old edges are history, not events").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from hvgrae.data.errors import DataError
from hvgrae.data.graph import DynamicGraph, stack_snapshots, undirected_keys
from hvgrae.protocol.injection import (
    INJECTIONS,
    anomaly_count,
    sample_anomalous_pairs,
    spectral_clusters,
)

PROTOCOLS = ("paper", "taddy")


@dataclass(frozen=True)
class ProtocolConfig:
    """Every choice of the evaluation protocol, recorded with each result."""

    protocol: str = "paper"  # "paper" (snapshots as loaded, last 10 test) or "taddy" (fixed-size edge chunks)
    anomaly_ratio: float = 0.05  # paper, Section V-A-3: 1%, 5%, 10%
    test_snapshots: int = 10  # paper: "test the models on the last 10 snapshots"
    train_ratio: float | None = None  # share of training edges kept; None = 0.5 (paper) or 1.0 (taddy)
    injection: str = "clustered"  # "clustered" (TADDY code) or "uniform" (NetWalk's MATLAB method)
    num_clusters: int = 42  # k of the spectral clustering in TADDY's code
    cluster_on: str = "train"  # "train" (no test leak; our default) or "all" (what that code does)
    count: str = "per_snapshot"  # "per_snapshot" (ratio x normal edges of each snapshot) or "global"
    snap_size: int = 1000  # taddy: edges per snapshot (1,000 for UCI)
    taddy_train_share: float = 0.5  # taddy: first half of the time-ordered stream is training
    seed: int = 0

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.protocol!r}; choose one of {PROTOCOLS}")
        if self.injection not in INJECTIONS:
            raise ValueError(f"unknown injection {self.injection!r}; choose one of {INJECTIONS}")
        if self.cluster_on not in ("train", "all"):
            raise ValueError("cluster_on must be 'train' or 'all'")
        if self.count not in ("per_snapshot", "global"):
            raise ValueError("count must be 'per_snapshot' or 'global'")
        if not 0 <= self.anomaly_ratio < 1:
            raise ValueError(f"anomaly_ratio must be in [0, 1), got {self.anomaly_ratio}")

    @property
    def effective_train_ratio(self) -> float:
        """The training-edge ratio in force (0.5 for ``paper``, 1.0 for ``taddy`` unless set)."""
        if self.train_ratio is not None:
            return self.train_ratio
        return 0.5 if self.protocol == "paper" else 1.0


@dataclass
class Split:
    """The three parts of one evaluation.

    Attributes:
        train: the training snapshots, each keeping ``train_ratio`` of its edges; all normal.
        val: aligned with ``train``: the held-out training edges plus injected anomalies (label 1), for model
            selection and threshold calibration; labelled like the test snapshots (held-out edges new at t: 0;
            in cumulative mode, those already present at t - 1: -1, context); ``None`` when ``train_ratio`` is 1.
        test: the test snapshots with injected anomalies (labels 1 / 0 / -1, see the module docstring).
        config: the protocol settings that produced this split.

    """

    train: DynamicGraph
    val: DynamicGraph | None
    test: DynamicGraph
    config: ProtocolConfig

    def summary(self) -> dict[str, Any]:
        """Sizes per part: snapshots, evaluated test edges and anomalies (overall and per snapshot)."""
        lab = self.test.label_list()
        return {
            "train_snapshots": len(self.train),
            "test_snapshots": len(self.test),
            "train_edges": int(sum(e.shape[1] for e in self.train.edges)),
            "test_edges": int(sum((y >= 0).sum() for y in lab)),
            "test_anomalies": int(sum((y == 1).sum() for y in lab)),
            "test_edges_per_snapshot": [int((y >= 0).sum()) for y in lab],
            "test_anomalies_per_snapshot": [int((y == 1).sum()) for y in lab],
        }


def make_split(graph: DynamicGraph, config: ProtocolConfig | None = None, **overrides: Any) -> Split:
    """Split ``graph`` and inject anomalies according to ``config`` (fields may be overridden by keyword)."""
    cfg = replace(config or ProtocolConfig(), **overrides)
    if cfg.protocol == "paper":
        return _paper_split(graph, cfg)
    return _taddy_split(graph, cfg)


def _streams(seed: int) -> tuple[np.random.Generator, ...]:
    """Independent generators for: training sample, val injection, test injection, clustering seed."""
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))


def _forbidden(graph: DynamicGraph) -> set[int]:
    """Undirected keys of every pair that exists anywhere in the data set (train or test)."""
    keys = undirected_keys(stack_snapshots(graph.edges), graph.num_nodes)
    if graph.stream is not None and len(graph.stream):
        s = np.stack([graph.stream.src, graph.stream.dst])
        keys = np.concatenate([keys, undirected_keys(s, graph.num_nodes)])
    return set(np.unique(keys).tolist())


def _clusters(cfg: ProtocolConfig, edges_train: np.ndarray, edges_all: np.ndarray, n: int, seed: int):
    if cfg.injection != "clustered":
        return None
    return spectral_clusters(edges_train if cfg.cluster_on == "train" else edges_all, n, cfg.num_clusters, seed)


def _inject(
    normal: np.ndarray,
    context: np.ndarray,
    n_anom: int,
    n: int,
    forbidden: set[int],
    rng: np.random.Generator,
    clusters: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """One snapshot: normal edges, context edges and ``n_anom`` anomalies, shuffled; returns (edges, labels)."""
    anom = sample_anomalous_pairs(n_anom, n, forbidden, rng, clusters)
    edges = np.concatenate([normal, context, anom], axis=1)
    labels = np.concatenate(
        [
            np.zeros(normal.shape[1], np.int8),
            -np.ones(context.shape[1], np.int8),
            np.ones(anom.shape[1], np.int8),
        ]
    )
    order = rng.permutation(edges.shape[1])
    return edges[:, order], labels[order]


def _counts(cfg: ProtocolConfig, normals: list[int], rng: np.random.Generator) -> list[int]:
    if cfg.count == "per_snapshot":
        return [anomaly_count(cfg.anomaly_ratio, m) for m in normals]
    total = int(round(cfg.anomaly_ratio * sum(normals)))
    where = rng.integers(0, len(normals), size=total)
    return np.bincount(where, minlength=len(normals)).tolist()


def _paper_split(graph: DynamicGraph, cfg: ProtocolConfig) -> Split:
    n, t_all = graph.num_nodes, len(graph)
    if t_all <= cfg.test_snapshots:
        raise DataError(
            f"{graph.name}: {t_all} snapshots, but the paper protocol tests on the last {cfg.test_snapshots}"
            " and needs at least one more for training"
        )
    r_train, r_val, r_test, r_clu = _streams(cfg.seed)
    t_train = t_all - cfg.test_snapshots
    ratio = cfg.effective_train_ratio
    kept, held = [], []
    for e in graph.edges[:t_train]:
        perm = r_train.permutation(e.shape[1])
        k = e.shape[1] if ratio >= 1 else max(1, int(round(ratio * e.shape[1])))
        kept.append(e[:, np.sort(perm[:k])])
        held.append(e[:, np.sort(perm[k:])])
    cumulative = graph.info.get("mode") == "cumulative"
    clusters = _clusters(
        cfg, stack_snapshots(kept), stack_snapshots(graph.edges), n, int(r_clu.integers(2**31))
    )
    forbidden = _forbidden(graph)

    def new_and_old(e: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Edges of ``e`` new at snapshot t (evaluated) and, in cumulative mode, those already in t - 1 (context)."""
        if not cumulative or t == 0:
            return e, np.zeros((2, 0), np.int64)
        old = np.isin(e[0] * n + e[1], graph.edges[t - 1][0] * n + graph.edges[t - 1][1])
        return e[:, ~old], e[:, old]

    train = replace(graph[:t_train], edges=kept, labels=None)
    val = None
    if ratio < 1:
        # the validation task mirrors the test task: held-out edges that are new at t are the normal edges, held-out
        # edges already present at t - 1 are context (seen, not evaluated), as in the test snapshots below
        val_parts = [new_and_old(h, t) for t, h in enumerate(held)]
        val_counts = _counts(cfg, [m.shape[1] for m, _ in val_parts], r_val)
        val_edges, val_labels = [], []
        for (m, ctx), c in zip(val_parts, val_counts, strict=True):
            e, y = _inject(m, ctx, c, n, forbidden, r_val, clusters)
            val_edges.append(e)
            val_labels.append(y)
        val = replace(graph[:t_train], edges=val_edges, labels=val_labels)

    normals, contexts = [], []
    for t in range(t_train, t_all):
        m, ctx = new_and_old(graph.edges[t], t)
        normals.append(m)
        contexts.append(ctx)
    test_counts = _counts(cfg, [m.shape[1] for m in normals], r_test)
    test_edges, test_labels = [], []
    for m, ctx, c in zip(normals, contexts, test_counts, strict=True):
        e, y = _inject(m, ctx, c, n, forbidden, r_test, clusters)
        test_edges.append(e)
        test_labels.append(y)
    test = replace(graph[t_train:], edges=test_edges, labels=test_labels)
    return Split(train=train, val=val, test=test, config=cfg)


def _first_occurrences(graph: DynamicGraph) -> tuple[np.ndarray, np.ndarray]:
    """Undirected, loop-free, first occurrence of each pair, in time order: (edges (2, K), times (K,))."""
    if graph.stream is None:
        raise DataError(f"{graph.name}: the taddy protocol needs the raw edge stream, which this graph lacks")
    s = graph.stream
    order = np.argsort(s.time, kind="stable")
    src, dst, time = s.src[order], s.dst[order], s.time[order]
    keep = src != dst
    src, dst, time = src[keep], dst[keep], time[keep]
    keys = undirected_keys(np.stack([src, dst]), graph.num_nodes)
    _, first = np.unique(keys, return_index=True)
    first = np.sort(first)
    return np.stack([src[first], dst[first]]), time[first]


def _chunks(edges: np.ndarray, times: np.ndarray, size: int) -> tuple[list[np.ndarray], np.ndarray]:
    starts = list(range(0, edges.shape[1], size))
    return [edges[:, i : i + size] for i in starts], np.array([times[i] for i in starts], dtype=np.float64)


def _taddy_split(graph: DynamicGraph, cfg: ProtocolConfig) -> Split:
    n = graph.num_nodes
    r_train, r_val, r_test, r_clu = _streams(cfg.seed)
    edges, times = _first_occurrences(graph)
    k = edges.shape[1]
    n_train = int(np.floor(cfg.taddy_train_share * k))
    if n_train < 1 or n_train >= k:
        raise DataError(f"{graph.name}: {k} distinct edges are too few for the taddy protocol")
    train_e, test_e = edges[:, :n_train], edges[:, n_train:]
    train_t, test_t = times[:n_train], times[n_train:]
    clusters = _clusters(cfg, train_e, edges, n, int(r_clu.integers(2**31)))
    forbidden = set(undirected_keys(edges, n).tolist())
    forbidden |= _forbidden(graph)

    ratio = cfg.effective_train_ratio
    chunks, starts = _chunks(train_e, train_t, cfg.snap_size)
    kept, held = [], []
    for e in chunks:
        perm = r_train.permutation(e.shape[1])
        m = e.shape[1] if ratio >= 1 else max(1, int(round(ratio * e.shape[1])))
        kept.append(e[:, np.sort(perm[:m])])
        held.append(e[:, np.sort(perm[m:])])
    base = replace(graph, x=None, labels=None, info={**graph.info, "mode": "taddy", "snap_size": cfg.snap_size})
    train = replace(base, edges=kept, start_times=starts)
    val = None
    if ratio < 1:
        val_edges, val_labels = [], []
        for h in held:
            e, y = _inject(h, np.zeros((2, 0), np.int64), anomaly_count(cfg.anomaly_ratio, h.shape[1]),
                           n, forbidden, r_val, clusters)
            val_edges.append(e)
            val_labels.append(y)
        val = replace(train, edges=val_edges, labels=val_labels)

    # anomalies at uniformly random positions of the test stream, then fixed-size snapshots
    n_anom = int(np.floor(cfg.anomaly_ratio * test_e.shape[1]))
    anom = sample_anomalous_pairs(n_anom, n, forbidden, r_test, clusters)
    total = test_e.shape[1] + n_anom
    is_anom = np.zeros(total, dtype=bool)
    is_anom[r_test.choice(total, size=n_anom, replace=False)] = True
    stream_e = np.zeros((2, total), dtype=np.int64)
    stream_e[:, ~is_anom] = test_e
    stream_e[:, is_anom] = anom
    # an anomaly takes the time of the next normal edge (or the last one at the end of the stream)
    normal_pos = np.flatnonzero(~is_anom)
    nxt = np.searchsorted(normal_pos, np.arange(total)).clip(max=len(normal_pos) - 1)
    stream_t = test_t[nxt]
    test_chunks, test_starts = _chunks(stream_e, stream_t, cfg.snap_size)
    label_chunks = [is_anom[i : i + cfg.snap_size].astype(np.int8) for i in range(0, total, cfg.snap_size)]
    test = replace(base, edges=test_chunks, start_times=test_starts, labels=label_chunks)
    return Split(train=train, val=val, test=test, config=cfg)


def config_dict(cfg: ProtocolConfig) -> dict[str, Any]:
    """The protocol settings as a plain dict (for results and exports)."""
    return asdict(cfg)
