"""Torch modules of H-VGRAE (and the learned baselines): layers, likelihood functions, models. No training loops."""

from hvgrae.nn.hvgrae import HVGRAE, HVGRAEConfig, RecurrentState, SnapshotInput, StepOutput

__all__ = ["HVGRAE", "HVGRAEConfig", "RecurrentState", "SnapshotInput", "StepOutput"]
