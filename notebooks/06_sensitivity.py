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
# # Sensitivity to the number of scales M, the latent dimension d and the training ratio
#
# The paper's Fig. 10 varies M in 1..6 and d in {4, 8, 16, 32, 64} for H-VGRAE at 5% anomalies on UCI message
# and GitHub, and its Fig. 8 varies the share of training edges from 10% to 60%. It gives no numbers, only
# curves and these statements (Section V-D), which we test:
#
# - the AUC "increases significantly from M = 1 to M = 2", is not evidently better from M = 2 to M = 4, and
#   "degrades after M = 5";
# - it "increase[s] gradually from d = 4 to d = 16, and then drops after d = 32";
# - with the training ratio "from 10% to 40%, the AUC scores increase sharply, and then the performance stays
#   relatively stable".

# %% tags=["parameters"] nbmake={"mock": {"profile": "smoke"}}
# Parameters (literals only)
profile = ""  # "" = $HVGRAE_PROFILE, else "quick"; or "smoke" / "quick" / "full"
dataset = ""  # one data set or a comma-separated list; "" = the profile's available sweep data sets
seeds = ""  # comma-separated subset of the profile's seeds, "" = all
results = ""  # results folder, "" = $HVGRAE_RESULTS or the cache
workers = 1  # parallel worker processes for missing cells

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display
from myst_nb import glue

from hvgrae.runner import load_results, reproduce

sns.set_theme(style="whitegrid", palette="colorblind")
profile = profile or os.environ.get("HVGRAE_PROFILE") or "quick"
subset = [d for d in dataset.split(",") if d] or None
seed_list = [int(s) for s in seeds.split(",") if s] or None
store = results or None
sweeps = {"sens_M": ("M", "number of scales M"), "sens_d": ("d", "latent dimension d"),
          "sens_ratio": ("train_ratio", "share of training edges used")}
reproduce(profile, datasets=subset, seeds=seed_list, experiments=list(sweeps), workers=workers, results=store,
          progress=False)
df = load_results(store, experiment=list(sweeps), profile=profile, datasets=subset)
glue("sens_profile", profile, display=False)
print(f"profile {profile}: {len(df)} cells")

# %% [markdown]
# ## The curves
#
# Mean AUC over seeds with one standard deviation, for each sweep, data set and protocol.

# %%
present = [e for e in sweeps if (df["experiment"] == e).any()]
fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 3.4), squeeze=False)
for ax, exp in zip(axes[0], present):
    column, xlabel = sweeps[exp]
    part = df[df["experiment"] == exp].copy()
    part["setting"] = part["dataset"] + " / " + part["protocol"]
    sns.lineplot(data=part, x=column, y="auc", hue="setting", marker="o", errorbar="sd", ax=ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("AUC at 5% anomalies")
    if exp == "sens_d":
        ax.set_xscale("log", base=2)
    ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The paper's statements, tested
#
# Each statement is turned into a comparison of mean AUCs; "holds" is decided on the means (with the seed
# spread shown where there is more than one seed). Statements whose settings were not run are skipped.

# %%
tests = [
    ("sens_M", "M", "M = 2 is better than M = 1", 2, 1, lambda diff: diff > 0),
    ("sens_M", "M", "M = 4 is not evidently better than M = 2 (|diff| < 0.01)", 4, 2, lambda diff: abs(diff) < 0.01),
    ("sens_M", "M", "M = 5 is worse than M = 4", 5, 4, lambda diff: diff < 0),
    ("sens_d", "d", "d = 16 is better than d = 4", 16, 4, lambda diff: diff > 0),
    ("sens_d", "d", "d = 32 is worse than d = 16", 32, 16, lambda diff: diff < 0),
    ("sens_ratio", "train_ratio", "40% training edges beat 10%", 0.4, 0.1, lambda diff: diff > 0),
    ("sens_ratio", "train_ratio", "60% is within 0.01 of 40%", 0.6, 0.4, lambda diff: abs(diff) < 0.01),
]
rows = []
for exp, column, text, a, b, rule in tests:
    part = df[df["experiment"] == exp]
    for (ds, protocol), p in part.groupby(["dataset", "protocol"]):
        va, vb = p[np.isclose(p[column], a)]["auc"], p[np.isclose(p[column], b)]["auc"]
        if len(va) and len(vb):
            diff = va.mean() - vb.mean()
            rows.append({"statement": text, "dataset": ds, "protocol": protocol, "difference": diff,
                         "sd (seeds)": np.sqrt(va.var(ddof=1) + vb.var(ddof=1)) if len(va) > 1 else np.nan,
                         "holds": bool(rule(diff))})
tested = pd.DataFrame(rows)
if len(tested):
    display(tested.style.format({"difference": "{:+.4f}", "sd (seeds)": "{:.4f}"}, na_rep="-"))
glue("sens_held", int(tested["holds"].sum()) if len(tested) else 0, display=False)
glue("sens_tested", len(tested), display=False)

# %% [markdown]
# ## What we found
#
# Profile {glue:text}`sens_profile`: {glue:text}`sens_held` of the {glue:text}`sens_tested` testable
# (statement, setting) pairs hold. Per statement:

# %%
if len(tested):
    held = tested.groupby("statement", sort=False)["holds"].agg(["sum", "count"])
    display(Markdown("\n".join(f"- *{s}*: holds in {int(r['sum'])} of {int(r['count'])} settings."
                               for s, r in held.iterrows())))
else:
    display(Markdown("- No statement could be tested with the settings of this profile."))
