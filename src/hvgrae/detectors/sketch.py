"""Count-min sketch (Cormode & Muthukrishnan, "An improved data stream summary: the count-min sketch and its
applications", J. Algorithms 55(1), 2005), the constant-memory counter behind CM-Sketch and MIDAS-R.

A sketch is ``depth`` rows of ``width`` counters; row r maps a key x to bucket
h_r(x) = ((a_r x + b_r) mod p) mod width, with p = 2^31 - 1 and (a_r, b_r) drawn once from a seeded
generator (a 2-universal family), so two runs with the same seed hash identically. ``add`` increments the key's
bucket in every row; ``query`` returns the minimum over rows. The estimate never undercounts (for
non-negative counts), and with width = ceil(e / eps) and depth = ceil(ln(1 / delta)) it overcounts by at most
eps * total with probability at least 1 - delta (their Theorem 1).

Why our own and not a library: no well-kept numpy count-min sketch is in our dependencies, and we need
batched (vectorised) updates and queries, and MIDAS-R's "multiply every counter" decay.
"""

from __future__ import annotations

import math

import numpy as np

PRIME = 2**31 - 1  # Mersenne prime p of the universal hash; a_r * x < 2^62 fits in int64


class CountMinSketch:
    """A ``depth x width`` table of float64 counters with seeded universal hashing.

    Args:
        width: w, buckets per row (error eps = e / w).
        depth: d, rows, one hash function each (failure probability delta = exp(-d)).
        seed: seeds the hash parameters; sketches built with the same (width, depth, seed) share their hashes.

    Attributes:
        table: ``(depth, width)`` counters.
        total: the sum of everything added (scaled along with the table), the "total" of the error bound.

    """

    def __init__(self, width: int, depth: int, seed: int = 0) -> None:
        if width < 1 or depth < 1:
            raise ValueError(f"count-min sketch needs width >= 1 and depth >= 1, got {width} x {depth}")
        self.width = int(width)
        self.depth = int(depth)
        self.seed = seed
        rng = np.random.default_rng(seed)
        self._a = rng.integers(1, PRIME, size=(self.depth, 1), dtype=np.int64)
        self._b = rng.integers(0, PRIME, size=(self.depth, 1), dtype=np.int64)
        self.table = np.zeros((self.depth, self.width), dtype=np.float64)
        self.total = 0.0

    @classmethod
    def from_error(cls, eps: float, delta: float, seed: int = 0) -> CountMinSketch:
        """The smallest sketch with error <= eps * total with probability >= 1 - delta (Cormode & Muthukrishnan)."""
        if not (0 < eps < 1 and 0 < delta < 1):
            raise ValueError(f"eps and delta must lie in (0, 1), got eps={eps}, delta={delta}")
        return cls(math.ceil(math.e / eps), math.ceil(math.log(1 / delta)), seed)

    @property
    def eps(self) -> float:
        """The additive error factor e / width of this sketch."""
        return math.e / self.width

    @property
    def delta(self) -> float:
        """The failure probability exp(-depth) of this sketch."""
        return math.exp(-self.depth)

    def buckets(self, keys: np.ndarray) -> np.ndarray:
        """Bucket of each key in each row: ``(depth, K)`` int64, for ``(K,)`` non-negative integer keys.

        Keys are first reduced mod p, so keys that differ by a multiple of p = 2^31 - 1 always collide
        (irrelevant below N ~ 46,000 nodes for pair keys src * N + dst).
        """
        keys = np.asarray(keys)
        if keys.ndim != 1 or not np.issubdtype(keys.dtype, np.integer):
            raise ValueError(f"keys must be a 1-d integer array, got {keys.dtype} of shape {keys.shape}")
        if keys.size and keys.min() < 0:
            raise ValueError("count-min sketch keys must be non-negative")
        x = keys.astype(np.int64) % PRIME
        return ((self._a * x[None, :] + self._b) % PRIME) % self.width

    def add(self, keys: np.ndarray, counts: np.ndarray | float = 1.0) -> None:
        """Add ``counts`` (scalar or ``(K,)``, non-negative) to each of the ``(K,)`` keys."""
        idx = self.buckets(keys)
        w = np.broadcast_to(np.asarray(counts, dtype=np.float64), (idx.shape[1],))
        for r in range(self.depth):
            self.table[r] += np.bincount(idx[r], weights=w, minlength=self.width)
        self.total += float(w.sum())

    def query(self, keys: np.ndarray) -> np.ndarray:
        """Estimated count of each key, ``(K,)`` float64: the minimum of its counters over the rows."""
        idx = self.buckets(keys)
        return self.table[np.arange(self.depth)[:, None], idx].min(axis=0)

    def scale(self, factor: float) -> None:
        """Multiply every counter (and the total) by ``factor`` (MIDAS-R's temporal decay)."""
        self.table *= factor
        self.total *= factor

    def __repr__(self) -> str:
        return f"CountMinSketch(width={self.width}, depth={self.depth}, seed={self.seed})"
