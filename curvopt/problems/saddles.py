"""Strict-saddle test problems: starts exactly at a saddle or on a symmetry line into one.

A strict saddle is a critical point (grad f = 0) whose Hessian has a negative
eigenvalue (Ge, Huang, Jin & Yuan 2015, COLT, Def. 5; Lee et al. 2016).  Every
problem here starts either

* at a saddle (tag ``"saddle_start"``): g(x0) = 0 to rounding and
  lam_min(H(x0)) < 0 < lam_max(H(x0)), where a gradient method does not move; or
* on a symmetry line (``"symmetry_line"``): an invariant set of the gradient
  flow that contains the saddle, so that g(x0)'v = 0 for the bottom eigenvectors
  v of H(x0) and every method that follows g alone converges to the saddle.

One problem (``"maximum_start"``) starts at a strict local maximum instead.
The saddle coordinates of the classical surfaces (six-hump camel, Himmelblau,
Muller-Brown) are the published approximations refined to rounding by
Newton's method on the analytic gradient (`_refine`).
"""
from __future__ import annotations

import numpy as np

from ._base import by_name, least_squares, make_problem

__all__ = ["saddle_problems", "get_saddle_problem"]


_DW_REF = ("quartic double wells (x_i^2 - 1)^2: saddles where some x_i = 0, minima f = 0 at "
           "x_i = +-1; saddle escape studied e.g. by Jin, Ge, Netrapalli, Kakade & Jordan "
           "(2017), ICML, 'How to escape saddle points efficiently'")


def _refine(grad, hess, x, steps=12):
    """Newton iterations x <- x - H^-1 g from a published approximation of a critical point."""
    x = np.array(x, dtype=float)
    for _ in range(steps):
        x = x - np.linalg.solve(hess(x), grad(x))
    return x


def quartic_saddle(x0=(0.0, 0.0)):
    """f = x^2 - y^2 + y^4/4: saddle at 0 (H = diag(2, -2)), minima f = -1 at (0, +-2^.5).

    From (1, 0) the line y = 0 is invariant (g = (2x, 0), v_min = e_y).
    """
    def f(z):
        return z[0] ** 2 - z[1] ** 2 + z[1] ** 4 / 4

    def grad(z):
        return np.array([2 * z[0], -2 * z[1] + z[1] ** 3])

    def hess(z):
        return np.diag([2.0, -2 + 3 * z[1] ** 2])

    line = x0[0] != 0.0
    return make_problem("quartic_saddle" + ("_symmetry_line" if line else ""), f, grad, hess,
                        x0, -1.0, [0.0, np.sqrt(2.0)],
                        "f = x^2 - y^2 + y^4/4: strict saddle at 0, H = diag(2, -2), minima "
                        "f = -1 at (0, +-2^.5); strict saddle as in Ge et al. (2015), COLT",
                        tags=("symmetry_line",) if line else ("saddle_start",),
                        saddle=[0.0, 0.0])


def double_well_2d():
    """f = (x^2 - 1)^2 + y^2 from (0, 1): the line x = 0 is invariant and leads to the saddle 0.

    H(0, y) = diag(-4, 2), g(0, y) = (0, 2y); minima f = 0 at (+-1, 0).
    """
    def f(z):
        return (z[0] ** 2 - 1) ** 2 + z[1] ** 2

    def grad(z):
        return np.array([4 * z[0] * (z[0] ** 2 - 1), 2 * z[1]])

    def hess(z):
        return np.diag([12 * z[0] ** 2 - 4, 2.0])

    return make_problem("double_well_symmetry_line", f, grad, hess, [0.0, 1.0], 0.0,
                        [1.0, 0.0], _DW_REF, tags=("symmetry_line",), saddle=[0.0, 0.0])


def double_well_nd(x0):
    """f = sum_i (x_i^2 - 1)^2; saddle index = number of zero coordinates, minima f = 0 at +-1.

    H = diag(12 x_i^2 - 4).  A start with zeros in some coordinates and values other
    than 1 elsewhere lies on the invariant set {x_i = 0} leading to the saddle with
    those zeros and ones elsewhere.
    """
    x0 = np.asarray(x0, dtype=float)
    n, saddle = x0.size, np.where(x0 == 0.0, 0.0, 1.0)

    def f(x):
        return float(np.sum((x * x - 1) ** 2))

    def grad(x):
        return 4 * x * (x * x - 1)

    def hess(x):
        return np.diag(12 * x * x - 4)

    line = not np.array_equal(saddle, x0)
    return make_problem("double_well_%d" % n + ("_symmetry_line" if line else ""), f, grad,
                        hess, x0, 0.0, np.ones(n), _DW_REF,
                        tags=("symmetry_line",) if line else ("saddle_start",), saddle=saddle)


def six_hump_camel():
    """f = (4 - 2.1 x^2 + x^4/3) x^2 + x y + (4 y^2 - 4) y^2, started at its saddle x = 0.

    H(0) = [[8, 1], [1, -8]], eigenvalues +-65^.5; global minima f = -1.0316284535 at
    +-(0.0898, -0.7127) (Dixon & Szego 1978).
    """
    def f(z):
        x, y = z
        return (4 - 2.1 * x * x + x ** 4 / 3) * x * x + x * y + (4 * y * y - 4) * y * y

    def grad(z):
        x, y = z
        return np.array([8 * x - 8.4 * x ** 3 + 2 * x ** 5 + y, x - 8 * y + 16 * y ** 3])

    def hess(z):
        x, y = z
        return np.array([[8 - 25.2 * x * x + 10 * x ** 4, 1.0], [1.0, -8 + 48 * y * y]])

    x_star = _refine(grad, hess, [0.0898, -0.7126])
    return make_problem("six_hump_camel", f, grad, hess, [0.0, 0.0], f(x_star), x_star,
                        "Dixon & Szego (1978), Towards Global Optimisation 2, pp. 1-15 "
                        "(six-hump camel back); saddle at the origin",
                        tags=("saddle_start",), saddle=[0.0, 0.0])


def himmelblau():
    """f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2 at its saddle near (-0.12796, -1.95371).

    Four minima with f = 0, e.g. (3, 2) (Himmelblau 1972).
    """
    def f(z):
        x, y = z
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    def grad(z):
        x, y = z
        a, b = x * x + y - 11, x + y * y - 7
        return np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])

    def hess(z):
        x, y = z
        a, b = x * x + y - 11, x + y * y - 7
        return np.array([[4 * a + 8 * x * x + 2, 4 * x + 4 * y],
                         [4 * x + 4 * y, 2 + 4 * b + 8 * y * y]])

    s = _refine(grad, hess, [-0.127961, -1.953715])
    return make_problem("himmelblau_saddle", f, grad, hess, s, 0.0, [3.0, 2.0],
                        "Himmelblau (1972), Applied Nonlinear Programming, McGraw-Hill; "
                        "saddle near (-0.127961, -1.953715) refined by Newton",
                        tags=("saddle_start",), saddle=s)


_MB = dict(A=np.array([-200.0, -100.0, -170.0, 15.0]), a=np.array([-1.0, -1.0, -6.5, 0.7]),
           b=np.array([0.0, 0.0, 11.0, 0.6]), c=np.array([-10.0, -10.0, -6.5, 0.7]),
           x0=np.array([1.0, 0.0, -0.5, -1.0]), y0=np.array([0.0, 0.5, 1.5, 1.0]))


def muller_brown():
    """Muller-Brown potential sum_k A_k exp(a_k dx^2 + b_k dx dy + c_k dy^2) at a saddle.

    The start is the saddle near (0.212, 0.293) between minima B and C.

    Three minima: A (-0.558, 1.442) V = -146.70, B (0.623, 0.028) V = -108.17,
    C (-0.050, 0.467) V = -80.77 (Muller & Brown 1979).
    """
    A, a, b, c = _MB["A"], _MB["a"], _MB["b"], _MB["c"]

    def terms(z):
        dx, dy = z[0] - _MB["x0"], z[1] - _MB["y0"]
        E = A * np.exp(a * dx * dx + b * dx * dy + c * dy * dy)
        return E, 2 * a * dx + b * dy, b * dx + 2 * c * dy

    def f(z):
        return float(np.sum(terms(z)[0]))

    def grad(z):
        E, px, py = terms(z)
        return np.array([E @ px, E @ py])

    def hess(z):
        E, px, py = terms(z)
        hxy = E @ (px * py + b)
        return np.array([[E @ (px * px + 2 * a), hxy], [hxy, E @ (py * py + 2 * c)]])

    mins = [_refine(grad, hess, m) for m in ([-0.558, 1.442], [0.623, 0.028], [-0.050, 0.467])]
    s = _refine(grad, hess, [0.212, 0.293])
    return make_problem("muller_brown_saddle", f, grad, hess, s, f(mins[0]), mins[0],
                        "Muller & Brown (1979), Theor. Chim. Acta 53, 75-93 (Muller-Brown "
                        "potential); saddle and minima refined by Newton",
                        tags=("saddle_start",), saddle=s, f_local=[f(m) for m in mins[1:]])


def linear_network(X, Y, h, W2, W1, name, reference, tags, f_star, x_star=None, saddle=None):
    """f(W2, W1) = ||W2 W1 X - Y||_F^2 with x = [vec W2, vec W1] (row-major), W2 (o, h), W1 (h, d).

    The residual R = W2 W1 X - Y is bilinear, so J = [d R / d W2, d R / d W1] and the
    weighted residual Hessian has only the off-diagonal block
    d^2 <w, R> / d W2_ak d W1_kl = (w X')_al (Baldi & Hornik 1989).
    Matrix factorization ||U V' - M||_F^2 is the case X = I, W2 = U, W1 = V'.
    """
    (d, N), o = X.shape, Y.shape[0]
    split, Io, Ih = o * h, np.eye(o), np.eye(h)

    def unpack(x):
        return x[:split].reshape(o, h), x[split:].reshape(h, d)

    def r(x):
        A, B = unpack(x)
        return (A @ B @ X - Y).ravel()

    def J(x):
        A, B = unpack(x)
        JA = np.einsum("ia,kj->ijak", Io, B @ X).reshape(o * N, o * h)
        JB = np.einsum("ik,lj->ijkl", A, X).reshape(o * N, h * d)
        return np.hstack((JA, JB))

    def W(x, w):
        C = np.einsum("al,kK->akKl", w.reshape(o, N) @ X.T, Ih).reshape(o * h, h * d)
        Z = np.zeros((x.size, x.size))
        Z[:split, split:], Z[split:, :split] = C, C.T
        return Z

    x0 = np.concatenate((np.ravel(W2), np.ravel(W1)))
    return least_squares(name, r, J, W, x0, f_star, x_star, reference, tags=tags,
                         saddle=x0 if saddle is None else saddle)


_MF_A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
_MF_B = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
_MF_REF = ("low-rank matrix factorization ||U V' - M||_F^2, M = A B' (4x3, rank 2), "
           "rank-2 factors; Baldi & Hornik (1989), Neural Networks 2, 53-58; "
           "Ge, Jin & Zheng (2017), ICML, 'No spurious local minima in nonconvex low rank "
           "problems'")


def matrix_factorization(start):
    """||U V' - M||_F^2 (rank-2 factors of the 4x3 rank-2 M = A B') at one of three starts.

    * ``"zero"``: U = V = 0, Hessian eigenvalues +-2 sigma_i(M) and 0;
    * ``"partial"``: the critical point U = [s u_1, 0], V = [s v_1, 0], s = sigma_1^.5,
      with negative curvature -2 sigma_2 along the second column pair;
    * ``"symmetry_line"``: U = [s u_1 / 2, 0], V = [s v_1 / 2, 0]: the set {second
      columns = 0, U = V balanced along (u_1, v_1)} is invariant under the gradient
      flow, which converges to the ``"partial"`` saddle.
    f* = 0 at U = A, V = B.
    """
    M = _MF_A @ _MF_B.T
    u, sig, vt = np.linalg.svd(M)
    U, V = np.zeros((4, 2)), np.zeros((3, 2))
    Us, Vs = U.copy(), V.copy()
    Us[:, 0], Vs[:, 0] = np.sqrt(sig[0]) * u[:, 0], np.sqrt(sig[0]) * vt[0]
    saddle = np.concatenate((Us.ravel(), Vs.T.ravel()))
    if start != "zero":
        scale = 1.0 if start == "partial" else 0.5
        U, V = scale * Us, scale * Vs
    x_star = np.concatenate((_MF_A.ravel(), _MF_B.T.ravel()))
    tags = ("symmetry_line",) if start == "symmetry_line" else ("saddle_start",)
    return linear_network(np.eye(3), M, 2, U, V.T, "matrix_factorization_" + start, _MF_REF,
                          tags, 0.0, x_star, None if start == "zero" else saddle)


def linear_network_zero():
    """Two-layer linear network ||W2 W1 X - Y||_F^2 (d = 3, h = 2, o = 2, N = 6) at W = 0.

    H(0) has eigenvalues +-2 sigma_i(Y X'); with h = o the product W2 W1 is
    unconstrained, so f* = ||Y (I - X^+ X)||_F^2 (the least-squares residual).
    """
    X = np.array([[1, 0, 1, 2, 0, 1], [0, 1, 1, 0, 2, -1], [1, 1, 0, 1, -1, 0]], dtype=float)
    Y = np.array([[1, 2, 0, 1, -1, 2], [0, 1, 1, -1, 2, 0]], dtype=float)
    W1_star = Y @ np.linalg.pinv(X)
    R = Y - W1_star @ X
    x_star = np.concatenate((np.eye(2).ravel(), W1_star.ravel()))
    return linear_network(X, Y, 2, np.zeros((2, 2)), np.zeros((2, 3)), "linear_network_zero",
                          "Baldi & Hornik (1989), Neural Networks 2, 53-58; Kawaguchi (2016), "
                          "NeurIPS, 'Deep learning without poor local minima' (zero init is "
                          "a strict saddle)", ("saddle_start",), float(np.sum(R * R)), x_star)


def symmetric_factorization(M, r, X0, name):
    """||X X' - M||_F^2, X (n, r): residual Hessians sum_ij w_ij hess r_ij = (w + w') (x) I_r.

    f* = sum of squares of the eigenvalues of M outside its r largest positive ones
    (best PSD rank-r approximation; Eckart & Young 1936).
    """
    n = M.shape[0]
    lam, Q = np.linalg.eigh(M)
    lam, Q = lam[::-1], Q[:, ::-1]
    dropped = np.where((np.arange(n) < r) & (lam > 0), 0.0, lam)
    x_star = Q[:, :r] * np.sqrt(np.maximum(lam[:r], 0.0))

    def r_(x):
        Xm = x.reshape(n, r)
        return (Xm @ Xm.T - M).ravel()

    def J(x):
        Xm, I = x.reshape(n, r), np.eye(n)
        return (np.einsum("ia,jk->ijak", I, Xm) + np.einsum("ja,ik->ijak", I, Xm)).reshape(
            n * n, n * r)

    def W(x, w):
        w = w.reshape(n, n)
        return np.kron(w + w.T, np.eye(r))

    return least_squares(name, r_, J, W, np.ravel(X0), float(dropped @ dropped), x_star.ravel(),
                         "symmetric low-rank factorization ||X X' - M||_F^2; Ge, Jin & "
                         "Zheng (2017), ICML; Eckart & Young (1936) for f*",
                         tags=("saddle_start",), saddle=np.ravel(X0))


def symmetric_factorization_zero():
    """M indefinite (eigenvalues of both signs): X = 0 is a strict saddle, H(0) = -4 M (x) I."""
    M = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, -1.0]])
    return symmetric_factorization(M, 2, np.zeros((3, 2)), "symmetric_factorization_zero")


def symmetric_factorization_pca():
    """M PSD, r = 1, X = lam_2^.5 q_2 (the second eigenvector): the PCA saddle, with
    negative curvature 4 (lam_2 - lam_1) along q_1."""
    M = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    lam, Q = np.linalg.eigh(M)
    X0 = (np.sqrt(lam[1]) * Q[:, 1])[:, None]
    return symmetric_factorization(M, 1, X0, "symmetric_factorization_pca")


def phase_retrieval_zero(n=3, m=30, seed=20181):
    """f = (1/m) sum_i ((a_i'x)^2 - y_i)^2, y_i = (a_i'z)^2, a_i ~ N(0, I) (seeded), at x = 0.

    x = 0 is a strict local MAXIMUM (H(0) = -(4/m) sum y_i a_i a_i'), tagged
    ``"maximum_start"``; minima f = 0 at +-z (Sun, Qu & Wright 2018).
    """
    a = np.random.default_rng(seed).standard_normal((m, n))
    z = np.arange(1.0, n + 1) / n
    y, c = (a @ z) ** 2, 1 / np.sqrt(m)
    return least_squares("phase_retrieval_zero", lambda x: c * ((a @ x) ** 2 - y),
                         lambda x: 2 * c * (a @ x)[:, None] * a,
                         lambda x, w: 2 * c * (a * w[:, None]).T @ a, np.zeros(n), 0.0, z,
                         "Sun, Qu & Wright (2018), Found. Comput. Math. 18, 1131-1198, "
                         "'A geometric analysis of phase retrieval'",
                         tags=("maximum_start",), saddle=np.zeros(n))


def saddle_problems():
    """Return the strict-saddle problem set (new instances on each call)."""
    return [quartic_saddle(), quartic_saddle((1.0, 0.0)), double_well_2d(),
            double_well_nd([0.0, 0.0, 1.0, 1.0, 1.0, 1.0]),
            double_well_nd([0.0, 0.0, 1.5, 0.8, 1.2, 2.0]), six_hump_camel(), himmelblau(),
            muller_brown(), matrix_factorization("zero"), matrix_factorization("partial"),
            matrix_factorization("symmetry_line"),
            linear_network_zero(), symmetric_factorization_zero(),
            symmetric_factorization_pca(), phase_retrieval_zero()]


def get_saddle_problem(name):
    """Return the saddle problem called `name` (ValueError if unknown)."""
    return by_name(saddle_problems(), name, "saddle problem")
