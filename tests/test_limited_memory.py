"""L-SR1 compact model: agreement with the dense SR1 recursion, the dense eigensolver and the
dense exact trust-region solver, on seeded random pairs; limited memory at large n.

Tolerances are relative to ||B|| (and to the conditioning of B + mu I for steps); nothing
depends on last-bit rounding and nothing is timed.
"""
import dataclasses

import numpy as np
import pytest
from scipy.stats import ortho_group

from curvopt.quasi_newton import sr1
from curvopt.limited_memory import LSR1, LSR1Spectrum
from curvopt.subproblem import solve_trust_region


def sym(rng, n, lo, hi):
    """Symmetric matrix with eigenvalues uniform in [lo, hi]."""
    Q = ortho_group.rvs(n, random_state=rng)
    return (Q * rng.uniform(lo, hi, n)) @ Q.T


def build(rng, n, m, gamma, A, count, noise=0.0):
    """The L-SR1 model and the dense recursion (curvopt.quasi_newton.sr1) on the same pairs."""
    L, B = LSR1(n, m, gamma=gamma, gamma_rule="fixed"), gamma * np.eye(n)
    for _ in range(count):
        s = rng.normal(size=n)
        y = A @ s + noise * rng.normal(size=n)
        Bn = sr1(B, s, y)
        assert L.update(s, y) == (Bn is not B)
        B = Bn
    return L, B


def model(g, B, p):
    return float(g @ p + 0.5 * p @ B @ p)


def norm2(B):
    return max(float(np.abs(np.linalg.eigvalsh(B)).max()), 1e-300)


@pytest.mark.parametrize("n, count, gamma", [(6, 9, 1.0), (10, 8, -0.7), (3, 7, 2.5),
                                             (12, 12, 0.3)])
def test_products_match_dense_sr1_with_skips(n, count, gamma):
    rng = np.random.default_rng(100 + n)
    A = sym(rng, n, -4, 4)
    L, B = LSR1(n, count, gamma=gamma, gamma_rule="fixed"), gamma * np.eye(n)
    signs, rejected = [], 0
    for i in range(count + count // 3):
        s = rng.normal(size=n)
        if i % 4 == 3:                         # y - Bs orthogonal to s: skip rule rejects
            r = rng.normal(size=n)
            y = B @ s + (r - (r @ s) / (s @ s) * s)
        else:
            y = A @ s + 0.3 * rng.normal(size=n)
        signs.append(np.sign(s @ y))
        Bn = sr1(B, s, y)
        acc = L.update(s, y)
        assert acc == (Bn is not B)
        if i % 4 == 3:
            assert not acc and Bn is B
            rejected += 1
        B = Bn
    assert -1 in signs and 1 in signs and rejected >= 1      # s'y of both signs seen
    assert L.n_skipped == rejected and L.n_removed == 0
    tol = 1e-9 * norm2(B)
    np.testing.assert_allclose(L.to_dense(), B, rtol=0, atol=tol)
    V = rng.normal(size=(n, 3))
    np.testing.assert_allclose(L.matvec(V), B @ V, rtol=0, atol=tol * 10)
    np.testing.assert_allclose(L.matvec(V[:, 0]), B @ V[:, 0], rtol=0, atol=tol * 10)
    v = V[:, 1]
    assert L.curvature(v) == pytest.approx(v @ B @ v / (v @ v), abs=tol)
    np.testing.assert_allclose(L.M, L.M.T, atol=1e-12 * np.abs(L.M).max())


def test_only_m_pairs_kept_and_equal_to_dense_recursion_over_them():
    rng = np.random.default_rng(3)
    n, m = 9, 4
    A = sym(rng, n, -2, 5)
    L = LSR1(n, m, gamma=1.5, gamma_rule="fixed")
    accepted = []
    for _ in range(11):
        s = rng.normal(size=n)
        y = A @ s + 0.2 * rng.normal(size=n)
        if L.update(s, y):
            accepted.append((s, y))
    assert L.k == m and L.n_removed == 0
    S, Y = L.pairs()
    np.testing.assert_array_equal(S, [p[0] for p in accepted[-m:]])
    np.testing.assert_array_equal(Y, [p[1] for p in accepted[-m:]])
    B = 1.5 * np.eye(n)
    for s, y in zip(S, Y):
        B = sr1(B, s, y)
    np.testing.assert_allclose(L.to_dense(), B, rtol=0, atol=1e-9 * norm2(B))


def test_new_pair_rejected_by_the_recheck_after_the_drop():
    """Accepted against the current B, but fails against gamma I once the oldest is dropped."""
    rng = np.random.default_rng(15)
    n = 5
    L = LSR1(n, 1, gamma=1.0, gamma_rule="fixed")
    s1 = rng.normal(size=n)
    assert L.update(s1, sym(rng, n, 2, 4) @ s1)
    s2, r = rng.normal(size=n), rng.normal(size=n)
    y2 = s2 + (r - (r @ s2) / (s2 @ s2) * s2)
    assert not L.update(s2, y2)
    assert L.k == 0 and L.n_removed == 1 and L.n_skipped == 0
    np.testing.assert_allclose(L.to_dense(), np.eye(n))


def test_gamma_rule_yy_sy_and_set_gamma():
    rng = np.random.default_rng(4)
    n = 7
    A = sym(rng, n, -1, 6)
    L = LSR1(n, 3)                             # default rule "yy_sy"
    gamma = None
    for _ in range(8):
        s = rng.normal(size=n)
        y = A @ s + 0.1 * rng.normal(size=n)
        L.update(s, y)
        if s @ y > 0:
            gamma = (y @ y) / (s @ y)
        assert L.gamma == pytest.approx(gamma if gamma is not None else 1.0, rel=1e-14)
    S, Y = L.pairs()
    B = L.gamma * np.eye(n)
    for s, y in zip(S, Y):
        B = sr1(B, s, y)
    np.testing.assert_allclose(L.to_dense(), B, rtol=0, atol=1e-9 * norm2(B))
    L.set_gamma(0.25)                          # the caller's value, e.g. an FD curvature
    B = 0.25 * np.eye(n)
    for s, y in zip(*L.pairs()):
        B = sr1(B, s, y)
    assert L.gamma == 0.25
    np.testing.assert_allclose(L.to_dense(), B, rtol=0, atol=1e-9 * norm2(B))


def test_recheck_removes_pair_that_fails_after_gamma_change():
    rng = np.random.default_rng(5)
    n, g_new = 6, 3.0
    s1, r1 = rng.normal(size=n), rng.normal(size=n)
    y1 = g_new * s1 + (r1 - (r1 @ s1) / (s1 @ s1) * s1)   # consistent with g_new I along s1
    s2 = rng.normal(size=n)
    y2 = sym(rng, n, -1, 2) @ s2
    L = LSR1(n, 4, gamma=1.0, gamma_rule="fixed")
    assert L.update(s1, y1) and L.update(s2, y2)
    L.set_gamma(g_new)
    assert L.k == 1 and L.n_removed == 1
    B = g_new * np.eye(n)
    assert sr1(B, s1, y1) is B                 # the dense recursion skips it too
    B = sr1(B, s2, y2)
    np.testing.assert_allclose(L.to_dense(), B, rtol=0, atol=1e-10 * norm2(B))


def spectral_cases():
    rng = np.random.default_rng(6)
    out = [LSR1(5, 3, gamma=-2.0)]                           # no pairs: B = gamma I
    for n, count, gamma, lo, hi, noise in [(8, 5, 1.0, -3, 4, 0.3), (4, 6, 0.5, -2, 2, 0.5),
                                           (10, 4, -1.0, 1, 10, 0.0), (9, 6, 20.0, 1, 10, 0.0)]:
        out.append(build(rng, n, count, gamma, sym(rng, n, lo, hi), count, noise)[0])
    return out


@pytest.mark.parametrize("L", spectral_cases())
def test_spectrum_equals_dense_eigenvalues(L):
    B = L.to_dense()
    sp = L.spectrum()
    assert isinstance(sp, LSR1Spectrum) and sp.P.shape == (L.n, min(L.k, L.n))
    normB = norm2(B)
    np.testing.assert_allclose(sp.eigenvalues(), np.linalg.eigvalsh(B), rtol=0, atol=1e-10 * normB)
    np.testing.assert_allclose(sp.P.T @ sp.P, np.eye(sp.lam.size), atol=1e-12)
    np.testing.assert_allclose(B @ sp.P, sp.P * sp.lam, atol=1e-9 * normB)
    lam_min, v = L.lambda_min()
    assert lam_min == pytest.approx(np.linalg.eigvalsh(B)[0], abs=1e-10 * normB)
    assert np.linalg.norm(v) == pytest.approx(1.0)
    np.testing.assert_allclose(L.matvec(v), lam_min * v, atol=1e-9 * normB)
    if sp.lam.size < L.n and (sp.lam.size == 0 or L.gamma <= sp.lam[0]):
        w = np.arange(L.n, dtype=float)        # the projection of w onto the complement
        u = L.lambda_min(w)[1]
        np.testing.assert_allclose(sp.P.T @ u, 0, atol=1e-12)
        proj = w - sp.P @ (sp.P.T @ w)
        np.testing.assert_allclose(u, proj / np.linalg.norm(proj), atol=1e-12)


def compare_unique(L, B, g, delta, kind, g_tol=None):
    """LSR1 and dense exact solutions agree (p unique outside the hard case)."""
    st = L.solve_subproblem(g, delta, g_tol=g_tol)
    lam, V = np.linalg.eigh(B)
    sd = solve_trust_region(g, lam, V, delta, g_tol=g_tol)
    assert st.kind == sd.kind == kind
    normB = max(np.abs(lam).max(), 1e-300)
    kappa = (normB + sd.mu) / (lam[0] + sd.mu)
    scale = np.linalg.norm(g) * delta + normB * delta**2
    assert np.linalg.norm(st.p) <= delta * (1 + 1e-12)
    np.testing.assert_allclose(st.p, sd.p, rtol=0, atol=1e-9 * kappa * delta)
    assert st.mu == pytest.approx(sd.mu, rel=1e-7 * kappa, abs=1e-10 * normB)
    assert model(g, B, st.p) == pytest.approx(model(g, B, sd.p), abs=1e-10 * scale)
    assert st.predicted_reduction == pytest.approx(-model(g, B, st.p), abs=1e-10 * scale)
    return st


def test_subproblem_positive_definite_newton_and_boundary():
    rng = np.random.default_rng(7)
    for gamma in (20.0, 0.5):                  # gamma largest / smallest eigenvalue
        L, B = build(rng, 9, 5, gamma, sym(rng, 9, 1, 10), 5)
        assert np.linalg.eigvalsh(B)[0] > 0.4
        g = rng.normal(size=9)
        pn = np.linalg.norm(np.linalg.solve(B, g))
        st = compare_unique(L, B, g, 2 * pn, "newton")
        assert st.mu == 0
        compare_unique(L, B, g, 0.2 * pn, "boundary")


def test_subproblem_indefinite_and_gamma_smallest_negative():
    rng = np.random.default_rng(8)
    L, B = build(rng, 10, 6, 1.0, sym(rng, 10, -5, 5), 6, noise=0.2)
    lam = np.linalg.eigvalsh(B)
    assert lam[0] < -0.1 and L.spectrum().lam[0] < L.gamma      # negative curvature in span(P)
    for delta in (0.05, 1.0, 30.0):
        compare_unique(L, B, rng.normal(size=10), delta, "boundary")
    L, B = build(rng, 10, 4, -1.0, sym(rng, 10, 1, 10), 4)      # bottom: gamma, multiplicity 6
    assert L.spectrum().lam[0] > -0.9 and L.lambda_min()[0] == -1.0
    for delta in (0.05, 1.0, 30.0):
        compare_unique(L, B, rng.normal(size=10), delta, "boundary")


def test_subproblem_random_cases_match_dense_optimum():
    """Random models (any k, gamma of either sign, m-window and gamma rule), random g (a
    fifth made orthogonal to the bottom eigenspace) and radii over 6 decades: the L-SR1
    step is feasible and its model value equals the dense exact solver's."""
    rng = np.random.default_rng(16)
    for _ in range(300):
        n, m = int(rng.integers(1, 11)), int(rng.integers(1, 7))
        A = sym(rng, n, -5, 5) * 10 ** rng.uniform(-2, 2) if n > 1 else rng.normal(size=(1, 1))
        rule = str(rng.choice(["fixed", "yy_sy"]))
        L = LSR1(n, m, gamma=float(rng.normal() * 3), gamma_rule=rule)
        for _ in range(int(rng.integers(0, 9))):
            s = rng.normal(size=n) * 10 ** rng.uniform(-2, 2)
            L.update(s, A @ s + 0.3 * np.linalg.norm(A @ s) / np.sqrt(n) * rng.normal(size=n))
        B = L.gamma * np.eye(n)
        for s, y in zip(*L.pairs()):
            B = sr1(B, s, y)
        lam, V = np.linalg.eigh(B)
        normB = max(np.abs(lam).max(), 1e-300)
        np.testing.assert_allclose(L.to_dense(), B, rtol=0, atol=1e-8 * normB)
        g = rng.normal(size=n) * 10 ** rng.uniform(-2, 2)
        if rng.random() < 0.2:
            J = lam <= lam[0] + 1e-12 * normB
            g -= V[:, J] @ (V[:, J].T @ g)
        delta, g_tol = 10 ** rng.uniform(-3, 3), 1e-9 * np.linalg.norm(g)
        st = L.solve_subproblem(g, delta, g_tol=g_tol)
        sd = solve_trust_region(g, lam, V, delta, g_tol=g_tol)
        scale = np.linalg.norm(g) * delta + normB * delta**2
        assert np.linalg.norm(st.p) <= delta * (1 + 1e-10)
        assert model(g, B, st.p) == pytest.approx(model(g, B, sd.p), abs=1e-10 * scale)
        assert st.predicted_reduction == pytest.approx(-model(g, B, st.p), abs=1e-10 * scale)


def check_hard_case(L, B, g, delta, g_tol):
    st = L.solve_subproblem(g, delta, g_tol=g_tol)
    lam, V = np.linalg.eigh(B)
    sd = solve_trust_region(g, lam, V, delta, g_tol=g_tol)
    assert st.kind == sd.kind == "hard_case" and st.hard_case and st.alt is not None
    normB = np.abs(lam).max()
    scale = np.linalg.norm(g) * delta + normB * delta**2
    assert st.mu == pytest.approx(-lam[0], abs=1e-10 * normB)
    for p in (st.p, st.alt):                   # both signs are global solutions
        assert np.linalg.norm(p) == pytest.approx(delta, rel=1e-10)
        np.testing.assert_allclose(B @ p + st.mu * p, -g, atol=1e-9 * scale / delta)
        assert model(g, B, p) == pytest.approx(model(g, B, sd.p), abs=1e-10 * scale)
    assert st.predicted_reduction == pytest.approx(-model(g, B, st.p), abs=1e-10 * scale)
    return st, sd


def test_subproblem_hard_case_bottom_in_span_P():
    rng = np.random.default_rng(9)
    L, B = build(rng, 10, 6, 1.0, sym(rng, 10, -5, 5), 6, noise=0.2)
    lam, V = np.linalg.eigh(B)
    assert lam[0] < min(0.0, L.gamma) and lam[1] - lam[0] > 1e-2          # simple, in span(P)
    g = rng.normal(size=10)
    g -= (V[:, 0] @ g) * V[:, 0]
    p_rest = -V[:, 1:] @ ((V[:, 1:].T @ g) / (lam[1:] - lam[0]))
    delta = 2 * np.linalg.norm(p_rest)
    st, sd = check_hard_case(L, B, g, delta, 1e-8 * np.linalg.norm(g))
    tol = 1e-8 * delta * (np.abs(lam).max() / (lam[1] - lam[0]))
    pair = [st.p, st.alt]                      # the same two points, maybe swapped
    assert min(np.linalg.norm(sd.p - q) for q in pair) <= tol
    assert min(np.linalg.norm(sd.alt - q) for q in pair) <= tol


def test_subproblem_hard_case_bottom_is_gamma_block():
    rng = np.random.default_rng(10)
    L, B = build(rng, 10, 4, -1.0, sym(rng, 10, 1, 10), 4)
    sp = L.spectrum()
    g = sp.P @ rng.normal(size=sp.lam.size)    # no component in the gamma eigenspace
    p_rest = -sp.P @ ((sp.P.T @ g) / (sp.lam + 1.0))
    st, _ = check_hard_case(L, B, g, 3 * np.linalg.norm(p_rest), 1e-8 * np.linalg.norm(g))
    d = st.p - p_rest                          # the added part lies in the gamma eigenspace
    np.testing.assert_allclose(sp.P.T @ d, 0, atol=1e-9 * np.linalg.norm(d))


@pytest.mark.parametrize("gamma, lo, hi", [(1.0, -5, 5), (-1.0, 1, 10)])
def test_subproblem_zero_gradient_at_indefinite_B_gives_both_signs(gamma, lo, hi):
    rng = np.random.default_rng(11)
    L, B = build(rng, 8, 4, gamma, sym(rng, 8, lo, hi), 4)
    lam1 = np.linalg.eigvalsh(B)[0]
    assert lam1 < -0.5
    delta = 0.7
    st = L.solve_subproblem(np.zeros(8), delta)
    sd = solve_trust_region(np.zeros(8), *np.linalg.eigh(B), delta)
    assert st.kind == sd.kind == "hard_case"
    np.testing.assert_allclose(st.alt, -st.p, atol=1e-14)
    assert np.linalg.norm(st.p) == pytest.approx(delta, rel=1e-12)
    np.testing.assert_allclose(B @ st.p, lam1 * st.p, atol=1e-9 * np.abs(B).max() * delta)
    assert st.predicted_reduction == pytest.approx(-0.5 * lam1 * delta**2, rel=1e-9)
    assert st.predicted_reduction == pytest.approx(sd.predicted_reduction, rel=1e-9)


def test_correct_curvature_is_the_rank_one_term():
    rng = np.random.default_rng(12)
    n = 8
    L, B = build(rng, n, 4, 1.0, sym(rng, n, -3, 3), 3, noise=0.1)
    v = rng.normal(size=n)
    v /= np.linalg.norm(v)
    c = 2.5
    assert L.correct_curvature(3 * v, c)       # v is normalized
    np.testing.assert_allclose(L.to_dense(), B + (c - v @ B @ v) * np.outer(v, v),
                               atol=1e-9 * norm2(B))
    assert L.curvature(v) == pytest.approx(c, rel=1e-10)
    assert L.k == 4                            # stored as an (s, y) pair; memory now full
    B = L.to_dense()
    u = rng.normal(size=n)
    u /= np.linalg.norm(u)
    assert L.correct_curvature(u, -0.5)        # the oldest pair is dropped
    assert L.k == 4 and L.curvature(u) == pytest.approx(-0.5, abs=1e-10 * norm2(B))
    np.testing.assert_allclose(L.matvec(u), B @ u + (-0.5 - u @ B @ u) * u, atol=1e-9 * norm2(B))


def big_arrays(obj, seen=None):
    """Sizes of all ndarrays reachable from the attributes (dataclasses included)."""
    out = []
    for val in vars(obj).values():
        if isinstance(val, np.ndarray):
            out.append(val.size)
        elif dataclasses.is_dataclass(val):
            out += [getattr(val, f.name).size for f in dataclasses.fields(val)
                    if isinstance(getattr(val, f.name), np.ndarray)]
    return out


def test_memory_is_m_times_n():
    rng = np.random.default_rng(13)
    n, m = 40, 5
    A = sym(rng, n, -2, 4)
    L = LSR1(n, m)
    for _ in range(3 * m):
        s = rng.normal(size=n)
        L.update(s, A @ s)
    assert L.k == m
    L.solve_subproblem(rng.normal(size=n), 1.0)
    assert L._spec is not None                 # the cached spectrum is inspected too
    sizes = big_arrays(L)
    assert sizes and max(sizes) <= m * n


def test_large_n_without_n_by_n():
    rng = np.random.default_rng(14)
    n, m = 100_000, 5
    a = rng.uniform(-1, 3, n)                  # f = sum a_i x_i^2 / 2: y = a * s
    L = LSR1(n, m)
    for _ in range(8):
        s = rng.normal(size=n)
        assert L.update(s, a * s + 1e-3 * rng.normal(size=n))
    assert L.k == m and max(big_arrays(L)) <= m * n
    S, Y = L.pairs()
    normB = np.abs(L.spectrum().eigenvalues()).max()
    np.testing.assert_allclose(L.matvec(S[-1]), Y[-1], atol=1e-9 * normB * np.linalg.norm(S[-1]))
    u, w = rng.normal(size=n), rng.normal(size=n)
    assert u @ L.matvec(w) == pytest.approx(w @ L.matvec(u), rel=1e-9)
    sp = L.spectrum()
    assert sp.P.shape == (n, m) and max(big_arrays(L)) <= m * n
    np.testing.assert_allclose(L.matvec(sp.P), sp.P * sp.lam, atol=1e-9 * normB)
    lam_min, v = L.lambda_min()
    np.testing.assert_allclose(L.matvec(v), lam_min * v, atol=1e-9 * normB)
    g = rng.normal(size=n)
    for delta in (0.1, 10.0):
        st = L.solve_subproblem(g, delta)
        assert np.linalg.norm(st.p) <= delta * (1 + 1e-12) and st.mu >= 0
        res = L.matvec(st.p) + st.mu * st.p + g
        assert np.linalg.norm(res) <= 1e-8 * (np.linalg.norm(g) + normB * delta)
        assert st.mu >= -lam_min - 1e-10 * normB
        pred = -(g @ st.p + 0.5 * st.p @ L.matvec(st.p))
        assert st.predicted_reduction == pytest.approx(pred, rel=1e-9)


def test_input_errors():
    with pytest.raises(TypeError, match="n must be an int"):
        LSR1(3.5)
    with pytest.raises(ValueError, match="m must be >= 1"):
        LSR1(3, 0)
    with pytest.raises(ValueError, match="gamma_rule"):
        LSR1(3, gamma_rule="bb")
    with pytest.raises(ValueError, match="gamma must be finite"):
        LSR1(3, gamma=np.inf)
    with pytest.raises(TypeError, match="gamma must be a real"):
        LSR1(3, gamma="1")
    L = LSR1(3)
    with pytest.raises(ValueError, match=r"s must have shape \(3,\)"):
        L.update(np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="y must be finite"):
        L.update(np.ones(3), np.array([1.0, np.nan, 0.0]))
    with pytest.raises(TypeError, match="g must be an array of reals"):
        L.solve_subproblem(["a", "b", "c"], 1.0)
    with pytest.raises(ValueError, match="delta must be > 0"):
        L.solve_subproblem(np.ones(3), 0.0)
    with pytest.raises(ValueError, match="v must be nonzero"):
        L.correct_curvature(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="v must have shape"):
        L.matvec(np.ones((4, 2)))
