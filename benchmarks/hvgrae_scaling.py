"""H-VGRAE training cost versus graph size: seconds per epoch and peak memory, sampled vs exact edge likelihood.

Each setting runs in a fresh subprocess (so peak RSS, from ``resource.getrusage``, belongs to that setting
alone; tracemalloc cannot see torch's C++ allocations). The graph is random: N nodes, T snapshots of
``degree * N / 2`` distinct directed edges each (average total degree ``degree``), half of them persistent
from one snapshot to the next, no attributes (so phi_X is the N x 64 embedding). Training goes through the
real detector (``HVGRAEDetector.fit``, paper architecture, one MC sample, ``--bptt`` window); the reported
seconds per epoch are the median over epochs of its own per-epoch timing, without calibration. The exact
likelihood builds N x N logits and is skipped above ``--exact-max`` nodes.

Usage: ``python benchmarks/hvgrae_scaling.py [--nodes 1000 10000 100000] [--snapshots 20] [--epochs 2]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def random_graph(nodes: int, snapshots: int, degree: float, seed: int):
    """A DynamicGraph of random directed edges; half of each snapshot's edges persist from the previous one."""
    import numpy as np

    from hvgrae.data.graph import DynamicGraph, unique_edges

    rng = np.random.default_rng(seed)
    per = int(degree * nodes / 2)
    edges, prev = [], np.zeros((2, 0), dtype=np.int64)
    for _ in range(snapshots):
        keep = prev[:, rng.random(prev.shape[1]) < 0.5]
        new = rng.integers(0, nodes, size=(2, per - keep.shape[1]))
        cand = np.concatenate([keep, new], axis=1)
        cand = cand[:, cand[0] != cand[1]]
        prev = unique_edges(cand[0], cand[1], nodes)
        edges.append(prev)
    return DynamicGraph(
        name="random", num_nodes=nodes, edges=edges, start_times=np.arange(snapshots, dtype=float),
        node_ids=np.arange(nodes),
    )


def child(nodes: int, snapshots: int, likelihood: str, epochs: int, degree: float, bptt: int, seed: int) -> dict:
    """Run one setting in this process and return its measurements."""
    import torch

    from hvgrae.detectors.hvgrae import HVGRAEDetector

    graph = random_graph(nodes, snapshots, degree, seed)
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    det = HVGRAEDetector(
        seed=seed, epochs=epochs, edge_likelihood=likelihood, bptt=bptt, score_samples=1, select="last", progress=False
    )
    if likelihood == "exact":
        from dataclasses import replace

        det.model_config = replace(det.model_config, max_exact_nodes=nodes)
    t0 = time.perf_counter()
    det.fit(graph)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = sorted(h["seconds"] for h in det.history_)
    return {
        "nodes": nodes,
        "edges_per_snapshot": int(sum(e.shape[1] for e in graph.edges) / snapshots),
        "likelihood": likelihood,
        "epoch_seconds": seconds[len(seconds) // 2],
        "fit_seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_kb / 1024,
        "train_rss_mb": (peak_kb - base_kb) / 1024,
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    p.add_argument("--snapshots", type=int, default=20, help="T")
    p.add_argument("--epochs", type=int, default=2, help="epochs per setting (median seconds reported)")
    p.add_argument("--degree", type=float, default=10.0, help="average total degree per snapshot")
    p.add_argument("--bptt", type=int, default=4, help="BPTT window (activations of this many steps are kept)")
    p.add_argument("--exact-max", type=int, default=10_000, help="largest N for the exact N x N likelihood")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--child", nargs=2, metavar=("N", "LIKELIHOOD"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        out = child(int(args.child[0]), args.snapshots, args.child[1], args.epochs, args.degree, args.bptt, args.seed)
        print(json.dumps(out))
        return

    rows, notes = [], []
    for n in args.nodes:
        for likelihood in ("sampled", "exact"):
            if likelihood == "exact" and n > args.exact_max:
                gib = n * n * 4 / 2**30
                notes.append(f"exact skipped at N={n} (> --exact-max {args.exact_max}): {gib:.2f} GiB logits/sample")
                continue
            cmd = [sys.executable, __file__, "--child", str(n), likelihood, "--snapshots", str(args.snapshots),
                   "--epochs", str(args.epochs), "--degree", str(args.degree), "--bptt", str(args.bptt),
                   "--seed", str(args.seed)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                notes.append(f"N={n} {likelihood} failed: {res.stderr.strip().splitlines()[-1:]}")
                continue
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)
    header = f"{'N':>8} {'E/snap':>9} {'likelihood':>10} {'s/epoch':>9} {'peak RSS MB':>12} {'train RSS MB':>13}"
    print(f"H-VGRAE (M=2, d=16), T={args.snapshots}, degree {args.degree}, BPTT window {args.bptt},"
          f" {args.epochs} epoch(s) per setting")
    print(header)
    for r in rows:
        print(f"{r['nodes']:>8} {r['edges_per_snapshot']:>9} {r['likelihood']:>10} {r['epoch_seconds']:>9.2f}"
              f" {r['peak_rss_mb']:>12.0f} {r['train_rss_mb']:>13.0f}")
    for note in notes:
        print("note:", note)


if __name__ == "__main__":
    main()
