"""The reproduction runner: grid shapes, resumable store, interruption, parallel determinism, failing cells."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hvgrae import cli, runner
from hvgrae.detectors import REGISTRY
from hvgrae.detectors.base import Detector, register
from hvgrae.runner import (
    ABLATIONS,
    PAPER_ABLATIONS,
    PAPER_TABLE_II,
    PROFILES,
    Cell,
    Profile,
    compare_with_paper,
    grid,
    load_results,
    reproduce,
    summarise,
)

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT.parent / "shared" / "paper" / "h-vgrae-paper.txt"
REQUIRED = {"key", "experiment", "label", "cell", "method", "dataset", "protocol", "ratio", "seed", "auc", "ap",
            "config", "versions", "wall_seconds", "peak_rss_mb", "finished_at", "test_anomalies"}


def _lines(path: Path) -> list[dict]:
    """Every line of a JSONL file, parsed (fails on a broken line)."""
    return [json.loads(line) for line in path.read_text().splitlines()]


# ----------------------------------------------------------------------------------------------- cells


def test_cell_key_is_stable_and_roundtrips_through_json():
    a = Cell("sens_ratio", "hvgrae", "synthetic", "paper", 0.05, 2, {"epochs": 3, "M": 2}, {"train_ratio": 0.3})
    b = Cell("sens_ratio", "hvgrae", "synthetic", "paper", 0.05, 2, (("M", 2), ("epochs", 3)), [["train_ratio", 0.3]])
    assert a == b and hash(a) == hash(b)
    assert a.key() == "sens_ratio|hvgrae|synthetic|paper|0.05|2|M=2,epochs=3|train_ratio=0.3|"
    back = Cell.from_dict(json.loads(json.dumps(a.to_dict())))
    assert back == a and back.key() == a.key()
    assert Cell("table2", "vgrnn", "synthetic", ratio=0.1).key() != Cell("table2", "vgrnn", "synthetic", ratio=0.01).key()


def test_row_labels_follow_the_paper():
    assert Cell("ablation", "hvgrae", "x", options={"M": 2, "epochs": 100}).label == "H-VGRAE (M = 2)"
    assert Cell("table2", "netwalk", "x", options={"epochs": 5}).label == "NetWalk"
    assert Cell("sens_d", "hvgrae", "x", options={"M": 2, "d": 8}).label == "hvgrae [M=2, d=8]"


# ----------------------------------------------------------------------------------------------- grid


class _Stub(Detector):
    """A registered stand-in that accepts every option a profile uses (for grid shapes only; never run)."""

    options = ("seed", "epochs", "M", "d")

    def fit(self, train, val=None):
        raise RuntimeError("stub")

    def score_snapshot(self, edges, x=None):
        raise RuntimeError("stub")


@pytest.fixture
def every_method_registered(monkeypatch):
    """Register a stub under every profile method that is not (yet) registered; restore the registry after."""
    names = {m for p in PROFILES.values() for m in (*p.methods, *p.heuristics)}
    names |= {v.method for v in ABLATIONS}
    for n in names - set(REGISTRY):
        monkeypatch.setitem(REGISTRY, n, _Stub)
    # pretend every data set can be loaded: shapes only, nothing is loaded
    monkeypatch.setattr(runner, "_available", lambda names, data_dir, note: set(names))


def _counts(cells):
    return {e: sum(c.experiment == e for c in cells) for e in runner.EXPERIMENTS}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("smoke", {"table2": 3, "ablation": 1, "sens_M": 1, "sens_d": 1, "sens_ratio": 1}),
        # quick: (5 baselines + 4 heuristics + H-VGRAE (M = 2)) x 2 data sets x 2 protocols x 3 ratios
        ("quick", {"table2": 120, "ablation": 5, "sens_M": 3, "sens_d": 2, "sens_ratio": 2}),
        # 10 methods x 5 data sets x 2 protocols x 3 ratios x 5 seeds; sweeps: values x 2 data sets x 5 seeds
        ("full", {"table2": 1500, "ablation": 750, "sens_M": 60, "sens_d": 50, "sens_ratio": 60}),
    ],
)
def test_profile_grid_shapes(every_method_registered, name, expected):
    cells = grid(name, verbose=False)
    assert _counts(cells) == expected
    assert len({c.key() for c in cells}) == len(cells)
    prof = PROFILES[name]
    sweep = [c for c in cells if c.experiment.startswith("sens_")]
    assert {c.dataset for c in sweep} == set(prof.sweep_datasets)
    assert {c.ratio for c in sweep} == {0.05} and {c.protocol for c in sweep} == {"paper"}
    for c in cells:
        trains = "epochs" in REGISTRY[c.method].options
        assert dict(c.options).get("epochs") == (prof.epochs_for(c.method) if trains else None)
    if name == "full":
        assert sorted({dict(c.options)["M"] for c in cells if c.experiment == "sens_M"}) == [1, 2, 3, 4, 5, 6]
        assert sorted({dict(c.protocol_options)["train_ratio"] for c in cells if c.experiment == "sens_ratio"}) == [
            0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
        assert {c.seed for c in cells} == {0, 1, 2, 3, 4}


def test_epochs_per_method_family_and_scopes():
    prof = replace(PROFILES["full"], epochs=(("hvgrae", 7), ("vgrnn", 3), ("*", 2)),
                   ablation_scope=runner.Scope(("synthetic",), ("taddy",), (0.1,)))
    assert [prof.epochs_for(m) for m in ("hvgrae", "hvgrae-g", "svgrae-i", "vgrnn", "addgraph")] == [7, 7, 7, 3, 2]
    assert prof.scope("ablation") == runner.Scope(("synthetic",), ("taddy",), (0.1,))
    assert prof.scope("table2").protocols == ("paper", "taddy")
    assert prof.scope("sens_d") == runner.Scope(("uci_message", "github"), ("paper",), (0.05,))


def test_grid_restrictions(every_method_registered):
    cells = grid("full", datasets=["uci_message"], seeds=[7], experiments=["table2", "sens_d"], verbose=False)
    assert {c.experiment for c in cells} == {"table2", "sens_d"}
    assert {c.dataset for c in cells} == {"uci_message"} and {c.seed for c in cells} == {7}
    assert _counts(cells)["table2"] == 10 * 2 * 3 and _counts(cells)["sens_d"] == 5
    # the data sets replace those of every experiment: quick's ablations (synthetic only) and Table II move to HEP-TH
    cells = grid("quick", datasets=["hep_th"], experiments=["table2", "ablation"], verbose=False)
    assert {c.dataset for c in cells} == {"hep_th"}
    assert _counts(cells)["ablation"] == 5 and _counts(cells)["table2"] == 10 * 2 * 3
    with pytest.raises(ValueError, match="unknown experiment"):
        grid("smoke", experiments=["tabel2"])
    with pytest.raises(ValueError, match="unknown profile"):
        grid("huge")


def test_unknown_methods_and_options_are_skipped_with_a_note(capsys):
    prof = replace(PROFILES["smoke"], methods=("no-such-method",), heuristics=("common-neighbors",),
                   ablations=(runner.Variant("CN with a switch", "common-neighbors", (("flows", 0),)),), sweeps=())
    cells = grid(prof)
    out = capsys.readouterr().out
    assert "'no-such-method' skipped: not registered" in out
    assert "has no option flows" in out
    assert [c.method for c in cells] == ["common-neighbors"]
    assert cells[0].options == ()  # a heuristic takes no epochs: none is recorded


def test_unavailable_real_data_is_skipped(tmp_path, capsys):
    prof = replace(PROFILES["smoke"], datasets=("synthetic", "uci_message"), methods=(), ablations=(), sweeps=())
    cells = grid(prof, data_dir=tmp_path)
    assert {c.dataset for c in cells} == {"synthetic"}
    assert "'uci_message' skipped" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory):
    """The smoke profile run as a user would: ``hvgrae reproduce --profile smoke`` in a subprocess, SIGKILLed
    as soon as its first cell is stored, then rerun (resumed) through the CLI to the end. Shared below.
    """
    folder = tmp_path_factory.mktemp("smoke")
    store = folder / "results.jsonl"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hvgrae.cli", "reproduce", "--profile", "smoke", "--results", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600  # a safety net only: the first cell takes seconds on an idle machine
        while not (store.exists() and store.read_bytes().count(b"\n") >= 1):
            assert proc.poll() is None, "the run ended before its first cell was stored"
            assert time.monotonic() < deadline, "no cell stored within 600 s"
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    first = _lines(store)
    exit_code = cli.main(["reproduce", "--profile", "smoke", "--results", str(folder), "--quiet"])
    return {"folder": folder, "first": first, "exit_code": exit_code, "seconds": time.perf_counter() - t0}


def test_interrupted_run_resumes_without_loss_or_duplicates(smoke_store):
    cells = grid("smoke", verbose=False)
    first = smoke_store["first"]
    assert 1 <= len(first) < len(cells), "the run was not interrupted mid-way"
    assert smoke_store["exit_code"] == 0
    final = _lines(smoke_store["folder"] / "results.jsonl")  # fails on a broken line
    keys = [r["key"] for r in final]
    assert len(keys) == len(set(keys)) == len(cells)  # no duplicate cell
    assert set(keys) == {c.key() for c in cells}  # every cell present
    assert final[: len(first)] == first  # nothing already stored was rewritten


def test_smoke_run_writes_one_complete_line_per_cell_then_resumes(smoke_store):
    folder = smoke_store["folder"]
    cells = grid("smoke", verbose=False)
    lines = _lines(folder / "results.jsonl")
    assert {r["key"] for r in lines} == {c.key() for c in cells}
    for rec in lines:
        assert REQUIRED <= set(rec), REQUIRED - set(rec)
        assert Cell.from_dict(rec["cell"]).key() == rec["key"]
        assert rec["cell"]["dataset_options"] == {"num_nodes": 60, "num_snapshots": 16}
        assert rec["config"]["graph"]["nodes"] == 60
        assert 0.0 <= rec["auc"] <= 1.0 and rec["test_anomalies"] > 0 and rec["peak_rss_mb"] > 0
    assert not (folder / "errors.jsonl").exists()
    before = (folder / "results.jsonl").read_bytes()
    again = reproduce("smoke", results=folder, progress=False)
    assert again.attrs["report"].ran == 0 and again.attrs["report"].already_done == len(cells) == len(again)
    assert (folder / "results.jsonl").read_bytes() == before
    assert again["auc"].between(0, 1).all()


def test_parallel_workers_give_the_same_aucs(smoke_store, tmp_path):
    serial = load_results(smoke_store["folder"])
    par = reproduce("smoke", experiments=["table2", "ablation"], workers=2, results=tmp_path, progress=False)
    assert par.attrs["report"].ran == len(par) == 4
    records = _lines(tmp_path / "results.jsonl")
    cores = len(os.sched_getaffinity(0))
    assert {r["torch_threads"] for r in records} == {max(1, cores // 2)}
    assert os.getpid() not in {r["pid"] for r in records}  # ran in worker processes
    a = serial.set_index("key")["auc"]
    b = par.set_index("key")["auc"]
    np.testing.assert_allclose(b.to_numpy(), a.loc[b.index].to_numpy(), rtol=0, atol=1e-9)


class _AlwaysFails(Detector):
    """Test-only detector: fitting raises."""

    options = ("seed", "epochs")

    def __init__(self, seed=0, epochs=1):
        super().__init__(seed)
        self.epochs = epochs

    def fit(self, train, val=None):
        raise RuntimeError("boom in fit")

    def score_snapshot(self, edges, x=None):
        raise AssertionError("never reached")


@pytest.fixture
def failing_detector():
    register("test-always-fails")(_AlwaysFails)
    try:
        yield "test-always-fails"
    finally:
        REGISTRY.pop("test-always-fails", None)


def test_a_failing_cell_is_recorded_and_the_others_run(failing_detector, tmp_path, monkeypatch, capsys):
    prof = Profile(
        name="failing", datasets=("synthetic",), methods=(failing_detector,), heuristics=("edge-history",),
        ablations=(), protocols=("paper",), ratios=(0.05,), seeds=(0, 1), epochs=(("*", 1),), sweeps=(),
        sweep_datasets=(),
    )
    monkeypatch.setitem(PROFILES, "failing", prof)
    assert cli.main(["reproduce", "--profile", "failing", "--results", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "boom in fit" in out.out + out.err
    errors = _lines(tmp_path / "errors.jsonl")
    assert len(errors) == 2
    assert {e["method"] for e in errors} == {failing_detector}
    assert all("RuntimeError: boom in fit" == e["error"] and "|test-always-fails|" in e["key"] for e in errors)
    done = _lines(tmp_path / "results.jsonl")
    assert sorted((r["method"], r["seed"]) for r in done) == [("edge-history", 0), ("edge-history", 1)]
    # failed cells are retried on the next run; finished ones are not
    df = reproduce(prof, results=tmp_path, progress=False)
    assert df.attrs["report"].ran == 0 and len(df.attrs["errors"]) == 2 and len(df) == 2


# ----------------------------------------------------------------------------------------------- tables


def _frame(aucs, label="H-VGRAE (M = 2)", method="hvgrae", options="M=2,epochs=3", dataset="uci_message"):
    return pd.DataFrame({
        "experiment": "ablation", "label": label, "method": method, "options": options, "dataset": dataset,
        "dataset_options": "", "protocol": "paper", "protocol_options": "", "ratio": 0.05, "seed": range(len(aucs)), "auc": aucs,
        "test_anomalies": 40,
    })


def test_summarise_and_compare_with_the_paper():
    df = pd.concat([_frame([0.83, 0.84, 0.85]), _frame([0.70, math.nan], label="GOutlier", method="goutlier",
                                                       options="")])
    df.loc[df.label == "GOutlier", "experiment"] = "table2"
    s = summarise(df)
    row = s[s.label == "H-VGRAE (M = 2)"].iloc[0]
    assert row["mean"] == pytest.approx(0.84) and row["std"] == pytest.approx(0.01) and row["n"] == 3
    g = s[s.label == "GOutlier"].iloc[0]
    assert g["n"] == 1 and g["mean"] == pytest.approx(0.70) and math.isnan(g["std"])
    cmp = compare_with_paper(s).set_index("label")
    assert cmp.loc["H-VGRAE (M = 2)", "paper"] == 0.8317
    assert cmp.loc["H-VGRAE (M = 2)", "difference"] == pytest.approx(0.84 - 0.8317)
    assert bool(cmp.loc["H-VGRAE (M = 2)", "within_spread"]) is True  # 0.0083 <= 2 x 0.01
    assert not bool(compare_with_paper(s, spread=0.5).set_index("label").loc["H-VGRAE (M = 2)", "within_spread"])
    assert pd.isna(cmp.loc["GOutlier", "within_spread"])  # one seed: no spread
    assert cmp.loc["GOutlier", "provenance"] == "reported"  # not shown to be copied: reported as the paper gives it


def test_a_table2_hvgrae_row_meets_its_paper_value_and_is_counted_once():
    both = pd.concat([_frame([0.80, 0.82]), _frame([0.80, 0.82]).assign(experiment="table2"),
                      _frame([0.7], label="hvgrae [M=1]", options="M=1").assign(experiment="sens_M")])
    cells = runner.table_ii_cells(both)
    assert len(cells) == 2 and set(cells["experiment"]) == {"table2"}  # sens_M dropped; duplicates kept once
    cmp = compare_with_paper(summarise(cells)).set_index("label")
    assert cmp.loc["H-VGRAE (M = 2)", "paper"] == 0.8317 and cmp.loc["H-VGRAE (M = 2)", "n"] == 2


def test_load_results_keeps_the_latest_record_per_cell(tmp_path):
    from hvgrae.experiments import append_result

    cell = Cell("table2", "edge-history", "synthetic", seed=3)
    for auc in (0.6, 0.7):
        append_result(tmp_path / "results.jsonl", {"key": cell.key(), "cell": cell.to_dict(), "auc": auc,
                                                    "test_anomalies": 5})
    append_result(tmp_path / "results.jsonl", {"method": "x", "auc": 0.1})  # from `hvgrae run --out`: no key
    with open(tmp_path / "results.jsonl", "a") as fh:
        fh.write('{"key": "truncated')  # a line cut by a crash
    df = load_results(tmp_path)
    assert len(df) == 1 and df.loc[0, "auc"] == 0.7 and df.loc[0, "seed"] == 3
    assert load_results(tmp_path, experiment="ablation").empty
    assert load_results(tmp_path, datasets=["hep_th"]).empty and len(load_results(tmp_path, datasets=["synthetic"])) == 1


@pytest.mark.skipif(not PAPER.exists(), reason="paper text not available")
def test_paper_numbers_are_copied_exactly():
    text = PAPER.read_text()
    table = text[text.index("TABLE II: Anomaly detection performance comparison"):]
    labels = [*PAPER_TABLE_II, *PAPER_ABLATIONS]
    for label in labels:
        row = re.search(re.escape(label) + r"((?: 0\.\d{4}){12})", table)
        assert row, label
        values = [float(v) for v in row.group(1).split()]
        ours = {**PAPER_TABLE_II, **PAPER_ABLATIONS}[label]
        assert [v for ds in runner.PAPER_DATASETS for v in ours[ds]] == values, label
    assert {v.label for v in ABLATIONS} == set(PAPER_ABLATIONS)
