"""Running table cells and storing their results.

One *cell* = (method, data set, protocol, anomaly ratio, seed): load the data, split and inject, fit the
detector on the training snapshots, score the test snapshots online, evaluate. Results are JSON lines in an
append-only store; each append is one locked ``write`` of a complete line, so an interrupted run never
leaves a broken line (and :func:`read_results` skips any line that is not valid JSON, reporting it).
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import resource
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from hvgrae.data.graph import DynamicGraph
from hvgrae.protocol.splits import ProtocolConfig, Split, make_split


def versions() -> dict[str, str]:
    """Versions of the packages that can move a number."""
    import scipy
    import sklearn
    import torch
    import torch_geometric

    from hvgrae import __version__

    return {
        "hvgrae": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def run_split(method: str, split: Split, progress: bool = True, **options: Any) -> dict[str, Any]:
    """Fit ``method`` on ``split.train`` (and ``split.val``), score ``split.test``, evaluate.

    ``progress`` also reaches detectors that declare a ``progress`` option (their training bars), unless
    ``options`` sets it.
    """
    from hvgrae.detectors import make_detector
    from hvgrae.metrics import evaluate

    detector = make_detector(method, **{"progress": progress, **options})
    t0 = time.perf_counter()
    detector.fit(split.train, split.val)
    t1 = time.perf_counter()
    scores = detector.score(split.test, progress=progress)
    t2 = time.perf_counter()
    metrics = evaluate(split.test.label_list(), scores)
    return {
        **metrics,
        "detector": detector.config(),
        "fit_seconds": t1 - t0,
        "score_seconds": t2 - t1,
        "scores": scores,
        "detector_object": detector,
    }


def training_curve(
    split: Split, stops: list[int], method: str = "hvgrae", seed: int = 0, **options: Any
) -> list[dict[str, Any]]:
    """Validation and test AUC of one training run after each number of epochs in ``stops``.

    A diagnostic of model selection: does the validation AUC rank epochs as the test AUC does? The run is
    resumed from a checkpoint at each stop (one training of ``max(stops)`` epochs, the last epoch of each
    stop kept), so the test AUC never feeds back into training. ``method`` must accept ``checkpoint_dir``
    (the H-VGRAE family). Returns one dict per stop: ``epochs``, ``val_auc``, ``test_auc`` and the ELBO terms
    of that epoch.
    """
    import tempfile

    from hvgrae.detectors import make_detector
    from hvgrae.metrics import auc

    rows = []
    with tempfile.TemporaryDirectory(prefix="hvgrae-curve-") as folder:
        for epochs in sorted(set(stops)):
            det = make_detector(method, seed=seed, epochs=epochs, select="last", checkpoint_dir=folder,
                                progress=False, **options)
            det.fit(split.train, split.val)
            scores = det.score(split.test, progress=False)
            last = det.history_[-1]
            rows.append({**last, "epochs": epochs, "val_auc": last.get("val_auc", float("nan")),
                         "test_auc": auc(split.test.label_list(), scores)})
    return rows


def run_cell(
    method: str,
    dataset: str,
    protocol: str = "paper",
    anomaly_ratio: float = 0.05,
    seed: int = 0,
    data_dir: str | Path | None = None,
    graph: DynamicGraph | None = None,
    protocol_options: dict[str, Any] | None = None,
    dataset_options: dict[str, Any] | None = None,
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Run one table cell and return its JSON-ready record (key ``auc`` plus everything needed to redo it).

    ``options`` go to the detector (``epochs``, ``M``, ``d``, ``use_current``, ...); the seed drives the
    training-edge sample, the injection and the detector's initialisation.
    """
    from hvgrae.data.loaders import load_dataset

    start = time.perf_counter()
    if graph is None:
        graph = load_dataset(dataset, data_dir, **(dataset_options or {}))
    cfg = ProtocolConfig(protocol=protocol, anomaly_ratio=anomaly_ratio, seed=seed, **(protocol_options or {}))
    split = make_split(graph, cfg)
    result = run_split(method, split, progress=progress, seed=seed, **options)
    record = {
        "method": method,
        "dataset": dataset,
        "protocol": protocol,
        "ratio": anomaly_ratio,
        "seed": seed,
        "auc": result["auc"],
        "ap": result["ap"],
        "mean_snapshot_auc": result["mean_snapshot_auc"],
        "per_snapshot_auc": result["per_snapshot_auc"],
        "test_edges": result["test_edges"],
        "test_anomalies": result["test_anomalies"],
        "anomalies_per_snapshot": result["anomalies_per_snapshot"],
        "config": {
            "protocol": asdict(cfg),
            "detector": result["detector"],
            "dataset": {"options": dataset_options or {}, **{k: v for k, v in graph.info.items() if k != "generator"}},
            "graph": graph.stats(),
        },
        "fit_seconds": result["fit_seconds"],
        "score_seconds": result["score_seconds"],
        "wall_seconds": time.perf_counter() - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "versions": versions(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return _jsonable(record)


def append_result(path: str | Path, record: dict[str, Any]) -> None:
    """Append one record as a JSON line, atomically (one locked write of the whole line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(_jsonable(record), sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """All complete records of a results store (a truncated last line, if any, is skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
