"""Tests of curvopt.fd.noise (ECnoise, More & Wild 2011) with known noise levels."""
import numpy as np
import pytest

from curvopt import noise_level
from curvopt.fd.noise import ecnoise, estimate_noise
from curvopt.objective import Objective


def test_ecnoise_on_pure_noise_recovers_sigma():
    rng = np.random.default_rng(3)
    est = [ecnoise(1.0 + 1e-3 * rng.standard_normal(7))[0] for _ in range(200)]
    est = np.array([e for e in est if np.isfinite(e)])
    assert est.size >= 150
    assert 0.7e-3 <= np.median(est) <= 1.4e-3


def test_noisy_simulation_level():
    rng = np.random.default_rng(8)
    r = noise_level(lambda x: np.sum(np.cos(x)) + 1e-5 * rng.standard_normal(), np.ones(5))
    assert r.status == "ok"
    assert 3e-6 <= r.sigma <= 3e-5
    assert 7 <= r.nfev <= 7 + 12          # f(x) and one to three lines of 6


def test_float32_and_float64_levels():
    x = np.linspace(0.1, 2.0, 20)
    f = lambda x: np.sum(np.sin(x) ** 2 + x)   # noqa: E731
    f32 = noise_level(lambda x: f(x.astype(np.float32)), x)
    f64 = noise_level(f, x)
    fx = abs(f(x))
    assert 1e-9 <= f32.sigma / fx <= 1e-6         # float32 rounding, about 6e-8 relative
    assert 2.2e-16 <= f64.sigma / fx <= 1e-14      # floored at eps |f|
    assert f32.sigma > 100 * f64.sigma


def test_constant_function_uses_the_floor_and_nothing_is_stored():
    obj = Objective(lambda x: 4.0, np.zeros(3))
    r = estimate_noise(obj, np.zeros(3), 4.0)
    assert r.status == "delta too small"
    assert r.sigma == pytest.approx(4.0 * np.finfo(float).eps)
    assert obj.nfev == 3 * 6 and not hasattr(obj, "noise")


def test_constant_then_undefined_is_below_detection():
    """f constant at every sampling distance until the line leaves its domain: the noise
    is below detection (the floor), not unknown."""
    obj = Objective(lambda x: 0.0 if abs(x[0]) < 1e6 else np.nan, np.zeros(1))
    r = estimate_noise(obj, np.array([10.0]), 0.0, max_tries=6)
    assert r.status == "delta too small" and r.sigma == 0.0


def test_curvature_scale_and_step_rel():
    obj = Objective(lambda x: 50.0 * x @ x + 1e3, np.zeros(4))
    r = estimate_noise(obj, np.zeros(4), 1e3)
    assert r.curv == pytest.approx(100.0, rel=1e-3)
    assert r.step_rel == pytest.approx(max(np.finfo(float).eps, r.sigma / r.curv))


def test_f_of_x_evaluated_in_the_first_line_batch():
    """Without f0, f(x) is the first point of the first attempt's batch: the same estimate
    as with f0 given, one evaluation more, and a NonFiniteError naming x when f(x) is not
    finite."""
    def f(x):
        return float(np.sum(np.cos(3.0 * x)) + 1e-9 * np.sin(1e7 * x[0]))
    x = np.array([0.3, -1.2, 2.0])
    given = Objective(f, x)
    a = estimate_noise(given, given.x0, f(x))
    alone = Objective(f, x)
    b = estimate_noise(alone, alone.x0)
    assert b.f == f(x) and b.nfev == a.nfev + 1 == alone.nfev
    assert (b.sigma, b.step_rel, b.curv, b.status) == (a.sigma, a.step_rel, a.curv, a.status)
    bad = Objective(lambda y: np.nan if y[0] == 0.3 else 1.0, x)
    with pytest.raises(ValueError, match="not finite at the base point"):
        estimate_noise(bad, bad.x0)
