"""EVT thresholds by SPOT (Siffer, Fouque, Termier, Largouet, "Anomaly detection in streams with extreme
value theory", KDD 2017), as specified in design/protocol.md, section 6.

The peaks over an initial high quantile t follow a generalized Pareto distribution (Pickands-Balkema-de Haan);
its maximum-likelihood fit gives the threshold z_q exceeded with probability q. The GPD fit uses Grimshaw's
reduction to a one-dimensional root search, as SPOT does, rather than ``scipy.stats.genpareto.fit``: the
generic optimiser fails on small peak sets with gamma near 0, and Grimshaw's candidates plus the exponential
case give the global maximum reliably (scipy is still used for the root search itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq


@dataclass(frozen=True)
class GPDFit:
    """Maximum-likelihood generalized Pareto fit of the peaks: shape gamma, scale sigma, log-likelihood."""

    gamma: float
    sigma: float
    loglik: float


def _gpd_loglik(peaks: np.ndarray, gamma: float, sigma: float) -> float:
    if sigma <= 0:
        return -np.inf
    if gamma == 0:
        return float(-peaks.size * np.log(sigma) - peaks.sum() / sigma)
    arg = 1 + gamma * peaks / sigma
    if np.any(arg <= 0):
        return -np.inf
    return float(-peaks.size * np.log(sigma) - (1 + 1 / gamma) * np.log(arg).sum())


def fit_gpd(peaks: np.ndarray, grid: int = 200) -> GPDFit:
    """Fit a GPD to positive ``peaks`` ``(n,)`` by Grimshaw's method plus the exponential case.

    Grimshaw: with x = gamma / sigma, the likelihood equations reduce to u(x) v(x) = 1 where
    u(x) = mean(1 / (1 + x Y)) and v(x) = 1 + mean(log(1 + x Y)); each root gives gamma = v(x) - 1 and
    sigma = gamma / x. Roots lie in (-1 / max Y, 0) and (0, 2 (mean Y - min Y) / min Y^2); they are bracketed
    on geometric grids and refined with Brent's method.
    """
    y = np.asarray(peaks, dtype=np.float64)
    if y.size == 0 or np.any(y <= 0):
        raise ValueError("GPD fit needs a non-empty set of positive peaks")
    ymin, ymax, ymean = y.min(), y.max(), y.mean()
    best = GPDFit(0.0, ymean, -y.size * (1 + np.log(ymean)))  # exponential case

    def w(x: float) -> float:
        s = 1 + x * y
        return float(np.mean(1 / s) * (1 + np.mean(np.log(s))) - 1)

    eps = 1e-8 / ymax
    # geometric grids: roots often sit close to 0 while the upper bound can be huge when min Y is tiny
    grids = [-np.geomspace(1 / ymax - eps, eps, grid)]
    upper = 2 * (ymean - ymin) / ymin**2
    if upper > eps:
        grids.append(np.geomspace(eps, upper, grid))
    for xs in grids:
        ws = np.array([w(x) for x in xs])
        for a, b, wa, wb in zip(xs[:-1], xs[1:], ws[:-1], ws[1:], strict=True):
            if np.isfinite(wa) and np.isfinite(wb) and wa * wb < 0:
                x = brentq(w, a, b)
                gamma = float(np.mean(np.log(1 + x * y)))
                if gamma == 0:
                    continue
                sigma = gamma / x
                ll = _gpd_loglik(y, gamma, sigma)
                if ll > best.loglik:
                    best = GPDFit(gamma, sigma, ll)
    return best


@dataclass(frozen=True)
class SpotResult:
    """A SPOT threshold and how it was obtained (all in the original score units except ``fit``).

    ``fit`` is in standardised units: a peak of ``y`` standardised units is ``y * scale`` score units.
    """

    threshold: float
    initial_threshold: float
    num_calibration: int
    num_peaks: int
    fit: GPDFit
    q: float
    scale: float  # standard deviation of the calibration scores (1 if they are all tied)

    def tail_probability(self, x: np.ndarray | float) -> np.ndarray:
        """The fitted P(S > x) for scores ``x`` at or above ``initial_threshold``, same shape as ``x``.

        P(S > x) = (N_t / n) * P(Y > y) with y = (x - t) / scale and the GPD survival
        P(Y > y) = (1 + gamma y / sigma)^(-1 / gamma) (exp(-y / sigma) when gamma = 0), zero beyond the
        endpoint when gamma < 0; so ``tail_probability(threshold) == q``. NaN below ``initial_threshold``, where
        the tail model says nothing.
        """
        xs = np.asarray(x, dtype=np.float64)
        y = (xs - self.initial_threshold) / self.scale
        g, sigma = self.fit.gamma, self.fit.sigma
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if g == 0:
                survival = np.exp(-y / sigma)
            else:
                survival = np.maximum(1 + g * y / sigma, 0.0) ** (-1 / g)
        return np.where(y >= 0, survival * self.num_peaks / self.num_calibration, np.nan)


def spot(calibration_scores: np.ndarray, q: float = 1e-3, level: float = 0.98) -> SpotResult:
    """SPOT threshold from calibration scores (higher = more anomalous).

    Scores are standardised first (the fit is scale-sensitive), t is their ``level`` quantile, the peaks are
    the excesses over t, and z_q = t + (sigma / gamma) ((q n / N_t)^(-gamma) - 1), or t - sigma log(q n / N_t)
    when gamma = 0, with n calibration scores and N_t peaks; the result is mapped back to score units.
    """
    s = np.asarray(calibration_scores, dtype=np.float64).ravel()
    if s.size < 10 or not np.isfinite(s).all():
        raise ValueError(f"SPOT needs at least 10 finite calibration scores, got {s.size}")
    mean, std = s.mean(), s.std()
    std = std if std > 0 else 1.0
    z = (s - mean) / std
    t = float(np.quantile(z, level))
    peaks = z[z > t] - t
    if peaks.size == 0:
        raise ValueError("SPOT: no calibration score exceeds the initial quantile (all scores tied?)")
    fit = fit_gpd(peaks)
    r = q * z.size / peaks.size
    if fit.gamma == 0:
        zq = t - fit.sigma * np.log(r)
    else:
        zq = t + (fit.sigma / fit.gamma) * (r ** (-fit.gamma) - 1)
    return SpotResult(
        threshold=float(zq * std + mean),
        initial_threshold=float(t * std + mean),
        num_calibration=int(s.size),
        num_peaks=int(peaks.size),
        fit=fit,
        q=q,
        scale=float(std),
    )


def spot_threshold(calibration_scores: np.ndarray, q: float = 1e-3, level: float = 0.98) -> float:
    """The SPOT threshold alone (see :func:`spot`)."""
    return spot(calibration_scores, q=q, level=level).threshold
