"""The matrix-free path (n > 200 or hess_sparsity): Steihaug-CG steps on products,
certificates from Lanczos (probabilistic) or a sparse H (deterministic)."""
import numpy as np
import pytest
import scipy.sparse as sp

import curvopt
from curvopt.newton_krylov import DENSE_CERT_N, KRYLOV_N

N = 250          # > DENSE_CERT_N: the certificate comes from products
IDX = np.arange(2, N + 1)


def tridia(x):
    """CUTEst TRIDIA (alpha = 2, beta = gamma = delta = 1): f* = 0, H SPD, cond ~ 9n."""
    return (x[0] - 1.0) ** 2 + np.sum(IDX * (2.0 * x[1:] - x[:-1]) ** 2)


def tridia_minimizer():
    x = np.empty(N)
    x[0] = 1.0
    for i in range(1, N):
        x[i] = x[i - 1] / 2.0
    return x


def double_well(x):
    """Separable double wells with a weak coupling: x = 0 is a strict local maximum."""
    return np.sum((x * x - 1.0) ** 2) / 4.0 + 0.05 * np.sum((x[1:] - x[:-1]) ** 2)


TRIDIAGONAL = sp.diags_array([np.ones(N - 1), np.ones(N), np.ones(N - 1)],
                             offsets=[-1, 0, 1], dtype=bool)


def test_default_path_above_krylov_n_reaches_tridia_minimum_with_probabilistic_certificate():
    assert N > KRYLOV_N
    res = curvopt.minimize(tridia, np.ones(N))
    assert res.success and res.status == 0
    assert res.fun <= 1e-9                  # stopped once x is inside the FD stencil
    assert np.max(np.abs(res.x - tridia_minimizer())) <= 1e-5
    c = res.certificate
    assert c.classification == "minimum" and c.method == "lanczos"
    assert c.failure_probability in (0.0, 1e-3)     # 0 only once Lanczos spans R^n
    assert (c.failure_probability > 0) == ("with probability" in c.evidence)
    assert c.lam_min_bound is not None and c.lam_min_bound > 0
    assert res.hess is None                          # no n x n matrix was formed


def test_hess_sparsity_gives_a_deterministic_certificate():
    res = curvopt.minimize(tridia, np.ones(N), hess_sparsity=TRIDIAGONAL)
    assert res.success and res.fun <= 1e-9
    c = res.certificate
    assert c.method == "sparse" and c.failure_probability == 0.0
    # the exact lam_min of TRIDIA's Hessian is positive: the bound must not exceed it
    B = np.diag(np.r_[1.0, 2.0 * np.ones(N - 1)]) - np.diag(np.ones(N - 1), -1)
    W = np.diag(np.r_[1.0, IDX.astype(float)])
    lam_min = np.linalg.eigvalsh(2.0 * B.T @ W @ B)[0]
    assert 0 < c.lam_min_bound <= lam_min * (1 + 1e-6)


def test_strict_saddle_start_escapes_along_krylov_negative_curvature():
    x0 = np.zeros(N)                                 # g = 0, H = -I + coupling
    res = curvopt.minimize(double_well, x0, history=True)
    assert res.success and res.certificate.classification == "minimum"
    assert res.fun < double_well(x0) - 1.0
    assert any(row.kind == "escape" for row in res.history)
    assert np.all(np.abs(res.x) > 0.5)               # every coordinate left the top


def test_check_classifies_at_large_n_through_products():
    a = np.r_[-1.0, np.ones(N - 1)]                  # one negative eigenvalue
    saddle = lambda x: float(np.sum(a * x * x))      # noqa: E731
    c = curvopt.check(saddle, np.zeros(N))
    assert c.classification == "saddle" and c.method == "lanczos"
    y = c.negative_directions[:, 0]
    assert abs(y[0]) > 0.99                          # the direction of the -1 eigenvalue
    bowl = lambda x: float(np.sum((x - 1.0) ** 2))   # noqa: E731
    assert curvopt.check(bowl, np.ones(N)).classification == "minimum"
    c = curvopt.check(bowl, np.zeros(N))
    assert c.classification == "not_stationary" and not c.is_minimum


def test_a_point_certified_not_stationary_stops_lanczos_early():
    """With cond 1e4 the minimum certificate would need k = n = 250 products; a point
    whose gradient is certified non-zero, and whose Ritz values already rule out both
    stationarity tests, is classified after a checkpoint, and correctly."""
    rng = np.random.default_rng(3)
    U, _ = np.linalg.qr(rng.standard_normal((N, N)))
    A = (U * np.logspace(0.0, 4.0, N)) @ U.T
    quad = lambda x: 0.5 * float(x @ (A @ x))        # noqa: E731
    x = 1e-3 * U[:, -1] + 1e-3 * U[:, 0]             # g = A x != 0
    c = curvopt.check(quad, x)
    assert c.classification == "not_stationary" and not c.is_minimum
    assert c.nfev < 150 * (N + 1)                    # far fewer than N products
    assert "lowers the model" in c.inconclusive
    full = curvopt.check(quad, np.zeros(N))          # the minimizer: the whole space
    assert full.classification == "minimum" and full.nfev > N * (N + 1)


def test_degenerate_saddle_is_left_along_the_undecided_ritz_direction():
    """x0 = 0 is a degenerate saddle (f = -x_0^4 + x_0^6 + ...: zero curvature, f falls
    as -x_0^4): the certificate cannot decide the direction, a probe of f along it finds
    lower f, and the run goes on to the minimum at x_0 = +-sqrt(2/3)."""
    n = DENSE_CERT_N + 1
    f = lambda x: -x[0] ** 4 + x[0] ** 6 + float(np.sum((x[1:] - 1.0) ** 2))  # noqa: E731
    x0 = np.r_[0.0, np.full(n - 1, 0.5)]
    res = curvopt.minimize(f, x0, history=True)
    assert any(row.kind == "probe_descent" for row in res.history)
    assert res.success and res.certificate.classification == "minimum"
    assert abs(abs(res.x[0]) - np.sqrt(2.0 / 3.0)) <= 1e-4
    flat = lambda x: -x[0] ** 4 + float(np.sum((x[1:] - 1.0) ** 2))      # noqa: E731
    res = curvopt.minimize(flat, x0)
    assert not res.success and res.status == curvopt.Status.NO_FINITE_MINIMIZER


def test_unbounded_below_is_not_a_success_at_large_n():
    res = curvopt.minimize(lambda x: -float(np.sum(x * x)), np.full(N, 0.1))
    assert not res.success
    assert res.status == curvopt.Status.NO_FINITE_MINIMIZER


def test_offset_does_not_change_the_answer_at_large_n():
    res = curvopt.minimize(lambda x: 1e7 + tridia(x), np.zeros(N))
    assert not res.success or np.max(np.abs(res.x - tridia_minimizer())) <= 1e-2
    assert res.certificate.classification != "minimum" or res.fun - 1e7 <= 1e-4


def test_subproblem_and_hess_sparsity_are_validated():
    with pytest.raises(ValueError, match="subproblem"):
        curvopt.minimize(tridia, np.ones(N), subproblem="lanczos")
    with pytest.raises(ValueError, match="hess_sparsity"):
        curvopt.minimize(tridia, np.ones(N), hess_sparsity=np.ones((3, 3)))
    small = curvopt.minimize(lambda x: float(np.sum((x - 2.0) ** 2)), np.zeros(5),
                             subproblem="krylov")
    assert small.success and small.certificate.method == "dense"     # n <= DENSE_CERT_N
    assert np.allclose(small.x, 2.0, atol=1e-6)


def test_between_krylov_n_and_dense_cert_n_the_certificate_is_dense():
    n = 100
    assert KRYLOV_N < n <= DENSE_CERT_N
    res = curvopt.minimize(lambda x: float(np.sum(np.arange(1, n + 1) * (x - 1.0) ** 2)),
                           np.zeros(n))
    assert res.success and res.certificate.method == "dense"
    assert res.certificate.standard_errors is not None
    se = res.certificate.standard_errors                # sqrt(1 / (2 i)) exactly
    assert np.allclose(se, np.sqrt(1.0 / (2.0 * np.arange(1, n + 1))), rtol=1e-4)


def test_disp_announces_long_work_and_silence_without_it(capsys):
    curvopt.minimize(tridia, np.ones(N))
    assert capsys.readouterr().out == ""             # nothing on stdout unless asked
    curvopt.minimize(tridia, np.ones(N), disp=True)
    out = capsys.readouterr().out
    assert "certifying at f" in out and "Lanczos products" in out


def test_disp_speaks_at_least_every_few_seconds_during_small_batches(capsys, monkeypatch):
    """Product batches (n points) fall below the 'long batch' rule, so the
    heartbeat (every EVERY seconds) is what keeps a long CG or Lanczos run from silence."""
    from curvopt import api
    monkeypatch.setattr(api._Progress, "EVERY", 0.0)       # every batch is 'late'
    curvopt.minimize(tridia, np.ones(N), disp=True, maxiter=2)
    beats = [ln for ln in capsys.readouterr().out.splitlines() if "evaluating a batch" in ln]
    sizes = {int(ln.split("batch of ")[1].split()[0]) for ln in beats}
    assert any(m <= N for m in sizes)                 # small batches announce themselves
    monkeypatch.setattr(api._Progress, "EVERY", 1e9)
    curvopt.minimize(tridia, np.ones(N), disp=True, maxiter=2)
    beats = [ln for ln in capsys.readouterr().out.splitlines() if "evaluating a batch" in ln]
    assert all(int(ln.split("batch of ")[1].split()[0]) > N for ln in beats)


def test_compiling_an_njit_objectives_loops_is_logged_not_printed(capsys, caplog):
    import logging

    from numba import njit

    @njit
    def bowl(x):  # pragma: no cover - jit
        return (x[0] - 1.0) ** 2 + (x[1] + 2.0) ** 2

    with caplog.at_level(logging.INFO, logger="curvopt.evaluation"):
        res = curvopt.minimize(bowl, np.zeros(2))
    assert res.success
    assert any("compiling the evaluation loops around bowl" in r.getMessage()
               for r in caplog.records)
    assert capsys.readouterr().out == ""
