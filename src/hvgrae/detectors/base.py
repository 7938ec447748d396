"""One interface for every detector (H-VGRAE, its ablations, baselines, heuristics) and the name registry.

A detector is fitted on the training snapshots, then scores a test stream online: for each test snapshot in
order it scores that snapshot's edges given everything seen so far (higher = more anomalous) and then adds the
snapshot, as observed (injected edges included: an online detector cannot know which edges are anomalous),
to its history.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
from tqdm import tqdm

from hvgrae.data.graph import DynamicGraph

REGISTRY: dict[str, Callable[..., Detector]] = {}


def register(name: str) -> Callable[[type[Detector]], type[Detector]]:
    """Class decorator: make a detector available under ``name`` to the CLI, runner and notebooks."""

    def wrap(cls: type[Detector]) -> type[Detector]:
        if name in REGISTRY:
            raise ValueError(f"detector name {name!r} registered twice")
        REGISTRY[name] = cls
        cls.name = name
        return cls

    return wrap


def make_detector(name: str, **options: Any) -> Detector:
    """Build the detector registered as ``name``; ``options`` go to its constructor.

    Options the detector does not take (for example ``epochs`` for a heuristic) are ignored, so one
    command line can drive every method.
    """
    import hvgrae.detectors  # noqa: F401  (imports every detector module, filling the registry)

    if name not in REGISTRY:
        raise ValueError(f"unknown method {name!r}; choose one of: {', '.join(sorted(REGISTRY))}")
    cls = REGISTRY[name]
    accepted = getattr(cls, "options", None)
    if accepted is not None:
        options = {k: v for k, v in options.items() if k in accepted and v is not None}
    return cls(**options)


class Detector(ABC):
    """Base class. Subclasses implement :meth:`fit` and :meth:`score_snapshot`.

    Attributes:
        name: the registry name (set by :func:`register`).
        options: the constructor keywords accepted from the CLI (``seed``, ``epochs``, ...).
        seed: the random seed driving initialisation and sampling.

    """

    name: ClassVar[str] = "detector"
    options: ClassVar[tuple[str, ...]] = ("seed",)

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    @abstractmethod
    def fit(self, train: DynamicGraph, val: DynamicGraph | None = None) -> Self:
        """Learn from the training snapshots (all normal). ``val``, when given, holds labelled edges of the
        training period (held-out normal edges plus injected anomalies) for model selection only.
        """

    @abstractmethod
    def score_snapshot(self, edges: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Score the ``(2, E)`` edges of the next snapshot (attributes ``x``: ``(N, D)`` or None) given the
        history, return ``(E,)`` float scores (higher = more anomalous), then add the snapshot to the history.
        """

    def score(self, test: DynamicGraph, progress: bool = True) -> list[np.ndarray]:
        """Score every test snapshot in order (online detection); one ``(E_t,)`` array per snapshot."""
        out = []
        steps = tqdm(range(len(test)), desc=f"{self.name}: score", disable=not progress, leave=False)
        for t in steps:
            x = None if test.x is None else test.x[t]
            scores = np.asarray(self.score_snapshot(test.edges[t], x), dtype=np.float64)
            if scores.shape != (test.edges[t].shape[1],):
                raise RuntimeError(f"{self.name} returned {scores.shape} scores for {test.edges[t].shape[1]} edges")
            out.append(scores)
        return out

    def config(self) -> dict[str, Any]:
        """The settings that define this detector, for the results store."""
        return {k: getattr(self, k) for k in self.options if hasattr(self, k)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
