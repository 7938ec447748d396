import numpy as np
import pytest
from scipy import stats

from hvgrae.evt import fit_gpd, spot, spot_threshold


def test_gpd_fit_matches_scipy_mle_on_heavy_tail():
    y = stats.genpareto.rvs(c=0.3, scale=1.5, size=4000, random_state=np.random.default_rng(0))
    fit = fit_gpd(y)
    c, _, scale = stats.genpareto.fit(y, floc=0)
    assert fit.gamma == pytest.approx(c, abs=0.02)
    assert fit.sigma == pytest.approx(scale, rel=0.03)
    # our optimum is at least as good as scipy's
    assert fit.loglik >= stats.genpareto.logpdf(y, c, 0, scale).sum() - 1e-6


def test_gpd_fit_exponential_case_loglik():
    y = np.random.default_rng(1).exponential(2.0, size=3000)
    fit = fit_gpd(y)
    assert abs(fit.gamma) < 0.05
    assert fit.loglik >= -y.size * (1 + np.log(y.mean())) - 1e-9


def test_spot_threshold_matches_exponential_quantile():
    # Exp(1): P(S > z) = exp(-z), so the 1e-3 threshold is log(1000) ~ 6.91
    s = np.random.default_rng(2).exponential(1.0, size=200_000)
    assert spot_threshold(s, q=1e-3) == pytest.approx(np.log(1000), rel=0.03)


def test_spot_is_scale_equivariant_and_reports_peaks():
    s = np.random.default_rng(3).normal(size=5000)
    r = spot(s, q=1e-3, level=0.98)
    assert r.num_peaks == pytest.approx(0.02 * 5000, abs=2)
    assert spot_threshold(10 * s + 3) == pytest.approx(10 * r.threshold + 3, rel=1e-9)
    assert r.threshold > r.initial_threshold


def test_spot_rejects_bad_input():
    with pytest.raises(ValueError):
        spot_threshold(np.array([1.0, np.nan] * 10))
    with pytest.raises(ValueError):
        spot_threshold(np.ones(3))


@pytest.mark.parametrize("dist", ["exponential", "normal", "uniform"])
def test_spot_tail_probability_is_q_at_the_threshold_and_matches_the_true_tail(dist):
    rng = np.random.default_rng(4)
    s = getattr(rng, dist)(size=50_000)
    r = spot(s, q=1e-3)
    assert r.tail_probability(r.threshold) == pytest.approx(1e-3, rel=1e-6)
    assert r.tail_probability(r.initial_threshold) == pytest.approx(r.num_peaks / r.num_calibration)
    assert np.isnan(r.tail_probability(r.initial_threshold - 1e-6))
    xs = np.linspace(r.initial_threshold, r.threshold, 20)
    assert np.all(np.diff(r.tail_probability(xs)) <= 0)
    if dist == "exponential":  # Exp(1): P(S > x) = exp(-x)
        x = np.quantile(s, 0.995)
        assert r.tail_probability(x) == pytest.approx(np.exp(-x), rel=0.15)
