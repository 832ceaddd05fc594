"""Cost growth with n: curvopt beside scipy's L-BFGS-B, BFGS and trust-krylov, in one run.

Problems (:mod:`curvopt.problems.large`): the scaling sweep runs TRIDIA (CUTEst, tridiagonal
H, f an ``@njit`` function) at n = 10^2, 10^3, 10^4, 10^5; then the large-n issue's rows:
chained Rosenbrock (``@njit``) n = 100, the dense SPD quadratic n = 500 (condition number
1e4) and the coupled quartic n = 1000 (both also with ``vectorized=True``), TRIDIA, extended
Rosenbrock and Broyden tridiagonal at n = 1000 from plain numpy functions, and the chain of
double wells n = 1000 started exactly at its strict saddle.

Methods:

* ``L-BFGS-B fd``, ``BFGS fd``: scipy with its forward-difference gradient (function values
  only; L-BFGS-B's ``maxfun`` and ``maxiter`` lifted, so that only the time cap stops it);
* ``trust-krylov``: scipy with the exact gradient and Hessian-vector products;
* ``curvopt``: ``curvopt.minimize(f, x0)``, function values only; ``curvopt vec``: the same
  with ``vectorized=True``; ``curvopt sparse``: the same with ``hess_sparsity=`` the
  problem's pattern ("n/a" when this curvopt does not know the option);
* in the sweep also, with the exact gradient: ``L-BFGS-B jac`` and ``curvopt jac sp``
  (``jac=`` and ``hess_sparsity=``: the CPR-coloured sparse H from gradient differences).

Each run is a child process (``--one KIND METHOD N``) that first runs the method on the same
problem at n = 10 and for two iterations at min(n, 300) (numba compilation, caches; their
time is the "warm" column), then the timed run. "time" is the wall time of the timed run,
"cpu" its process CPU time (less sensitive to other load on the machine; above the wall time
where BLAS runs threads). Peak MB is the child's peak resident set size (``ru_maxrss``:
interpreter, numpy, numba and the run), under an address-space limit of ``--mem-gb``
(20 GB: scipy's trust-krylov allocates a Lanczos buffer of min(1e9 / n, 2 n) x n doubles
per subproblem, 7.5 GB at n = 10^5, mostly untouched; it fails under a 12 GB limit there).
A child still running 2 cap seconds after its start (``--cap``, 60 s; warm-up included) is
stopped: "T", time "> cap"; a timed run that finished after cap seconds is noted. A method
that exceeded the cap or the memory limit at some n in the sweep is not run at larger n.
Evaluations: calls of f; for trust-krylov also of the gradient and of hessp (g/Hp).
Judged with the problem's own f at the returned x: solved = f - f* <= 1e-6 max(1, |f*|).
Flags: S solved, L at a documented other local minimum (|f - t| <= 1e-6 max(1, |t|)),
! success claimed but not solved, - not solved, T time cap, M memory limit, E error, n/a
option not available. Certificates: classification, how the signs of the eigenvalues were
decided (dense, sparse, lanczos) and whether that is deterministic or probabilistic (with
its failure probability). Ratios are between runs of one invocation (the machine is shared
and noisy), against the FD peers that solved the problem; "growth" is the least-squares
slope of log(time) and of log(nfev) against log(n) over the sizes a method finished.

Run: ``python benchmarks/bench_scale.py`` (20-40 minutes on 2 cores, most of it runs that hit
the cap); output saved in ``benchmarks/results/bench_scale.txt`` and, with matplotlib, the
log-log figure ``benchmarks/results/bench_scale.png``. ``--quick``: the sweep at n = 100 and
300 with a 5 s cap, nothing saved.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import OptimizeWarning, minimize as sp_minimize

from curvopt.api import minimize as co_minimize
from curvopt.problems.large import large_problem

RESULTS = Path(__file__).resolve().parent / "results"
SWEEP_KIND, SWEEP_N, QUICK_N = "tridia_jit", (100, 1_000, 10_000, 100_000), (100, 300)
WARM_N = (10, 300)      # warm-up sizes: a full run, then 2 iterations above curvopt's
                        # dense/Krylov switch (n = 200)
NEW_OPTIONS = ("hess_sparsity",)      # options curvopt is gaining now: "n/a" if unknown
FD_PEERS = ("L-BFGS-B fd", "BFGS fd")
PEERS = FD_PEERS + ("trust-krylov",)
JAC_PAIR = ("L-BFGS-B jac", "curvopt jac sp")   # the sweep's runs with the exact gradient
ROWS = (                # (kind, n, curvopt variants) of the large-n issue
    ("chained_rosenbrock_jit", 100, ("curvopt",)),
    ("spd_quadratic", 500, ("curvopt vec", "curvopt")),
    ("coupled_quartic", 1000, ("curvopt vec", "curvopt")),
    ("tridia", 1000, ("curvopt", "curvopt sparse")),
    ("ext_rosenbrock", 1000, ("curvopt", "curvopt sparse")),
    ("broyden_tridiagonal", 1000, ("curvopt", "curvopt sparse")),
    ("double_well_chain", 1000, ("curvopt",)),
)


class NotAvailable(Exception):
    """The curvopt under test does not know an option the method needs."""


class Counted:
    """A function with a call counter."""

    def __init__(self, fun):
        self.fun, self.n = fun, 0

    def __call__(self, *args):
        self.n += 1
        return self.fun(*args)


# -- the methods (run in the child) ---------------------------------------------------
def run_scipy(method, p, maxiter, exact=False, jac=False):
    """scipy.optimize.minimize(method) on p: FD gradient, or exact jac and hessp (exact),
    or the exact jac alone (jac)."""
    f, g, hp = Counted(p.f), Counted(p.grad), Counted(p.hessp)
    kw = dict(jac=g, hessp=hp) if exact else dict(jac=g) if jac else {}
    opts = {"maxfun": 10 ** 12, "maxiter": 10 ** 12} if method == "L-BFGS-B" else {}
    if maxiter is not None:
        opts["maxiter"] = maxiter
    res = sp_minimize(f, p.start(), method=method, options=opts, **kw)
    return dict(x=res.x, success=bool(res.success), nit=int(res.nit), nfev=f.n, njev=g.n,
                nhev=hp.n, certificate="")


def describe(cert):
    """'classification (method, deterministic | probabilistic p=...)' of a certificate."""
    if cert is None:
        return "no certificate"
    prob = getattr(cert, "failure_probability", 0.0)
    kind = "deterministic" if not prob else f"probabilistic p={prob:g}"
    return f"{cert.classification} ({getattr(cert, 'method', 'dense')}, {kind})"


def run_curvopt(p, maxiter, **options):
    """curvopt.minimize on p from function values; NotAvailable for an unknown option."""
    if maxiter is not None:
        options["maxiter"] = maxiter
    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizeWarning)       # unknown options warn
        try:
            res = co_minimize(p.f, p.start(), **options)
        except (OptimizeWarning, TypeError, ValueError) as exc:
            if any(name in options and name in str(exc) for name in NEW_OPTIONS):
                raise NotAvailable(f"{type(exc).__name__}: {exc}") from exc
            raise
    return dict(x=res.x, success=bool(res.success), nit=int(res.nit), nfev=int(res.nfev),
                njev=int(res.njev), nhev=int(res.nhev), certificate=describe(res.certificate))


METHODS = {
    "L-BFGS-B fd": lambda p, it: run_scipy("L-BFGS-B", p, it),
    "BFGS fd": lambda p, it: run_scipy("BFGS", p, it),
    "trust-krylov": lambda p, it: run_scipy("trust-krylov", p, it, exact=True),
    "curvopt": lambda p, it: run_curvopt(p, it),
    "curvopt vec": lambda p, it: run_curvopt(p, it, vectorized=True),
    "curvopt sparse": lambda p, it: run_curvopt(p, it, hess_sparsity=p.hess_sparsity),
    "L-BFGS-B jac": lambda p, it: run_scipy("L-BFGS-B", p, it, jac=True),
    "curvopt jac sp": lambda p, it: run_curvopt(p, it, jac=p.grad,
                                                hess_sparsity=p.hess_sparsity),
}


# -- one run in a child process ---------------------------------------------------------
@dataclass
class Run:
    """One method on one problem: flag, cost and outcome (None where not measured)."""

    kind: str
    n: int
    method: str
    flag: str = "E"
    time: float | None = None
    cpu: float | None = None
    warm: float | None = None
    nfev: int | None = None
    njev: int = 0
    nhev: int = 0
    nit: int | None = None
    peak_mb: float | None = None
    f: float | None = None
    success: bool | None = None
    certificate: str = ""
    note: str = ""


def peak_mb():
    """Peak resident set size of this process in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def judge(p, out):
    """Flag S / L / ! / - of a finished run from f at its x (see the module docstring)."""
    def near(t):
        return abs(out["f"] - t) <= 1e-6 * max(1.0, abs(t))
    if out["f"] - p.f_star <= 1e-6 * max(1.0, abs(p.f_star)):
        return "S"
    if any(near(t) for t in p.f_local):
        return "L"
    return "!" if out["success"] else "-"


def child(kind, method, n, mem_gb):
    """Warm up, run once, print the `Run` as a JSON line prefixed 'RESULT '."""
    limit = int(mem_gb * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("ignore", RuntimeWarning)
    run, r = METHODS[method], Run(kind, n, method)
    try:
        t0 = time.perf_counter()
        run(large_problem(kind, min(n, WARM_N[0])), None)
        run(large_problem(kind, min(n, WARM_N[1])), 2)
        r.warm = time.perf_counter() - t0
        p = large_problem(kind, n)
        t0, c0 = time.perf_counter(), time.process_time()
        out = run(p, None)
        r.time, r.cpu = time.perf_counter() - t0, time.process_time() - c0
        out["f"] = float(p.f(out.pop("x")))
        r.flag = judge(p, out)
        for key, value in out.items():
            setattr(r, key, value)
    except NotAvailable as exc:
        r.flag, r.note = "n/a", str(exc).splitlines()[0][:120]
    except MemoryError:
        r.flag, r.note = "M", f"MemoryError under the {mem_gb:g} GB limit"
    except Exception as exc:                       # a crash is a failed run, reported
        r.note = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
    r.peak_mb = peak_mb()
    print("RESULT " + json.dumps(asdict(r)), flush=True)


def run_one(kind, method, n, cap, mem_gb):
    """Run `method` on `kind` at size n in a child process stopped after 2 cap seconds."""
    cmd = [sys.executable, __file__, "--one", kind, method, str(n), "--mem-gb", str(mem_gb)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=2 * cap)
    except subprocess.TimeoutExpired:
        return Run(kind, n, method, flag="T", note=f"stopped {2 * cap:g} s after its start")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return Run(kind, n, method, note=tail[:120])
    r = Run(**json.loads(lines[-1][len("RESULT "):]))
    if r.time is not None and r.time > cap:
        r.note = (r.note + f" finished after the {cap:g} s cap").strip()
    return r


# -- tables -----------------------------------------------------------------------------------
HEADER = (f"{'problem':24s} {'n':>7s} {'method':15s} {'flag':>4s} {'time s':>8s} {'cpu s':>8s} "
          f"{'warm s':>7s} "
          f"{'nfev':>10s} {'g/Hp':>13s} {'peak MB':>8s} {'f':>10s}  certificate / note")


def _num(value, fmt):
    return "-" if value is None else format(value, fmt)


def row(r, cap):
    """One table line of a `Run`."""
    t = f"> {cap:g}" if r.flag == "T" else _num(r.time, ".2f")
    gh = f"{r.njev}/{r.nhev}" if r.njev or r.nhev else "-"
    tail = "  ".join(s for s in (r.certificate, r.note) if s)
    return (f"{r.kind:24s} {r.n:>7d} {r.method:15s} {r.flag:>4s} {t:>8s} {_num(r.cpu, '.2f'):>8s} "
            f"{_num(r.warm, '.1f'):>7s} "
            f"{_num(r.nfev, 'd'):>10s} {gh:>13s} {_num(r.peak_mb, '.0f'):>8s} "
            f"{_num(r.f, '.3g'):>10s}  {tail}").rstrip()


def stopped(r, cap):
    """True when `r` hit the time cap or the memory limit."""
    return r.flag in ("T", "M") or (r.time is not None and r.time > cap)


def sweep(sizes, cap, mem_gb, say):
    """The scaling sweep: every method at each size until it hits the cap."""
    runs, done = [], set()
    for n in sizes:
        for method in PEERS + ("curvopt", "curvopt sparse") + JAC_PAIR:
            if method in done:
                say(f"{SWEEP_KIND:24s} {n:>7d} {method:15s} skipped: capped at a smaller n")
                continue
            r = run_one(SWEEP_KIND, method, n, cap, mem_gb)
            runs.append(r)
            say(row(r, cap))
            if stopped(r, cap):
                done.add(method)
    return runs


def issue_rows(cap, mem_gb, say):
    """The large-n issue's problems, each with the peers and its curvopt variants."""
    runs = []
    for kind, n, variants in ROWS:
        for method in variants + PEERS:
            runs.append(run_one(kind, method, n, cap, mem_gb))
            say(row(runs[-1], cap))
    return runs


# -- summaries ----------------------------------------------------------------------------------
def finished(r):
    """True when the timed run returned (whatever it found)."""
    return r.flag in ("S", "L", "!", "-") and r.time is not None


def growth(runs, say):
    """Slopes of log(time), log(nfev) against log(n) per method over its finished sizes."""
    say(f"\ngrowth with n ({SWEEP_KIND}; slope of log-log fit over the finished sizes):")
    for method in dict.fromkeys(r.method for r in runs):
        pts = [r for r in runs if r.method == method and finished(r)]
        if len(pts) < 2:
            say(f"  {method:15s} fewer than 2 finished sizes")
            continue
        ln = np.log([r.n for r in pts])
        st = np.polyfit(ln, np.log([r.time for r in pts]), 1)[0]
        sf = np.polyfit(ln, np.log([max(r.nfev, 1) for r in pts]), 1)[0]
        say(f"  {method:15s} time ~ n^{st:.2f}  nfev ~ n^{sf:.2f}  "
            f"(n = {', '.join(str(r.n) for r in pts)})")


def ratios(runs, say):
    """Per problem and n: each curvopt run's time and nfev over those of each FD peer."""
    say("\ncurvopt / FD peer (with the exact gradient: / L-BFGS-B jac), same invocation "
        "(a peer's flag where it did not solve):")
    for kind, n in dict.fromkeys((r.kind, r.n) for r in runs):
        here = [r for r in runs if (r.kind, r.n) == (kind, n)]
        for r in (r for r in here if r.method.startswith("curvopt")):
            peers = [p for p in here if p.method in (JAC_PAIR[:1] if r.method in JAC_PAIR
                                                     else FD_PEERS)]
            cells = [_ratio(r, p) for p in peers] if finished(r) else [f"curvopt {r.flag}"]
            if not any(p.flag == "S" for p in peers):
                cells.append("no FD peer solved it")
            say(f"  {kind:24s} {n:>7d} {r.method:15s} " + "; ".join(cells))


def _ratio(r, peer):
    """'peer: time ratio, nfev ratio' of r over a peer that solved the problem, else its flag."""
    if peer.flag != "S":
        return f"{peer.method}: {peer.flag}"
    return (f"{peer.method}: {r.time / peer.time:.3g}x time, "
            f"{r.nfev / max(peer.nfev, 1):.3g}x nfev")


def plot(runs, cap, path):
    """Log-log time and nfev against n, one line per method; False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for k, method in enumerate(dict.fromkeys(r.method for r in runs)):
        pts = [r for r in runs if r.method == method and finished(r)]
        for ax, key in zip(axes, ("time", "nfev")):
            ax.loglog([r.n for r in pts], [getattr(r, key) for r in pts], "o-",
                      color=f"C{k}", label=method)
        capped = [r.n for r in runs if r.method == method and r.flag == "T"]
        axes[0].plot(capped, [cap] * len(capped), "x", color=f"C{k}", ms=9, mew=2)
    axes[0].axhline(cap, color="grey", ls="--", lw=1, label=f"cap {cap:g} s (x: stopped)")
    labels = (("wall time [s]", "time"), ("evaluations of f (trust-krylov: + g, Hp)", "cost"))
    for ax, (what, title) in zip(axes, labels):
        ax.set(xlabel="n", ylabel=what, title=f"{SWEEP_KIND}: {title}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sweep at n = 100, 300, 5 s cap")
    ap.add_argument("--cap", type=float, help="time cap per run in seconds (default 60)")
    ap.add_argument("--mem-gb", type=float, default=20.0, help="address-space limit per run")
    ap.add_argument("--one", nargs=3, metavar=("KIND", "METHOD", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        return child(args.one[0], args.one[1], int(args.one[2]), args.mem_gb)
    cap = args.cap or (5.0 if args.quick else 60.0)
    lines = []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    say(f"time cap {cap:g} s per run (stopped {2 * cap:g} s after its start, warm-up included), "
        f"memory limit {args.mem_gb:g} GB; load average {', '.join(f'{v:.2f}' for v in _load())}")
    say("\n" + HEADER)
    runs = sweep(QUICK_N if args.quick else SWEEP_N, cap, args.mem_gb, say)
    growth(runs, say)
    if not args.quick:
        say("\n" + HEADER)
        runs += issue_rows(cap, args.mem_gb, say)
    ratios(runs, say)
    say("\nflags: S solved, L other local minimum, ! success claimed but not solved, "
        "- not solved, T time cap, M memory limit, E error, n/a option not available")
    if not args.quick and argv is None:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "bench_scale.txt").write_text("\n".join(lines) + "\n")
        if plot([r for r in runs if r.kind == SWEEP_KIND], cap, RESULTS / "bench_scale.png"):
            print(f"figure: {RESULTS / 'bench_scale.png'}")


def _load():
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return [math.nan] * 3


if __name__ == "__main__":
    main()
