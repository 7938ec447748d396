import os
from pathlib import Path

import numpy as np
import pytest

from hvgrae.data.graph import DynamicGraph, EdgeStream

ROOT = Path(__file__).resolve().parents[1]


def real_data_dir() -> Path | None:
    """The real data folder if present: $HVGRAE_DATA, else the shared folder beside the repo."""
    env = os.environ.get("HVGRAE_DATA")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


def tiny_graph(num_snapshots: int = 12, n: int = 40, per: int = 30, seed: int = 0, mode: str = "window"):
    """A random directed graph with ``per`` distinct edges per snapshot, and its stream."""
    rng = np.random.default_rng(seed)
    edges, src, dst, time = [], [], [], []
    for t in range(num_snapshots):
        keys = set()
        while len(keys) < per:
            a, b = rng.integers(0, n, 2)
            if a != b:
                keys.add((int(a), int(b)))
        e = np.array(sorted(keys)).T
        edges.append(e)
        src.append(e[0])
        dst.append(e[1])
        time.append(np.full(e.shape[1], float(t)))
    if mode == "cumulative":
        acc, cum = set(), []
        for e in edges:
            acc |= set(map(tuple, e.T.tolist()))
            cum.append(np.array(sorted(acc)).T)
        edges = cum
    stream = EdgeStream(np.concatenate(src), np.concatenate(dst), np.concatenate(time))
    return DynamicGraph(
        name="tiny", num_nodes=n, edges=edges, start_times=np.arange(num_snapshots, dtype=float),
        node_ids=np.arange(n), stream=stream, info={"mode": mode},
    )


@pytest.fixture
def tiny():
    return tiny_graph()
