"""The example scripts, run in quick mode, and the plot helpers.

Each example's ``main(["--quick", "--no-plot"])`` returns a dict of outcomes; the tests
assert them against a peer computed in the same run (statsmodels fits, ``numpy.linalg.eigh``,
analytic derivatives). Figures are exercised once per helper on synthetic inputs and by
the examples that write PNGs (to a temporary folder).
"""
from __future__ import annotations

import functools
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)
sm = pytest.importorskip("statsmodels.api")


def _example(name):
    return importlib.import_module(name)


@functools.lru_cache(maxsize=None)
def _quick(name):
    """Outcomes of ``name.main(["--quick", "--no-plot"])``, run once per session."""
    return _example(name).main(["--quick", "--no-plot"])


# --- data and likelihood kernels (no solver involved) --------------------------------

def test_mtcars_data_matches_published_summaries():
    """Means/SDs of R's mtcars (Henderson & Velleman 1981) and the lm(mpg ~ wt) fit."""
    d = _example("_common").load_mtcars()
    assert len(d["mpg"]) == 32
    np.testing.assert_allclose([d["mpg"].mean(), d["mpg"].std(ddof=1)], [20.090625, 6.026948],
                               rtol=1e-6)
    np.testing.assert_allclose([d["drat"].mean(), d["drat"].std(ddof=1)],
                               [3.5965625, 0.5346787], rtol=1e-6)
    np.testing.assert_allclose([d["wt"].mean(), d["wt"].std(ddof=1)], [3.21725, 0.9784574],
                               rtol=1e-6)
    slope, intercept = np.polyfit(d["wt"], d["mpg"], 1)
    np.testing.assert_allclose([intercept, slope], [37.2851, -5.3445], atol=1e-4)


def _random_beta(k, seed):
    return np.random.default_rng(seed).normal(scale=0.05, size=k)


def test_logit_and_poisson_kernels_match_statsmodels_loglike_and_score():
    glm, lg, po = _example("_glm"), _example("glm_logistic"), _example("glm_poisson")
    X, y, off, _ = lg.load_spector()
    model = sm.Logit(y, X)
    b = _random_beta(X.shape[1], 1)
    np.testing.assert_allclose(glm.logit_nll(b, X, y, off), -model.loglike(b), rtol=1e-12)
    np.testing.assert_allclose(glm.logit_grad(b, X, y, off), -model.score(b), rtol=1e-10)
    X, y, off, _ = po.load_star98()
    model = sm.Poisson(y, X, offset=off)
    b = _random_beta(X.shape[1], 2) * 0.1
    np.testing.assert_allclose(glm.poisson_nll(b, X, y, off), -model.loglike(b), rtol=1e-12)
    np.testing.assert_allclose(glm.poisson_grad(b, X, y, off), -model.score(b), rtol=1e-9)


def test_negbin_kernel_matches_scipy_nbinom():
    """NB2 with r = 1/alpha, p = r/(r + mu) is scipy's nbinom(r, p)."""
    from scipy.stats import nbinom
    glm, nb = _example("_glm"), _example("glm_negbin")
    X, y, off, _ = nb.load_randhie(quick=True)
    beta, alpha = _random_beta(X.shape[1], 3), 1.3
    mu, r = np.exp(X @ beta), 1.0 / alpha
    expected = -np.sum(nbinom.logpmf(y, r, r / (r + mu)))
    theta = np.append(beta, np.log(alpha))
    np.testing.assert_allclose(glm.negbin_nll(theta, X, y, off), expected, rtol=1e-12)


# --- plot helpers on synthetic inputs -------------------------------------------------

def test_plot_spectrum_colours_by_certified_sign():
    import matplotlib.pyplot as plt
    from curvopt.plot import plot_spectrum
    ax = plot_spectrum(np.array([-1e-3, -1e-7, 2e-7, 1e-2]), 1e-5)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["certified > 0 (1)", "certified < 0 (1)", "0 within error (2)"]
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close(ax.figure)
    with pytest.raises(TypeError, match="lam_err"):
        plot_spectrum([1.0, 2.0])


def test_plot_trajectory_legend_lists_trajectories_and_classes(tmp_path):
    import matplotlib.pyplot as plt
    from curvopt.plot import CLASS_STYLE, plot_trajectory
    X = np.array([[1.5, 0.1], [0.5, 0.5], [0.0, 1.4]])
    ax = plot_trajectory(lambda z: z[0] ** 2 - z[1] ** 2 + z[1] ** 4 / 4, (-2, 2), (-2, 2),
                         {"run A": (X, ["indefinite", "convex", "minimum"]),
                          "run B": {"x": -X, "classification": ["concave", "flat", "saddle"]}},
                         resolution=20)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["run A", "run B"]
    for c in ("minimum", "saddle", "convex", "indefinite", "concave", "flat"):
        assert CLASS_STYLE[c][1] in labels
    assert CLASS_STYLE["maximum"][1] not in labels
    assert ax.get_xlabel() == "parameter 1" and ax.get_ylabel() == "parameter 2"
    ax.figure.savefig(tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 1000
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="2 coordinates"):
        plot_trajectory(lambda z: 0.0, (0, 1), (0, 1), {"bad": (np.zeros((3, 3)), ["x"] * 3)},
                        resolution=4)


# --- GLM scripts and the statsmodels hand-off -----------------------------------------

@pytest.mark.parametrize("name", ["glm_logistic", "glm_poisson", "glm_negbin"])
def test_glm_matches_statsmodels(name):
    out = _example(name).main(["--quick", "--no-plot"])
    assert out["classification"] == "minimum" and out["success"]
    assert out["params_rel_diff"] <= 1e-6
    assert out["se_rel_diff"] <= 1e-4


def test_poisson_from_values_only_is_certified_on_unscaled_covariates():
    """From function values alone, on unscaled percentage covariates: certified (the
    softest direction resolved by probes of f), estimates within 1e-5 of statsmodels;
    standard errors only if H itself is certified positive definite."""
    out = _example("glm_poisson").main(["--quick", "--no-plot", "--values-only"])
    assert out["success"] and out["classification"] == "minimum"
    assert out["params_rel_diff"] <= 1e-5


def test_statsmodels_handoff_and_check():
    out = _example("statsmodels_handoff").main(["--quick"])
    assert out["converged"]
    assert out["params_rel_diff"] <= 1e-6 and out["se_rel_diff"] <= 1e-4
    assert out["logit_check"] == "minimum"
    assert out["logit_check_se_rel_diff"] <= 1e-4
    # statsmodels' default NegativeBinomial fit stops early; the certificate must not
    # call its point a minimum
    assert not out["nb_converged"]
    assert out["nb_check"] == "not_stationary"


# --- case 1: logistic regression Hessian "not PSD" ------------------------------------

def test_logistic_float32_is_not_called_a_saddle():
    out = _example("logistic_not_psd").main(["--quick", "--no-plot"])
    assert out["neg_eigs_float32"] >= 1 and out["neg_eigs_float64"] == 0
    assert out["case"]["float32"] != "saddle" and out["case_certified_negative"]["float32"] == 0
    assert out["optimum"]["float32"] not in ("saddle", "maximum")
    assert out["optimum"]["float64"] == "minimum"
    # the float32 eigenvalue deviations from float64 stay inside the certified bound
    for row in out["scan"]:
        assert row["dev"] <= row["lam_err32"]
    # condition number grows with the input dimension
    conds = [row["cond"] for row in out["scan"]]
    assert conds[-1] > 1e3 * conds[0]


# --- case 2: power iteration vs Lanczos -----------------------------------------------

def test_power_iteration_finds_largest_magnitude_and_lanczos_both_ends():
    out = _example("hvp_power_iteration").main(["--quick", "--no-plot"])
    lam_min, lam_max = out["eigh"]
    assert abs(lam_min) > abs(lam_max) > 0 > lam_min  # the dominant eigenvalue is negative
    assert out["power_converged"] and out["power_rel_to_largest_abs"] <= 1e-8
    assert max(out["lanczos_rel"]) <= 1e-6
    assert max(out["lanczos_fd_rel"]) <= 1e-6


# --- case 3: mtcars fit ---------------------------------------------------------------

def test_mtcars_curvopt_certified_from_3_minus_3_and_gd_not_stationary():
    out = _example("mtcars_fit").main(["--quick"])
    co, gd = out[("curvopt", "start (3, -3)")], out[("gradient descent", "start (3, -3)")]
    assert co["success"] and co["classification"] == "minimum"
    assert co["cert"].f < gd["cert"].f
    # 1000 gradient steps look converged on the loss curve but are not stationary
    assert gd["classification"] == "not_stationary"
    assert out[("gradient descent", "start (-4, 4)")]["classification"] == "not_stationary"
    # every iterate got a curvature class, and both kinds of curvature occur on the way
    assert {"convex", "indefinite"} <= set(gd["classes"])
    for name in ("mtcars_curvopt.png", "mtcars_gradient_descent.png", "mtcars_loss_curves.png"):
        assert (EXAMPLES / "output" / name).stat().st_size > 10_000


# --- case 4: saddles and step sizes ---------------------------------------------------

def test_saddle_example_scipy_stops_curvopt_escapes():
    out = _quick("saddle_debugging")
    assert out["start_classification"] == "saddle"
    for method in ("BFGS", "trust-ncg", "trust-krylov", "trust-exact"):
        run = out["runs"][method]
        assert run["success"] and run["exact_lam_min"] < -1.0
        assert run["classification"] == "saddle"
    co = out["runs"]["curvopt"]
    assert co["success"]
    np.testing.assert_allclose(co["f"], out["f_star"], rtol=1e-8)
    assert co["exact_lam_min"] > -1e-8
    # w1 -> a w1, w2 -> w2 / a leaves f unchanged: a flat direction, not a strict minimum
    assert co["classification"] == "degenerate"


def test_step_size_bound_from_curvature_along_gradient():
    steps = _quick("saddle_debugging")["steps"]
    np.testing.assert_allclose(steps["t_max"], steps["exact_t_max"], rtol=1e-4)
    for row in steps["rows"]:
        if row["fraction"] <= 0.75:
            assert row["actual"] < 0 and row["predicted"] < 0
        if row["fraction"] >= 1.25:
            assert row["actual"] > 0 and row["predicted"] > 0


def test_scripts_run_from_the_command_line(tmp_path):
    """A script runs as ``python examples/<name>.py`` from any directory, uninstalled."""
    import subprocess
    proc = subprocess.run([sys.executable, str(EXAMPLES / "saddle_debugging.py"), "--quick",
                           "--no-plot"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "curvopt.check" in proc.stdout and "saddle" in proc.stdout


def test_examples_pass_the_callable_module_as_method():
    import curvopt
    assert _example("_common").curvopt_method() is curvopt and callable(curvopt)


def test_plot_trajectory_accepts_a_curvopt_history():
    import matplotlib.pyplot as plt
    import scipy.optimize
    import curvopt
    from curvopt.plot import CLASS_STYLE, plot_trajectory
    f = lambda z: z[0] ** 2 - z[1] ** 2 + z[1] ** 4 / 4  # noqa: E731
    res = scipy.optimize.minimize(f, np.array([0.5, 0.0]), method=curvopt,
                                  options={"history": True})
    ax = plot_trajectory(f, (-2, 2), (-2, 2), {"curvopt": res.history}, resolution=10)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert CLASS_STYLE[res.history[-1].classification][1] in labels
    plt.close(ax.figure)
