"""An ODE likelihood (~20 ms per evaluation) fitted serially, on 2 processes and on dask.

Model: one-compartment pharmacokinetics with first-order absorption. A dose D enters the
gut (amount g), is absorbed into the central compartment (amount c) at rate ka and
eliminated at rate CL / V:

    g' = -ka g,    c' = ka g - (CL / V) c,    g(0) = D, c(0) = 0,    concentration c / V.

Three oral doses (50, 100, 200 mg), concentrations at 12 times over 24 h, log-normal
error with sd sigma; synthetic data from ka = 1.2 /h, CL = 5 L/h, V = 40 L, sigma = 0.15
(``SEED``). The parameters are theta = (log ka, log CL, log V, log sigma) and f is the
negative log-likelihood; every evaluation solves the ODE for each dose with
``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10): ~20 ms of Python on this machine.

The same ``curvopt.minimize`` runs three times:

* serial;
* ``workers=2``: a process pool curvopt starts for the call and shuts down at the end
  (its start-up is inside the fit's time; a line below the table gives it measured on its
  own, and how much faster 2 processes evaluate f than 1 on the machine at that moment:
  the ceiling of any speed-up, below 2 when the host is shared);
* a dask ``LocalCluster`` (2 worker processes, 1 thread each) through
  ``client.get_executor()``; the cluster's start-up and shutdown are separate columns.
  On a real cluster replace the LocalCluster by ``Client("tcp://scheduler:8786")``.

The three runs must agree exactly (x, nfev, certificate), since every batch of the
finite-difference stencils is evaluated by the same code whatever the workers. The timing
table shows the speed-up, the certificate the fit (standard errors from the certified
Hessian). ``--quick`` (tests): one dose, rtol 1e-8 (~5 ms per evaluation); ``--no-cluster``
skips dask. No figures.

Run: ``python examples/distributed_fit.py`` (about a minute).
"""
from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.integrate import solve_ivp

from _common import banner, parse_args

import curvopt

SEED = 1
TIMES = np.array([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0])
TRUE = np.log([1.2, 5.0, 40.0, 0.15])                  # log ka, log CL, log V, log sigma
NAMES = ("log_ka", "log_CL", "log_V", "log_sigma")
X0 = np.array([0.0, 1.0, 3.0, -1.0])


def rhs(t, u, ka, ke):
    """Gut and central amounts."""
    return [-ka * u[0], ka * u[0] - ke * u[1]]


def concentrations(theta, doses, rtol):
    """Central concentrations at TIMES for each dose, shape (len(doses), 12)."""
    ka, cl, v = np.exp(theta[:3])
    out = np.empty((len(doses), TIMES.size))
    for k, dose in enumerate(doses):
        sol = solve_ivp(rhs, (0.0, TIMES[-1]), [dose, 0.0], method="DOP853", t_eval=TIMES,
                        args=(ka, cl / v), rtol=rtol, atol=1e-12)
        out[k] = sol.y[1] / v
    return out


def nll(theta, log_obs, doses, rtol):
    """Negative log-likelihood of log-normal concentrations (constants dropped)."""
    r = (np.log(concentrations(theta, doses, rtol)) - log_obs) / np.exp(theta[3])
    return float(log_obs.size * theta[3] + 0.5 * np.sum(r * r))


def synthetic_data(doses):
    """Log concentrations at TRUE with log-normal noise (seeded)."""
    rng = np.random.default_rng(SEED)
    clean = np.log(concentrations(TRUE, doses, 1e-12))
    return clean + np.exp(TRUE[3]) * rng.normal(size=clean.shape)


def _fit(args, workers=None):
    t = time.perf_counter()
    res = curvopt.minimize(nll, X0, args=args, names=NAMES, workers=workers)
    return res, time.perf_counter() - t


def _four(args):
    """Four evaluations of f at the truth (a task of :func:`machine`)."""
    return [nll(TRUE, *args) for _ in range(4)]


def machine(args):
    """(start-up s, capacity): seconds to start a 2-process pool and run a task in each,
    and how many times as fast 2 processes evaluate f as 1 -- the ceiling of any speed-up
    with 2 workers (below 2 on a shared host)."""
    t = time.perf_counter()
    with ProcessPoolExecutor(2) as ex:
        list(ex.map(abs, [1, 2]))
        start = time.perf_counter() - t
        t = time.perf_counter()
        _four(args)
        one = time.perf_counter() - t
        t = time.perf_counter()
        list(ex.map(_four, [args, args]))
        two = time.perf_counter() - t
    return start, 2 * one / two


def on_local_cluster(args):
    """(result, fit s, start s, close s) on a dask LocalCluster, or None without dask."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("dask.distributed is not installed (pip install 'dask[distributed]'): "
              "skipping the cluster run")
        return None
    t = time.perf_counter()
    cluster = LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    start = time.perf_counter() - t
    try:
        res, fit = _fit(args, client.get_executor())
    finally:
        t = time.perf_counter()
        client.close()
        cluster.close()
    return res, fit, start, time.perf_counter() - t


def timing_table(rows, serial_time):
    """Print one line per run: start-up, fit, total, speed-up (total), nfev."""
    head = (f"{'run':24s} {'start-up s':>10s} {'fit s':>8s} {'close s':>8s} {'total s':>8s} "
            f"{'speed-up':>8s} {'nfev':>5s}")
    print(head)
    print("-" * len(head))
    for name, start, fit, close, nfev in rows:
        total = fit + (start or 0.0) + (close or 0.0)
        s = "   (in fit)" if start is None else f"{start:10.2f}"
        c = "       -" if close is None else f"{close:8.2f}"
        print(f"{name:24s} {s:>10s} {fit:8.2f} {c} {total:8.2f} {serial_time / total:7.2f}x "
              f"{nfev:5d}")


def main(argv=None):
    """Fit three ways, print the timing table and the certificate; return the outcomes."""
    opts = parse_args(argv, __doc__.splitlines()[0], lambda p: p.add_argument(
        "--no-cluster", action="store_true", help="skip the dask LocalCluster run"))
    doses, rtol = ((100.0,), 1e-8) if opts.quick else ((50.0, 100.0, 200.0), 1e-10)
    data = (synthetic_data(doses), doses, rtol)
    t = time.perf_counter()
    for _ in range(5):
        nll(TRUE, *data)
    t_eval = (time.perf_counter() - t) / 5
    banner(f"One-compartment PK fit: {len(doses)} doses x {TIMES.size} times, "
           f"{1e3 * t_eval:.1f} ms per evaluation")
    serial, t_serial = _fit(data)
    pooled, t_pooled = _fit(data, workers=2)
    rows = [("serial", 0.0, t_serial, None, serial.nfev),
            ("workers=2 (own pool)", None, t_pooled, None, pooled.nfev)]
    runs = [pooled]
    cluster = None if opts.no_cluster else on_local_cluster(data)
    if cluster is not None:
        res, fit, start, close = cluster
        rows.append(("dask LocalCluster (2)", start, fit, close, res.nfev))
        runs.append(res)
    timing_table(rows, t_serial)
    start, capacity = machine(data)
    print(f"a 2-process pool starts in {start:.3f} s; 2 processes evaluate f {capacity:.2f}x "
          f"as fast as 1 on this machine now (the ceiling of the speed-ups)")
    same = all(np.array_equal(r.x, serial.x) and r.nfev == serial.nfev
               and r.certificate.classification == serial.certificate.classification
               for r in runs)
    print(f"identical x, nfev and certificate in every run: {same}")
    banner("Estimates (serial run) and the truth")
    se = serial.certificate.standard_errors
    for name, est, s, true in zip(NAMES, serial.x, se, TRUE):
        print(f"{name:10s} {est:9.4f} +- {s:.4f}   true {true:8.4f}")
    print(serial.certificate)
    return {"x": serial.x, "se": se, "true": TRUE, "identical": same,
            "nfev": int(serial.nfev), "classification": serial.certificate.classification,
            "t_eval": t_eval, "capacity": capacity,
            "times": {name: fit + (start or 0.0) + (close or 0.0)
                      for name, start, fit, close, _ in rows}}


if __name__ == "__main__":
    main()
