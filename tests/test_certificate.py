"""Tests of curvopt.certificate.certify on LocalModel records built directly.

H = Q diag(lam) Q' with known lam (seeded Q), errors set to realistic finite-difference
levels (1e-9 elementwise unless stated); decisions are checked against the known spectrum.
"""
import json

import numpy as np
import pytest

from curvopt.certificate import CLASSES, SCHEMA, certify
from curvopt.model import LocalModel


def known(lam, seed=0):
    lam = np.asarray(lam, dtype=float)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((lam.size, lam.size)))
    H = (Q * lam) @ Q.T
    return 0.5 * (H + H.T)


def model(H, g=None, f=1.0, g_err=1e-10, H_err=1e-9, exact=False, noise=1e-12, step=1e-4):
    n = H.shape[0]
    g = np.zeros(n) if g is None else np.asarray(g, dtype=float)
    return LocalModel(x=np.arange(n, dtype=float), f=f, g=g, H=H,
                      g_err=np.full(n, g_err), H_err=np.full((n, n), H_err),
                      exact_hessian=exact, nfev=7, f_noise=noise,
                      step=None if exact else np.full(n, step))


@pytest.mark.parametrize("lam_min, expected", [
    (1e-3, "minimum"), (-1e-3, "saddle"), (0.0, "degenerate")])
def test_known_spectra(lam_min, expected):
    H = known([lam_min, 0.5, 1.0, 3.0, 10.0], seed=1)
    c = certify(model(H))
    assert c.classification == expected
    assert c.is_minimum == (expected == "minimum")
    assert c.stationary is True and c.inconclusive == ""
    assert c.lam_err < 1e-6
    assert c.negative_directions.shape == (5, int(expected == "saddle"))


def test_maximum_and_negative_direction():
    c = certify(model(-known([1.0, 2.0, 3.0])))
    assert c.classification == "maximum"
    c = certify(model(np.diag([2.0, -2.0])))
    assert c.classification == "saddle"
    assert np.allclose(np.abs(c.negative_directions[:, 0]), [0.0, 1.0])


def test_eigenvalue_inside_the_bound_is_not_decided_either_way():
    for lam_min in (1e-6, -1e-6):    # inside 4e-6 (plain Weyl) and ~3.7e-6 (equilibrated)
        c = certify(model(known([lam_min, 1.0, 2.0, 3.0]), H_err=1e-6))
        assert c.classification == "degenerate"
        assert abs(c.lam_min) <= c.lam_err and not c.is_minimum
        assert c.negative_directions.shape[1] == 0


def test_equilibrated_bound_certifies_a_badly_scaled_minimum_soundly():
    # H = D H0 D with D over five decades (parameters of sizes 1 and 1e-5, as in NIST
    # Kirby2): the error of each entry scales like its row and column, so one Weyl bound
    # on H (set by the stiffest entry) swamps the small eigenvalues; Sylvester's law lets
    # the sign be decided on D^-1 H D^-1 instead.
    D = np.logspace(0, -5, 5)
    H0 = known([0.2, 0.5, 1.0, 3.0, 10.0], seed=3)
    H = D[:, None] * H0 * D[None, :]
    H_err = 1e-6 * np.abs(H)
    c = certify(model(H, H_err=H_err, g_err=1e-20))
    assert c.lam_min < c.lam_err                 # undecidable by the plain Weyl bound
    assert c.classification == "minimum" and c.inertia == (0, 0, 5)
    # soundness: every symmetric H* with |H* - H| <= H_err (corners of the box) is PD
    rng = np.random.default_rng(0)
    for _ in range(200):
        S = np.sign(rng.standard_normal(H.shape))
        E = np.triu(S) + np.triu(S, 1).T
        assert np.linalg.eigvalsh(D[:, None] ** -1 * (H + E * H_err) / D[None, :])[0] > 0


def test_equilibrated_flat_direction_is_mapped_back_to_x():
    D = np.array([1.0, 1e-4])
    H = D[:, None] * np.diag([1.0, 0.0]) * D[None, :]
    c = certify(model(H, H_err=1e-9 * np.ones((2, 2)), g_err=1e-20))
    assert c.classification == "degenerate"
    assert np.allclose(np.abs(c.flat_directions[:, 0]), [0.0, 1.0])


def test_negative_plus_flat_is_inconclusive_with_direction():
    c = certify(model(np.diag([-1.0, 0.0, 0.0])))
    assert c.classification == "inconclusive"
    assert "negative curvature certified" in c.inconclusive and "saddle or maximum" in c.inconclusive
    assert c.negative_directions.shape == (3, 1)


def test_nan_errors_never_decide():
    H = known([1.0, 2.0])
    c = certify(model(H, H_err=np.nan))
    assert c.classification == "inconclusive" and "not estimated" in c.inconclusive
    assert np.isnan(c.lam_err) and c.standard_errors is None
    c = certify(model(H, g_err=np.nan))
    assert c.classification == "inconclusive" and c.stationary is None
    assert "not estimated" in c.inconclusive


def test_gradient_decisions_account_for_error():
    """Stationarity compares what is left to gain with the resolution tau = 4 sigma of f
    and the finite-difference stencil: the rule of the certificate module."""
    H = np.diag([1.0, 2.0])
    # a certified nonzero gradient whose smallest possible gain clears tau
    c = certify(model(H, g=[1e-3, 0.0], g_err=1e-10))
    assert c.classification == "not_stationary" and c.stationary is False
    # the largest possible gain below tau: stationary by gain
    c = certify(model(H, g=[1e-6, 0.0], g_err=1e-10))
    assert c.classification == "minimum" and c.stationarity == "gain"
    assert c.decrement == pytest.approx((1e-6 + 1e-10) ** 2 / 2 / (1.0 - c.lam_err), rel=1e-6)
    # gradient zero within its error, the minimizer within the stencil: by location
    c = certify(model(H, g=[1e-6, 0.0], g_err=2e-6, noise=0.0))
    assert c.classification == "minimum" and c.stationarity == "location"
    # gradient zero within its error, minimizer possibly beyond the stencil: weak
    c = certify(model(H, g=[1e-4, 0.0], g_err=2e-4, noise=0.0, step=1.5e-4))
    assert c.classification == "degenerate" and c.stationarity == "weak"
    assert c.flat_parameters == (0,) and c.flat_directions.shape == (2, 1)
    # certified nonzero but the gain might be below tau: undecided
    c = certify(model(H, g=[3e-6, 0.0], g_err=2e-6, noise=1e-12))
    assert c.classification == "inconclusive" and c.stationary is None
    assert "resolution" in c.inconclusive
    # ... and with negative curvature certified it is not a minimum either way
    c = certify(model(np.diag([1.0, -1.0]), g=[3e-6, 0.0], g_err=2e-6))
    assert "not a minimum" in c.inconclusive and c.negative_directions.shape[1] == 1
    # the user's absolute gtol (scipy's meaning) also decides
    c = certify(model(H, g=[1e-3, 0.0]), gtol=1e-2)
    assert c.classification == "minimum" and c.stationarity == "gtol"


def test_stationarity_does_not_depend_on_a_constant_added_to_f():
    """f + c: the tolerance never scales with |f|; only the noise does (precision)."""
    H = np.diag([2.0, 2.0])
    for c0 in (0.0, 1e3, 1e7):
        noise = max(2.2e-16 * c0, 1e-16)
        c = certify(model(H, g=[-2.0, -2.0], g_err=1e-9 * max(c0, 1), f=1.0 + c0, noise=noise))
        assert c.classification == "not_stationary"
    far = certify(model(H, g=[2e12, -2e12], g_err=600.0, f=2e24, noise=4e8, step=1.2e8))
    assert far.classification == "not_stationary"


def test_standard_errors_newton_decrement_and_warning():
    H = known([0.5, 2.0, 4.0], seed=5)
    g = np.array([1e-7, -2e-7, 3e-7])
    c = certify(model(H, g=g, f=-2.0), names=["a", "b", "c"])
    Hinv = np.linalg.inv(H)
    assert np.allclose(c.standard_errors, np.sqrt(np.diag(Hinv)), rtol=1e-12)
    assert c.decrement >= g @ Hinv @ g / 2.0
    assert c.se_warning == ""
    c = certify(model(known([-0.5, 2.0, 4.0])))
    assert c.standard_errors is None and "not certified positive definite" in c.se_warning


def test_curvature_along_gradient_and_longest_decreasing_step():
    H = known([0.1, 1.0, 5.0], seed=2)
    g = np.array([1.0, -2.0, 0.5])
    c = certify(model(H, g=g))
    assert c.classification == "not_stationary"
    assert c.curvature_along_grad == pytest.approx(g @ H @ g / (g @ g))
    m = model(H, g=g)
    t = c.max_descent_step
    assert m.predicted_reduction(-0.999 * t * g) > 0 >= m.predicted_reduction(-1.001 * t * g)
    c = certify(model(np.diag([-1.0, 1.0]), g=[1.0, 0.0]))
    assert c.max_descent_step == np.inf and c.curvature_along_grad == -1.0
    assert certify(model(H)).curvature_along_grad is None


def test_flat_parameters_follow_the_null_eigenspace():
    v = np.array([1.0, 1.0, 0.0, 0.0]) / np.sqrt(2)      # null direction mixes a and b
    P = np.eye(4) - np.outer(v, v)
    H = P @ np.diag([1.0, 2.0, 3.0, 4.0]) @ P
    c = certify(model(0.5 * (H + H.T)), names=["a", "b", "c", "d"])
    assert c.classification == "degenerate"
    assert c.flat_parameters == ("a", "b")
    assert certify(model(0.5 * (H + H.T))).flat_parameters == (0, 1)


def test_exact_hessian_uses_rounding_bound_only():
    H = known([1e-9, 1.0, 2.0])
    c = certify(model(H, H_err=0.0, exact=True, g_err=1e-20))
    assert c.classification == "minimum" and c.lam_err < 1e-14
    # with a gradient error of 1e-10 the minimizer may lie 0.1 away along lam = 1e-9
    c = certify(model(H, H_err=0.0, exact=True, g_err=1e-10))
    assert c.classification == "degenerate" and c.stationarity == "weak"
    assert "exact" in str(c)


def test_report_and_json():
    c = certify(model(np.diag([2.0, -2.0])), names=["x", "y"])
    text = str(c)
    assert text.splitlines()[0].startswith("curvopt certificate: SADDLE")
    assert "certified < 0" in text and "negative-curvature direction" in text
    d = c.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["classification"] == "saddle" and d["names"] == ["x", "y"]
    assert d["schema"] == SCHEMA and d["stationarity"] in ("gain", "location")
    assert all(type(u) is float for u in d["lam"])
    assert type(d["is_minimum"]) is bool and type(d["rank"]) is int
    d = certify(model(np.diag([-1.0, 1.0]), g=[1.0, 0.0])).to_dict()
    assert d["max_descent_step"] == "inf"
    assert certify(model(known([1.0]), H_err=np.nan)).to_dict()["lam_err"] is None
    assert set(CLASSES) >= {c.classification}


def test_large_report_is_truncated_but_never_hides_one_eigenvalue():
    c = certify(model(known(np.linspace(1, 2, 30))))
    assert "more" in str(c) and len(str(c).splitlines()) < 30
    c = certify(model(known(np.linspace(1, 2, 11))))
    assert "more" not in str(c) and str(c).count("lam[") == 11


@pytest.mark.parametrize("field, value, msg", [
    ("f", np.nan, "f at the point is not finite"),
    ("g", np.array([np.inf, 0.0]), "gradient g at the point has non-finite"),
    ("g", np.zeros(3), "g has shape"),
    ("H", np.zeros((3, 3)), "H has shape"),
    ("H", np.array([[1.0, np.nan], [np.nan, 1.0]]), "Hessian H at the point has non-finite"),
    ("H_err", -np.ones((2, 2)), "H_err must be >= 0"),
])
def test_bad_models(field, value, msg):
    kw = dict(x=np.zeros(2), f=0.0, g=np.zeros(2), H=np.eye(2), g_err=np.zeros(2),
              H_err=np.zeros((2, 2)))
    kw[field] = value
    with pytest.raises(ValueError, match=msg):
        certify(LocalModel(**kw))


def test_bad_options():
    with pytest.raises(ValueError, match="names"):
        certify(model(np.eye(2)), names=["a"])
    with pytest.raises(ValueError, match="gtol"):
        certify(model(np.eye(2)), gtol=0.0)
    with pytest.raises(ValueError, match="loading"):
        certify(model(np.eye(2)), loading=1.5)


def test_not_smooth_model_says_so_in_the_inconclusive_text():
    """A model flagged not smooth (wide bounds) names the cause, not only the bound size."""
    from curvopt.certificate import NOT_SMOOTH
    n = 3
    m = LocalModel(x=np.zeros(n), f=1.0, g=np.full(n, 1e-3), H=np.eye(n),
                   g_err=np.full(n, 1.0), H_err=np.full((n, n), 2.0), smooth=False)
    c = certify(m)
    assert c.classification in ("inconclusive", "degenerate") and not c.is_minimum
    assert c.inconclusive.startswith(NOT_SMOOTH)
    smooth = certify(LocalModel(**{**m.__dict__, "smooth": True}))
    assert NOT_SMOOTH not in smooth.inconclusive


def test_minimizer_within_the_spacing_of_x_is_stationary():
    """|g| beyond its error, but the minimizer along every curved direction lies within
    the spacing of the floating point numbers at x: no representable point is nearer, so
    the point is stationary at the precision of x (the noise of f, and with it the
    resolution tau, is 0 here: f = 0 at x)."""
    x = np.array([1.0, 2.0])
    H = np.diag([10.0, 20.0])
    g = np.array([1e-16, -2e-16])                # minimizer 1e-17 away: < spacing(1) 2.2e-16
    kw = dict(x=x, f=0.0, g=g, H=H, g_err=np.full(2, 1e-20), H_err=np.full((2, 2), 1e-9),
              exact_hessian=False, nfev=7, f_noise=0.0, step=np.full(2, 1e-4))
    c = certify(LocalModel(**kw))
    assert c.classification == "minimum" and c.stationarity == "location"
    # 1000 times further: the minimizer is ~1e-14 away, beyond one spacing: not stationary
    c = certify(LocalModel(**{**kw, "g": 1000 * g}))
    assert c.classification == "not_stationary"


def test_exact_zero_by_cancellation_in_a_flat_valley_is_not_called_not_stationary():
    """f = (x y - 1)^2 at a float point where x y rounds to 1: f = 0.0 exactly, the noise
    of f measures 0, and the FD gradient (~3e-16, the rounding of x y - 1 amplified)
    exceeds its bound. The minimizer lies within 3e-17, below the spacing of x: a
    machine whose arithmetic lands here (seen with numba and numpy on a generic x86-64
    target) must not end NOT_STATIONARY."""
    import curvopt
    f = lambda z: (z[0] * z[1] - 1.0) ** 2          # noqa: E731
    x = np.array([0.42674258002829946, 2.343333069631076])
    assert f(x) == 0.0
    c = curvopt.check(f, x)
    assert c.stationary and c.classification == "degenerate"
