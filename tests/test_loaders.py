"""Loaders on tiny hand-made files (exact expectations, every bad-input case) and on the real data when present."""
import gzip
import pickle
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hvgrae.data.errors import DataError
from hvgrae.data.loaders import (
    DATASETS,
    GITHUB_SUBSTITUTE,
    available,
    default_settings,
    load_dataset,
    load_edgelist,
    read_columns,
)
from hvgrae.data.snapshots import to_seconds
from hvgrae.data.tables import PAPER_TABLE_I, describe, table_one

from .conftest import real_data_dir

DAY = 86400


def secs(text: str) -> int:
    return int(to_seconds(text))


def edge_sets(graph, ids=True) -> list[set[tuple]]:
    """Snapshots as sets of (original id, original id) pairs."""
    names = graph.node_ids
    return [{(names[a], names[b]) if ids else (a, b) for a, b in e.T.tolist()} for e in graph.edges]


def write(path: Path, text: str, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# ---------------------------------------------------------------------------------------------- user edge lists

D0 = secs("2021-03-01")
EDGES = f"""# a comment
% a KONECT-style comment
100 7 {D0 + 10}
7 42 {D0 + 20}

100 7 {D0 + 30}
42 42 {D0 + 40}
7 100 {D0 + DAY + 5}
"""


def test_edgelist_whitespace_with_comments_keeps_original_ids(tmp_path):
    g = load_edgelist(write(tmp_path / "e.txt", EDGES), period="1D")
    np.testing.assert_array_equal(g.node_ids, [7, 42, 100])
    assert edge_sets(g) == [{(100, 7), (7, 42)}, {(7, 100)}]
    assert g.info["duplicates_merged"] == 1 and g.info["self_loops_dropped"] == 1
    assert g.name == "e.txt" and len(g.stream) == 5
    assert g.info["files"][0]["matches_provenance"] is None


def test_edgelist_csv_gzip_header_and_weight_column(tmp_path):
    body = "src,dst,weight,time\n" + "".join(
        f"{a}, {b},1,{t}\n" for a, b, t in [(100, 7, D0 + 10), (7, 42, D0 + 20), (7, 100, D0 + DAY + 5)]
    )
    g = load_edgelist(write(tmp_path / "e.csv.gz", body, gz=True), header=True, weight_column=True)
    assert edge_sets(g) == [{(100, 7), (7, 42)}, {(7, 100)}]
    assert g.info["weights_ignored"] is True
    cumulative = load_edgelist(write(tmp_path / "e.csv", body), "1D", "cumulative", header=True, weight_column=True)
    assert edge_sets(cumulative)[1] == {(100, 7), (7, 42), (7, 100)}


def test_edgelist_numeric_period_and_static_features(tmp_path):
    f = write(tmp_path / "e.txt", "1 2 0\n2 3 5\n3 1 12\n")
    x = write(tmp_path / "x.txt", "# id f1 f2\n3 0.5 1\n1 1 2\n2 -1 0\n")
    g = load_edgelist(f, period=10, features=x)
    assert len(g) == 2 and g.num_features == 2
    np.testing.assert_array_equal(g.x[1], [[1, 2], [-1, 0], [0.5, 1]])


def test_edgelist_milliseconds_with_a_calendar_period_is_an_error(tmp_path):
    f = write(tmp_path / "e.txt", "1 2 1614556800000\n")
    with pytest.raises(DataError, match=r"e\.txt: .*milliseconds"):
        load_edgelist(f, period="1D")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1 2 10\n1 2\n", 2, r"expected 3 columns \(`src dst time`\), found 2"),
        ("# c\n1 2 10\n\n1 2 10 4\n", 4, r"expected 3 columns \(`src dst time`\), found 4"),
        ("1 2 10\nalice 2 10\n", 2, r"column 'src' must be an integer node id.*got 'alice'"),
        ("1 2 10\n1 2.5 10\n", 2, r"column 'dst' must be an integer node id.*got '2.5'"),
        ("1 2 10\n3 4 yesterday\n", 2, r"column 'time' must be a finite number.*got 'yesterday'"),
        ("1 2 10\n3 4 nan\n", 2, r"column 'time' must be a finite number.*got 'nan'"),
        ("1,2,10\n3,,11\n", 2, r"column 'dst' must be an integer node id.*got ''"),
        ("src dst time\n1 2 10\n", 1, r"column 'src' must be an integer node id.*got 'src' \(a header line"),
    ],
)
def test_edgelist_bad_lines_name_the_file_and_line(tmp_path, text, line, message):
    f = write(tmp_path / "bad.txt", text)
    with pytest.raises(DataError, match=message) as err:
        load_edgelist(f, period=5)
    assert err.value.path == str(f) and err.value.line == line
    assert str(err.value).startswith(f"{f}, line {line}: ")


def test_edgelist_file_level_errors(tmp_path):
    with pytest.raises(DataError, match=r"missing\.txt: file not found"):
        load_edgelist(tmp_path / "missing.txt")
    with pytest.raises(DataError, match=r"empty\.txt: no data lines"):
        load_edgelist(write(tmp_path / "empty.txt", "# only a comment\n\n"))
    with pytest.raises(DataError, match=r"sparse\.txt: no snapshot left after the filter min_events=50"):
        load_edgelist(write(tmp_path / "sparse.txt", EDGES), min_events=50)
    with pytest.raises(DataError, match=r"corrupt gzip"):
        load_edgelist(_corrupt_gzip(tmp_path / "c.gz"))


def _corrupt_gzip(path: Path) -> Path:
    path.write_bytes(gzip.compress(b"1 2 3\n" * 100)[:30])
    return path


def test_features_errors_name_file_and_line(tmp_path):
    f = write(tmp_path / "e.txt", "1 2 0\n2 3 5\n")
    cases = [
        ("1 0.5\n2 nan\n3 1\n", 2, "must be a finite number"),
        ("1 0.5\n9 1\n", 2, "node id 9 does not occur"),
        ("1 0.5\n2 1\n1 2\n3 0\n", 3, "node id 1 has a second attribute line"),
    ]
    for text, line, message in cases:
        x = write(tmp_path / "x.txt", text)
        with pytest.raises(DataError, match=message) as err:
            load_edgelist(f, period=10, features=x)
        assert err.value.line == line and err.value.path == str(x)
    with pytest.raises(DataError, match="node 3 of the edge file has no attribute line"):
        load_edgelist(f, period=10, features=write(tmp_path / "x.txt", "1 0\n2 0\n"))


def test_read_columns_dates_and_text(tmp_path):
    f = write(tmp_path / "d.txt", "0001001\t2000-01-05\n119201001\t1992-01-02\n")
    cols = read_columns(f, [("id", "text"), ("date", "date")])
    assert list(cols["id"]) == ["0001001", "119201001"]
    assert cols["date"][1] == secs("1992-01-02")
    bad = write(tmp_path / "b.txt", "0001001\t2000-01-05\n0001002\t2000-02-30\n")
    with pytest.raises(DataError, match=r"b\.txt, line 2: column 'date' must be a date YYYY-MM-DD"):
        read_columns(bad, [("id", "text"), ("date", "date")])


# ---------------------------------------------------------------------------------------------- UCI message

UCI_ROWS = [  # (src, dst, time): day 0 has 3 messages, day 1 one, day 2 three
    (5, 9, secs("2004-04-15") + 36000), (5, 9, secs("2004-04-15") + 39600), (9, 12, secs("2004-04-15") + 45000),
    (12, 5, secs("2004-04-16") + 4 * 3600),
    (5, 12, secs("2004-04-17") + 43200), (40, 5, secs("2004-04-17") + 43260), (9, 5, secs("2004-04-17") + 43320),
]


@pytest.fixture
def mini_dir(tmp_path) -> Path:
    """A data folder with tiny hand-made copies of every real data set's files."""
    root = tmp_path / "data"
    uci = "".join(f"{a} {b} {t}\n" for a, b, t in UCI_ROWS)
    write(root / "uci_message" / "CollegeMsg.txt.gz", uci, gz=True)
    konect = "% asym positive\n% 7 4 4\n" + "".join(f"{a} {b} 1 {t - 32400}\n" for a, b, t in UCI_ROWS)
    write(root / "uci_message" / "konect_opsahl-ucsocial" / "out.opsahl-ucsocial", konect)
    _hep(root / "hep_th")
    _social(root / "social_evolution")
    _github(root / "github")
    return root


def test_uci_message_daily_cumulative_with_threshold(mini_dir):
    g = load_dataset("uci_message", mini_dir, min_events=2)
    assert g.num_nodes == 4 and list(g.node_ids) == [5, 9, 12, 40]
    assert edge_sets(g) == [{(5, 9), (9, 12)}, {(5, 9), (9, 12), (12, 5), (5, 12), (40, 5), (9, 5)}]
    assert g.info["periods_dropped"] == 1 and g.info["settings"]["source"] == "snap"
    w = load_dataset("uci_message", mini_dir, min_events=2, mode="window")
    assert edge_sets(w) == [{(5, 9), (9, 12)}, {(5, 12), (40, 5), (9, 5)}]
    assert g.stream is not None and len(g.stream) == 7


def test_uci_message_konect_timestamps_are_nine_hours_earlier(mini_dir):
    g = load_dataset("uci_message", mini_dir, source="konect", min_events=1, mode="window")
    # the day-1 message at 04:00 (SNAP) is at 19:00 of day 0 in KONECT time: only 2 days remain
    assert edge_sets(g) == [{(5, 9), (9, 12), (12, 5)}, {(5, 12), (40, 5), (9, 5)}]
    with pytest.raises(DataError, match="source must be 'snap' or 'konect'"):
        load_dataset("uci_message", mini_dir, source="other")


# ---------------------------------------------------------------------------------------------- HEP-TH

HEP_EDGES = [
    (9302005, 9301001), (9301001, 9212010), (9303002, 9301001), (9303002, 9302005),
    (1001, 9301001), (9303002, 9303002), (9304001, 9303002),
]
HEP_DATES = [
    ("9301001", "1993-01-20"), ("119302005", "1993-02-03"), ("9212010", "1992-12-30"),
    ("9301001", "1993-02-11"), ("11101013", "2001-01-01"), ("9304001", "1993-03-28"),
]


def _hep(folder: Path) -> None:
    head = "# Directed graph\r\n# Paper citation network\r\n# Nodes: 7 Edges: 7\r\n# FromNodeId\tToNodeId\r\n"
    write(folder / "cit-HepTh.txt.gz", head + "".join(f"{a}\t{b}\r\n" for a, b in HEP_EDGES), gz=True)
    write(folder / "cit-HepTh-dates.txt", "".join(f"{i}\t{d}\n" for i, d in HEP_DATES))


def test_hep_th_cumulative_months_with_dates_and_id_fallback(mini_dir):
    g = load_dataset("hep_th", mini_dir, max_snapshots=3)
    jan = {(9301001, 9212010)}
    feb = jan | {(9302005, 9301001)}  # the cross-listed 119302005 is paper 9302005, dated Feb 3
    mar = feb | {(9303002, 9301001), (9303002, 9302005), (9304001, 9303002)}  # 9303002: id month; 9304001: Mar 28
    assert edge_sets(g) == [jan, feb, mar]
    assert g.info["snapshot_starts_utc"] == ["1993-01-01 00:00", "1993-02-01 00:00", "1993-03-01 00:00"]
    assert sorted(g.node_ids) == [9212010, 9301001, 9302005, 9303002, 9304001]  # 1001 (2000) not touched
    assert g.info["self_loops_dropped"] == 1 and g.info["papers_dated_by_file"] == 4
    assert g.info["date_rows_repeated_id"] == 1 and g.info["nodes_removed"] == 1
    by_id = load_dataset("hep_th", mini_dir, max_snapshots=3, dates="id")
    assert edge_sets(by_id)[2] == mar - {(9304001, 9303002)}  # by its id, 9304001 is an April paper
    only_file = load_dataset("hep_th", mini_dir, max_snapshots=3, dates="file")
    assert edge_sets(only_file) == [jan, feb]  # undated papers' citations are gone, so is March
    assert only_file.info["citations_without_date"] == 5


def test_hep_th_reads_snaps_gzipped_dates_file_with_its_header(mini_dir):
    folder = mini_dir / "hep_th"
    text = (folder / "cit-HepTh-dates.txt").read_text()
    (folder / "cit-HepTh-dates.txt").unlink()
    write(folder / "cit-HepTh-dates.txt.gz", "# header: 11 prefix = cross-listed\n" + text, gz=True)
    assert len(load_dataset("hep_th", mini_dir, max_snapshots=3)) == 3


def test_hep_th_bad_inputs(mini_dir):
    folder = mini_dir / "hep_th"
    write(folder / "cit-HepTh-dates.txt", "9301001\t1993-01-20\n93x1001\t1993-01-21\n")
    with pytest.raises(DataError, match=r"dates\.txt, line 2: paper id must be digits"):
        load_dataset("hep_th", mini_dir)
    (folder / "cit-HepTh-dates.txt").unlink()
    with pytest.raises(DataError, match=r"file not found \(expected one of cit-HepTh-dates"):
        load_dataset("hep_th", mini_dir)
    write(folder / "cit-HepTh-dates.txt", "9301001\t1993-01-20\n")
    write(folder / "cit-HepTh.txt.gz", "# c\r\n9301001\t9212010\r\n9399001\t9301001\r\n", gz=True)
    with pytest.raises(DataError, match=r"txt\.gz, line 3: paper id 9399001 has no date and does not encode a month"):
        load_dataset("hep_th", mini_dir)
    write(folder / "cit-HepTh.txt.gz", "# c\r\n9301001\t9212010\r\n9301001 x\r\n", gz=True)
    with pytest.raises(DataError, match=r"txt\.gz, line 3: column 'dst' must be an integer node id"):
        load_dataset("hep_th", mini_dir)


# ---------------------------------------------------------------------------------------------- Social evolution


def _social(folder: Path) -> None:
    write(folder / "Subjects.csv", '"user_id","year_school","floor"\n1,"Freshman","a"\n2,"Senior","a"\n'
          '3,"Junior","b"\n4,"","b"\n')
    write(folder / "RelationshipsFromSurveys.csv", '"id.A","id.B","relationship","survey.date"\n'
          '1,2,"CloseFriend","2008-09-09"\n2,1,"CloseFriend","2008-09-09"\n3,3,"CloseFriend","2008-09-09"\n'
          '1,3,"SocializeTwicePerWeek","2008-09-09"\n1,2,"CloseFriend","2008-10-19"\n3,1,"CloseFriend","2008-10-19"\n')
    write(folder / "Calls.csv", '"user_id","time_stamp","duration","dest_user_id_if_known","dest_phone_hash"\n'
          '1,2008-09-11 10:00:00,30,2,"h1"\n1,2008-09-11 10:00:00,30,2,"h1"\n,2008-09-12 10:00:00,5,,"h2"\n'
          '2,2008-09-16 09:00:00,10,3,"h3"\n4,2008-10-30 09:00:00,10,,"h4"\n')
    write(folder / "SMS.csv", "user.id,time,incoming,dest.user.id.if.known,dest.phone.hash\n"
          "2,2008-09-13 08:00:00,1,1,123\n1,2008-09-13 08:00:00,0,2,456\n3,2008-09-20 08:00:00,0,4,789\n")


def test_social_evolution_edges_and_call_sms_attributes(mini_dir):
    g = load_dataset("social_evolution", mini_dir, log_counts=False)
    assert g.num_nodes == 4 and g.num_features == 8  # 2N
    assert len(g) == 11  # 5-day periods from 2008-09-10 to the last phone record (2008-10-30)
    first = {(1, 2), (2, 1)}  # the 2008-09-09 survey is the initial network (history before start)
    assert edge_sets(g)[0] == first and edge_sets(g)[6] == first
    assert edge_sets(g)[7] == first | {(3, 1)}  # survey of 2008-10-19, in [10-15, 10-20)
    x0, x1, x2 = g.x[0], g.x[1], g.x[2]
    assert x0[0, 1] == 1 and x0[0, 4 + 1] == 1 and x0.sum() == 2  # one call and one SMS 1 -> 2 (merged copies)
    assert x1[1, 2] == 1 and x1.sum() == 1  # call 2 -> 3
    assert x2[2, 4 + 3] == 1 and x2.sum() == 1  # SMS 3 -> 4
    assert g.info["calls_duplicates_merged"] == 1 and g.info["sms_duplicates_merged"] == 1
    assert g.info["calls_records_not_between_nodes"] == 2 and g.info["self_loops_dropped"] == 1
    logged = load_dataset("social_evolution", mini_dir, max_snapshots=2)
    assert len(logged) == 2 and np.isclose(logged.x[0][0, 1], np.log(2))


def test_social_evolution_removes_nodes_with_few_edges(mini_dir):
    g = load_dataset("social_evolution", mini_dir, min_node_edges=1)
    assert list(g.node_ids) == [1, 2, 3] and g.num_features == 6
    assert g.info["nodes_removed_few_edges"] == 1 and g.info["sms_records_not_between_nodes"] == 1


def test_social_evolution_bad_inputs(mini_dir):
    folder = mini_dir / "social_evolution"
    rel = folder / "RelationshipsFromSurveys.csv"
    good = rel.read_text()
    write(rel, good.replace('3,1,"CloseFriend"', 'x,1,"CloseFriend"'))
    with pytest.raises(DataError, match=r"Surveys\.csv, line 7: column 'id.A' must be an integer id, got 'x'"):
        load_dataset("social_evolution", mini_dir)
    write(rel, good.replace("survey.date", "date"))
    with pytest.raises(DataError, match=r"Surveys\.csv, line 1: missing column\(s\) survey.date"):
        load_dataset("social_evolution", mini_dir)
    write(rel, good.replace('3,1,"CloseFriend"', '3,9,"CloseFriend"'))
    with pytest.raises(DataError, match="id 9, which is not a subject"):
        load_dataset("social_evolution", mini_dir)
    write(rel, good)
    with pytest.raises(DataError, match="no relationship 'Enemy'"):
        load_dataset("social_evolution", mini_dir, relationship="Enemy")
    calls = folder / "Calls.csv"
    write(calls, calls.read_text().replace("2008-09-16 09:00:00", "2008-13-16 09:00:00"))
    with pytest.raises(DataError, match=r"Calls\.csv, line 5: column 'time_stamp' must be a time"):
        load_dataset("social_evolution", mini_dir)


# ---------------------------------------------------------------------------------------------- GitHub substitute

GH_TYPES = {"PushEvent": 0, "WatchEvent": 1, "ForkEvent": 2, "FollowEvent": 4, "IssueCommentEvent": 6}


def _github(folder: Path, events: dict | None = None) -> None:
    t = secs
    events = events or {
        "alice": [
            {"created_at": float(t("2013-01-02")), "type": 4, "login": "bob"},
            {"created_at": float(t("2013-01-03")), "type": 1, "login": "carol"},
            {"created_at": float(t("2013-01-04")), "type": 1, "login": "carol"},
            {"created_at": float(t("2013-01-20")), "type": 2, "login": "bob"},
        ],
        "bob": [{"created_at": float(t("2013-01-17")), "type": 4, "login": "carol"}],
        "carol": [{"created_at": float(t("2013-02-10")), "type": 6, "login": "alice"}],
    }
    follows = {
        "alice": [
            {"created_at": "2012-06-01T09:33:18-07:00", "type": "FollowEvent", "login": "carol"},
            {"created_at": "2012/03/11 00:54:49 -0800", "type": "FollowEvent", "login": "dave"},
        ]
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "github_284users_events_2013.pkl").write_bytes(pickle.dumps((events, GH_TYPES), protocol=3))
    (folder / "github_284users_follow_2011_2012.pkl").write_bytes(pickle.dumps(follows, protocol=3))


def test_github_substitute_follow_graph_and_watch_fork_attributes(mini_dir):
    g = load_dataset("github", mini_dir, log_counts=False)
    assert g.info["substitute"] == GITHUB_SUBSTITUTE and g.name == "github"
    assert list(g.node_ids) == ["alice", "bob", "carol"] and g.num_features == 6
    p0 = {("alice", "carol"), ("alice", "bob")}  # the 2012 follow is history
    assert edge_sets(g) == [p0, p0 | {("bob", "carol")}, p0 | {("bob", "carol")}]
    assert g.x[0][0, 2] == 2 and g.x[0].sum() == 2  # two watches alice -> carol
    assert g.x[1][0, 3 + 1] == 1 and g.x[1].sum() == 1  # one fork alice -> bob
    assert g.info["initial_follows_outside_users"] == 1 and g.info["events_before_start"] == 1
    no_history = load_dataset("github", mini_dir, initial_follows=False, attribute_events=["WatchEvent"])
    assert edge_sets(no_history)[0] == {("alice", "bob")} and no_history.num_features == 3


def test_github_refuses_unsafe_or_malformed_pickles(mini_dir):
    folder = mini_dir / "github"
    (folder / "github_284users_events_2013.pkl").write_bytes(pickle.dumps((date(2013, 1, 1), GH_TYPES)))
    with pytest.raises(DataError, match=r"events_2013\.pkl: not a plain-data pickle.*datetime"):
        load_dataset("github", mini_dir)
    _github(folder, events={"alice": [{"created_at": 1.0, "type": 4}]})
    with pytest.raises(DataError, match=r"event 0 of user 'alice': expected a dict with created_at, type and login"):
        load_dataset("github", mini_dir)
    _github(folder)
    with pytest.raises(DataError, match="no event type 'StarEvent'"):
        load_dataset("github", mini_dir, attribute_events=("StarEvent",))


# ---------------------------------------------------------------------------------------------- entry points


def test_load_dataset_synthetic_settings_and_errors(monkeypatch):
    g = load_dataset("synthetic", num_nodes=40, num_snapshots=6)
    assert g.num_nodes == 40 and len(g) == 6 and g.info["settings"]["num_nodes"] == 40
    with pytest.raises(DataError, match="unknown setting.*colour.*valid: num_nodes"):
        load_dataset("synthetic", colour="red")
    with pytest.raises(DataError, match="unknown data set 'enron'"):
        load_dataset("enron")
    monkeypatch.delenv("HVGRAE_DATA", raising=False)
    with pytest.raises(DataError, match="hep_th needs the real data.*HVGRAE_DATA"):
        load_dataset("hep_th")
    with pytest.raises(DataError, match="mode must be one of"):
        load_dataset("uci_message", "/nonexistent", mode="sliding")
    with pytest.raises(DataError, match=r"CollegeMsg\.txt\.gz: file not found"):
        load_dataset("uci_message", "/nonexistent")
    assert default_settings("hep_th").max_snapshots == 40


def test_table_one_on_the_mini_folder(mini_dir, monkeypatch):
    monkeypatch.delenv("HVGRAE_DATA", raising=False)
    only = table_one(None)
    assert list(only.index) == ["synthetic"] and pd.isna(only.loc["synthetic", "snapshots_paper"])
    assert all(available(name, mini_dir) for name in DATASETS)
    t = table_one(mini_dir, ["uci_message", "github"], settings={"uci_message": {"min_events": 2}})
    assert t.loc["uci_message", "snapshots"] == 2 and t.loc["uci_message", "snapshots_paper"] == 56
    assert t.loc["uci_message", "duplicates_merged"] == 1 and "min_events=2" in t.loc["uci_message", "settings"]
    assert t.loc["github", "note"] == GITHUB_SUBSTITUTE and t.loc["github", "nodes_paper"] == 1049
    row = describe(load_dataset("uci_message", mini_dir, min_events=2))
    assert (row["undirected_min"], row["undirected_max"]) == (2, 4)  # (9,5) ~ (5,9) and (12,5) ~ (5,12)


# ---------------------------------------------------------------------------------------------- real data

REAL = real_data_dir()
real = pytest.mark.skipif(REAL is None, reason="real data directory not available")

# what the defaults give on the shared data (reported beside the paper's Table I)
EXPECTED = {
    "uci_message": {"snapshots": 56, "nodes": 1899, "edges_min": 471, "edges_max": 18306, "attribute_dim": 0,
                    "undirected_min": 428, "undirected_max": 12608},
    "hep_th": {"snapshots": 40, "nodes": 7342, "edges_min": 770, "edges_max": 34968, "attribute_dim": 0,
               "undirected_min": 766, "undirected_max": 34932},
    "social_evolution": {"snapshots": 54, "nodes": 84, "edges_min": 376, "edges_max": 778, "attribute_dim": 168,
                         "undirected_min": 272, "undirected_max": 576},
    "github": {"snapshots": 24, "nodes": 284, "edges_min": 333, "edges_max": 1710, "attribute_dim": 568,
               "undirected_min": 294, "undirected_max": 1431},
}


@real
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_data_sets_have_the_reported_shapes(name):
    g = load_dataset(name, REAL)
    row = describe(g)
    assert {k: row[k] for k in EXPECTED[name]} == EXPECTED[name]
    assert all(f["matches_provenance"] for f in g.info["files"])
    assert g.stream is not None and len(g.stream) == g.info["events"] - g.info.get("events_outside_node_set", 0)
    assert row["snapshots"] == PAPER_TABLE_I[name]["snapshots"]


@real
def test_real_uci_message_window_mode_and_konect():
    w = load_dataset("uci_message", REAL, mode="window")
    assert len(w) == 56 and max(e.shape[1] for e in w.edges) == 1192
    k = load_dataset("uci_message", REAL, source="konect")
    assert len(k) == 55 and k.num_nodes == 1899  # the 9 h shift moves day boundaries: 55 days at >= 212


def test_load_or_synthetic_falls_back_to_the_embedded_network(tmp_path):
    from hvgrae.data.loaders import load_or_synthetic

    fallback = load_or_synthetic("", "uci_message", tmp_path, {"num_nodes": 30, "num_snapshots": 12})
    assert fallback.name == "synthetic" and fallback.num_nodes == 30 and len(fallback) == 12
    assert load_or_synthetic("synthetic", "uci_message", tmp_path).num_nodes == 300  # no options: the defaults
    with pytest.raises(DataError):
        load_or_synthetic("uci_message", "x", tmp_path, {"num_nodes": 30})  # a named data set must load
