"""Detectors: one interface (``base.Detector``) and a registry of names. Importing this package imports
every detector module, so that each registers itself.
"""

from hvgrae.detectors import (
    addgraph,  # noqa: F401
    heuristics,  # noqa: F401
    hvgrae,  # noqa: F401
    netwalk,  # noqa: F401
    streaming,  # noqa: F401
    vgrnn,  # noqa: F401
)
from hvgrae.detectors.base import REGISTRY, Detector, make_detector, register

__all__ = ["REGISTRY", "Detector", "make_detector", "register"]
