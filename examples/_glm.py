"""Negative log-likelihoods of three GLM families as numba kernels, and a fitting report.

With linear predictor eta = X beta + offset (McCullagh & Nelder 1989, ch. 2):

* logistic (Bernoulli, logit link), mu = 1 / (1 + exp(-eta)):
  ``-l = sum softplus(eta_i) - y_i eta_i``, gradient ``X'(mu - y)``;
* Poisson (log link) with offset log(exposure), mu = exp(eta):
  ``-l = sum mu_i - y_i eta_i + log(y_i!)``, gradient ``X'(mu - y)``;
* negative binomial NB2 (log link, Cameron & Trivedi 2013, eq. 3.26) with dispersion
  alpha = exp(log_alpha) appended to beta, r = 1/alpha:
  ``-l = -sum lgamma(y_i + r) - lgamma(r) - lgamma(y_i + 1) + r log(r/(r + mu_i))
  + y_i log(mu_i/(r + mu_i))``.

Standard errors of a maximum-likelihood fit are sqrt(diag(H^-1)) with H the Hessian of the
negative log-likelihood at the optimum; curvopt's certificate gives them only when it has
certified H positive definite. For the log-dispersion the delta method is exact at the
optimum, se(alpha) = alpha se(log alpha), because the gradient vanishes there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit


@njit(cache=True)
def _linear_predictor(beta, X, offset):
    n, k = X.shape
    eta = offset.copy()
    for i in range(n):
        for j in range(k):
            eta[i] += X[i, j] * beta[j]
    return eta


@njit(cache=True)
def _xt_dot(X, r):
    n, k = X.shape
    out = np.zeros(k)
    for i in range(n):
        for j in range(k):
            out[j] += X[i, j] * r[i]
    return out


@njit(cache=True)
def _softplus(t):
    if t > 0.0:
        return t + math.log1p(math.exp(-t))
    return math.log1p(math.exp(t))


@njit(cache=True)
def logit_nll(beta, X, y, offset):
    """Negative Bernoulli log-likelihood with logit link."""
    eta = _linear_predictor(beta, X, offset)
    s = 0.0
    for i in range(eta.shape[0]):
        s += _softplus(eta[i]) - y[i] * eta[i]
    return s


@njit(cache=True)
def logit_grad(beta, X, y, offset):
    """Gradient X'(mu - y) of :func:`logit_nll`."""
    eta = _linear_predictor(beta, X, offset)
    r = np.empty_like(eta)
    for i in range(eta.shape[0]):
        r[i] = 1.0 / (1.0 + math.exp(-eta[i])) - y[i]
    return _xt_dot(X, r)


@njit(cache=True)
def poisson_nll(beta, X, y, offset):
    """Negative Poisson log-likelihood with log link; ``offset`` is log(exposure)."""
    eta = _linear_predictor(beta, X, offset)
    s = 0.0
    for i in range(eta.shape[0]):
        s += math.exp(eta[i]) - y[i] * eta[i] + math.lgamma(y[i] + 1.0)
    return s


@njit(cache=True)
def poisson_grad(beta, X, y, offset):
    """Gradient X'(mu - y) of :func:`poisson_nll`."""
    eta = _linear_predictor(beta, X, offset)
    r = np.empty_like(eta)
    for i in range(eta.shape[0]):
        r[i] = math.exp(eta[i]) - y[i]
    return _xt_dot(X, r)


@njit(cache=True)
def negbin_nll(theta, X, y, offset):
    """Negative NB2 log-likelihood; ``theta = (beta, log_alpha)``."""
    k = X.shape[1]
    eta = _linear_predictor(theta[:k], X, offset)
    r = math.exp(-theta[k])
    s = 0.0
    for i in range(eta.shape[0]):
        mu = math.exp(eta[i])
        log_rmu = math.log(r + mu)
        s -= (math.lgamma(y[i] + r) - math.lgamma(r) - math.lgamma(y[i] + 1.0)
              + r * (math.log(r) - log_rmu) + y[i] * (eta[i] - log_rmu))
    return s


@njit(cache=True)
def negbin_grad(theta, X, y, offset):
    """Gradient of :func:`negbin_nll` (``y`` integer counts).

    d(-l)/d eta_i = -r (y_i - mu_i) / (r + mu_i); with
    d l/d r = sum_i [psi(y_i + r) - psi(r) + log(r / (r + mu_i)) + (mu_i - y_i) / (r + mu_i)]
    and psi(y + r) - psi(r) = sum_{j<y} 1/(r + j), d(-l)/d log_alpha = r dl/dr.
    """
    k = X.shape[1]
    eta = _linear_predictor(theta[:k], X, offset)
    r = math.exp(-theta[k])
    w = np.empty_like(eta)
    dl_dr = 0.0
    for i in range(eta.shape[0]):
        mu = math.exp(eta[i])
        w[i] = -r * (y[i] - mu) / (r + mu)
        digamma_diff = 0.0
        for j in range(int(y[i])):
            digamma_diff += 1.0 / (r + j)
        dl_dr += digamma_diff + math.log(r / (r + mu)) + (mu - y[i]) / (r + mu)
    out = np.empty(k + 1)
    out[:k] = _xt_dot(X, w)
    out[k] = r * dl_dr
    return out


@dataclass(frozen=True)
class GLMFit:
    """A fitted GLM: estimates, standard errors, z values, certificate and raw result."""

    names: tuple
    params: np.ndarray
    se: np.ndarray
    z: np.ndarray
    fun: float
    classification: str
    certificate: object
    result: object


def fit_glm(nll, x0, args, names, method, jac=None, options=None):
    """Minimize ``nll`` with ``scipy.optimize.minimize(..., method=method)``.

    Standard errors come from the certificate attached to the result (the certified
    Hessian of the negative log-likelihood at the optimum); NaN when the certificate could
    not certify H positive definite, with its warning in the printed report.
    """
    import scipy.optimize
    options = {"names": list(names), **(options or {})}  # the certificate names parameters
    res = scipy.optimize.minimize(nll, x0, args=args, method=method, jac=jac,
                                  options=options)
    cert = res.certificate
    if cert.standard_errors is None:  # H not certified PD: no SEs (cert.se_warning says why)
        se = np.full(res.x.size, np.nan)
    else:
        se = np.asarray(cert.standard_errors, dtype=float)
    return GLMFit(names=tuple(names), params=np.asarray(res.x, dtype=float), se=se,
                  z=res.x / se, fun=float(res.fun), classification=cert.classification,
                  certificate=cert, result=res)


def print_table(fit, peer_params=None, peer_se=None, peer_name="statsmodels"):
    """Print estimate, standard error and z, with a peer's estimates beside when given."""
    head = f"{'parameter':>12} {'estimate':>14} {'std.err':>12} {'z':>9}"
    if peer_params is not None:
        head += f" | {peer_name + ' est.':>17} {'std.err':>12}"
    print(head)
    for i, name in enumerate(fit.names):
        line = f"{name:>12} {fit.params[i]:14.7g} {fit.se[i]:12.5g} {fit.z[i]:9.3f}"
        if peer_params is not None:
            line += f" | {peer_params[i]:17.7g} {peer_se[i]:12.5g}"
        print(line)


def max_rel_diff(a, b):
    """max_i |a_i - b_i| / max(|b_i|, tiny): the comparison the tests use."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
