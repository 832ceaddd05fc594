"""Text report of a convergence certificate (``str(certificate)``).

One headline naming the class, then the evidence in the order a reader checks it: the
gradient test with its error bound, the eigenvalues with the Weyl bound and what each one
certifies, conditioning, the curvature along g, negative-curvature directions, flat
parameters, standard errors, and what kept the decision open.
"""
from __future__ import annotations

import numpy as np

_HEADLINE = {
    "minimum": "MINIMUM (certified: stationary, every eigenvalue certified > 0)",
    "saddle": "SADDLE (stationary, eigenvalues of both signs certified)",
    "maximum": "MAXIMUM (stationary, every eigenvalue certified < 0)",
    "degenerate": "DEGENERATE (stationary, no certified negative curvature, "
                  "eigenvalue(s) indistinguishable from 0)",
    "not_stationary": "NOT STATIONARY (gradient certified nonzero, with a decrease of f "
                      "that f can resolve left)",
    "inconclusive": "INCONCLUSIVE",
}


def _label(c, i: int) -> str:
    return c.names[i] if c.names is not None else f"x[{i}]"


def _eigen_lines(c, shown: int = 10) -> list[str]:
    n = c.lam.size
    idx = list(range(n)) if n <= shown + 1 else list(range(shown // 2)) + list(range(n - shown // 2, n))
    out = [f"  eigenvalues of H (each +- {c.lam_err:.3g}: Weyl bound + eigh rounding):"]
    n_neg, _, n_pos = c.inertia
    plain = int(np.sum(c.lam < -c.lam_err)), int(np.sum(c.lam > c.lam_err))
    if (n_neg, n_pos) != plain:
        out[0] = (f"  eigenvalues of H (each +- {c.lam_err:.3g}: Weyl bound + eigh rounding; "
                  f"signs decided on the equilibrated D^-1 H D^-1, whose entries' errors "
                  f"are judged against their own rows' scales):")
    for j, k in enumerate(idx):
        if j and k != idx[j - 1] + 1:
            out.append(f"    ... {k - idx[j - 1] - 1} more")
        tag = ("not estimated" if not np.isfinite(c.lam_err) else "certified < 0"
               if k < n_neg else "certified > 0" if k >= n - n_pos
               else "indistinguishable from 0")
        out.append(f"    lam[{k}] = {c.lam[k]: .6e}  {tag}")
    return out


def _ritz_lines(c) -> list[str]:
    how = {"sparse": "deterministic: sparse H on the given pattern with its error bound",
           "lanczos": f"probabilistic: fails with probability <= {c.failure_probability:g}"}
    out = [f"  {c.lam.size} Ritz values of H from Lanczos: {c.lam[0]:.6e} ... "
           f"{c.lam[-1]:.6e} (extreme pairs +- {c.lam_err:.3g})"]
    if c.lam_min_bound is not None:
        out.append(f"  lam_min >= {c.lam_min_bound:.4e} ({how.get(c.method, c.method)})")
    return out


MAX_PARAMS = 50     # standard errors listed for every parameter up to this n
WIDTH = 92          # lists of name=value items are wrapped at this width


def _wrapped(head: str, items: list[str], indent: str = "    ") -> list[str]:
    """``head`` followed by the comma-separated items, wrapped at ``WIDTH``."""
    out, line, empty = [], head, True
    for k, item in enumerate(items):
        piece = item + ("," if k < len(items) - 1 else "")
        if not empty and len(line) + 1 + len(piece) > WIDTH:
            out.append(line)
            line, empty = indent, True
        line, empty = (line + piece if empty else f"{line} {piece}"), False
    out.append(line)
    return out


def _se_lines(c, max_params: int | None) -> list[str]:
    """Standard errors sqrt(diag(H^-1)), one name=value per parameter (never cut short
    silently: above ``max_params`` the omitted count is printed, with where to get all)."""
    se = np.asarray(c.standard_errors)
    n = se.size
    items = [f"{_label(c, i)}={s:.4g}" for i, s in enumerate(se)]
    head = "  standard errors sqrt(diag(H^-1)): "
    if max_params is None or n <= max(max_params, 2):
        return _wrapped(head, items)
    k = max(max_params // 2, 1)
    return (_wrapped(head, items[:k]) + [f"    ... {n - 2 * k} more ..."]
            + _wrapped("    ", items[-k:])
            + [f"    (all {n}: certificate.standard_errors; "
               f"curvopt.report.format_report(certificate, None))"])


STATIONARITY = {
    "gain": "every decrease the model still allows is below the resolution of f",
    "location": "the gradient is zero within its error and the minimizer lies within the "
                "finite-difference stencil, or the minimizer lies within the spacing of the "
                "floating point numbers at x (or no decrease above the resolution of f is "
                "left)",
    "weak": "the gradient is zero within its error; along weakly curved or flat "
            "directions the minimizer may lie beyond the stencil (probe f there)",
    "gtol": "||g|| + its error <= gtol (the user's absolute tolerance)",
    "": "",
}


def _stationarity_line(c) -> str:
    st = {True: "stationary", False: "not stationary", None: "undecided"}[c.stationary]
    line = f"  gradient: ||g|| = {c.grad_norm:.3e} +- {c.grad_err:.3e} -> {st}"
    if c.stationary and c.stationarity:
        line += f" ({STATIONARITY[c.stationarity]})"
    return line


def format_report(c, max_params: int | None = MAX_PARAMS) -> str:
    """The multi-line text report of a :class:`~curvopt.certificate.Certificate`.

    Standard errors are listed for every parameter when n <= ``max_params`` (None: always);
    above it, for the first and last ``max_params // 2`` with a "... k more ..." line
    between (``str(certificate)`` uses the default ``MAX_PARAMS``).
    """
    src = "exact (user callable)" if c.exact_hessian else "finite differences"
    lines = [f"curvopt certificate: {_HEADLINE[c.classification]}",
             f"  f = {c.f:.10g}   n = {c.x.size}   nfev = {c.nfev}   Hessian: {src}",
             _stationarity_line(c)]
    if c.decrement is not None:
        lines.append(f"  decrease of f the model still allows <= {c.decrement:.3e} "
                     f"(resolution of f {c.resolution:.3e}); minimizer within "
                     f"{c.newton_step:.3e} along the curved directions")
    lines += _eigen_lines(c) if c.method == "dense" else _ritz_lines(c)
    lines.append(f"  condition number {c.cond:.3e}, effective rank {c.rank}/{c.x.size}")
    if c.curvature_along_grad is not None:
        lines.append(f"  curvature along g: {c.curvature_along_grad:.3e}; model decreases "
                     f"along -t g for 0 < t < {c.max_descent_step:.3e}")
    for k in range(c.negative_directions.shape[1]):
        d = ", ".join(f"{v:.3g}" for v in c.negative_directions[:, k][:10])
        lines.append(f"  negative-curvature direction {k}: ({d}{', ...' if c.x.size > 10 else ''})")
    if c.flat_parameters:
        lines.append("  flat parameters (load on directions where the quadratic model "
                     "cannot decide): " + ", ".join(str(p) for p in c.flat_parameters))
    if c.evidence:
        lines.append(f"  evidence: {c.evidence}")
    if c.standard_errors is not None:
        lines += _se_lines(c, max_params)
    if c.se_warning:
        lines.append(f"  warning: {c.se_warning}")
    if c.inconclusive:
        label = "inconclusive" if c.classification == "inconclusive" else "note"
        lines.append(f"  {label}: {c.inconclusive}")
    return "\n".join(lines)


def jsonable(v):
    """A JSON-ready copy: python floats/lists; NaN -> None, +-inf -> "inf"/"-inf"."""
    if isinstance(v, np.ndarray):
        return [jsonable(u) for u in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [jsonable(u) for u in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return None if np.isnan(v) else (v if np.isfinite(v) else ("inf" if v > 0 else "-inf"))
    return v
