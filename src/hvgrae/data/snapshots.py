"""Raw event stream -> snapshots: calendar (or numeric) periods, window or cumulative, sparse-period filter.

The paper builds every data set the same way (Section V-A-1): group the time-stamped interactions into
periods (a day, 5 or 15 days, a month), make one snapshot per period, optionally "discard the snapshots with
few edges" (UCI) and optionally "use cumulative data" (HEP-TH, Social evolution). :func:`build_snapshots`
is that one procedure, with every choice a parameter and every dropped event counted in ``graph.info``.

Choices made here (all recorded in ``graph.info``):

- Periods. A pandas offset string (``"1D"``, ``"5D"``, ``"15D"``, ``"1MS"`` = calendar month) needs Unix-second
  timestamps; periods are then calendar periods in UTC. Without ``start`` the first period begins at the first
  event's UTC midnight, rolled back to the offset's anchor (month start for ``"MS"``), so ``"1D"`` gives UTC
  calendar days and ``"5D"`` gives 5-day blocks from the first event's day. With ``start`` the periods are
  ``start + k * period`` (``start`` rolled back to the anchor for anchored offsets). A number is a period length
  in the stream's own time units (seconds for Unix time); periods are then ``floor(t / period) * period``
  (origin 0), or ``start + k * period`` with ``start``.
- ``window``: snapshot t = the distinct directed edges of period t. ``cumulative``: snapshot t = every distinct
  directed edge seen up to the end of period t, including events before ``start`` (the history the paper's
  "initial network" refers to).
- The sparse-period filter (``min_events``, ``min_edges``) judges a period by its own activity (its non-loop
  events and its distinct edges), in both modes: "discard the snapshots with few edges" refers to the daily
  activity; in cumulative mode the edges of a dropped period still enter the next kept snapshot.
- Self loops are dropped from the snapshots (a loop is not an interaction between two nodes); duplicates of a
  directed pair are merged (snapshots hold distinct edges). Both are counted. ``graph.stream`` keeps the raw
  events, loops and duplicates included, sorted by time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from hvgrae.data.errors import DataError
from hvgrae.data.graph import DynamicGraph, EdgeStream

Period = str | int | float
"""A pandas offset string (calendar periods on Unix seconds) or a length in the stream's time units."""

XBuilder = Callable[[np.ndarray, np.ndarray], Sequence[np.ndarray]]
"""``x_builder(starts (T,), ends (T,)) -> T arrays (N, D)``: node attributes of the kept periods ``[start, end)``."""

MODES = ("window", "cumulative")
_MAX_PERIODS = 5_000_000  # guard against a period far too small for the time span (memory)
_EPOCH = pd.Timestamp(0, tz="UTC")


def parse_period(period: Period) -> pd.offsets.BaseOffset | float:
    """A pandas offset for an offset string, else a positive float length (numeric strings accepted)."""
    if isinstance(period, str):
        try:
            return float(period) if _is_number(period) else to_offset(period)
        except ValueError as err:
            raise DataError(
                f"period {period!r} is neither a number nor a pandas offset such as '1D', '5D', '15D' or '1MS'"
            ) from err
    if isinstance(period, bool) or not isinstance(period, int | float) or not np.isfinite(period):
        raise DataError(f"period must be a pandas offset string or a positive number, got {period!r}")
    if period <= 0:
        raise DataError(f"period must be positive, got {period!r}")
    return float(period)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_seconds(when: str | pd.Timestamp) -> float:
    """A date (``'1993-01-01'``, naive = UTC) as Unix seconds."""
    ts = pd.Timestamp(when)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return float((ts - _EPOCH) / pd.Timedelta(seconds=1))


def period_bounds(
    time: np.ndarray, period: Period, start: str | float | None = None, end: float | None = None
) -> np.ndarray:
    """Boundaries ``b_0 < b_1 < ... < b_P`` of the periods covering ``[anchor, max(time, end)]``, stream units.

    Period p is ``[b_p, b_{p+1})``. See the module docstring for the anchor rule. ``end`` extends the grid past
    the last event (an observation period that outlasts the edges, e.g. phone logs after the last survey).
    """
    step = parse_period(period)
    t_max = float(np.max(time)) if end is None else max(float(np.max(time)), float(end))
    if isinstance(step, float):
        if start is None:
            anchor = float(np.floor(np.min(time) / step) * step)
        elif isinstance(start, str) and not _is_number(start):
            anchor = to_seconds(start)
        else:
            anchor = float(start)
        count = int(np.floor((t_max - anchor) / step)) + 1 if t_max >= anchor else 1
        _check_count(count, period)
        return anchor + step * np.arange(count + 1, dtype=np.float64)
    first = _timestamp(start) if start is not None else pd.Timestamp(float(np.min(time)), unit="s", tz="UTC")
    anchor = step.rollback(first if start is not None else first.normalize())
    last = pd.Timestamp(t_max, unit="s", tz="UTC")
    width = ((anchor + step) - anchor) / pd.Timedelta(seconds=1)
    _check_count(int(max(0.0, (last - anchor) / pd.Timedelta(seconds=1)) // width) + 1, period)
    stamps = pd.date_range(anchor, max(last, anchor), freq=step)  # every boundary <= the last event
    stamps = stamps.append(pd.DatetimeIndex([stamps[-1] + step]))
    return ((stamps - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64)


def _timestamp(when: str | float) -> pd.Timestamp:
    """A start given as a date string (naive = UTC) or as Unix seconds."""
    if isinstance(when, str) and not _is_number(when):
        return pd.Timestamp(to_seconds(when), unit="s", tz="UTC")
    return pd.Timestamp(float(when), unit="s", tz="UTC")


def _check_count(count: int, period: Period) -> None:
    if count > _MAX_PERIODS:
        raise DataError(f"period {period!r} is too small for this time span: it would make {count:,} periods")


def _distinct_pairs(period_index: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (period, key) pairs of the events, sorted by period then key: ``(periods, keys)``."""
    order = np.lexsort((keys, period_index))
    p, k = period_index[order], keys[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (p[1:] != p[:-1]) | (k[1:] != k[:-1])
    return p[new], k[new]


def build_snapshots(
    stream: EdgeStream,
    num_nodes: int,
    *,
    name: str,
    period: Period,
    mode: str = "window",
    min_edges: int = 0,
    min_events: int = 0,
    start: str | float | None = None,
    max_snapshots: int | None = None,
    end: float | None = None,
    node_ids: np.ndarray | None = None,
    x_builder: XBuilder | None = None,
    info: dict[str, Any] | None = None,
    source: str | Path | None = None,
) -> DynamicGraph:
    """Group a raw event stream into snapshots (paper, Section V-A-1).

    Args:
        stream: raw events, ids in ``0..num_nodes-1``, times in seconds (offset periods) or any unit.
        num_nodes: N, the fixed node set.
        name: data-set name for the graph and for messages.
        period: pandas offset string or a numeric length (see :func:`period_bounds`).
        mode: ``"window"`` (edges of the period) or ``"cumulative"`` (all edges up to the period's end).
        min_edges: drop periods with fewer distinct edges of their own (the period's window).
        min_events: drop periods with fewer non-loop events (messages, citations, ...).
        start: first period's start (date string or number); events before it are history (cumulative) or
            unused (window).
        max_snapshots: keep at most this many (the first ones) of the periods that pass the filter.
        end: last observed time, when the observation outlasts the events (periods are made up to it).
        node_ids: ``(N,)`` original ids; defaults to ``0..N-1``.
        x_builder: ``f(starts, ends) -> T arrays (N, D)`` giving attributes of the kept periods.
        info: provenance merged into ``graph.info``.
        source: the file the events came from, named in error messages.

    Returns:
        The dynamic graph; ``graph.info`` records the settings and the counts of everything not kept.

    """
    if mode not in MODES:
        raise DataError(f"mode must be one of {MODES}, got {mode!r}", path=source)
    for label, value in (("min_edges", min_edges), ("min_events", min_events)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise DataError(f"{label} must be a non-negative integer, got {value!r}", path=source)
    if max_snapshots is not None and (not isinstance(max_snapshots, int | np.integer) or max_snapshots < 1):
        raise DataError(f"max_snapshots must be a positive integer or None, got {max_snapshots!r}", path=source)
    n_events = len(stream)
    if n_events == 0:
        raise DataError(f"{name}: no events to build snapshots from", path=source)
    src = np.asarray(stream.src, dtype=np.int64)
    dst = np.asarray(stream.dst, dtype=np.int64)
    time = np.asarray(stream.time, dtype=np.float64)
    if not np.isfinite(time).all():
        raise DataError(f"{name}: the event stream has a NaN/inf timestamp", path=source)
    if src.min() < 0 or dst.min() < 0 or max(src.max(), dst.max()) >= num_nodes:
        raise DataError(f"{name}: node indices outside 0..{num_nodes - 1}", path=source)

    bounds = period_bounds(time, period, start, end)
    n_periods = len(bounds) - 1
    pidx = np.searchsorted(bounds, time, side="right") - 1  # -1 = before start; never n_periods (bounds pass max)
    loop = src == dst
    keys = src * num_nodes + dst
    inside = (pidx >= 0) & ~loop
    events_per = np.bincount(pidx[inside], minlength=n_periods)
    dist_p, dist_k = _distinct_pairs(pidx[inside], keys[inside])
    edges_per = np.bincount(dist_p, minlength=n_periods)

    passed = np.flatnonzero((events_per >= min_events) & (edges_per >= min_edges))
    kept = passed if max_snapshots is None else passed[:max_snapshots]
    if len(kept) == 0:
        busiest = int(events_per.argmax())
        raise DataError(
            f"{name}: no snapshot left after the filter min_events={min_events}, min_edges={min_edges} "
            f"({n_periods} periods of {period!r}; the busiest has {events_per[busiest]} events and "
            f"{edges_per[busiest]} distinct edges)",
            path=source,
        )
    starts, ends = bounds[kept], bounds[kept + 1]

    if mode == "window":
        lo, hi = np.searchsorted(dist_p, kept, side="left"), np.searchsorted(dist_p, kept, side="right")
        edges = [_sorted_pairs(dist_k[i:j], num_nodes) for i, j in zip(lo, hi, strict=True)]
        in_kept = np.isin(pidx, kept)
        n_used = int(in_kept.sum())
        loops = int((in_kept & loop).sum())
        dups = int(events_per[kept].sum() - edges_per[kept].sum())
    else:
        in_scope = time < ends[-1]
        use = in_scope & ~loop
        order = np.argsort(time[use], kind="stable")
        uniq, first_pos = np.unique(keys[use][order], return_index=True)
        first_time = time[use][order][first_pos]
        edges = [_sorted_pairs(uniq[first_time < end], num_nodes) for end in ends]
        n_used = int(in_scope.sum())
        loops = int((in_scope & loop).sum())
        dups = int(use.sum() - len(uniq[first_time < ends[-1]]))

    x = None
    if x_builder is not None:
        x = [np.asarray(a, dtype=np.float32) for a in x_builder(starts, ends)]
        _check_attributes(x, len(kept), num_nodes, name, source)

    calendar = isinstance(parse_period(period), pd.offsets.BaseOffset)
    record: dict[str, Any] = {
        "mode": mode,
        "period": period,
        "min_edges": int(min_edges),
        "min_events": int(min_events),
        "start": start,
        "max_snapshots": max_snapshots,
        "time_unit": "unix seconds, UTC periods" if calendar else "file units",
        "events": n_events,
        "events_used": n_used,
        "events_unused": n_events - n_used,
        "events_before_start": int((pidx < 0).sum()),
        "self_loops_dropped": loops,
        "duplicates_merged": dups,
        "periods_total": n_periods,
        "periods_dropped": int(n_periods - len(passed)),
        "periods_truncated": int(len(passed) - len(kept)),
    }
    if calendar:
        record["snapshot_starts_utc"] = [
            pd.Timestamp(s, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M") for s in starts
        ]
    order = np.argsort(time, kind="stable")
    return DynamicGraph(
        name=name,
        num_nodes=num_nodes,
        edges=edges,
        start_times=starts,
        node_ids=np.arange(num_nodes) if node_ids is None else np.asarray(node_ids),
        x=x,
        stream=EdgeStream(src=src[order], dst=dst[order], time=time[order]),
        info={**(info or {}), **record},
    )


def _sorted_pairs(keys: np.ndarray, num_nodes: int) -> np.ndarray:
    """Sorted unique int64 keys ``src * N + dst`` back to a ``(2, E)`` edge array."""
    keys = keys.astype(np.int64)
    return np.stack([keys // num_nodes, keys % num_nodes]) if len(keys) else np.zeros((2, 0), dtype=np.int64)


def _check_attributes(
    x: list[np.ndarray], count: int, num_nodes: int, name: str, source: str | Path | None
) -> None:
    if len(x) != count:
        raise DataError(f"{name}: the attribute builder gave {len(x)} matrices for {count} snapshots", path=source)
    for t, a in enumerate(x):
        if a.ndim != 2 or a.shape[0] != num_nodes:
            raise DataError(f"{name}: X({t}) has shape {a.shape}, expected ({num_nodes}, D)", path=source)
        if not np.isfinite(a).all():
            r, c = np.argwhere(~np.isfinite(a))[0]
            raise DataError(f"{name}: X({t}) has a NaN/inf attribute at node {r}, column {c}", path=source)


def keep_nodes(graph: DynamicGraph, keep: np.ndarray) -> DynamicGraph:
    """The graph restricted to the nodes where ``keep`` (bool ``(N,)``) is true, ids remapped to ``0..N'-1``.

    Edges and stream events touching a removed node are dropped and counted in
    ``info["events_outside_node_set"]`` / ``info["nodes_removed"]``; attribute rows are restricted too (attribute
    columns are left as they are: rebuild attributes whose columns index nodes).
    """
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != (graph.num_nodes,):
        raise DataError(f"{graph.name}: node mask has shape {keep.shape}, expected ({graph.num_nodes},)")
    new_id = np.full(graph.num_nodes, -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    masks = [keep[e[0]] & keep[e[1]] for e in graph.edges]
    edges = [new_id[e[:, ok]] for e, ok in zip(graph.edges, masks, strict=True)]
    info = {**graph.info, "nodes_removed": int(graph.num_nodes - keep.sum())}
    stream = graph.stream
    if stream is not None:
        ok = keep[stream.src] & keep[stream.dst]
        info["events_outside_node_set"] = int((~ok).sum())
        stream = EdgeStream(src=new_id[stream.src[ok]], dst=new_id[stream.dst[ok]], time=stream.time[ok])
    return DynamicGraph(
        name=graph.name,
        num_nodes=int(keep.sum()),
        edges=edges,
        start_times=graph.start_times,
        node_ids=np.asarray(graph.node_ids)[keep],
        x=None if graph.x is None else [a[keep] for a in graph.x],
        labels=None if graph.labels is None else [y[ok] for y, ok in zip(graph.labels, masks, strict=True)],
        stream=stream,
        info=info,
    )
