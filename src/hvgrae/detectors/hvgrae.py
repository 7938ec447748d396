"""H-VGRAE and its ablations as detectors: offline training, online scoring, EVT thresholds, interpretation.

Offline (Section IV-B): maximise the ELBO (Eq. 16) over the training snapshots in time order with Adam,
by truncated back-propagation through time: the loss of ``bptt`` consecutive snapshots is back-propagated
and the parameters updated, then the recurrent state is detached and carried on (one epoch = one pass).
Model selection: after each ``val_every`` epochs, a deterministic pass (posterior means) through the training
period scores the validation edges (held-out normal edges + injected anomalies of the training snapshots).
By default the last epoch is kept (``select="last"``: the paper trains a fixed 100 epochs and describes no
early stopping); ``select="val_auc"`` keeps the epoch with the best validation AUC. The default is measured,
not assumed: on UCI message (paper protocol, 5%, seed 0, ``curve`` of the training chapter) the validation
AUC peaks within the first 5 epochs (0.85) and then falls while the test AUC rises (0.58 at epoch 2 and 5,
0.65 at 10, 0.67 at 20): held-out edges of a training snapshot are predicted from that very snapshot's
activity, the test edges from the past only, so the validation task rewards what the test punishes.
The test snapshots are never used.

Validation mirrors the test condition: at training snapshot t the encoder sees the training edges plus the
validation edges of t (the scored edges are in the input, as test edges are), and the state carries them.

Online (Sections IV-C, IV-D): after training, the recurrent state (``score_samples`` Monte-Carlo
trajectories) runs through the training snapshots, then each test snapshot is scored and added:
edge score = -log p(A_ij(t) = 1 | A(<t), X(<t), Z(<=t)) averaged over samples, Z from the posterior (the
paper inputs A(t), X(t) to the trained model); node score = attribute negative log-likelihood
-log p(x_k(t) | .) = sum over dimensions of its per-dimension contributions (graphs with attributes only).

Thresholds (Section IV-B, protocol.md section 6): SPOT on training-period scores: normal validation
edges for the edge threshold (training edges when there is no validation split), training-snapshot node
scores for the node threshold. A test edge is anomalous if its score exceeds the edge threshold; a node is
anomalous if its attribute score exceeds the node threshold or it is an endpoint of an anomalous edge.
"""

from __future__ import annotations

import copy
import os
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from hvgrae.data.graph import DynamicGraph
from hvgrae.detectors.base import Detector, register
from hvgrae.evt import spot
from hvgrae.metrics import auc
from hvgrae.nn.functional import bernoulli_kl
from hvgrae.nn.hvgrae import HVGRAE, HVGRAEConfig, SnapshotInput, StepOutput

SELECTIONS = ("val_auc", "last")

# detector option -> HVGRAEConfig field
CONFIG_OPTIONS = {
    "epochs": "epochs",
    "M": "num_scales",
    "d": "latent_dim",
    "num_flows": "num_flows",
    "num_samples": "num_samples",
    "score_samples": "score_samples",
    "edge_likelihood": "edge_likelihood",
    "negative_ratio": "negative_ratio",
    "lr": "lr",
    "bptt": "bptt",
    "kl_warmup_epochs": "kl_warmup_epochs",
    "kl_estimator": "kl_estimator",
    "decoder_graph": "decoder_graph",
    "latent_lag": "latent_lag",
    "edge_decoder": "edge_decoder",
}


@dataclass(frozen=True)
class Coefficients:
    """Anomaly coefficients of one scored snapshot (Section IV-D).

    gamma_e = |E_a| / |E| and gamma_n = |V_a| / |V| (coarse); eta_e and eta_n (fine) compare the
    reconstruction probabilities with the threshold probability alpha. Our readings (the paper gives no
    formula beyond "KL(p(A(t')) || p(A_thres(t')))"): eta_e = mean over the snapshot's edges of
    KL(Bernoulli(p_ij) || Bernoulli(alpha_e)), p_ij = exp(-edge score), alpha_e = exp(-edge threshold), i.e. the
    product-Bernoulli KL restricted to the observed pairs, divided by |E| so networks of different sizes
    compare; a Gaussian density has no probability to put in a Bernoulli, so eta_n = mean over nodes of
    log p(x_k) - log alpha_X = node threshold - node score (the sample version of E_p[log p - log p_thres]).
    |V| = all N nodes when the graph has attributes (each has an observation), else the edges' endpoints.
    """

    gamma_e: float
    gamma_n: float
    eta_e: float
    eta_n: float | None
    num_anomalous_edges: int
    num_anomalous_nodes: int


def edge_scores(model: HVGRAE, out: StepOutput, pairs: Tensor) -> np.ndarray:
    """-log p(A_ij = 1 | .) of ``pairs (2, P)``, averaged over the step's samples -> ``(P,)``."""
    return (-F.logsigmoid(model.edge_logits(out, pairs))).mean(0).double().numpy()


def node_contributions(model: HVGRAE, out: StepOutput, x: Tensor) -> np.ndarray:
    """Per-dimension attribute negative log-likelihood, averaged over samples -> ``(N, D)``."""
    return (-model.attribute_log_prob(out, x)).mean(0).double().numpy()


@register("hvgrae")
class HVGRAEDetector(Detector):
    """H-VGRAE (M >= 1 scales, d latent dimensions); the ablations are subclasses that fix switches.

    Every option left at None takes :class:`~hvgrae.nn.hvgrae.HVGRAEConfig`'s default (the paper's
    settings). Fitted attributes: ``model_``, ``history_`` (per-epoch ELBO terms, KL per scale, validation
    AUC, seconds), ``best_epoch_``, ``edge_threshold_``, ``node_threshold_``, the SPOT fits behind them
    ``edge_spot_``, ``node_spot_`` (:class:`~hvgrae.evt.SpotResult`, None without attributes) and their
    calibration scores ``edge_calibration_``, ``node_calibration_``; after each scored snapshot:
    ``last_edge_scores_``, ``last_anomalous_edges_`` (bool mask), ``last_node_scores_`` and
    ``last_node_contributions_`` (None without attributes), ``last_anomalous_nodes_``, and one
    :class:`Coefficients` per scored snapshot in ``coefficients_``; ``latents_`` (per scored snapshot, per
    scale, ``(N, d)`` posterior means after the flow) when ``keep_latents``.
    """

    ablation: ClassVar[dict[str, Any]] = {}
    options: ClassVar[tuple[str, ...]] = (
        "seed",
        *CONFIG_OPTIONS,
        "select",
        "val_every",
        "q",
        "keep_latents",
        "checkpoint_dir",
        "progress",
    )

    def __init__(
        self,
        seed: int = 0,
        epochs: int | None = None,
        M: int | None = None,  # noqa: N803  (the paper's symbol, and the CLI's --M)
        d: int | None = None,
        num_flows: int | None = None,
        num_samples: int | None = None,
        score_samples: int | None = None,
        edge_likelihood: str | None = None,
        negative_ratio: float | None = None,
        lr: float | None = None,
        bptt: int | None = None,
        kl_warmup_epochs: int | None = None,
        kl_estimator: str | None = None,
        decoder_graph: str | None = None,
        latent_lag: str | None = None,
        edge_decoder: str | None = None,
        select: str = "last",
        val_every: int = 1,
        q: float = 1e-3,
        keep_latents: bool = False,
        checkpoint_dir: str | Path | None = None,
        progress: bool = True,
    ) -> None:
        super().__init__(seed)
        given = dict(locals())
        overrides = {CONFIG_OPTIONS[k]: given[k] for k in CONFIG_OPTIONS if given[k] is not None}
        for key, value in self.ablation.items():
            if key in overrides and overrides[key] != value:
                raise ValueError(f"{self.name} fixes {key}={value}; got {overrides[key]}")
        self.model_config = replace(HVGRAEConfig(), **{**overrides, **self.ablation})
        if select not in SELECTIONS:
            raise ValueError(f"select must be one of {SELECTIONS}, got {select!r}")
        if val_every < 1:
            raise ValueError(f"val_every must be >= 1, got {val_every}")
        if not 0 < q < 1:
            raise ValueError(f"q (SPOT risk) must be in (0, 1), got {q}")
        self.select = select
        self.val_every = val_every
        self.q = q
        self.keep_latents = keep_latents
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.progress = progress

    def config(self) -> dict[str, Any]:
        """Seed, the full model configuration and the detector settings."""
        return {
            "seed": self.seed,
            **asdict(self.model_config),
            "select": self.select,
            "val_every": self.val_every,
            "q": self.q,
        }

    # ------------------------------------------------------------------ training
    def fit(self, train: DynamicGraph, val: DynamicGraph | None = None) -> Self:
        """Train on ``train`` (selecting the epoch on ``val``), calibrate the thresholds, warm up the state."""
        cfg = self.model_config
        if len(train) == 0:
            raise ValueError("fit needs at least one training snapshot")
        torch.manual_seed(self.seed)
        random.seed(self.seed)  # PyG negative_sampling draws from Python's random module
        self.model_ = HVGRAE(train.num_nodes, train.num_features, cfg)
        counts = [e.shape[1] for e in train.edges]
        self.model_.edge_decoder.initialize_bias(float(np.mean(counts)) / (train.num_nodes * (train.num_nodes - 1)))
        snaps = [self.model_.prepare(e, None if train.x is None else train.x[t]) for t, e in enumerate(train.edges)]
        validation = self._validation_inputs(train, val, snaps)
        select = self.select if validation is not None else "last"
        optimizer = torch.optim.Adam(self.model_.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

        start, best = 0, {"score": -np.inf, "epoch": -1, "state": None}
        self.history_: list[dict[str, float]] = []
        ckpt = None if self.checkpoint_dir is None else self.checkpoint_dir / "hvgrae.pt"
        if ckpt is not None and ckpt.exists():
            start, best = self._resume(ckpt, optimizer, train)

        bar = tqdm(range(start, cfg.epochs), desc=f"{self.name}: train", disable=not self.progress)
        for epoch in bar:
            t0 = time.perf_counter()
            kl_weight = min(1.0, epoch / cfg.kl_warmup_epochs) if cfg.kl_warmup_epochs else 1.0
            record: dict[str, float] = {"epoch": epoch, **self._train_epoch(snaps, optimizer, kl_weight)}
            if validation is not None and ((epoch + 1) % self.val_every == 0 or epoch + 1 == cfg.epochs):
                record["val_auc"] = self._validation_auc(*validation)
                if select == "val_auc" and record["val_auc"] > best["score"]:
                    best = {"score": record["val_auc"], "epoch": epoch, "state": self._state_copy()}
            record["seconds"] = time.perf_counter() - t0
            self.history_.append(record)
            bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k not in ("epoch", "seconds")})
            if ckpt is not None:
                self._save(ckpt, epoch, optimizer, best, train)
        if select == "val_auc" and best["state"] is not None:
            self.model_.load_state_dict(best["state"])
            self.best_epoch_ = int(best["epoch"])
        else:
            self.best_epoch_ = cfg.epochs - 1
        self._calibrate(snaps, validation)
        return self

    def _train_epoch(self, snaps: list[SnapshotInput], optimizer: torch.optim.Optimizer, kl_weight: float) -> dict:
        """One pass through the training snapshots with truncated BPTT.

        Returns the ELBO terms averaged over snapshots: ``elbo``, ``log_lik_edges``, ``log_lik_x``, ``kl`` and
        the KL of each scale ``kl_1`` .. ``kl_M`` (their sum is ``kl``), so posterior collapse shows per scale.
        """
        model, cfg = self.model_, self.model_config
        model.train()
        state = model.initial_state(cfg.num_samples)
        sums = {"elbo": 0.0, "log_lik_edges": 0.0, "log_lik_x": 0.0, "kl": 0.0}
        sums |= {f"kl_{i + 1}": 0.0 for i in range(cfg.num_scales)}
        loss: Tensor | float = 0.0
        for k, out in enumerate(model.rollout(snaps, state)):
            loss = loss - model.elbo(out, kl_weight)
            sums["log_lik_edges"] += float(out.log_lik_edges.detach().mean())  # type: ignore[union-attr]
            sums["log_lik_x"] += float(out.log_lik_x.detach().mean())  # type: ignore[union-attr]
            for i, kl in enumerate(out.kl):
                sums[f"kl_{i + 1}"] += float(kl.detach().mean())
            sums["kl"] += float(torch.stack(out.kl).sum(0).detach().mean())
            if (k + 1) % cfg.bptt == 0 or k + 1 == len(snaps):
                optimizer.zero_grad()
                loss.backward()  # type: ignore[union-attr]
                optimizer.step()
                state.detach_()
                loss = 0.0
        sums["elbo"] = sums["log_lik_edges"] + sums["log_lik_x"] - sums["kl"]  # with the full KL weight
        return {key: v / len(snaps) for key, v in sums.items()}

    def _validation_inputs(
        self, train: DynamicGraph, val: DynamicGraph | None, snaps: list[SnapshotInput]
    ) -> tuple[list[SnapshotInput], list[Tensor], list[np.ndarray]] | None:
        """Encoder inputs (training + validation edges), scored pairs and labels per training snapshot."""
        if val is None or val.labels is None:
            return None
        if len(val) != len(train) or val.num_nodes != train.num_nodes:
            raise ValueError(
                f"val must be aligned with train: {len(val)} vs {len(train)} snapshots,"
                f" {val.num_nodes} vs {train.num_nodes} nodes"
            )
        labels = np.concatenate(val.labels)
        if not (labels == 1).any() or not (labels == 0).any():
            return None
        inputs, pairs = [], []
        for t, (s, e) in enumerate(zip(snaps, val.edges, strict=True)):
            both = np.concatenate([s.edge_index.numpy(), e], axis=1)
            inputs.append(self.model_.prepare(both, None if train.x is None else train.x[t]))
            pairs.append(torch.as_tensor(e, dtype=torch.long))
        return inputs, pairs, [np.asarray(y) for y in val.labels]

    @torch.no_grad()
    def _score_pass(
        self, inputs: list[SnapshotInput], pairs: list[Tensor], num_samples: int, sample: bool
    ) -> list[np.ndarray]:
        """Edge scores of ``pairs[t]`` at each step of a fresh pass through ``inputs`` (eval mode)."""
        self.model_.eval()
        state = self.model_.initial_state(num_samples)
        outs = self.model_.rollout(inputs, state, sample=sample, elbo=False)
        return [edge_scores(self.model_, out, p) for out, p in zip(outs, pairs, strict=True)]

    def _validation_auc(self, inputs: list[SnapshotInput], pairs: list[Tensor], labels: list[np.ndarray]) -> float:
        """ROC AUC of the validation edges from a deterministic pass (posterior means)."""
        return auc(labels, self._score_pass(inputs, pairs, num_samples=1, sample=False))

    def _state_copy(self) -> dict[str, Tensor]:
        return copy.deepcopy(self.model_.state_dict())

    # ------------------------------------------------------------------ thresholds and warm-up
    @torch.no_grad()
    def _calibrate(
        self,
        snaps: list[SnapshotInput],
        validation: tuple[list[SnapshotInput], list[Tensor], list[np.ndarray]] | None,
    ) -> None:
        """SPOT thresholds from training-period scores, then the online state through the training snapshots."""
        s = self.model_config.score_samples
        self.model_.eval()
        self.state_ = self.model_.initial_state(s)
        train_edge_scores, node_scores = [], []
        for snap, out in zip(snaps, self.model_.rollout(snaps, self.state_, elbo=False), strict=True):
            if validation is None:
                train_edge_scores.append(edge_scores(self.model_, out, snap.edge_index))
            if snap.x is not None:
                node_scores.append(node_contributions(self.model_, out, snap.x).sum(-1))
        if validation is not None:
            inputs, pairs, labels = validation
            scores = self._score_pass(inputs, pairs, num_samples=s, sample=True)
            calibration = np.concatenate([sc[y == 0] for sc, y in zip(scores, labels, strict=True)])
        else:
            calibration = np.concatenate(train_edge_scores)
        self.edge_calibration_ = calibration
        self.node_calibration_ = np.concatenate(node_scores) if node_scores else None
        self.edge_spot_ = spot(calibration, q=self.q)
        self.node_spot_ = None if self.node_calibration_ is None else spot(self.node_calibration_, q=self.q)
        self.edge_threshold_ = self.edge_spot_.threshold
        self.node_threshold_ = None if self.node_spot_ is None else self.node_spot_.threshold
        self.coefficients_: list[Coefficients] = []
        self.latents_: list[list[np.ndarray]] = []

    # ------------------------------------------------------------------ online detection
    @torch.no_grad()
    def score_snapshot(self, edges: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Score the next snapshot's edges (-log p, averaged over samples), detect, then add it to the state."""
        if not hasattr(self, "state_"):
            raise RuntimeError("call fit before score_snapshot")
        model = self.model_
        model.eval()
        snap = model.prepare(edges, x)
        out = model.step(snap, self.state_, sample=True, elbo=False)
        pairs = torch.as_tensor(np.asarray(edges, dtype=np.int64)).reshape(2, -1)
        scores = edge_scores(model, out, pairs)
        flagged = scores > self.edge_threshold_
        self.last_edge_scores_ = scores
        self.last_anomalous_edges_ = flagged
        endpoints = np.unique(pairs[:, flagged].numpy())
        if snap.x is not None:
            contrib = node_contributions(model, out, snap.x)
            node_scores = contrib.sum(-1)
            self.last_node_contributions_: np.ndarray | None = contrib
            self.last_node_scores_: np.ndarray | None = node_scores
            nodes_by_attr = np.flatnonzero(node_scores > self.node_threshold_)
            num_nodes = model.num_nodes
        else:
            self.last_node_contributions_ = self.last_node_scores_ = None
            nodes_by_attr = np.zeros(0, dtype=np.int64)
            num_nodes = int(np.unique(pairs.numpy()).size)
        self.last_anomalous_nodes_ = np.union1d(endpoints, nodes_by_attr).astype(np.int64)
        self.coefficients_.append(self._coefficients(scores, flagged, num_nodes))
        if self.keep_latents:
            self.latents_.append([m.numpy().copy() for m in out.latent_means])
        return scores

    def _coefficients(self, scores: np.ndarray, flagged: np.ndarray, num_nodes: int) -> Coefficients:
        """gamma_e, gamma_n, eta_e, eta_n of the snapshot just scored (see :class:`Coefficients`)."""
        alpha_e = float(np.exp(-self.edge_threshold_))
        eta_e = (
            float(bernoulli_kl(torch.as_tensor(np.exp(-scores)), alpha_e).mean()) if scores.size else 0.0
        )
        eta_n = None
        if self.last_node_scores_ is not None and self.node_threshold_ is not None:
            eta_n = float(np.mean(self.node_threshold_ - self.last_node_scores_))
        n_nodes = int(self.last_anomalous_nodes_.size)
        return Coefficients(
            gamma_e=float(flagged.mean()) if flagged.size else 0.0,
            gamma_n=n_nodes / num_nodes if num_nodes else 0.0,
            eta_e=eta_e,
            eta_n=eta_n,
            num_anomalous_edges=int(flagged.sum()),
            num_anomalous_nodes=n_nodes,
        )

    # ------------------------------------------------------------------ checkpoints
    def _signature(self, train: DynamicGraph) -> dict[str, Any]:
        """What a checkpoint must match to be resumed (the number of epochs may grow)."""
        return {
            "config": {k: v for k, v in asdict(self.model_config).items() if k != "epochs"},
            "seed": self.seed,
            "select": self.select,
            "val_every": self.val_every,
            "data": [train.num_nodes, train.num_features, len(train), int(sum(e.shape[1] for e in train.edges))],
        }

    def _save(self, path: Path, epoch: int, optimizer: torch.optim.Optimizer, best: dict, train: DynamicGraph) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "signature": self._signature(train),
            "epoch": epoch,
            "model": self.model_.state_dict(),
            "optimizer": optimizer.state_dict(),
            "best": best,
            "history": self.history_,
            "torch_rng": torch.get_rng_state(),
            "python_rng": random.getstate(),
        }
        tmp = path.with_suffix(".tmp")
        torch.save(payload, tmp)
        os.replace(tmp, path)  # atomic: an interrupted save never leaves a broken checkpoint

    def _resume(self, path: Path, optimizer: torch.optim.Optimizer, train: DynamicGraph) -> tuple[int, dict]:
        payload = torch.load(path, weights_only=False)
        if payload["signature"] != self._signature(train):
            raise ValueError(
                f"checkpoint {path} was written for other settings or data; delete it or use another checkpoint_dir"
            )
        self.model_.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        self.history_ = list(payload["history"])
        torch.set_rng_state(payload["torch_rng"])
        random.setstate(payload["python_rng"])
        return int(payload["epoch"]) + 1, payload["best"]


@register("svgrae-i")
class SVGRAEI(HVGRAEDetector):
    """S-VGRAE-I: a single scale (M = 1), so no information sharing (paper, Section V-A-2)."""

    ablation: ClassVar[dict[str, Any]] = {"num_scales": 1}
    options: ClassVar[tuple[str, ...]] = tuple(o for o in HVGRAEDetector.options if o != "M")


@register("hvgrae-g")
class HVGRAEG(HVGRAEDetector):
    """H-VGRAE-G: Gaussian latents, no normalizing flows in posterior or prior."""

    ablation: ClassVar[dict[str, Any]] = {"num_flows": 0}
    options: ClassVar[tuple[str, ...]] = tuple(o for o in HVGRAEDetector.options if o != "num_flows")


@register("hvgrae-i")
class HVGRAEI(HVGRAEDetector):
    """H-VGRAE-I: no information sharing (no precision-weighted merge of encoder and prior)."""

    ablation: ClassVar[dict[str, Any]] = {"info_sharing": False}
