"""Streaming baselines: GOutlier and CM-Sketch (the paper's Table II) and MIDAS-R (not in the paper).

All three read the dynamic graph as one edge stream, snapshot after snapshot: :meth:`fit` streams the
training snapshots through the detector (building its summaries; no labels are used), and
:meth:`score_snapshot` scores the next snapshot and then adds it. None of them uses node attributes (the paper,
Section V-A-2: "GOutlier/CM-Sketch cannot use node attributes"). A snapshot holds distinct edges in no
particular order, so wherever a method processes edges one at a time, the order inside a snapshot is a seeded
random permutation. Every random choice comes from numpy generators spawned from ``seed``.

Neither GOutlier nor CM-Sketch has public code, and the full text of either paper was not available to us
(only their abstracts and the H-VGRAE paper's one-paragraph descriptions). Every formula below is therefore
our reading, written out with the reason for it; the defaults we chose are marked "our choice". MIDAS-R follows
the authors' reference implementation line by line, except for the snapshot semantics noted in its class.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from hvgrae.data.graph import DynamicGraph
from hvgrae.detectors.base import Detector, register
from hvgrae.detectors.sketch import CountMinSketch


def _options(config_type: type) -> tuple[str, ...]:
    """The CLI options of a streaming detector: ``seed`` and every field of its config dataclass."""
    return ("seed", *(f.name for f in fields(config_type)))


def _pairs(edges: np.ndarray, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(2, E)`` edges and return their undirected endpoints ``(lo, hi)``, each ``(E,)`` int64."""
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise ValueError(f"edges must have shape (2, E), got {edges.shape}")
    if edges.size and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValueError(f"edge endpoints must lie in 0..{num_nodes - 1} (the nodes seen by fit)")
    e = edges.astype(np.int64)
    return np.minimum(e[0], e[1]), np.maximum(e[0], e[1])


def _distinct_pairs(lo: np.ndarray, hi: np.ndarray, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct loop-free undirected pairs among ``(lo, hi)``: what one snapshot adds to a summary."""
    key = np.unique((lo * num_nodes + hi)[lo != hi])
    return key // num_nodes, key % num_nodes


def _adjacency(lo: np.ndarray, hi: np.ndarray, num_nodes: int) -> sp.csr_matrix:
    """Symmetric ``(N, N)`` 0/1 adjacency of distinct loop-free pairs ``(lo, hi)``."""
    return sp.csr_matrix((np.ones(2 * lo.size), (np.r_[lo, hi], np.r_[hi, lo])), shape=(num_nodes, num_nodes))


class StreamingDetector(Detector):
    """Shared plumbing: a frozen config built from keyword options (``make_detector`` passes them)."""

    config_type: ClassVar[type]

    def __init__(self, seed: int = 0, **config: Any) -> None:
        super().__init__(seed)
        self.cfg = replace(self.config_type(), **config)

    def config(self) -> dict[str, Any]:
        """Seed plus every field of the configuration."""
        return {"seed": self.seed, **asdict(self.cfg)}

    def _check_fitted(self) -> None:
        if not hasattr(self, "num_nodes_"):
            raise RuntimeError(f"{self.name}: call fit(train) before score_snapshot")


# ====================================================================================== GOutlier
@dataclass(frozen=True)
class GOutlierConfig:
    """GOutlier settings (Aggarwal, Zhao, Yu, ICDE 2011). The paper's own values could not be checked."""

    reservoir_size: int = 1000  # edges per structural summary (bias rate 1 / size); our choice
    num_summaries: int = 10  # k, independent structural summaries whose fits are averaged; our choice
    num_partitions: int = 20  # P: sampled nodes split into >= P partitions of <= ceil(V / P) nodes; our choice

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 1:
                raise ValueError(f"GOutlier {f.name} must be >= 1, got {getattr(self, f.name)}")


class BiasedReservoir:
    """Aggarwal's memory-less biased reservoir for an exponential bias of rate lambda = 1 / n (VLDB 2006, "On
    biased reservoir sampling in the presence of stream evolution"), of capacity n, holding undirected edges.

    Every arriving edge enters. With probability F = size / n (the fill fraction) it overwrites a uniformly
    chosen resident, otherwise it is appended. An edge that arrived r edges ago therefore survives with
    probability about (1 - 1/n)^r ~ exp(-r / n): the sample favours recent edges, as GOutlier's structural
    summaries must ("dynamic" partitions that follow the stream). Each resident carries a uniform random
    priority drawn on arrival (its sort key), which orders the contraction in :func:`structural_partitions`.
    """

    def __init__(self, capacity: int, rng: np.random.Generator) -> None:
        self.capacity = capacity
        self.rng = rng
        self.edges = np.zeros((2, capacity), dtype=np.int64)
        self.priority = np.zeros(capacity, dtype=np.float64)
        self.size = 0

    @property
    def sample(self) -> np.ndarray:
        """The resident edges, ``(2, size)``."""
        return self.edges[:, : self.size]

    def insert(self, edges: np.ndarray) -> None:
        """Stream the ``(2, M)`` edges in, in column order."""
        m = edges.shape[1]
        keys = self.rng.random(m)
        coin, pick = self.rng.random(m), self.rng.random(m)
        i = 0
        while self.size < self.capacity and i < m:  # filling: F < 1, sequential by nature
            if coin[i] * self.capacity < self.size:
                slot = int(pick[i] * self.size)
            else:
                slot = self.size
                self.size += 1
            self.edges[:, slot], self.priority[slot] = edges[:, i], keys[i]
            i += 1
        if i < m:  # full (F = 1): every arrival overwrites a uniform slot; the last writer of a slot wins
            slots = self.rng.integers(0, self.capacity, size=m - i)
            hit, last_rev = np.unique(slots[::-1], return_index=True)
            src = i + (m - i - 1 - last_rev)
            self.edges[:, hit], self.priority[hit] = edges[:, src], keys[src]


def structural_partitions(sample: np.ndarray, priority: np.ndarray, num_nodes: int, max_size: int) -> np.ndarray:
    """Partition label per node, ``(N,)`` int64 in ``0..Q-1``: the connected components of the sampled edges,
    contracted in priority order (union-find) and skipping any edge that would join two components into one of
    more than ``max_size`` nodes. Nodes without a sampled edge are singletons.

    With ``max_size >= N`` this is exactly the connected components of the sample. Why the size bound: the
    components of a random edge sample are either many tiny pieces (a sparse sample) or one giant component
    that swallows every community (a dense one, by percolation); neither separates communities, and GOutlier
    needs partitions large enough for robust statistics yet bounded. Contracting a random order of edges under
    a size bound is Karger's random contraction with a balance constraint: it prefers dense regions, since
    they hold most of the edges. (The paper bounds its partitions too; we could not check its exact rule.)
    """
    nodes, inv = np.unique(sample, return_inverse=True)
    inv = inv.reshape(2, -1)
    order = np.argsort(priority, kind="stable")
    parent = list(range(len(nodes)))
    size = [1] * len(nodes)
    for a, b in zip(inv[0, order].tolist(), inv[1, order].tolist(), strict=True):
        while parent[a] != a:  # find with path halving
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a == b or size[a] + size[b] > max_size:
            continue
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
    root = np.asarray(parent, dtype=np.int64)
    while not np.array_equal(root, root[root]):  # pointer jumping to the final roots
        root = root[root]
    label = np.arange(num_nodes, dtype=np.int64) + len(nodes)  # untouched nodes: their own label
    label[nodes] = root
    return np.unique(label, return_inverse=True)[1].astype(np.int64)


def partition_fit(labels: np.ndarray, history: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Likelihood fit of each edge (lo, hi) under one partitioning: ``(E,)`` probabilities.

    The edge-generation model of one structural summary: an edge falls between partitions a and b with
    probability n_ab / n (their share of the n edges of the history), and then joins a node pair drawn
    uniformly among the pairs(a, b) = |a||b| (a != b) or |a|(|a|-1)/2 (a = b) pairs they offer, so
    fit(i, j) = n_ab / (n * pairs(a, b)) with a, b the partitions of i and j. Dividing by the pair count turns
    "how often do these partitions interact" into the probability of this particular edge: without it, any
    edge inside a large partition would look normal. Counts come from the whole stream so far (``history``:
    each distinct pair once per snapshot in which it occurs), not from the sample alone: the sample's own
    edges lie inside its components by construction, so in-sample counts between partitions would be zero.

    Args:
        labels: ``(N,)`` partition of the nodes, values ``0..Q-1``.
        history: ``(N, N)`` symmetric edge counts of the stream so far.
        lo: ``(E,)`` first endpoints of the edges to fit.
        hi: ``(E,)`` second endpoints.

    """
    total = history.sum() / 2
    if total == 0:
        return np.zeros(lo.shape[0])
    n = labels.shape[0]
    q = int(labels.max()) + 1
    member = sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, q))
    blocks = (member.T @ history @ member).tocsr()  # (Q, Q): edges between a != b; twice those inside a
    a, b = labels[lo], labels[hi]
    n_ab = np.asarray(blocks[a, b]).ravel()
    size = np.bincount(labels, minlength=q).astype(np.float64)
    same = a == b
    n_ab = np.where(same, n_ab / 2, n_ab)
    pairs = np.where(same, size[a] * (size[a] - 1) / 2, size[a] * size[b])
    return np.where(pairs > 0, n_ab / (total * np.maximum(pairs, 1)), 0.0)


@register("goutlier")
class GOutlier(StreamingDetector):
    """GOutlier (Aggarwal, Zhao, Yu, ICDE 2011): edge fit under k structural summaries of the stream.

    Our reading of the method, each step with its reason:

    1. k structural summaries (``num_summaries``), each a biased reservoir of ``reservoir_size`` recent
       undirected edges (:class:`BiasedReservoir`), fed every snapshot's distinct pairs in a random order.
    2. Each summary partitions the nodes by the connected components of its sample, with partitions bounded
       so that they are neither fragments nor one giant component (:func:`structural_partitions`): the V
       nodes of the sample fall into at least ``num_partitions`` partitions of at most ceil(V / P) nodes.
    3. The fit of an edge (i, j) under one summary is the probability of that edge in the summary's
       edge-generation model (:func:`partition_fit`); the fit is averaged over the k summaries, which
       smooths the randomness of any single sample (the H-VGRAE paper: "a generative model for edges in a
       node cluster").
    4. Low fit = outlier. Scores are standardised against the running distribution of all fits computed
       so far (training snapshots included): score = (mean - fit) / std, "how many standard deviations below
       the usual fit", which is comparable across snapshots. The statistics are updated after each snapshot
       is scored, so a snapshot never standardises itself.

    Edge direction is ignored (structural connectivity). Memory: k reservoirs plus the history's sparse
    counts (O(distinct pairs)). A strictly streaming version would keep partition-level counts and patch them
    when partitions change; we recompute them exactly from the history instead, which is simpler and exact.
    """

    config_type: ClassVar[type] = GOutlierConfig
    options: ClassVar[tuple[str, ...]] = _options(GOutlierConfig)
    cfg: GOutlierConfig

    def fit(self, train: DynamicGraph, val: DynamicGraph | None = None) -> Self:
        """Stream the training snapshots through the summaries (``val`` is not used)."""
        n = train.num_nodes
        self.num_nodes_ = n
        streams = np.random.SeedSequence(self.seed).spawn(self.cfg.num_summaries)
        self.reservoirs_ = [BiasedReservoir(self.cfg.reservoir_size, np.random.default_rng(s)) for s in streams]
        self.partitions_ = [np.arange(n, dtype=np.int64) for _ in self.reservoirs_]
        self.history_ = sp.csr_matrix((n, n), dtype=np.float64)
        self.fit_count_, self.fit_mean_, self.fit_m2_ = 0, 0.0, 0.0  # running fit statistics (Chan et al.)
        for e in train.edges:
            self._step(e)
        return self

    def score_snapshot(self, edges: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Standardised low-fit score of each edge, ``(E,)``, given the stream so far; then add the snapshot."""
        self._check_fitted()
        return self._step(edges)

    def edge_fit(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Fit of each edge (lo, hi), ``(E,)``, averaged over the k summaries."""
        fits = [partition_fit(labels, self.history_, lo, hi) for labels in self.partitions_]
        return np.mean(fits, axis=0)

    def _step(self, edges: np.ndarray) -> np.ndarray:
        lo, hi = _pairs(edges, self.num_nodes_)
        fit = self.edge_fit(lo, hi)
        if self.fit_count_ > 1:
            std = math.sqrt(self.fit_m2_ / self.fit_count_)
            score = (self.fit_mean_ - fit) / (std if std > 0 else 1.0)
        else:  # no statistics yet: same order as any standardisation
            score = -fit
        if self.history_.nnz and fit.size:
            self._update_statistics(fit)
        self._observe(lo, hi)
        return score

    def _update_statistics(self, fit: np.ndarray) -> None:
        """Merge a batch into the running mean and sum of squared deviations (Chan, Golub, LeVeque 1979)."""
        m, mean_b, m2_b = fit.size, float(fit.mean()), float(((fit - fit.mean()) ** 2).sum())
        n = self.fit_count_
        delta = mean_b - self.fit_mean_
        self.fit_mean_ += delta * m / (n + m)
        self.fit_m2_ += m2_b + delta**2 * n * m / (n + m)
        self.fit_count_ = n + m

    def _observe(self, lo: np.ndarray, hi: np.ndarray) -> None:
        n = self.num_nodes_
        lo, hi = _distinct_pairs(lo, hi, n)
        self.history_ = self.history_ + _adjacency(lo, hi, n)
        stream = np.stack([lo, hi])
        for s, reservoir in enumerate(self.reservoirs_):
            reservoir.insert(stream[:, reservoir.rng.permutation(stream.shape[1])])
            touched = np.unique(reservoir.sample).size
            max_size = max(1, math.ceil(touched / self.cfg.num_partitions))
            self.partitions_[s] = structural_partitions(
                reservoir.sample, reservoir.priority[: reservoir.size], n, max_size
            )


# ====================================================================================== CM-Sketch
@dataclass(frozen=True)
class CMSketchConfig:
    """CM-Sketch settings (Ranshous, Harenberg, Sharma, Samatova, SDM 2016). Paper values not checked."""

    eps: float = 1e-4  # count-min error factor: width ceil(e / eps) = 27,183 counters per row; our choice
    delta: float = 0.01  # count-min failure probability: depth ceil(ln(1 / delta)) = 5 rows; our choice
    global_weight: float = 0.5  # w in C = w G + (1 - w) L (global vs local likelihood); our choice

    def __post_init__(self) -> None:
        if not (0 < self.eps < 1 and 0 < self.delta < 1):
            raise ValueError(f"CM-Sketch eps and delta must lie in (0, 1), got {self.eps}, {self.delta}")
        if not 0 <= self.global_weight <= 1:
            raise ValueError(f"CM-Sketch global_weight must lie in [0, 1], got {self.global_weight}")


@register("cm-sketch")
class CMSketch(StreamingDetector):
    """CM-Sketch (Ranshous et al., SDM 2016): global and local likelihood of an edge, counts in count-min sketches.

    For an undirected edge (u, v) given the stream so far (m edges, node frequency d, pair frequency f):

    - Global likelihood (preferential attachment and the edge's own history): the next edge of the stream
      repeats a past edge with probability rho (the observed share of arrivals that were repeats) and is
      otherwise drawn by preferential attachment, so
      P_G(u, v) = rho f_uv / m + (1 - rho) d_u d_v / (2 m^2),
      where d_u d_v / (2 m^2) is the chance that two degree-proportional endpoint draws give {u, v}. It is
      normalised against a uniformly random pair, P_0 = 2 / (N (N - 1)), as the posterior probability of the
      global model under equal priors: G = P_G / (P_G + P_0) in [0, 1]. This is the scale-free way we found to
      put a pair probability (of order 1/m) on the same [0, 1] scale as the local term.
    - Local likelihood (homophily): the Jaccard overlap of the endpoints' neighbourhoods,
      L = |N(u) & N(v)| / |N(u) | N(v)|, the probability that a random neighbour of either endpoint is shared.
    - Score = 1 - (w G + (1 - w) L): one minus the normalised combined likelihood.

    d (node frequencies) and f (pair frequencies) live in count-min sketches of size (eps, delta), so they
    overestimate by at most eps times the stream total with probability 1 - delta (and never underestimate);
    m is exact. Each snapshot adds each distinct undirected pair once (f counts the snapshots in which the
    pair occurred; d the pairs a node took part in). The neighbourhoods are kept exactly in a sparse
    adjacency: we could not check how the paper sketches them, and exact sets can only make L more accurate.
    """

    config_type: ClassVar[type] = CMSketchConfig
    options: ClassVar[tuple[str, ...]] = _options(CMSketchConfig)
    cfg: CMSketchConfig

    def fit(self, train: DynamicGraph, val: DynamicGraph | None = None) -> Self:
        """Stream the training snapshots into the sketches (``val`` is not used)."""
        n = train.num_nodes
        self.num_nodes_ = n
        node_seed, pair_seed = np.random.SeedSequence(self.seed).generate_state(2)
        self.nodes_ = CountMinSketch.from_error(self.cfg.eps, self.cfg.delta, int(node_seed))
        self.pairs_ = CountMinSketch.from_error(self.cfg.eps, self.cfg.delta, int(pair_seed))
        self.adjacency_ = sp.csr_matrix((n, n), dtype=np.float64)
        self.arrivals_, self.repeats_ = 0, 0
        for e in train.edges:
            self._observe(*_pairs(e, n))
        return self

    def score_snapshot(self, edges: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """``1 - (w G + (1 - w) L)`` for each edge, ``(E,)``, given the stream so far; then add the snapshot."""
        self._check_fitted()
        lo, hi = _pairs(edges, self.num_nodes_)
        score = 1.0 - (
            self.cfg.global_weight * self.global_likelihood(lo, hi)
            + (1.0 - self.cfg.global_weight) * self.local_likelihood(lo, hi)
        )
        self._observe(lo, hi)
        return score

    def global_likelihood(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """G = P_G / (P_G + P_0) of each edge, ``(E,)`` (see the class docstring)."""
        n, m = self.num_nodes_, self.pairs_.total
        if m == 0:
            return np.zeros(lo.shape[0])
        rho = self.repeats_ / self.arrivals_
        f = self.pairs_.query(lo * n + hi)
        p_global = rho * f / m + (1 - rho) * self.nodes_.query(lo) * self.nodes_.query(hi) / (2 * m * m)
        p_uniform = 2.0 / (n * (n - 1))
        return p_global / (p_global + p_uniform)

    def local_likelihood(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """L = Jaccard overlap of the endpoints' neighbourhoods in the stream so far, ``(E,)``."""
        adj = self.adjacency_
        common = np.asarray(adj[lo].multiply(adj[hi]).sum(axis=1)).ravel()
        degree = np.diff(adj.indptr)
        union = degree[lo] + degree[hi] - common
        return np.where(union > 0, common / np.maximum(union, 1), 0.0)

    def _observe(self, lo: np.ndarray, hi: np.ndarray) -> None:
        n = self.num_nodes_
        lo, hi = _distinct_pairs(lo, hi, n)
        keys = lo * n + hi
        self.arrivals_ += keys.size
        self.repeats_ += int((self.pairs_.query(keys) > 0).sum())
        self.pairs_.add(keys)
        self.nodes_.add(np.r_[lo, hi])
        adj = self.adjacency_ + _adjacency(lo, hi, n)
        adj.data[:] = 1.0
        self.adjacency_ = adj


# ====================================================================================== MIDAS-R
@dataclass(frozen=True)
class MidasConfig:
    """MIDAS-R settings: the authors' reference implementation (github.com/Stream-AD/MIDAS)."""

    rows: int = 2  # hash functions per sketch: example/Demo.cpp, RelationalCore(2, 1024)
    buckets: int = 1024  # buckets per row: same line (the AAAI 2020 release used 769)
    decay: float = 0.5  # alpha, current counts x alpha at each new tick: src/RelationalCore.hpp default

    def __post_init__(self) -> None:
        if self.rows < 1 or self.buckets < 1:
            raise ValueError(f"MIDAS-R needs rows >= 1 and buckets >= 1, got {self.rows} x {self.buckets}")
        if not 0 <= self.decay < 1:
            raise ValueError(f"MIDAS-R decay must lie in [0, 1), got {self.decay}")


def midas_score(a: np.ndarray, s: np.ndarray, t: int) -> np.ndarray:
    """The chi-squared statistic of MIDAS's streaming hypothesis test (Bhatia et al., AAAI 2020; ``ComputeScore``
    in the reference code's src/RelationalCore.hpp): (a - s/t)^2 t^2 / (s (t - 1)) for current count ``a``,
    total count ``s`` and tick ``t``; 0 where s = 0 or t = 1. Shapes broadcast.
    """
    a, s = np.asarray(a, dtype=np.float64), np.asarray(s, dtype=np.float64)
    if t <= 1:
        return np.zeros(np.broadcast(a, s).shape)
    return np.where(s > 0, (a - s / t) ** 2 * t**2 / (np.maximum(s, 1e-300) * (t - 1)), 0.0)


@register("midas-r")
class MidasR(StreamingDetector):
    """MIDAS-R (Bhatia, Hooi, Yoon, Shin, Faloutsos, AAAI 2020): microcluster bursts in an edge stream.

    Three pairs of count-min sketches (``rows`` x ``buckets``) count, for the directed edge, its source and
    its destination, the current-tick count a and the total count s; current and total sketches of one
    kind share their hash functions. At each new tick every current counter is multiplied by ``decay``
    (MIDAS-R's temporal relation) instead of being reset. Score = max over edge, source and destination of
    :func:`midas_score` (its spatial relation). Tick = snapshot index, from 1 for the first training snapshot.

    Snapshot semantics (our adaptation): MIDAS scores each arriving edge right after counting it, so an edge's
    score depends on the edges of the same tick before it. A snapshot has no internal order, so we count the
    whole snapshot first and then score every edge of it, i.e. as MIDAS scores the last edge of a tick.
    This uses the current snapshot by design (a is the current-tick count), as MIDAS does.

    What it can see here: MIDAS detects bursts of repeated interactions. Our snapshots hold distinct edges,
    so an edge's own count in a tick is at most one plus decayed past counts: the edge term mostly says
    "new pair" (t - 1 when never seen) versus "recurring pair", and the node terms flag nodes whose degree in
    this snapshot is far above their past average. A single injected edge between quiet nodes is not the
    kind of microcluster MIDAS was built for.
    """

    config_type: ClassVar[type] = MidasConfig
    options: ClassVar[tuple[str, ...]] = _options(MidasConfig)
    cfg: MidasConfig

    def fit(self, train: DynamicGraph, val: DynamicGraph | None = None) -> Self:
        """Count the training snapshots (ticks 1..T_train); ``val`` is not used."""
        self.num_nodes_ = train.num_nodes
        seeds = np.random.SeedSequence(self.seed).generate_state(3)
        self.sketches_ = {  # (current, total), sharing hashes within a kind
            kind: tuple(CountMinSketch(self.cfg.buckets, self.cfg.rows, int(s)) for _ in range(2))
            for kind, s in zip(("edge", "source", "destination"), seeds, strict=True)
        }
        self.tick_ = 0
        for e in train.edges:
            self._observe(e)
        return self

    def score_snapshot(self, edges: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Count the snapshot as the next tick, then score each edge, ``(E,)`` (see the class docstring)."""
        self._check_fitted()
        keys = self._observe(edges)
        scores = [
            midas_score(cur.query(k), tot.query(k), self.tick_)
            for (cur, tot), k in zip(self.sketches_.values(), keys, strict=True)
        ]
        return np.max(scores, axis=0)

    def _observe(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance the tick (decaying current counts), count the edges; return the (edge, source, dest) keys."""
        _pairs(edges, self.num_nodes_)  # validation only: MIDAS keeps edge direction
        src, dst = edges[0].astype(np.int64), edges[1].astype(np.int64)
        keys = (src * self.num_nodes_ + dst, src, dst)
        self.tick_ += 1
        for (current, total), k in zip(self.sketches_.values(), keys, strict=True):
            current.scale(self.cfg.decay)
            current.add(k)
            total.add(k)
        return keys
