"""The ``hvgrae`` command line: parsing and printing only; the work is done in the library.

Subcommands: ``datasets``, ``fetch``, ``methods``, ``inject``, ``run``, ``score``, ``reproduce``. Input errors print one
line naming the file and line, without a traceback, and exit 2; set ``HVGRAE_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import argparse
import ast
import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hvgrae.data.errors import DataError


def _options(pairs: Sequence[str]) -> dict[str, Any]:
    """Parse repeated ``--option key=value`` (values as Python literals, else strings)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--option expects key=value, got {pair!r}")
        key, raw = pair.split("=", 1)
        try:
            out[key.strip().replace("-", "_")] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key.strip().replace("-", "_")] = raw
    return out


def _fmt(value: float | None) -> str:
    """A metric to four decimals; ``n/a`` where it is undefined (e.g. no anomaly in the test set)."""
    return "n/a" if value is None else f"{value:.4f}"


def _detector_options(args: argparse.Namespace) -> dict[str, Any]:
    opts = {"epochs": args.epochs, "M": args.M, "d": args.d}
    if args.use_current:
        opts["use_current"] = True
    opts.update(_options(args.option))
    return {k: v for k, v in opts.items() if v is not None}


def cmd_datasets(args: argparse.Namespace) -> int:
    """Print Table I for every available data set."""
    import pandas as pd

    from hvgrae.data.sources import resolve_data_dir
    from hvgrae.data.tables import format_value, table_one

    table = table_one(resolve_data_dir(args.data_dir))
    text = [c for c in ("settings", "note") if c in table.columns]
    with pd.option_context("display.width", 250, "display.max_columns", 60):
        print(table.drop(columns=text).T.map(format_value).to_string())
    for name, row in table.iterrows():
        print(f"\n{name}: " + "; ".join(f"{c}: {row[c]}" for c in text if isinstance(row[c], str) and row[c]))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Download one data set."""
    from hvgrae.data.sources import fetch, resolve_data_dir

    target = resolve_data_dir(args.data_dir)
    if target is None:
        raise DataError("no data directory: pass --data-dir DIR or set HVGRAE_DATA")
    for path in fetch(args.name, target):
        print(path)
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    """List the registered detectors."""
    from hvgrae.detectors import REGISTRY

    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{name:26s} {doc}")
    return 0


def cmd_inject(args: argparse.Namespace) -> int:
    """Write the labelled test edges of one split to CSV."""
    from hvgrae.data.loaders import load_dataset
    from hvgrae.data.sources import resolve_data_dir
    from hvgrae.protocol.splits import make_split

    graph = load_dataset(args.dataset, resolve_data_dir(args.data_dir))
    split = make_split(
        graph, protocol=args.protocol, anomaly_ratio=args.anomaly_ratio, seed=args.seed,
        **_options(args.protocol_option),
    )
    offset = len(split.train)
    ids = split.test.node_ids
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["snapshot", "src", "dst", "label"])
        for t, (e, y) in enumerate(zip(split.test.edges, split.test.label_list(), strict=True)):
            for s, d, lab in zip(e[0].tolist(), e[1].tolist(), y.tolist(), strict=True):
                w.writerow([offset + t, ids[s], ids[d], lab])
    summary = split.summary()
    print(
        f"{out}: {summary['test_edges']} evaluated test edges, {summary['test_anomalies']} anomalies "
        f"in {summary['test_snapshots']} snapshots (label -1 = context edge, not evaluated)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run one table cell, print its AUC, optionally append the record."""
    from hvgrae.data.sources import resolve_data_dir
    from hvgrae.experiments import append_result, run_cell

    record = run_cell(
        args.method,
        args.dataset,
        protocol=args.protocol,
        anomaly_ratio=args.anomaly_ratio,
        seed=args.seed,
        data_dir=resolve_data_dir(args.data_dir),
        protocol_options=_options(args.protocol_option),
        progress=not args.quiet,
        **_detector_options(args),
    )
    print(
        f"{args.method} on {args.dataset} ({args.protocol}, ratio {args.anomaly_ratio}, seed {args.seed}): "
        f"AUC {_fmt(record['auc'])}  AP {_fmt(record['ap'])}  mean per-snapshot AUC {_fmt(record['mean_snapshot_auc'])}"
        f"  ({record['test_anomalies']} anomalies in {record['test_edges']} test edges, "
        f"{record['wall_seconds']:.1f} s)"
    )
    if args.out:
        append_result(args.out, record)
        print(f"appended to {args.out}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Fit on the earlier snapshots of a user's edge list and score the last ones."""
    from hvgrae.data.loaders import load_edgelist
    from hvgrae.detectors import make_detector

    graph = load_edgelist(Path(args.edges), period=args.period, mode=args.mode)
    k = args.test_snapshots
    if len(graph) <= k:
        raise DataError(
            f"{len(graph)} snapshots at period {args.period}: need more than --test-snapshots {k}", path=args.edges
        )
    train, test = graph[: len(graph) - k], graph[len(graph) - k :]
    detector = make_detector(args.method, seed=args.seed, **_detector_options(args))
    detector.fit(train)
    scores = detector.score(test, progress=not args.quiet)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["snapshot", "snapshot_start", "src", "dst", "score"])
        for t, (e, s) in enumerate(zip(test.edges, scores, strict=True)):
            start = test.start_times[t]
            start_out = int(start) if float(start).is_integer() else float(start)
            for a, b, v in zip(e[0].tolist(), e[1].tolist(), s.tolist(), strict=True):
                w.writerow([len(train) + t, start_out, graph.node_ids[a], graph.node_ids[b], f"{v:.6g}"])
                rows += 1
    print(f"{out}: {rows} scored edges in {k} test snapshots (fitted on {len(train)} earlier snapshots)")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Run (or resume) a profile of the study, print the summary table; exit 1 if a cell failed."""
    import pandas as pd

    from hvgrae.runner import reproduce, summarise

    df = reproduce(
        args.profile, datasets=args.datasets, seeds=args.seeds, experiments=args.experiments,
        workers=args.workers, results=args.results, progress=not args.quiet, data_dir=args.data_dir,
    )
    report = df.attrs["report"]
    table = summarise(df).drop(columns=["method", "dataset_options"])
    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.max_rows", 10_000,
                           "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False) if len(table) else "no results")
    print(f"{report.ran} cell(s) run in {report.seconds:.1f} s, {report.already_done} resumed from the store; "
          f"{len(df)} of {report.cells} cells have results. Store: {report.store}")
    if report.errors:
        print(f"{len(report.errors)} cell(s) failed; see {report.store.with_name('errors.jsonl')}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests)."""
    p = argparse.ArgumentParser(prog="hvgrae", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def data_dir(q: argparse.ArgumentParser) -> None:
        q.add_argument("--data-dir", help="folder with the raw data sets (default: $HVGRAE_DATA)")

    def detector_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("--method", required=True, help="detector name (see `hvgrae methods`)")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--epochs", type=int, help="training epochs (learned models)")
        q.add_argument("--M", type=int, help="H-VGRAE: number of scales")
        q.add_argument("--d", type=int, help="H-VGRAE: latent dimension")
        q.add_argument("--use-current", action="store_true",
                       help="heuristics: also count the current snapshot's other edges")
        q.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="any other detector option, repeatable")
        q.add_argument("--quiet", action="store_true", help="no progress bars")

    q = sub.add_parser("datasets", help="Table I statistics of every available data set, beside the paper's")
    data_dir(q)
    q.set_defaults(func=cmd_datasets)

    q = sub.add_parser("fetch", help="download a data set from its original publisher (checksummed)")
    q.add_argument("name")
    data_dir(q)
    q.set_defaults(func=cmd_fetch)

    q = sub.add_parser("methods", help="list the registered detectors")
    q.set_defaults(func=cmd_methods)

    for name, helptext in (("inject", "export the labelled test edges of one split"), ("run", "run one table cell")):
        q = sub.add_parser(name, help=helptext)
        if name == "run":
            detector_args(q)
            q.add_argument("--out", help="append the result as one JSON line to this file")
        q.add_argument("--dataset", default="synthetic")
        q.add_argument("--protocol", default="paper", choices=["paper", "taddy"])
        q.add_argument("--anomaly-ratio", type=float, default=0.05)
        if name == "inject":
            q.add_argument("--seed", type=int, default=0)
            q.add_argument("--out", required=True, help="CSV file: snapshot, src, dst, label")
        q.add_argument("--protocol-option", action="append", default=[], metavar="KEY=VALUE",
                       help="protocol setting, e.g. injection=uniform, cluster_on=all (repeatable)")
        data_dir(q)
        q.set_defaults(func=cmd_inject if name == "inject" else cmd_run)

    q = sub.add_parser("score", help="fit on the earlier snapshots of your edge list and score the last ones")
    detector_args(q)
    q.add_argument("--edges", required=True, help="`src dst timestamp` file (whitespace or CSV, may be .gz)")
    q.add_argument("--period", default="1D", help="snapshot length: pandas offset (1D, 15D) or seconds")
    q.add_argument("--mode", default="window", choices=["window", "cumulative"])
    q.add_argument("--test-snapshots", type=int, default=10)
    q.add_argument("--out", required=True, help="CSV: snapshot, snapshot_start, src, dst, score")
    q.set_defaults(func=cmd_score)

    q = sub.add_parser("reproduce", help="run or resume the study's grid of cells (resumable, parallel)")
    q.add_argument("--profile", default="quick", help="smoke, quick (default) or full")
    q.add_argument("--datasets", nargs="+", help="replace the profile's data sets in every experiment")
    q.add_argument("--seeds", nargs="+", type=int, help="replace the profile's seeds")
    q.add_argument("--experiments", nargs="+",
                   help="only these: table2, ablation, sens_M, sens_d, sens_ratio")
    q.add_argument("--workers", type=int, default=1, help="worker processes (each gets cores / workers threads)")
    q.add_argument("--results", help="results folder (default: $HVGRAE_RESULTS, else the cache folder)")
    q.add_argument("--quiet", action="store_true", help="no progress bar or notes")
    data_dir(q)
    q.set_defaults(func=cmd_reproduce)

    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hvgrae`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into `head` and closed early
        return 0
    except (DataError, ValueError, FileNotFoundError) as exc:
        if os.environ.get("HVGRAE_DEBUG"):
            raise
        print(f"hvgrae: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
