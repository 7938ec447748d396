"""The paper's Table I (data-set statistics) as data, and ours beside it.

Edge counts: the paper does not say whether it counts directed or undirected edges. Its UCI maximum, 13,838,
is exactly the number of distinct undirected pairs in the whole file, so we report both: ``edges_*`` are
distinct directed edges per snapshot (what the graphs hold), ``undirected_*`` the distinct unordered pairs.
``density`` is :meth:`DynamicGraph.stats`'s mean over snapshots of ``E_t / (N (N - 1))``; the paper's
densities are not reproducible from its own edge and node counts with any one formula we tried.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hvgrae.data.graph import DynamicGraph, undirected_keys
from hvgrae.data.loaders import DATASETS, available, load_dataset
from hvgrae.data.sources import resolve_data_dir

PAPER_TABLE_I: dict[str, dict[str, Any]] = {
    "uci_message": {"snapshots": 56, "nodes": 1899, "edges_min": 688, "edges_max": 13838,
                    "density": 0.003837, "attribute_dim": None},
    "hep_th": {"snapshots": 40, "nodes": 7623, "edges_min": 769, "edges_max": 34941,
               "density": 0.00117, "attribute_dim": None},
    "social_evolution": {"snapshots": 54, "nodes": 84, "edges_min": 303, "edges_max": 1172,
                         "density": 0.21740, "attribute_dim": 168},
    "github": {"snapshots": 24, "nodes": 1049, "edges_min": 4396, "edges_max": 14238,
               "density": 0.00107, "attribute_dim": 2098},
}
"""Table I of the paper ("Dataset statistics"), verbatim; ``None`` = "-" (no node attributes)."""

_PAPER_COLUMNS = ("snapshots", "nodes", "edges_min", "edges_max", "density", "attribute_dim")


def format_value(value: Any) -> str:
    """A table value for people: integers with thousands separators, floats to 4 significant digits, missing as -."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, (float, np.floating)) and float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def describe(graph: DynamicGraph) -> dict[str, Any]:
    """One Table-I row for a loaded graph: :meth:`DynamicGraph.stats`, undirected counts, what was dropped."""
    stats = graph.stats()
    undirected = [len(np.unique(undirected_keys(e, graph.num_nodes))) for e in graph.edges]
    info = graph.info
    settings = info.get("settings", {})
    return {
        **stats,
        "undirected_min": int(min(undirected)) if undirected else 0,
        "undirected_max": int(max(undirected)) if undirected else 0,
        "duplicates_merged": info.get("duplicates_merged"),
        "self_loops_dropped": info.get("self_loops_dropped"),
        "periods_dropped": info.get("periods_dropped"),
        "events_unused": info.get("events_unused"),
        "load_seconds": info.get("load_seconds"),
        "settings": " ".join(f"{k}={_short(v)}" for k, v in settings.items()),
        "note": info.get("substitute", ""),
    }


def _short(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    return str(value)


def table_one(
    data_dir: str | Path | None = None,
    datasets: Iterable[str] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Our Table I beside the paper's, one row per data set (index = data-set name).

    Args:
        data_dir: the real-data folder (``None``: ``$HVGRAE_DATA``, else synthetic only).
        datasets: which to include; by default ``synthetic`` plus every real data set whose files are present.
            A data set named explicitly must load (its errors propagate).
        settings: per data set, settings overriding the loader defaults.

    Returns:
        Columns: our statistics (see :func:`describe`), then ``<stat>_paper`` for the paper's values.

    """
    folder = resolve_data_dir(data_dir)
    names = list(datasets) if datasets is not None else [d for d in DATASETS if available(d, folder)]
    rows = {}
    for name in names:
        graph = load_dataset(name, folder, **dict((settings or {}).get(name, {})))
        row = describe(graph)
        paper = PAPER_TABLE_I.get(name, {})
        for col in _PAPER_COLUMNS:
            row[f"{col}_paper"] = paper.get(col)
        rows[name] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "dataset"
    order = []
    for col in frame.columns:  # each paper column right after ours
        if not col.endswith("_paper"):
            order += [col] + ([f"{col}_paper"] if col in _PAPER_COLUMNS else [])
    return frame[order]


def compare_settings(
    name: str, variants: Mapping[str, Mapping[str, Any]], data_dir: str | Path | None = None
) -> pd.DataFrame:
    """Table I statistics of one data set under several loader settings, scored against the paper.

    ``distance`` is the mean absolute relative error over snapshots, nodes and the per-snapshot edge range,
    taking for the edges whichever count (directed or undirected pairs) is closer, since the paper does not
    say which it counts. Lower is closer; rows are sorted by it.
    """
    paper = PAPER_TABLE_I[name]
    rows = {}
    for label, settings in variants.items():
        row = describe(load_dataset(name, data_dir, **dict(settings)))
        errs = [abs(row[c] - paper[c]) / paper[c] for c in ("snapshots", "nodes")]
        for lo_hi in (("edges_min", "undirected_min"), ("edges_max", "undirected_max")):
            target = paper[lo_hi[0]]
            errs.append(min(abs(row[c] - target) / target for c in lo_hi))
        rows[label] = {
            "snapshots": row["snapshots"],
            "nodes": row["nodes"],
            "edges": f"{row['edges_min']:,}-{row['edges_max']:,}",
            "undirected pairs": f"{row['undirected_min']:,}-{row['undirected_max']:,}",
            "distance": float(np.mean(errs)),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index").sort_values("distance")
    frame.index.name = "settings"
    return frame
