"""Snapshot building: exact edge sets per mode, UTC period flooring, filters, counts, errors."""
import numpy as np
import pandas as pd
import pytest

from hvgrae.data.errors import DataError
from hvgrae.data.graph import EdgeStream
from hvgrae.data.snapshots import build_snapshots, keep_nodes, period_bounds, to_seconds

DAY = 86400.0
T0 = to_seconds("2004-04-15")  # a UTC midnight


def utc(text: str) -> float:
    return to_seconds(pd.Timestamp(text))


def hand_stream() -> EdgeStream:
    """4 UTC days: day 0 has a duplicate and a self loop, day 2 is empty, the day-1 boundary is exact."""
    events = [
        (0, 1, T0 + 10 * 3600), (0, 1, T0 + 11 * 3600), (2, 2, T0 + 12 * 3600), (1, 2, T0 + DAY - 1),
        (2, 0, T0 + DAY), (1, 0, T0 + DAY + 5),
        (0, 1, T0 + 3 * DAY + 1), (3, 0, T0 + 3 * DAY + 2),
    ]
    src, dst, time = map(np.array, zip(*events, strict=True))
    return EdgeStream(src.astype(np.int64), dst.astype(np.int64), time.astype(float))


def edge_sets(graph) -> list[set[tuple[int, int]]]:
    return [set(map(tuple, e.T.tolist())) for e in graph.edges]


def test_window_snapshots_hold_the_distinct_edges_of_each_utc_day():
    g = build_snapshots(hand_stream(), 4, name="hand", period="1D", mode="window")
    assert edge_sets(g) == [{(0, 1), (1, 2)}, {(2, 0), (1, 0)}, set(), {(0, 1), (3, 0)}]
    np.testing.assert_array_equal(g.start_times, T0 + DAY * np.arange(4))
    assert g.info["snapshot_starts_utc"][0] == "2004-04-15 00:00"
    assert g.info["duplicates_merged"] == 1 and g.info["self_loops_dropped"] == 1
    assert g.info["mode"] == "window" and g.info["periods_dropped"] == 0
    for e in g.edges:  # sorted by (src, dst)
        keys = e[0] * 4 + e[1]
        assert np.all(np.diff(keys) > 0)
    assert len(g.stream) == 8 and np.all(np.diff(g.stream.time) >= 0)


def test_cumulative_snapshots_hold_every_edge_up_to_the_period_end():
    g = build_snapshots(hand_stream(), 4, name="hand", period="1D", mode="cumulative")
    day0 = {(0, 1), (1, 2)}
    day1 = day0 | {(2, 0), (1, 0)}
    assert edge_sets(g) == [day0, day1, day1, day1 | {(3, 0)}]
    assert g.info["duplicates_merged"] == 2  # 7 non-loop events, 5 distinct edges
    assert g.info["self_loops_dropped"] == 1


def test_min_events_and_min_edges_drop_sparse_periods():
    g = build_snapshots(hand_stream(), 4, name="hand", period="1D", mode="window", min_events=1)
    assert len(g) == 3 and g.info["periods_dropped"] == 1
    np.testing.assert_array_equal(g.start_times, T0 + DAY * np.array([0, 1, 3]))
    g = build_snapshots(hand_stream(), 4, name="hand", period="1D", mode="window", min_events=3)
    assert edge_sets(g) == [{(0, 1), (1, 2)}]  # day 0: 3 non-loop events, the others have 2
    g = build_snapshots(hand_stream(), 4, name="hand", period="1D", mode="window", min_edges=2, min_events=0)
    assert len(g) == 3
    # cumulative: a dropped period's edges still enter the next kept snapshot
    g = build_snapshots(hand_stream(), 4, name="hand", period="1D", mode="cumulative", min_events=3)
    assert edge_sets(g) == [{(0, 1), (1, 2)}]
    g = build_snapshots(hand_stream(), 4, name="hand", period="2D", mode="cumulative", min_events=3)
    assert edge_sets(g) == [{(0, 1), (1, 2), (2, 0), (1, 0)}]  # [day0, day2) has 5 events, [day2, day4) 2


def test_max_snapshots_keeps_the_first_periods_and_counts_the_rest():
    g = build_snapshots(hand_stream(), 4, name="hand", period="1D", max_snapshots=2)
    assert len(g) == 2 and g.info["periods_truncated"] == 2
    assert g.info["events_unused"] == 2  # the two day-3 events


def test_empty_result_after_filtering_names_the_file_and_the_filter():
    with pytest.raises(DataError, match=r"edges\.txt: .*min_events=99") as err:
        build_snapshots(hand_stream(), 4, name="hand", period="1D", min_events=99, source="edges.txt")
    assert "busiest" in str(err.value)


def test_periods_are_floored_in_utc():
    # 23:30 at UTC-7 is 06:30 UTC on the next day
    times = np.array([utc("2004-04-15T23:30:00-07:00"), utc("2004-04-16T23:59:59Z"), utc("2004-04-17T00:00:00Z")])
    s = EdgeStream(np.array([0, 0, 1]), np.array([1, 1, 0]), times)
    g = build_snapshots(s, 2, name="tz", period="1D")
    assert g.info["snapshot_starts_utc"] == ["2004-04-16 00:00", "2004-04-17 00:00"]
    assert [e.shape[1] for e in g.edges] == [1, 1]
    assert g.info["duplicates_merged"] == 1


def test_calendar_months_and_anchored_starts():
    times = np.array([utc("1992-12-31T12:00Z"), utc("1993-01-31T23:59:59Z"), utc("1993-02-01T00:00:00Z")])
    s = EdgeStream(np.array([0, 1, 2]), np.array([1, 2, 0]), times)
    g = build_snapshots(s, 3, name="m", period="1MS", mode="cumulative", start="1993-01-15")
    assert g.info["snapshot_starts_utc"] == ["1993-01-01 00:00", "1993-02-01 00:00"]  # rolled back to month start
    assert edge_sets(g) == [{(0, 1), (1, 2)}, {(0, 1), (1, 2), (2, 0)}]  # 1992 event is history
    assert g.info["events_before_start"] == 1
    w = build_snapshots(s, 3, name="m", period="1MS", mode="window", start="1993-01-01")
    assert edge_sets(w) == [{(1, 2)}, {(2, 0)}] and w.info["events_unused"] == 1
    # fixed-length periods are counted from the start, not from the epoch
    b = period_bounds(np.array([utc("2008-09-12T00:00Z"), utc("2008-09-21T00:00Z")]), "5D", start="2008-09-10")
    assert [pd.Timestamp(x, unit="s").strftime("%m-%d") for x in b] == ["09-10", "09-15", "09-20", "09-25"]


def test_numeric_periods_use_the_streams_own_units():
    s = EdgeStream(np.array([0, 1, 2, 0]), np.array([1, 2, 0, 2]), np.array([0.0, 9.9, 10.0, 25.0]))
    g = build_snapshots(s, 3, name="n", period=10)
    np.testing.assert_array_equal(g.start_times, [0.0, 10.0, 20.0])
    assert edge_sets(g) == [{(0, 1), (1, 2)}, {(2, 0)}, {(0, 2)}]
    assert g.info["time_unit"] == "file units" and "snapshot_starts_utc" not in g.info
    same = build_snapshots(s, 3, name="n", period="10")  # numeric string, as the CLI passes it
    assert edge_sets(same) == edge_sets(g)
    shifted = build_snapshots(s, 3, name="n", period=10, start=5.0)
    np.testing.assert_array_equal(shifted.start_times, [5.0, 15.0, 25.0])
    assert edge_sets(shifted) == [{(1, 2), (2, 0)}, set(), {(0, 2)}]
    assert shifted.info["events_before_start"] == 1


def test_end_extends_the_periods_past_the_last_event():
    g = build_snapshots(hand_stream(), 4, name="hand", period="1D", mode="cumulative", end=T0 + 5.5 * DAY)
    assert len(g) == 6 and edge_sets(g)[5] == edge_sets(g)[3]


def test_bad_arguments_raise_data_errors():
    s = hand_stream()
    with pytest.raises(DataError, match="mode must be one of"):
        build_snapshots(s, 4, name="x", period="1D", mode="rolling")
    with pytest.raises(DataError, match="pandas offset"):
        build_snapshots(s, 4, name="x", period="one day")
    with pytest.raises(DataError, match="positive"):
        build_snapshots(s, 4, name="x", period=0)
    with pytest.raises(DataError, match="min_events must be a non-negative integer"):
        build_snapshots(s, 4, name="x", period="1D", min_events=-1)
    with pytest.raises(DataError, match="outside 0..2"):
        build_snapshots(s, 3, name="x", period="1D")
    with pytest.raises(DataError, match="too small"):
        build_snapshots(s, 4, name="x", period=1e-3)
    empty = EdgeStream(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    with pytest.raises(DataError, match="no events"):
        build_snapshots(empty, 4, name="x", period="1D")


def test_attributes_come_from_the_builder_and_nan_is_reported_with_the_file():
    def ones(starts, ends):
        return [np.full((4, 2), e - s, dtype=np.float32) for s, e in zip(starts, ends, strict=True)]

    g = build_snapshots(hand_stream(), 4, name="x", period="1D", min_events=1, x_builder=ones)
    assert g.num_features == 2 and len(g.x) == 3 and float(g.x[0][0, 0]) == DAY

    def bad(starts, ends):
        out = ones(starts, ends)
        out[1][2, 1] = np.nan
        return out

    with pytest.raises(DataError, match=r"calls\.csv: .*X\(1\) has a NaN/inf attribute at node 2, column 1"):
        build_snapshots(hand_stream(), 4, name="x", period="1D", min_events=1, x_builder=bad, source="calls.csv")


def test_keep_nodes_remaps_edges_stream_and_ids():
    g = build_snapshots(hand_stream(), 4, name="x", period="1D", mode="cumulative")
    g.node_ids = np.array([10, 11, 12, 13])
    sub = keep_nodes(g, np.array([True, True, False, True]))
    assert sub.num_nodes == 3
    np.testing.assert_array_equal(sub.node_ids, [10, 11, 13])
    assert edge_sets(sub)[3] == {(0, 1), (1, 0), (2, 0)}  # (3,0) -> (2,0); edges with node 2 gone
    assert sub.info["nodes_removed"] == 1 and sub.info["events_outside_node_set"] == 3
    assert len(sub.stream) == 5 and sub.stream.src.max() <= 2
