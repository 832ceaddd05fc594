"""Case 4: debugging an optimization with the Hessian -- saddles and step sizes.

A two-layer linear network with one hidden unit, y_hat = w2 (w1'x), trained by squared
loss on seeded synthetic data (m samples, d inputs):

    f(w1, w2) = sum_i (y_i - w2 w1'x_i)**2 / (2m).

Zero initialization puts it on a strict saddle: g = 0 and H = [[0, -c], [-c', 0]] with
c = X'y / m, eigenvalues +-||c|| (and zeros). scipy's BFGS, CG, L-BFGS-B, Newton-CG and
trust-region methods all return ``success=True`` there without moving; ``curvopt.check``
calls the point a saddle, and curvopt (function values only) steps along the certified
negative-curvature direction and ends at the least-squares optimum (any beta = w2 w1 is
reachable), certified "degenerate": stationary, no negative curvature, and the flat
direction of the rescaling symmetry w1 -> a w1, w2 -> w2 / a named.

Second part, the step size: along -g the quadratic model changes f by
-t g'g + t**2 g'Hg / 2, which decreases only for t < 2 g'g / g'Hg (the certificate's
``max_descent_step``; Goodfellow, Bengio & Courville 2016, sec. 4.3.1). Gradient steps of
increasing size at a point with a large output weight compare the prediction with what f
actually does.

Run: ``python examples/saddle_debugging.py``.
"""
from __future__ import annotations

import numpy as np
import scipy.optimize

from _common import banner, curvopt_method, output_path, parse_args, use_agg

SEED = 4  # np.random.default_rng seed for the data and the step-size test point
M_SAMPLES, D_INPUTS = 60, 3
SCIPY_METHODS = ("BFGS", "CG", "L-BFGS-B", "Newton-CG", "trust-ncg", "trust-krylov",
                 "trust-exact")
STEP_FRACTIONS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
#: a point with a large output weight w2 = 3: the loss is steep in w1 (curvature w2**2 X'X/m)
STEP_POINT = np.array([0.3, -0.4, 0.1, 3.0])


def make_data(seed=SEED):
    """X (m, d) standard normal, y = X beta + noise with a seeded beta."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((M_SAMPLES, D_INPUTS))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 * rng.standard_normal(M_SAMPLES)
    return X, y


def f(theta, X, y):
    """Mean squared loss / 2 of y_hat = w2 (w1'x); theta = (w1, w2)."""
    r = y - theta[-1] * (X @ theta[:-1])
    return 0.5 * float(r @ r) / y.size


def grad(theta, X, y):
    w1, w2 = theta[:-1], theta[-1]
    z = X @ w1
    r = y - w2 * z
    return -np.append(w2 * (X.T @ r), r @ z) / y.size


def hess(theta, X, y):
    """Exact Hessian (for scipy's second-order methods and for checking the verdicts)."""
    w1, w2 = theta[:-1], theta[-1]
    z = X @ w1
    r = y - w2 * z
    m, d = y.size, w1.size
    H = np.empty((d + 1, d + 1))
    H[:d, :d] = w2 ** 2 * (X.T @ X)
    H[:d, d] = H[d, :d] = w2 * (X.T @ z) - X.T @ r
    H[d, d] = z @ z
    return H / m


def scipy_runs(theta0, args):
    """Each scipy method from theta0, with curvopt.check's verdict on its end point."""
    from curvopt import check
    rows = {}
    for method in SCIPY_METHODS:
        kw = {"jac": grad}
        if method in ("Newton-CG", "trust-ncg", "trust-krylov", "trust-exact"):
            kw["hess"] = hess
        res = scipy.optimize.minimize(f, theta0, args=args, method=method, **kw)
        cert = check(f, res.x, args=args)
        rows[method] = {"success": bool(res.success), "nit": int(res.nit), "f": float(res.fun),
                        "classification": cert.classification,
                        "exact_lam_min": float(np.linalg.eigvalsh(hess(res.x, *args))[0])}
    return rows


def print_runs(rows, f_star):
    banner("from zero initialization (a strict saddle)")
    print(f"least-squares optimum f* = {f_star:.10f}")
    print(f"{'method':>14} {'success':>8} {'nit':>5} {'f':>14} {'exact lam_min':>14}"
          "  curvopt.check")
    for name, r in rows.items():
        print(f"{name:>14} {str(r['success']):>8} {r['nit']:5d} {r['f']:14.10f} "
              f"{r['exact_lam_min']:14.4e}  {r['classification']}")


def step_experiment(theta, args):
    """Actual and predicted change of f along -g for steps t = fraction x max_descent_step."""
    from curvopt import check
    cert = check(f, theta, args=args)
    g = grad(theta, *args)
    gg, gHg = float(g @ g), float(g @ hess(theta, *args) @ g)
    t_max = cert.max_descent_step
    f0 = f(theta, *args)
    rows = []
    for frac in STEP_FRACTIONS:
        t = frac * t_max
        rows.append({"fraction": frac, "t": t, "predicted": -t * gg + 0.5 * t * t * gHg,
                     "actual": f(theta - t * g, *args) - f0})
    banner("gradient steps of increasing size at w1 = (0.3, -0.4, 0.1), w2 = 3")
    print(f"curvature along g: g'Hg/g'g = {cert.curvature_along_grad:.4f} (exact "
          f"{gHg / gg:.4f}); largest step that decreases the model: "
          f"t_max = 2 g'g/g'Hg = {t_max:.4f}")
    print(f"{'t / t_max':>10} {'t':>9} {'model change':>14} {'actual change':>14}")
    for r in rows:
        print(f"{r['fraction']:10.2f} {r['t']:9.4f} {r['predicted']:14.6f} {r['actual']:14.6f}")
    return {"t_max": t_max, "exact_t_max": 2 * gg / gHg, "rows": rows}


def plot(steps, path):
    use_agg()
    import matplotlib.pyplot as plt
    t_max = steps["t_max"]
    fr = np.array([r["fraction"] for r in steps["rows"]])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(fr, [r["predicted"] for r in steps["rows"]], "o--", color="#4575b4",
            label="quadratic model: -t g'g + t^2 g'Hg / 2")
    ax.plot(fr, [r["actual"] for r in steps["rows"]], "s-", color="#d73027",
            label="actual f(x - t g) - f(x)")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.axvline(1.0, color="grey", ls=":", label=f"t_max = 2 g'g / g'Hg = {t_max:.3g}")
    ax.set_xlabel("gradient step t / t_max")
    ax.set_ylabel("change of the loss")
    ax.set_title("a gradient step longer than 2 g'g / g'Hg increases the loss")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"figure written to {path}")


def main(argv=None):
    """Saddle runs and the step-size experiment; return outcomes for the tests."""
    from curvopt import check
    opts = parse_args(argv, __doc__.splitlines()[0])
    X, y = make_data()
    args = (X, y)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    f_star = 0.5 * float(np.sum((y - X @ beta) ** 2)) / y.size
    theta0 = np.zeros(D_INPUTS + 1)
    rows = scipy_runs(theta0, args)
    res = scipy.optimize.minimize(f, theta0, args=args, method=curvopt_method())
    rows["curvopt"] = {"success": bool(res.success), "nit": int(res.nit), "f": float(res.fun),
                       "classification": res.certificate.classification,
                       "exact_lam_min": float(np.linalg.eigvalsh(hess(res.x, *args))[0])}
    print_runs(rows, f_star)
    print(f"curvopt: {res.message}")
    theta = STEP_POINT
    steps = step_experiment(theta, args)
    if not opts.no_plot:
        plot(steps, output_path("saddle_step_sizes.png"))
    return {"runs": rows, "f_star": f_star, "steps": steps,
            "start_classification": check(f, theta0, args=args).classification}


if __name__ == "__main__":
    main()
