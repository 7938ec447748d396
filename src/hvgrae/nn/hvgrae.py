"""H-VGRAE (paper, Section IV-A): encoder, predictive prior, decoder, and the one time loop.

One step (snapshot t, Fig. 2-4), with S Monte-Carlo samples stacked along the node axis:

1. Encoder, deterministic part: C_X = phi_X(X(t)); S(i) = GCN(S(i-1), A(t)) (Eq. 6), S(0) = C_X;
   ST(i) = DRNN(i)([S(i) || ST(i-1)]) with dilation 2^(i-1) (Steps 1-3).
2. Top-down stochastic part, i = M..1 (Steps 4-5, Section IV-A-3):
   prior   N(mu_p, sd_p) = head_p(i)([g(i)(t - 2^(i-1)) || Z(i+1)(t)]), g(i) the prior DRNN over Z_g(i);
   encoder N(mu_e, sd_e) = GNN-(GNN Linear, GNN Softplus)([ST(i) || Z(i)(t - lag) || Z(i+1)(t)]) (Eq. 7-8, 11);
   posterior = precision-weighted merge of the two for i < M (Eq. 15; off in H-VGRAE-I), the encoder's
   Gaussian otherwise; Z_g(i) = mu + sd * eps; Z(i) = f(i)(Z_g(i)) (planar flows, Eq. 9-10, 13-14).
3. Decoder: C_Z(i) = phi_Z(Z(i)); S_Dec(i) = GCN(C_Z(i), A(t-1)); ST_Dec(i) = DRNN(i)([S_Dec(i) || ST_Dec(i-1)]);
   F(t) = FC([ST_Dec(1) || ... || ST_Dec(M)]); Bernoulli MLP for A(t), Gaussian MLP for X(t) (Steps 1-5).
4. ELBO terms (Eq. 3-5, 16): log p(A(t)|.), log p(X(t)|.), and log p_prior(Z(t)) - log q(Z(t)) per scale.

Choices where the paper is silent or inconsistent (each a config field if it can move results):

- The decoder's GCN uses A(t-1), the last snapshot the decoder may condition on (Eq. 5 conditions the
  reconstruction of A(t) on A(<t) only); ``decoder_graph="current"`` uses A(t) as Eq. 6 would literally,
  letting the decoder see the edges it reconstructs.
- Graphs are symmetrised for message passing (GCN on A + A^T): a directed edge informs both endpoints.
- The lagged latent of Step 4 is Z(i)(t - 2^(i-1)), the scale's own dilation (``latent_lag="scale"``); the
  paper writes t - 2^(M-1) for every scale (``latent_lag="top"``).
- The same flow f(i) maps posterior and prior (Eq. 13-14), so its log-determinant enters log q and log p
  identically and cancels in log p - log q (KL is invariant under a shared invertible map): the flows shape
  what the decoder and the lagged conditioning see, not the KL. ``kl_estimator="analytic"`` uses the
  closed-form Gaussian KL of the pre-flow Gaussians, which is therefore exact; ``"mc"`` is Eq. 16 literally.
- Without attributes there is no X(t) likelihood: the identity matrix the paper feeds is not data.
- Decoder Step 3 feeds C_Z(i) to "the i-th layer of GNN": one GCN per scale on that scale's latent (not a
  stack over scales); scales meet through [S_Dec(i) || ST_Dec(i-1)], as in the encoder.
- The predictive prior of scale i is a dilated GRU over the sampled Z_g(i) (Section IV-A-3: "phi_Prior(Z_g(i)
  (t - 2^(i-1))) ... implemented with DRNN") followed by a per-node MLP head; for i < M the head also sees
  Z(i+1)(t), the conditioning of Eq. 12 that makes the merge of Eq. 15 a Ladder-VAE merge. The merge is
  applied for i < M only ("Z(i)(t) should be conditioned on Z(i+1)(t) (i < M)"; S-VGRAE-I, M = 1, has none).
- Flows and lagged conditioning use the sampled Z, the prior DRNN the pre-flow sample Z_g (as written).
- Dropout (0.2) acts on the input of every GCN layer; the paper does not say where.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import coalesce, remove_self_loops, to_torch_csr_tensor, to_undirected

from hvgrae.nn import functional as HF
from hvgrae.nn.layers import (
    MLP,
    BernoulliEdgeDecoder,
    ContentBlock,
    DilatedGRUCell,
    GaussianAttributeDecoder,
    GaussianHead,
    LagBuffer,
    NormalizingFlow,
    SpatialTemporalScale,
    precision_weighted_merge,
)

EDGE_LIKELIHOODS = ("sampled", "exact")
DECODER_GRAPHS = ("previous", "current")
LATENT_LAGS = ("scale", "top")
KL_ESTIMATORS = ("mc", "analytic")
EDGE_DECODERS = ("static", "features")


@dataclass(frozen=True)
class HVGRAEConfig:
    """Architecture and training settings of H-VGRAE; defaults are the paper's (Section V-A-3) or marked."""

    # architecture
    num_scales: int = 2  # M; V-A-3 "M = 2, 3" (H-VGRAE (M)); Fig. 10 sweeps 1..6
    content_dim: int = 64  # output of FC (phi_X, phi_Z); V-A-3
    spatial_dim: int = 64  # output of GNN (Eq. 6); V-A-3
    rnn_dim: int = 64  # hidden size of DRNN(i) (encoder, decoder, prior); V-A-3
    inference_dim: int = 32  # output of the inference network's GNN; V-A-3
    latent_dim: int = 16  # d, output of GNN Linear / GNN Softplus; V-A-3, Fig. 10
    decoder_dim: int = 64  # width of F(t) and of the MLPs' hidden layer (W1, W3): not given, = FC width
    num_flows: int = 4  # planar flows per scale (L of Step 5): not given by the paper; 0 = H-VGRAE-G
    info_sharing: bool = True  # precision-weighted merge, Eq. 15; False = H-VGRAE-I
    dropout: float = 0.2  # V-A-3; applied to the input of every GCN layer (the paper does not say where)
    decoder_graph: str = "previous"  # GCN graph of the decoder: A(t-1) (Eq. 5) or "current" A(t) (Eq. 6)
    latent_lag: str = "scale"  # Step 4 lag of Z(i): 2^(i-1) ("scale") or the text's 2^(M-1) ("top")
    # rows of W2 in Y_k(t): "static" free vectors per target node (the paper's MLP) or "features", U F_j(t) (ours)
    edge_decoder: str = "static"
    # objective
    edge_likelihood: str = "sampled"  # "sampled" (unbiased, O(E)) or "exact" (all N(N-1) pairs, small N)
    negative_ratio: float = 1.0  # sampled non-edges per observed edge in the "sampled" estimator (ours)
    kl_estimator: str = "mc"  # "mc" = Eq. 16 (log p - log q at the sample), "analytic" = closed form
    max_exact_nodes: int = 5000  # refuse the dense N x N exact likelihood above this N (ours)
    # training (used by hvgrae.detectors.hvgrae)
    epochs: int = 100  # V-A-3
    lr: float = 0.01  # Adam learning rate; V-A-3
    weight_decay: float = 1e-5  # V-A-3
    num_samples: int = 1  # L of Eq. 16 during training (ours; one sample, as in VAE/VGRNN practice)
    score_samples: int = 10  # samples averaged in the anomaly scores (ours)
    bptt: int = 8  # truncated BPTT window in snapshots, >= 2^(M-1) for a gradient through a dilated link
    # linear KL warm-up from 0 (Ladder VAE); 0 = off, as in the paper. With it off, the posterior collapses onto
    # the prior (KL ~ 1 nat) on our synthetic and UCI runs, although the paper credits the predictive prior
    # with preventing that
    kl_warmup_epochs: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.num_scales >= 1, f"num_scales (M) must be >= 1, got {self.num_scales}"),
            (self.latent_dim >= 1, f"latent_dim (d) must be >= 1, got {self.latent_dim}"),
            (self.num_flows >= 0, f"num_flows must be >= 0, got {self.num_flows}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.negative_ratio > 0, f"negative_ratio must be > 0, got {self.negative_ratio}"),
            (self.num_samples >= 1 and self.score_samples >= 1, "num_samples and score_samples must be >= 1"),
            (self.bptt >= 1, f"bptt must be >= 1, got {self.bptt}"),
            (self.epochs >= 0 and self.kl_warmup_epochs >= 0, "epochs and kl_warmup_epochs must be >= 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)
        for name, value, allowed in [
            ("edge_likelihood", self.edge_likelihood, EDGE_LIKELIHOODS),
            ("decoder_graph", self.decoder_graph, DECODER_GRAPHS),
            ("latent_lag", self.latent_lag, LATENT_LAGS),
            ("kl_estimator", self.kl_estimator, KL_ESTIMATORS),
            ("edge_decoder", self.edge_decoder, EDGE_DECODERS),
        ]:
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")

    def dilation(self, scale: int) -> int:
        """Dilation 2^(i-1) of DRNN(i), scale counted from 0 here (i = scale + 1)."""
        return 2**scale

    def latent_lag_of(self, scale: int) -> int:
        """How many snapshots back the lagged latent Z(i) of Step 4 lies."""
        return self.dilation(scale if self.latent_lag == "scale" else self.num_scales - 1)


class SnapshotInput:
    """One snapshot prepared for the model: its edges, attributes and normalised adjacency.

    ``edge_index (2, E)``: the distinct, loop-free directed edges (the targets of the edge likelihood);
    ``x (N, D)`` or None. The GCN adjacency D^-1/2 (A + A^T + I) D^-1/2 is normalised once (PyG
    ``gcn_norm``) and kept as a sparse CSR tensor; for S samples it is block-diagonal ``(S N, S N)``.
    """

    def __init__(self, edge_index: Tensor, num_nodes: int, x: Tensor | None = None) -> None:
        ei, _ = remove_self_loops(edge_index.long())
        self.edge_index = coalesce(ei, num_nodes=num_nodes)
        self.num_nodes = num_nodes
        self.x = x
        sym = to_undirected(self.edge_index, num_nodes=num_nodes)
        self._norm = gcn_norm(sym, None, num_nodes, add_self_loops=True)
        self._adj: dict[int, Tensor] = {}

    @classmethod
    def from_numpy(cls, edges: np.ndarray, num_nodes: int, x: np.ndarray | None = None) -> SnapshotInput:
        """Build from a ``(2, E)`` int array and an optional ``(N, D)`` float array."""
        xt = None if x is None else torch.as_tensor(np.asarray(x, dtype=np.float32))
        return cls(torch.as_tensor(np.asarray(edges, dtype=np.int64)).reshape(2, -1), num_nodes, xt)

    @classmethod
    def empty(cls, num_nodes: int) -> SnapshotInput:
        """A snapshot without edges (its adjacency is the identity): the decoder's A(-1)."""
        return cls(torch.zeros((2, 0), dtype=torch.long), num_nodes)

    @property
    def num_edges(self) -> int:
        """E, the number of distinct loop-free directed edges."""
        return int(self.edge_index.shape[1])

    def adjacency(self, num_samples: int = 1) -> Tensor:
        """The normalised adjacency, block-diagonal over ``num_samples`` copies: sparse CSR ``(S N, S N)``.

        Cached for S = 1 and for the last S > 1 asked for.
        """
        if num_samples not in self._adj:
            ei, w = self._norm
            n = self.num_nodes
            if num_samples > 1:
                offsets = torch.arange(num_samples).repeat_interleave(ei.shape[1]) * n
                ei = ei.repeat(1, num_samples) + offsets
                w = w.repeat(num_samples)
                self._adj = {k: v for k, v in self._adj.items() if k == 1}
            with warnings.catch_warnings():  # "sparse CSR support is in beta" / invariant-check notices
                warnings.simplefilter("ignore", UserWarning)
                self._adj[num_samples] = to_torch_csr_tensor(ei, w, size=(n * num_samples, n * num_samples))
        return self._adj[num_samples]


class RecurrentState:
    """Every scale's recurrent state, carried from snapshot to snapshot (Fig. 5).

    Per scale i (counted from 0): ring buffers of the last 2^i encoder, decoder and prior DRNN states and of
    the last ``lag`` latents Z(i); the step counter t; and the previous snapshot (the decoder's graph).
    Encoder states are ``(N, rnn_dim)`` (they do not depend on samples); the others ``(S N, .)``.
    """

    def __init__(self, config: HVGRAEConfig, num_nodes: int, num_samples: int) -> None:
        self.t = 0
        self.num_samples = num_samples
        scales = range(config.num_scales)
        self.encoder = [LagBuffer(config.dilation(i)) for i in scales]
        self.decoder = [LagBuffer(config.dilation(i)) for i in scales]
        self.prior = [LagBuffer(config.dilation(i)) for i in scales]
        self.latent = [LagBuffer(config.latent_lag_of(i)) for i in scales]
        self.previous = SnapshotInput.empty(num_nodes)

    def buffers(self) -> list[LagBuffer]:
        """All ring buffers."""
        return self.encoder + self.decoder + self.prior + self.latent

    def detach_(self) -> None:
        """Cut the autograd history (truncated BPTT); the values are kept."""
        for b in self.buffers():
            b.detach_()


@dataclass
class StepOutput:
    """What one step returns. S = samples, N = nodes, h = decoder width, D = attributes, d = latent dim.

    Attributes:
        num_samples: S.
        edge_hidden: ``(S N, h)``, tanh(W1 F + b1), from which any pair's logit follows.
        x_mean, x_var: ``(S N, D)`` parameters of p(x_k(t) | .), or None without attributes.
        log_lik_edges: ``(S,)`` log p(A(t) | .) (exact or sampled estimate), or None if not computed.
        log_lik_x: ``(S,)`` log p(X(t) | .) (zeros without attributes), or None if not computed.
        log_prior, log_posterior: per scale ``(S,)`` log p_prior(Z(i)) and log q(Z(i)), flow log-det included.
        kl: per scale ``(S,)`` the KL estimate (``log q - log p`` or the closed form, see the config).
        latent_means: per scale ``(N, d)`` f(i)(posterior mean), averaged over samples (for Fig. 9).

    """

    num_samples: int
    edge_hidden: Tensor
    x_mean: Tensor | None
    x_var: Tensor | None
    log_lik_edges: Tensor | None = None
    log_lik_x: Tensor | None = None
    log_prior: list[Tensor] = field(default_factory=list)
    log_posterior: list[Tensor] = field(default_factory=list)
    kl: list[Tensor] = field(default_factory=list)
    latent_means: list[Tensor] = field(default_factory=list)


class HVGRAE(nn.Module):
    """Hierarchical Variational Graph Recurrent Autoencoder; ablations are switches of this one model.

    ``hvgrae``: any M >= 1, d; ``svgrae-i``: M = 1 (no merge possible); ``hvgrae-g``: ``num_flows = 0``;
    ``hvgrae-i``: ``info_sharing = False``. See the module docstring for the step and the choices made.

    Args:
        num_nodes: N (the node set is fixed; phi_X without attributes and W2 are tied to it).
        num_features: D, 0 for a graph without attributes.
        config: architecture and objective settings.

    """

    def __init__(self, num_nodes: int, num_features: int = 0, config: HVGRAEConfig | None = None) -> None:
        super().__init__()
        c = config or HVGRAEConfig()
        if num_nodes < 2:
            raise ValueError(f"H-VGRAE needs at least 2 nodes, got {num_nodes}")
        if c.edge_likelihood == "exact" and num_nodes > c.max_exact_nodes:
            raise ValueError(
                f"the exact edge likelihood builds N x N logits; N = {num_nodes} > max_exact_nodes ="
                f" {c.max_exact_nodes}: use edge_likelihood='sampled'"
            )
        self.config = c
        self.num_nodes = num_nodes
        self.num_features = num_features
        m, d, p = c.num_scales, c.latent_dim, c.dropout

        def scales(first_in: int, rest_in: int) -> nn.ModuleList:
            return nn.ModuleList(
                SpatialTemporalScale(first_in if i == 0 else rest_in, c.spatial_dim, c.rnn_dim, i + 1, p)
                for i in range(m)
            )

        def top_down(i: int) -> int:  # width of Z(i+1)(t) fed to scale i (0 at the top)
            return d if i < m - 1 else 0

        # encoder
        self.content = ContentBlock(num_nodes, num_features, c.content_dim)
        self.encoder_scales = scales(c.content_dim, c.spatial_dim)
        self.inference = nn.ModuleList(
            GaussianHead(c.rnn_dim + d + top_down(i), c.inference_dim, d, graph=True, dropout=p) for i in range(m)
        )
        self.flows = nn.ModuleList(NormalizingFlow(d, c.num_flows) for _ in range(m))
        # predictive prior
        self.prior_cells = nn.ModuleList(DilatedGRUCell(d, c.rnn_dim, c.dilation(i)) for i in range(m))
        self.prior_heads = nn.ModuleList(
            GaussianHead(c.rnn_dim + top_down(i), c.inference_dim, d, graph=False) for i in range(m)
        )
        # decoder
        self.phi_z = nn.ModuleList(MLP(d, c.content_dim) for _ in range(m))
        self.decoder_scales = scales(c.content_dim, c.content_dim)
        self.fusion = MLP(m * c.rnn_dim, c.decoder_dim)
        self.edge_decoder = BernoulliEdgeDecoder(c.decoder_dim, c.decoder_dim, num_nodes, target=c.edge_decoder)
        self.attribute_decoder = (
            GaussianAttributeDecoder(c.decoder_dim, c.decoder_dim, num_features) if num_features else None
        )

    def reset_parameters(self) -> None:
        """Re-initialise every component (each applies the initialisation described in ``layers``)."""
        for child in self.children():
            for module in child if isinstance(child, nn.ModuleList) else [child]:
                module.reset_parameters()

    def initial_state(self, num_samples: int = 1) -> RecurrentState:
        """Zero state before the first snapshot, for ``num_samples`` Monte-Carlo trajectories."""
        return RecurrentState(self.config, self.num_nodes, num_samples)

    def prepare(self, edges: np.ndarray, x: np.ndarray | None = None) -> SnapshotInput:
        """A numpy snapshot as model input (validated against N and D)."""
        if (x is None) != (self.num_features == 0):
            raise ValueError(
                f"the model was built with {self.num_features} attributes; got x="
                f"{None if x is None else np.shape(x)}"
            )
        if x is not None and np.shape(x) != (self.num_nodes, self.num_features):
            raise ValueError(f"x must have shape ({self.num_nodes}, {self.num_features}), got {np.shape(x)}")
        edges = np.asarray(edges)
        if edges.ndim != 2 or edges.shape[0] != 2:
            raise ValueError(f"edges must have shape (2, E), got {edges.shape}")
        if edges.size and (edges.min() < 0 or edges.max() >= self.num_nodes):
            raise ValueError(f"edge endpoints must lie in 0..{self.num_nodes - 1}")
        return SnapshotInput.from_numpy(edges, self.num_nodes, x)

    # ------------------------------------------------------------------ one step
    def step(
        self, snap: SnapshotInput, state: RecurrentState, sample: bool = True, elbo: bool = True
    ) -> StepOutput:
        """Process snapshot t = ``state.t`` and advance ``state`` to t + 1 (in place).

        ``sample=False`` uses the posterior means instead of samples (deterministic evaluation);
        ``elbo=False`` skips the likelihood and KL terms (scoring only needs the decoder's outputs).
        """
        c, n, s, t = self.config, self.num_nodes, state.num_samples, state.t
        adj_enc, adj_enc_s = snap.adjacency(1), snap.adjacency(s)
        adj_dec = (state.previous if c.decoder_graph == "previous" else snap).adjacency(s)

        # 1. encoder, deterministic multi-scale spatial-temporal features (N, rnn_dim) per scale
        feat, below, st_enc = self.content(snap.x), None, []
        for i, scale in enumerate(self.encoder_scales):
            feat, below = scale(feat, adj_enc, below, state.encoder[i].read(t))
            st_enc.append(below)

        # 2. top-down stochastic block, scale M..1
        zeros_z = st_enc[0].new_zeros(s * n, c.latent_dim)
        zeros_h = st_enc[0].new_zeros(s * n, c.rnn_dim)
        z: list[Tensor] = [zeros_z] * c.num_scales
        new_prior: list[Tensor] = [zeros_h] * c.num_scales
        out_terms: dict[str, list[Tensor]] = {"log_prior": [], "log_posterior": [], "kl": [], "means": []}
        z_upper: Tensor | None = None
        for i in reversed(range(c.num_scales)):
            g_lag = state.prior[i].read(t)
            upper = [] if z_upper is None else [z_upper]
            mean_p, std_p = self.prior_heads[i](torch.cat([zeros_h if g_lag is None else g_lag, *upper], -1))
            z_lag = state.latent[i].read(t)
            enc_in = torch.cat([st_enc[i].repeat(s, 1), zeros_z if z_lag is None else z_lag, *upper], -1)
            mean_q, std_q = self.inference[i](enc_in, adj_enc_s)
            if c.info_sharing and i < c.num_scales - 1:
                mean_q, std_q = precision_weighted_merge(mean_q, std_q, mean_p, std_p)
            z_g = mean_q + std_q * torch.randn_like(std_q) if sample else mean_q
            z[i], logdet = self.flows[i](z_g)
            new_prior[i] = self.prior_cells[i](z_g, g_lag)
            z_upper = z[i]
            if elbo:
                per_sample = (s, -1)
                log_q = HF.gaussian_log_prob(z_g, mean_q, std_q).view(per_sample).sum(-1)
                log_p = HF.gaussian_log_prob(z_g, mean_p, std_p).view(per_sample).sum(-1)
                logdet = logdet.view(per_sample).sum(-1)
                out_terms["log_posterior"].append(log_q - logdet)
                out_terms["log_prior"].append(log_p - logdet)
                if c.kl_estimator == "mc":
                    out_terms["kl"].append(log_q - log_p)
                else:
                    kl = HF.gaussian_kl(mean_q, std_q, mean_p, std_p)
                    out_terms["kl"].append(kl.view(per_sample).sum(-1))
            with torch.no_grad():
                out_terms["means"].append(self.flows[i](mean_q)[0].view(s, n, -1).mean(0))
        for key in ("log_prior", "log_posterior", "kl", "means"):
            out_terms[key].reverse()  # scale order 1..M

        # 3. decoder
        below, st_dec = None, []
        for i, scale in enumerate(self.decoder_scales):
            _, below = scale(self.phi_z[i](z[i]), adj_dec, below, state.decoder[i].read(t))
            st_dec.append(below)
        f = self.fusion(torch.cat(st_dec, -1))
        hidden = self.edge_decoder.hidden(f)
        x_mean, x_var = self.attribute_decoder(f) if self.attribute_decoder is not None else (None, None)

        out = StepOutput(
            num_samples=s,
            edge_hidden=hidden,
            x_mean=x_mean,
            x_var=x_var,
            log_prior=out_terms["log_prior"],
            log_posterior=out_terms["log_posterior"],
            kl=out_terms["kl"],
            latent_means=out_terms["means"],
        )
        if elbo:
            out.log_lik_edges = self.edge_log_likelihood(out, snap)
            out.log_lik_x = (
                self.attribute_log_prob(out, snap.x).sum((-2, -1))
                if snap.x is not None
                else hidden.new_zeros(s)
            )

        # advance the state: write step t's values into the slots just read
        for i in range(c.num_scales):
            state.encoder[i].write(t, st_enc[i])
            state.decoder[i].write(t, st_dec[i])
            state.prior[i].write(t, new_prior[i])
            state.latent[i].write(t, z[i])
        state.previous = snap
        state.t = t + 1
        return out

    def rollout(
        self, snapshots: Iterable[SnapshotInput], state: RecurrentState, sample: bool = True, elbo: bool = True
    ) -> Iterator[StepOutput]:
        """The time loop: step through ``snapshots`` in order, carrying ``state`` (modified in place).

        A generator, so the caller can back-propagate, update the parameters and :meth:`RecurrentState.detach_`
        between steps (truncated BPTT), or score each snapshot as it arrives.
        """
        for snap in snapshots:
            yield self.step(snap, state, sample=sample, elbo=elbo)

    # ------------------------------------------------------------------ likelihood pieces
    def edge_logits(self, out: StepOutput, pairs: Tensor) -> Tensor:
        """Logits of p(A_ij(t) = 1 | .) for ``pairs (2, P)``, per sample ``(S, P)``."""
        return self.edge_decoder.logits(out.edge_hidden, pairs, out.num_samples)

    def edge_log_likelihood(self, out: StepOutput, snap: SnapshotInput) -> Tensor:
        """Log p(A(t) | .) per sample ``(S,)``: exact over all N(N-1) pairs or the unbiased sampled estimate."""
        if self.config.edge_likelihood == "exact":
            all_logits = self.edge_decoder.all_logits(out.edge_hidden, out.num_samples)
            return HF.edge_log_likelihood_exact(all_logits, snap.edge_index)
        pos = self.edge_logits(out, snap.edge_index)
        k = max(1, int(round(self.config.negative_ratio * max(snap.num_edges, 1))))
        neg = self.edge_logits(out, HF.sample_non_edges(snap.edge_index, self.num_nodes, k))
        return HF.edge_log_likelihood_sampled(pos, neg, HF.num_pairs(self.num_nodes) - snap.num_edges)

    def attribute_log_prob(self, out: StepOutput, x: Tensor) -> Tensor:
        """Log p(x_kd(t) | .) per sample, node and dimension ``(S, N, D)`` (Gaussian MLP)."""
        if out.x_mean is None or out.x_var is None:
            raise ValueError("this model has no attribute decoder (built without attributes)")
        s = out.num_samples
        lp = HF.gaussian_log_prob(x.repeat(s, 1), out.x_mean, out.x_var.sqrt())
        return lp.view(s, self.num_nodes, -1)

    def elbo(self, out: StepOutput, kl_weight: float = 1.0) -> Tensor:
        """The step's ELBO (Eq. 16), averaged over samples; ``kl_weight`` < 1 during an optional warm-up."""
        if out.log_lik_edges is None or out.log_lik_x is None:
            raise ValueError("this step was run with elbo=False")
        kl = torch.stack(out.kl).sum(0)
        return (out.log_lik_edges + out.log_lik_x - kl_weight * kl).mean()

    def __repr__(self) -> str:
        c = self.config
        return (
            f"{type(self).__name__}(num_nodes={self.num_nodes}, num_features={self.num_features}, M={c.num_scales},"
            f" d={c.latent_dim}, num_flows={c.num_flows}, info_sharing={c.info_sharing})"
        )
