"""hvgrae: an executable reproducibility study of H-VGRAE (anomaly detection in dynamic networks)."""

__version__ = "0.1.0"
