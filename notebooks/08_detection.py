# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Detection and interpretation: thresholds, coefficients, top anomalies
#
# The AUC of the other chapters ranks edges without ever deciding which are anomalous. The paper's detector does
# decide (Sections IV-B to IV-D): after training, an extreme-value threshold $\alpha_A$ on the edge
# reconstruction probability (and $\alpha_X$ on the attribute one) is set from the training period, and online
# an edge is anomalous when $\log p(A_{ij}(t)\mid\cdot) < \alpha_A$. This chapter shows each step on one trained
# model:
#
# 1. the SPOT calibration: the calibration scores, the generalised Pareto fit of their upper tail and the
#    threshold it gives;
# 2. precision, recall and F1 of that threshold on the test snapshots, and how they move with SPOT's risk q;
# 3. the anomaly coefficients of Section IV-D ($\gamma_e$, $\gamma_n$, $\eta_e$, $\eta_n$) over the test snapshots;
# 4. the most anomalous edges with their scores and labels;
# 5. on a data set with node attributes, the most anomalous nodes and the attribute dimensions behind their scores.
#
# Scores are $-\log p$ (higher = more anomalous), so "score above the threshold" is the paper's
# "probability below $\alpha$".

# %% tags=["parameters"] nbmake={"mock": {"dataset": "synthetic", "epochs": 2, "attributed_dataset": "synthetic", "synthetic_options": {"num_nodes": 60, "num_snapshots": 16}}}
# Parameters (literals only)
dataset = ""  # "" = uci_message when its files are present, else the embedded synthetic network
attributed_dataset = ""  # "" = social_evolution when its files are present, else synthetic (has attributes)
data_dir = ""  # raw-data folder; "" = $HVGRAE_DATA
profile = ""  # "" = $HVGRAE_PROFILE, else "quick"; "smoke" forces a tiny synthetic run
seed = 0
epochs = 20  # the paper trains for 100 epochs (Section V-A-3); fewer here to fit the book's time budget
M = 2  # number of scales
ratio = 0.05  # injected anomalies per test snapshot
q = 1e-3  # SPOT risk: the probability that a normal score exceeds the threshold (the detector's default)
risks = [1e-4, 1e-3, 1e-2, 5e-2]  # values of q compared
top_k = 10  # rows of the top-edge and top-node tables
synthetic_options = {}  # SyntheticConfig overrides when a data set is synthetic

# %%
import os

profile = profile or os.environ.get("HVGRAE_PROFILE") or "quick"
if profile == "smoke":  # the book's smoke build: tiny graph, two epochs
    dataset, attributed_dataset, epochs = "synthetic", "synthetic", min(epochs, 2)
    synthetic_options = {"num_nodes": 60, "num_snapshots": 16, **synthetic_options}

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display
from myst_nb import glue

from hvgrae.data.loaders import load_or_synthetic
from hvgrae.data.sources import resolve_data_dir
from hvgrae.detectors import make_detector
from hvgrae.evt import spot
from hvgrae.metrics import evaluate, precision_recall_f1
from hvgrae.protocol.splits import make_split

sns.set_theme(style="whitegrid", palette="colorblind")
palette = sns.color_palette()
folder = resolve_data_dir(data_dir or None)
graph = load_or_synthetic(dataset, "uci_message", folder, synthetic_options)
name = graph.name
split = make_split(graph, anomaly_ratio=ratio, seed=seed)
det = make_detector("hvgrae", seed=seed, epochs=epochs, M=M, q=q, progress=False).fit(split.train, split.val)
scores = det.score(split.test, progress=False)
labels = split.test.label_list()
glue("det_dataset", name, display=False)
glue("det_epochs", epochs, display=False)
glue("det_auc", f"{evaluate(labels, scores)['auc']:.4f}", display=False)
print(f"{name}: N = {graph.num_nodes:,}, {len(split.test)} test snapshots; H-VGRAE (M = {M}), {epochs} epochs, "
      f"epoch {det.best_epoch_ + 1} kept, test AUC {evaluate(labels, scores)['auc']:.4f}")

# %% [markdown]
# H-VGRAE (M = 2) on {glue:text}`det_dataset`, trained for {glue:text}`det_epochs` epochs (the paper: 100);
# its test AUC is {glue:text}`det_auc`.
#
# ## SPOT on the training period
#
# The edge threshold is calibrated on the scores of the *normal validation edges* of the training snapshots
# (held-out edges the model never trained on, scored in the same pass and with the same context as test
# edges; protocol.md, section 6). SPOT standardises them, takes their 98% quantile as the initial threshold $t$,
# fits a generalised Pareto distribution (GPD) to the excesses over $t$, and returns the score $z_q$ that a
# normal score exceeds with probability q. The right panel checks the fit: the empirical probability that a
# calibration score exceeds x (points) against the GPD tail (line).

# %%
fit = det.edge_spot_
calibration = det.edge_calibration_
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
axes[0].hist(calibration, bins=80, color=palette[0], alpha=0.8)
axes[0].set_yscale("log")
for x, label, color in ((fit.initial_threshold, "initial threshold t (98% quantile)", palette[2]),
                        (fit.threshold, f"SPOT threshold (q = {fit.q:g})", palette[3])):
    axes[0].axvline(x, color=color, linestyle="--", label=label)
axes[0].set_xlabel("edge score $-\\log p(A_{ij}=1)$ (nats)")
axes[0].set_ylabel("calibration edges (log scale)")
axes[0].set_title(f"{fit.num_calibration:,} calibration scores")
axes[0].legend()
tail = np.sort(calibration[calibration > fit.initial_threshold])
empirical = (tail.size - np.arange(tail.size)) / calibration.size
grid = np.linspace(fit.initial_threshold, max(fit.threshold, tail.max()) * 1.02, 200)
axes[1].scatter(tail, empirical, s=12, color=palette[0], label="calibration scores (empirical)")
axes[1].plot(grid, fit.tail_probability(grid), color=palette[1], label="GPD tail fit")
axes[1].axvline(fit.threshold, color=palette[3], linestyle="--", label="SPOT threshold")
axes[1].axhline(fit.q, color="grey", linestyle=":", label=f"q = {fit.q:g}")
axes[1].set_yscale("log")
axes[1].set_xlabel("edge score x (nats)")
axes[1].set_ylabel("P(score > x)")
axes[1].set_title(f"upper tail: {fit.num_peaks} peaks, GPD shape {fit.fit.gamma:.3f}")
axes[1].legend(fontsize="small")
fig.tight_layout()
plt.show()
glue("det_num_calibration", f"{fit.num_calibration:,}", display=False)
glue("det_num_peaks", fit.num_peaks, display=False)
glue("det_gamma", f"{fit.fit.gamma:.3f}", display=False)
glue("det_threshold", f"{fit.threshold:.3f}", display=False)
glue("det_alpha", f"{np.exp(-fit.threshold):.2e}", display=False)
glue("det_q", f"{fit.q:g}", display=False)

# %% [markdown]
# From {glue:text}`det_num_calibration` calibration scores and {glue:text}`det_num_peaks` peaks the GPD shape is
# {glue:text}`det_gamma` (positive: a heavy tail; negative: a bounded one), and the threshold at
# q = {glue:text}`det_q` is a score of {glue:text}`det_threshold` nats, i.e. an edge is declared anomalous when
# the model gives it a probability below $\alpha_A$ = {glue:text}`det_alpha`.
#
# ## Precision, recall and F1 on the test snapshots
#
# The threshold is applied to the evaluated test edges (normal edges and injected anomalies; in cumulative
# snapshots, the edges new in the snapshot). A calibrated threshold should flag about a fraction q of the normal
# test edges; the table compares that false-alarm rate with q for several risks (each a SPOT fit on the same
# calibration scores; no retraining).

# %%
y_all = np.concatenate(labels)
s_all = np.concatenate(scores)
normal, anomaly = s_all[y_all == 0], s_all[y_all == 1]
rows = []
for risk in sorted(set(risks) | {q}):
    threshold = fit.threshold if risk == q else spot(calibration, q=risk).threshold
    prf = precision_recall_f1(labels, scores, threshold)
    rows.append({"q": risk, "threshold (nats)": threshold, "flagged": prf["flagged"],
                 "precision": prf["precision"], "recall": prf["recall"], "F1": prf["f1"],
                 "false-alarm rate on normal test edges": float((normal > threshold).mean())})
prf_table = pd.DataFrame(rows).set_index("q")
display(prf_table.style.format({"threshold (nats)": "{:.3f}", "precision": "{:.3f}", "recall": "{:.3f}",
                                "F1": "{:.3f}", "false-alarm rate on normal test edges": "{:.4f}"}))
at_q = prf_table.loc[q]
for key in ("precision", "recall", "F1"):
    glue(f"det_{key.lower()}", f"{at_q[key]:.3f}", display=False)
glue("det_flagged", int(at_q["flagged"]), display=False)
glue("det_far", f"{at_q['false-alarm rate on normal test edges']:.4f}", display=False)
glue("det_test_anomalies", int((y_all == 1).sum()), display=False)
glue("det_test_edges", int((y_all >= 0).sum()), display=False)
best_f1 = prf_table["F1"].idxmax()
glue("det_best_f1", f"{prf_table.loc[best_f1, 'F1']:.3f}", display=False)
glue("det_best_f1_q", f"{best_f1:g}", display=False)

# %%
fig, ax = plt.subplots(figsize=(8, 3.6))
bins = np.linspace(min(s_all.min(), calibration.min()), max(s_all.max(), fit.threshold) * 1.02, 60)
ax.hist(normal, bins=bins, density=True, alpha=0.6, color=palette[0], label=f"normal test edges ({normal.size:,})")
ax.hist(anomaly, bins=bins, density=True, alpha=0.6, color=palette[1], label=f"injected anomalies ({anomaly.size:,})")
ax.axvline(fit.threshold, color=palette[3], linestyle="--", label=f"SPOT threshold (q = {q:g})")
ax.set_xlabel("edge score $-\\log p(A_{ij}=1)$ (nats)")
ax.set_ylabel("density")
ax.set_title("test edge scores and the threshold")
ax.legend()
plt.show()

# %% [markdown]
# At q = {glue:text}`det_q` the threshold flags {glue:text}`det_flagged` of the {glue:text}`det_test_edges`
# evaluated test edges ({glue:text}`det_test_anomalies` are anomalies): precision {glue:text}`det_precision`,
# recall {glue:text}`det_recall`, F1 {glue:text}`det_f1`; it flags {glue:text}`det_far` of the normal test
# edges.
#
# ## Anomaly coefficients (Section IV-D)
#
# Per test snapshot: $\gamma_e$, the fraction of its edges declared anomalous, and $\gamma_n$, the fraction of
# nodes declared anomalous (endpoints of anomalous edges, plus nodes whose attribute score exceeds the attribute
# threshold); $\eta_e$, the mean over the snapshot's edges of KL(Bernoulli($p_{ij}$) || Bernoulli($\alpha_A$)),
# our reading of the paper's $KL(p(A(t)) \| p(A^{thres}(t)))$; $\eta_n$, its attribute counterpart (mean of
# $\log p(x_k) - \log \alpha_X$), defined only with attributes. All scored edges count here, including the
# context edges of a cumulative snapshot. For comparison, the dashed line is the true fraction of anomalies among
# the snapshot's evaluated edges.

# %%
coefficients = pd.DataFrame([vars(c) for c in det.coefficients_])
coefficients["test snapshot"] = np.arange(len(coefficients))
coefficients["true anomaly fraction"] = [float((y == 1).sum() / max((y >= 0).sum(), 1)) for y in labels]
panels = [("gamma_e", "$\\gamma_e$ (fraction of edges)"), ("gamma_n", "$\\gamma_n$ (fraction of nodes)"),
          ("eta_e", "$\\eta_e$ (nats per edge)")]
if coefficients["eta_n"].notna().all():
    panels.append(("eta_n", "$\\eta_n$ (nats per node)"))
fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2))
for ax, (column, label) in zip(axes, panels, strict=True):
    ax.plot(coefficients["test snapshot"], coefficients[column], marker="o")
    if column == "gamma_e":
        ax.plot(coefficients["test snapshot"], coefficients["true anomaly fraction"], linestyle="--",
                color=palette[1], label="true anomaly fraction")
        ax.legend(fontsize="small")
    ax.set_xlabel("test snapshot")
    ax.set_ylabel(label)
fig.tight_layout()
plt.show()
glue("det_gamma_e_mean", f"{coefficients['gamma_e'].mean():.4f}", display=False)
glue("det_true_fraction", f"{coefficients['true anomaly fraction'].mean():.4f}", display=False)
glue("det_eta_e_range", f"{coefficients['eta_e'].min():.3f} to {coefficients['eta_e'].max():.3f}", display=False)
glue("det_eta_e_corr", f"{np.corrcoef(coefficients['eta_e'], coefficients['gamma_e'])[0, 1]:.2f}"
     if coefficients["gamma_e"].std() > 0 else "undefined (gamma_e is constant)", display=False)

# %% [markdown]
# ## The most anomalous edges
#
# The {glue:text}`det_top_k` highest-scoring evaluated test edges over all test snapshots, with the node ids of the
# raw data, the model's probability of the edge, whether the threshold flags it and whether it is an injected
# anomaly.

# %%
edges_table = pd.concat([
    pd.DataFrame({"test snapshot": t, "source": graph.node_ids[e[0]], "target": graph.node_ids[e[1]], "score": s,
                  "label": y})
    for t, (e, s, y) in enumerate(zip(split.test.edges, scores, labels, strict=True))
], ignore_index=True)
edges_table = edges_table[edges_table["label"] >= 0]
top_edges = edges_table.nlargest(top_k, "score").assign(
    probability=lambda f: np.exp(-f["score"]), flagged=lambda f: f["score"] > fit.threshold,
    label=lambda f: np.where(f["label"] == 1, "injected anomaly", "normal"))
display(top_edges.style.format({"score": "{:.3f}", "probability": "{:.2e}"}).hide(axis="index"))
glue("det_top_k", top_k, display=False)
glue("det_top_hits", int((top_edges["label"] == "injected anomaly").sum()), display=False)
glue("det_base_rate", f"{(edges_table['label'] == 1).mean():.1%}", display=False)

# %% [markdown]
# {glue:text}`det_top_hits` of the top {glue:text}`det_top_k` are injected anomalies (the base rate among
# evaluated test edges is {glue:text}`det_base_rate`).
#
# ## Anomalous nodes and their attributes
#
# Node attributes give the second route to an anomalous node: a low probability of its attribute vector
# $x_k(t)$. Because every node is conditionally independent given the latents, its score
# $-\log p(x_k(t)\mid\cdot)$ is a sum over attribute dimensions, so the dimensions that make a node anomalous can
# be read off directly. We train the same model on a data set with attributes and list the highest-scoring
# (node, test snapshot) pairs. The injection only adds edges, so no attribute is anomalous by construction; the
# column "endpoint of an injected edge" says whether the node was touched by one.

# %%
graph_x = load_or_synthetic(attributed_dataset, "social_evolution", folder, synthetic_options)
attributed = graph_x.name
split_x = make_split(graph_x, anomaly_ratio=ratio, seed=seed)
det_x = make_detector("hvgrae", seed=seed, epochs=epochs, M=M, q=q, progress=False).fit(split_x.train, split_x.val)
n = graph_x.num_nodes
if attributed == "social_evolution":  # X(t) = [calls from i to each subject | SMS from i to each subject]
    dimension_names = [f"{channel} to {v}" for channel in ("calls", "SMS") for v in graph_x.node_ids]
else:
    dimension_names = [f"x[{k}]" for k in range(graph_x.num_features)]
node_rows, contributions = [], []
for t in range(len(split_x.test)):
    edges, y = split_x.test.edges[t], split_x.test.labels[t]
    det_x.score_snapshot(edges, split_x.test.x[t])
    touched = np.unique(edges[:, y == 1])
    node_rows.append(pd.DataFrame({
        "test snapshot": t, "node": graph_x.node_ids, "attribute score": det_x.last_node_scores_,
        "above attribute threshold": det_x.last_node_scores_ > det_x.node_threshold_,
        "declared anomalous": np.isin(np.arange(n), det_x.last_anomalous_nodes_),
        "endpoint of an injected edge": np.isin(np.arange(n), touched),
    }))
    contributions.append(det_x.last_node_contributions_)
nodes_x = pd.concat(node_rows, ignore_index=True)
contrib = np.concatenate(contributions)  # rows aligned with nodes_x
top_nodes = nodes_x.nlargest(top_k, "attribute score")
display(top_nodes.style.format({"attribute score": "{:,.1f}"}).hide(axis="index"))
truth = [np.isin(np.arange(n), np.unique(e[:, y == 1])).astype(int) for e, y in
         zip(split_x.test.edges, split_x.test.labels, strict=True)]
declared = [g["declared anomalous"].to_numpy().astype(float) for _, g in nodes_x.groupby("test snapshot")]
node_prf = precision_recall_f1(truth, declared, 0.5)
glue("det_x_dataset", attributed, display=False)
glue("det_x_dims", graph_x.num_features, display=False)
glue("det_x_threshold", f"{det_x.node_threshold_:,.1f}", display=False)
glue("det_x_above", int(nodes_x["above attribute threshold"].sum()), display=False)
glue("det_x_pairs", f"{len(nodes_x):,}", display=False)
glue("det_x_node_precision", f"{node_prf['precision']:.3f}", display=False)
glue("det_x_node_recall", f"{node_prf['recall']:.3f}", display=False)

# %% [markdown]
# On {glue:text}`det_x_dataset` ({glue:text}`det_x_dims` attribute dimensions) the node threshold is an attribute
# score of {glue:text}`det_x_threshold` nats; {glue:text}`det_x_above` of the {glue:text}`det_x_pairs`
# (node, test snapshot) pairs exceed it. The figure breaks the score of the top nodes into their largest
# per-dimension contributions (nats; a dimension's contribution is $-\log p(x_{kd}(t)\mid\cdot)$, negative when the
# Gaussian density exceeds one).

# %%
shown = top_nodes.head(min(top_k, 6))
fig, axes = plt.subplots(2, 3, figsize=(12, 6), squeeze=False)
for ax, (row, info) in zip(axes.ravel(), shown.iterrows(), strict=False):
    values = pd.Series(contrib[row], index=dimension_names).sort_values(ascending=False).head(6)
    ax.barh(values.index[::-1], values.to_numpy()[::-1], color=palette[0])
    ax.set_xlabel("contribution to the attribute score (nats)")
    ax.set_title(f"node {info['node']}, test snapshot {info['test snapshot']}\nscore {info['attribute score']:,.1f}",
                 fontsize="medium")
for ax in axes.ravel()[len(shown):]:
    ax.set_visible(False)
fig.tight_layout()
plt.show()
top_row = shown.index[0]
top_share = pd.Series(contrib[top_row], index=dimension_names).clip(lower=0)
glue("det_x_top_node", str(shown.iloc[0]["node"]), display=False)
glue("det_x_top_dim", top_share.idxmax(), display=False)
glue("det_x_top_dim_share", f"{top_share.max() / top_share.sum():.0%}", display=False)

# %% [markdown]
# ## What we found
#
# - SPOT on {glue:text}`det_num_calibration` calibration scores of {glue:text}`det_dataset` fits a GPD of shape
#   {glue:text}`det_gamma` to {glue:text}`det_num_peaks` peaks; at q = {glue:text}`det_q` the threshold
#   corresponds to a reconstruction probability $\alpha_A$ = {glue:text}`det_alpha`.
# - On the test snapshots (AUC {glue:text}`det_auc`) that threshold gives precision {glue:text}`det_precision`,
#   recall {glue:text}`det_recall` and F1 {glue:text}`det_f1`, with a false-alarm rate of {glue:text}`det_far`
#   on normal test edges; among the risks tried, the best F1 is {glue:text}`det_best_f1` at q =
#   {glue:text}`det_best_f1_q`.
# - The mean $\gamma_e$ over the test snapshots is {glue:text}`det_gamma_e_mean` against a true anomaly fraction
#   of {glue:text}`det_true_fraction`; $\eta_e$ ranges from {glue:text}`det_eta_e_range` and its correlation with
#   $\gamma_e$ across snapshots is {glue:text}`det_eta_e_corr`.
# - {glue:text}`det_top_hits` of the {glue:text}`det_top_k` highest-scoring test edges are injected anomalies
#   (base rate {glue:text}`det_base_rate`).
# - On {glue:text}`det_x_dataset`, the declared anomalous nodes (edge endpoints or attribute score above the
#   threshold) reach a precision of {glue:text}`det_x_node_precision` and a recall of
#   {glue:text}`det_x_node_recall` against the endpoints of injected edges. The top node by attribute score,
#   {glue:text}`det_x_top_node`, owes {glue:text}`det_x_top_dim_share` of its positive contributions to one
#   dimension, {glue:text}`det_x_top_dim`.
