"""Anomalous-edge injection "following NetWalk" in its two circulating variants (protocol.md, section 3).

- ``clustered``: spectral clustering of the (undirected) graph into k clusters; candidates are node pairs
  drawn uniformly at random whose endpoints fall in different clusters (TADDY's public code, k = 42).
- ``uniform``: node pairs drawn uniformly at random (what that code's comment calls NetWalk's MATLAB method).

Both reject self loops and any pair that exists anywhere in the data set, in either direction, and never
inject the same pair twice. Everything is a pure function of the inputs and a numpy ``Generator``.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import scipy.sparse as sp

from hvgrae.data.errors import DataError

INJECTIONS = ("clustered", "uniform")


_CLUSTER_MEMO: dict[tuple[str, int, int, int], np.ndarray] = {}


def spectral_clusters(edges: np.ndarray, num_nodes: int, k: int, seed: int) -> np.ndarray:
    """Cluster label per node from spectral clustering of the undirected graph of ``edges`` ``(2, E)``.

    Uses scikit-learn's ``SpectralClustering`` on the precomputed adjacency, as the reference code does.
    Nodes without any edge form singleton components; sklearn warns that the graph is not connected and
    still assigns them, which is the reference behaviour, so the warning is silenced. Results are memoised
    per process (HEP-TH takes about 20 s, and every cell of a grid with the same seed needs the same one).
    """
    key = (hashlib.sha1(np.ascontiguousarray(edges, dtype=np.int64).tobytes()).hexdigest(), num_nodes, k, seed)
    if key not in _CLUSTER_MEMO:
        _CLUSTER_MEMO[key] = _spectral_clusters(edges, num_nodes, k, seed)
    return _CLUSTER_MEMO[key].copy()


def _spectral_clusters(edges: np.ndarray, num_nodes: int, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import SpectralClustering

    k = int(min(k, max(2, num_nodes - 1)))
    adj = sp.coo_matrix((np.ones(edges.shape[1]), (edges[0], edges[1])), shape=(num_nodes, num_nodes))
    adj = ((adj + adj.T) > 0).astype(np.float64).tocsr()
    adj = adj + sp.identity(num_nodes, format="csr") * 1e-8  # keeps isolated nodes' degree non-zero
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SpectralClustering(
            n_clusters=k, affinity="precomputed", random_state=seed, assign_labels="discretize"
        )
        return model.fit_predict(adj).astype(np.int64)


def sample_anomalous_pairs(
    count: int,
    num_nodes: int,
    forbidden: set[int],
    rng: np.random.Generator,
    clusters: np.ndarray | None = None,
    max_tries: int = 1000,
) -> np.ndarray:
    """Draw ``count`` distinct directed pairs ``(2, count)`` that are not in ``forbidden``.

    ``forbidden`` holds undirected keys ``min * N + max`` of every existing pair; drawn pairs are added
    to it, so successive calls never repeat a pair. With ``clusters`` the endpoints must lie in
    different clusters (variant ``clustered``); without, any pair is a candidate (``uniform``).
    """
    out_s: list[int] = []
    out_d: list[int] = []
    tries = 0
    while len(out_s) < count:
        tries += 1
        if tries > max_tries:
            raise DataError(
                f"could not place {count} anomalous edges among {num_nodes} nodes: too few free node pairs"
            )
        need = count - len(out_s)
        s = rng.integers(0, num_nodes, size=4 * need + 16)
        d = rng.integers(0, num_nodes, size=4 * need + 16)
        for a, b in zip(s.tolist(), d.tolist(), strict=True):
            if a == b or (clusters is not None and clusters[a] == clusters[b]):
                continue
            key = min(a, b) * num_nodes + max(a, b)
            if key in forbidden:
                continue
            forbidden.add(key)
            out_s.append(a)
            out_d.append(b)
            if len(out_s) == count:
                break
    return np.array([out_s, out_d], dtype=np.int64).reshape(2, count)


def anomaly_count(ratio: float, num_normal: int) -> int:
    """Anomalies for one snapshot: ``round(ratio * normal)``, at least one when ratio > 0 and edges exist."""
    if ratio <= 0 or num_normal == 0:
        return 0
    return max(1, int(round(ratio * num_normal)))
