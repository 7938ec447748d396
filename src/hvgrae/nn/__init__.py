"""Torch modules only (no training loops): H-VGRAE and the neural baselines."""
