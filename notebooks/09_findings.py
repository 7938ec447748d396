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
# # Findings: what reproduced, what did not, and why
#
# This chapter collects the measured results of the previous chapters from the results store and states, for
# each of the paper's claims, whether our measurement supports it. Every number here is computed from the store
# when the book is built; the reasons given are the ones the earlier chapters measured.

# %% tags=["parameters"] nbmake={"mock": {"profile": "smoke"}}
# Parameters (literals only)
profile = ""  # "" = $HVGRAE_PROFILE, else "quick"; or "smoke" / "quick" / "full"
dataset = ""  # one data set or a comma-separated list, as run by the other chapters; "" = the profile's own
results = ""  # results folder, "" = $HVGRAE_RESULTS or the cache

# %%
import os

import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from hvgrae.runner import HEURISTICS, compare_with_paper, load_results, summarise, table_ii_cells

profile = profile or os.environ.get("HVGRAE_PROFILE") or "quick"
store = results or None
df = load_results(store, profile=profile, datasets=[d for d in dataset.split(",") if d] or None)
summary = summarise(table_ii_cells(df)) if len(df) else pd.DataFrame()  # Table II rows, ablations included
comparison = compare_with_paper(summary) if len(summary) else pd.DataFrame()
glue("findings_profile", profile, display=False)
glue("findings_cells", len(df), display=False)
print(f"profile {profile}: {len(df)} cells in the store; data sets {sorted(df['dataset'].unique()) if len(df) else []}")

# %% [markdown]
# ## 1. Does H-VGRAE reach the paper's AUCs?

# %%
lines = []
if len(comparison):
    hv = comparison[comparison["label"].str.startswith("H-VGRAE")]
    for (label, ds, protocol), part in hv.groupby(["label", "dataset", "protocol"]):
        lines.append(f"- {label} on {ds} (`{protocol}`): ours {', '.join(f'{v:.3f}' for v in part['ours'])} "
                     f"vs paper {', '.join(f'{v:.3f}' for v in part['paper'])} at "
                     f"{', '.join(f'{r:.0%}' for r in part['ratio'])}; mean difference "
                     f"{part['difference'].mean():+.3f}.")
    below = int((comparison["difference"] < 0).sum())
    glue("cells_below_paper", below, display=False)
    glue("cells_compared", len(comparison), display=False)
else:
    lines.append("- No cell with a paper value was run in this profile (real data sets absent).")
    glue("cells_below_paper", 0, display=False)
    glue("cells_compared", 0, display=False)
display(Markdown("\n".join(lines)))

# %% [markdown]
# Of the {glue:text}`cells_compared` cells that have a paper value, {glue:text}`cells_below_paper` are below
# the paper's number.
#
# ## 2. Does H-VGRAE beat the baselines and the heuristics?

# %%
lines = []
if len(summary):
    for (ds, protocol, ratio), part in summary.groupby(["dataset", "protocol", "ratio"]):
        part = part.sort_values("mean", ascending=False)
        top = part.iloc[0]
        hv = part[part["label"] == "H-VGRAE (M = 2)"]
        heur = part[part["method"].isin(HEURISTICS)]
        text = f"- {ds}, `{protocol}`, {ratio:.0%}: best is {top['label']} ({top['mean']:.3f})"
        if len(hv):
            rank = list(part["label"]).index("H-VGRAE (M = 2)") + 1
            text += f"; H-VGRAE (M = 2) ranks {rank} of {len(part)} ({hv['mean'].iloc[0]:.3f})"
        if len(heur):
            text += f"; best heuristic {heur.iloc[0]['label']} ({heur.iloc[0]['mean']:.3f})"
        lines.append(text + ".")
display(Markdown("\n".join(lines) or "- No results in the store for this profile."))

# %% [markdown]
# ## 3. Why our numbers differ from the paper's
#
# The earlier chapters measured these causes; none of them is a tuning choice of ours.
#
# - **The data are not the paper's.** No snapshot rule reproduces Table I exactly (data chapter); the GitHub
#   network is a public substitute with far fewer nodes and other attributes; Social
#   evolution's test period holds very few new edges, because relationships change only at survey dates.
# - **The protocol is underspecified.** The injection variant, where the clustering comes from and whether a
#   detector sees the current snapshot move a training-free heuristic's AUC by as much as the gaps between the
#   paper's methods (protocol chapter). Some of the paper's baseline numbers were copied from work that used a
#   different (fixed-size snapshot) protocol, so they are not comparable with its own H-VGRAE rows.
# - **Few anomalies per test set.** At 1% the paper protocol evaluates a few dozen anomalies on UCI; the
#   standard error of an AUC is then several hundredths, larger than most differences between the paper's rows.
# - **The posterior collapses and the validation split misleads.** Without a KL warm-up (the paper describes
#   none) the KL of every scale falls towards zero within the first epochs, so the latent variables carry little
#   information; and the validation AUC (held-out edges of the training snapshots) falls while the test AUC
#   rises, so selecting the epoch by validation picks a weak model (training chapter, which measures both). The
#   detector therefore keeps the last epoch, as the paper's fixed 100 epochs do.
# - **The edge decoder cannot see its target.** The paper's Bernoulli MLP, $Y_k(t) = \mathrm{sigmoid}(W_2
#   \tanh(W_1 F_k(t) + b_1) + b_2)$, gives every target node $j$ a fixed row of $W_2$: the probability of a new
#   edge $k \to j$ depends on $k$'s state at $t$ but on $j$'s training history only. VGRNN's inner product uses
#   both endpoints' current states. Our option `edge_decoder="features"` computes the row from $F_j(t)$.
# - **The flows cannot change the KL term.** With one flow shared by posterior and prior, the flows cancel out
#   of the KL term exactly (derivation chapter); H-VGRAE-G differs from H-VGRAE only by a learned
#   non-linearity at the decoder's input.
#
# ## 4. What reproduced
#
# The ablation and sensitivity chapters list, claim by claim, where the paper's stated direction holds in our
# measurement. The summary of this profile ({glue:text}`findings_profile`, {glue:text}`findings_cells` cells):

# %%
if len(df):
    counts = df.groupby(["experiment", "dataset", "protocol"]).size().rename("cells").reset_index()
    display(counts)
