"""The embedded default data set: a deterministic, seeded dynamic network with known structure.

Why a generator of our own: the study must run with no download, and a detector comparison needs a graph
with the structure H-VGRAE claims to exploit. Each snapshot has

- drifting communities: every snapshot a small fraction of nodes moves to another community;
- multi-scale periodic activity: each community's edge rate is a sum of cosines with periods 2, 4 and 8
  snapshots (different phase per community), so a model with dilated recurrences (dilation 1, 2, 4) has
  something to learn that a one-step recurrence does not see directly;
- persistent ties: a share of each snapshot's edges is re-drawn from a fixed set of "friendships";
- node attributes X(t) correlated with communities (a community centroid plus noise, scaled by activity).

Timestamps are snapshot indices plus a uniform offset, in units of "snapshots" (period 1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hvgrae.data.graph import DynamicGraph, EdgeStream, unique_edges


@dataclass(frozen=True)
class SyntheticConfig:
    """Generator settings; the defaults make a small graph that trains in seconds."""

    num_nodes: int = 300  # N
    num_snapshots: int = 30  # T (the last 10 are the test period under the paper protocol)
    num_communities: int = 6  # K
    avg_degree: float = 6.0  # mean number of distinct directed out-edges per node per snapshot
    p_within: float = 0.85  # share of new (non-persistent) edges drawn inside a community
    p_persistent: float = 0.5  # share of each snapshot's edges re-drawn from the fixed friendship set
    drift: float = 0.02  # share of nodes that change community at each snapshot
    periods: tuple[int, ...] = (2, 4, 8)  # activity periods, in snapshots
    amplitude: float = 0.35  # amplitude of each periodic component (relative to the base rate)
    num_features: int = 8  # D; 0 for a graph without attributes
    attribute_noise: float = 0.5
    seed: int = 0


def make_synthetic(config: SyntheticConfig | None = None) -> DynamicGraph:
    """Generate the synthetic dynamic network (a pure function of ``config``, seed included)."""
    c = config or SyntheticConfig()
    rng = np.random.default_rng(c.seed)
    n, k = c.num_nodes, c.num_communities
    community = rng.integers(0, k, size=n)
    phases = rng.uniform(0, 2 * np.pi, size=(k, len(c.periods)))
    propensity = rng.lognormal(0.0, 0.6, size=n)  # heterogeneous node degrees
    centroids = rng.normal(0.0, 1.0, size=(k, c.num_features))

    # fixed friendship set: mostly within the initial communities
    n_friend = int(n * c.avg_degree)
    fa = rng.integers(0, n, size=n_friend)
    fb = np.empty_like(fa)
    for i, a in enumerate(fa):
        same = rng.random() < c.p_within
        pool = np.flatnonzero(community == community[a]) if same else np.arange(n)
        fb[i] = rng.choice(pool)
    keep = fa != fb
    friends = np.stack([fa[keep], fb[keep]])

    edges, xs, src_all, dst_all, time_all = [], [], [], [], []
    for t in range(c.num_snapshots):
        movers = rng.random(n) < c.drift
        community[movers] = rng.integers(0, k, size=int(movers.sum()))
        rate = 1.0 + c.amplitude * np.cos(
            2 * np.pi * t / np.asarray(c.periods)[None, :] + phases
        ).sum(axis=1)  # (K,)
        rate = np.clip(rate, 0.15, None)
        node_rate = propensity * rate[community]
        m = int(rng.poisson(c.avg_degree * n * rate.mean()))
        m_persist = int(c.p_persistent * m)
        # persistent ties, weighted by the current activity of their endpoints
        w = node_rate[friends[0]] * node_rate[friends[1]]
        pick = rng.choice(friends.shape[1], size=m_persist, p=w / w.sum())
        ps, pd = friends[0, pick], friends[1, pick]
        # new edges: activity-weighted source, community-biased destination
        m_new = m - m_persist
        p_src = node_rate / node_rate.sum()
        ns = rng.choice(n, size=m_new, p=p_src)
        nd = np.empty_like(ns)
        within = rng.random(m_new) < c.p_within
        members = [np.flatnonzero(community == j) for j in range(k)]
        for i, (s, inside) in enumerate(zip(ns, within, strict=True)):
            pool = members[community[s]] if inside and len(members[community[s]]) > 1 else np.arange(n)
            pr = node_rate[pool] / node_rate[pool].sum()
            nd[i] = rng.choice(pool, p=pr)
        src = np.concatenate([ps, ns])
        dst = np.concatenate([pd, nd])
        ok = src != dst
        src, dst = src[ok], dst[ok]
        edges.append(unique_edges(src, dst, n))
        src_all.append(src)
        dst_all.append(dst)
        time_all.append(t + np.sort(rng.uniform(0, 1, size=src.shape[0])))
        if c.num_features:
            x = centroids[community] * node_rate[:, None] + c.attribute_noise * rng.normal(
                size=(n, c.num_features)
            )
            xs.append(x.astype(np.float32))

    stream = EdgeStream(
        src=np.concatenate(src_all), dst=np.concatenate(dst_all), time=np.concatenate(time_all)
    )
    return DynamicGraph(
        name="synthetic",
        num_nodes=n,
        edges=edges,
        start_times=np.arange(c.num_snapshots, dtype=np.float64),
        node_ids=np.arange(n),
        x=xs if c.num_features else None,
        stream=stream,
        info={"mode": "window", "period": 1, "generator": asdict(c), "communities_final": community.tolist()},
    )
