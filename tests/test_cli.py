"""The command line as a user calls it."""
import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from hvgrae.cli import main

from .conftest import real_data_dir


def _edge_file(path, snapshots=14, n=30, per=40, seed=0, sep=" "):
    rng = np.random.default_rng(seed)
    day = 86400
    lines = ["# src dst timestamp"]
    for t in range(snapshots):
        for _ in range(per):
            a, b = rng.integers(100, 100 + n, 2)
            if a != b:
                lines.append(f"{a}{sep}{b}{sep}{1_600_000_000 + t * day + int(rng.integers(0, day))}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_methods_lists_the_heuristics(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in ("common-neighbors", "adamic-adar", "preferential-attachment", "edge-history"):
        assert name in out


def test_run_prints_auc_and_appends_one_json_line_per_run(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    args = ["run", "--method", "common-neighbors", "--dataset", "synthetic", "--anomaly-ratio", "0.05",
            "--seed", "1", "--out", str(out), "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "AUC 0." in printed
    assert main(args) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 2
    rec = json.loads(lines[0])
    for key in ("method", "dataset", "protocol", "ratio", "seed", "auc", "ap", "per_snapshot_auc", "test_edges",
                "test_anomalies", "config", "wall_seconds", "versions"):
        assert key in rec
    assert rec["auc"] == json.loads(lines[1])["auc"]  # same seed, same AUC
    assert 0.5 < rec["auc"] <= 1.0 and rec["config"]["protocol"]["seed"] == 1


def test_inject_exports_the_labelled_test_edges_deterministically(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for p in (a, b):
        assert main(["inject", "--dataset", "synthetic", "--protocol", "paper", "--anomaly-ratio", "0.05",
                     "--seed", "3", "--out", str(p)]) == 0
    assert a.read_text() == b.read_text()
    rows = list(csv.DictReader(a.open()))
    assert set(rows[0]) == {"snapshot", "src", "dst", "label"}
    labels = [int(r["label"]) for r in rows]
    assert 0 < labels.count(1) < labels.count(0)
    assert {int(r["snapshot"]) for r in rows} == set(range(20, 30))


def test_score_a_users_edge_list(tmp_path):
    edges = _edge_file(tmp_path / "edges.txt")
    out = tmp_path / "scores.csv"
    assert main(["score", "--method", "adamic-adar", "--edges", str(edges), "--period", "1D",
                 "--test-snapshots", "4", "--out", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["snapshot", "snapshot_start", "src", "dst", "score"]
    # ids as in the file (100..129), start times in the file's units (Unix seconds at UTC midnight)
    assert all(100 <= int(r["src"]) < 130 and 100 <= int(r["dst"]) < 130 for r in rows)
    starts = {int(r["snapshot_start"]) for r in rows}
    assert len(starts) == 4 and all(s % 86400 == 0 for s in starts)
    # one row per distinct (snapshot, src, dst)
    keys = [(r["snapshot"], r["src"], r["dst"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_bad_input_is_one_clear_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 100\n3 x 200\n")
    proc = subprocess.run(
        [sys.executable, "-m", "hvgrae.cli", "score", "--method", "edge-history", "--edges", str(bad),
         "--out", str(tmp_path / "o.csv")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(bad) in proc.stderr and "line 2" in proc.stderr
    missing = subprocess.run([sys.executable, "-m", "hvgrae.cli", "score", "--method", "edge-history", "--edges",
                              str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o.csv")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.txt" in missing.stderr and "Traceback" not in missing.stderr


def test_unknown_method_is_a_clear_error(capsys):
    assert main(["run", "--method", "nope", "--dataset", "synthetic", "--quiet"]) == 2
    assert "unknown method" in capsys.readouterr().err


def test_datasets_prints_table_one(capsys):
    assert main(["datasets"]) == 0
    assert "synthetic" in capsys.readouterr().out


@pytest.mark.skipif(real_data_dir() is None, reason="real data directory not available")
def test_run_on_uci_message(capsys):
    assert main(["run", "--method", "common-neighbors", "--dataset", "uci_message", "--anomaly-ratio", "0.05",
                 "--data-dir", str(real_data_dir()), "--quiet"]) == 0
    assert "AUC 0." in capsys.readouterr().out
