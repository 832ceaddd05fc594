"""Speed of ``curvopt.hessian`` in the working tree against a baseline commit, in one run.

    python benchmarks/compare_hessian_baseline.py            # full run, writes
                                                             # results/compare_hessian_baseline.txt
    python benchmarks/compare_hessian_baseline.py --quick    # n = 50, Rosenbrock, one A B pair
    python benchmarks/compare_hessian_baseline.py --rev REV  # baseline (default 69167d3)

Why: the baseline's own ``benchmarks/results/bench_hessian.txt`` was measured in another
machine state and timed one evaluation (t_eval, the ratio's denominator) by another method,
so its ratios cannot be set beside today's.  This script puts both trees under ONE t_eval
method (``eval_timer`` of benchmarks/hessian_common.py, shared with bench_hessian.py) in ONE run on the same machine.

What: the baseline commit is checked out as a detached git worktree in a temporary
directory (removed at the end, also on error; the main tree is never modified).  Each tree
is measured in its own subprocess (this interpreter, ``PYTHONPATH`` and cwd = the tree; the
child checks that ``curvopt.__file__`` lies in that tree).  The objectives are defined in
the child itself, identically for both trees (plain ``@njit``, not ``cache=True``: the
child is ``-c`` code, and a baseline whose ``Objective`` switches on the objective's cache
flag then takes the same closure path as for any ``@njit`` function):

- the chained Rosenbrock sum_{i<n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 at
  x = (-1.2, 1, -1.2, 1, ...), n = 50, 100, 200;
- bench_hessian's pairwise (extended) Rosenbrock, the same sum over even i only (half the
  terms: the cheapest objective of the set), at the same x, n = 50 and 100;
- bench_hessian's logistic NLL over 100 rows at n = 50, w = 0.1, A from seed 9.

For each objective, n and mode (``hessian(error=False)``, ``hessian(error=True)``) a child
warms up (the first call compiles), then times as bench_hessian's ``row_timings``: 3 passes,
each the best of ``reps`` calls, and one compiled evaluation timed before the first pass
and after each; a pass's ratio is time / (nfev x the mean of the two t_eval samples around
it); the child reports the median ratio over the passes and the best time; nfev as the call
reports it.  ``reps`` (about 0.2 s per pass) is calibrated by the first child of each
(objective, n) and handed to every later child, so both trees take the best of the same
number of calls.  To limit drift between the trees the children alternate, baseline and
current, A B A B (one pair with ``--quick``); the table gives the median of each tree's
ratios and times.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "compare_hessian_baseline.txt"
DEFAULT_REV = "69167d3"
MODES = ("error=False", "error=True")

#: The measuring child: ``python -c CHILD tree objective n pass_seconds reps_json bench_dir``.
CHILD = r'''
import json, sys
from pathlib import Path

import numpy as np
from numba import njit

tree, objective, n, pass_s, reps_in, bench = (Path(sys.argv[1]).resolve(), sys.argv[2],
                                              int(sys.argv[3]), float(sys.argv[4]),
                                              json.loads(sys.argv[5]), sys.argv[6])
import curvopt
sys.path.append(bench)            # after the tree: the helpers, not this tree's curvopt
from hessian_common import best_time, eval_timer, logistic100

where = Path(curvopt.__file__).resolve()
if tree not in where.parents:
    raise SystemExit(f"curvopt imported from {where}, not from the tree {tree}")


@njit
def chained_rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        t = x[i + 1] - x[i] * x[i]
        s += 100.0 * t * t + (1.0 - x[i]) * (1.0 - x[i])
    return s


@njit
def pairwise_rosenbrock(x):
    s = 0.0
    for i in range(0, x.shape[0] - 1, 2):
        t = x[i + 1] - x[i] * x[i]
        s += 100.0 * t * t + (1.0 - x[i]) * (1.0 - x[i])
    return s


if objective == "chained-rosen":
    f, x, args = chained_rosenbrock, np.tile([-1.2, 1.0], n // 2), ()
elif objective == "pairwise-rosen":
    f, x, args = pairwise_rosenbrock, np.tile([-1.2, 1.0], n // 2), ()
else:
    A = np.random.default_rng(9).standard_normal((100, n))
    f, x, args = logistic100, 0.1 * np.ones(n), (A,)
runs = {"error=False": lambda: curvopt.hessian(f, x, args, error=False),
        "error=True": lambda: curvopt.hessian(f, x, args, error=True)}
nfev = {}
for name, run in runs.items():
    run()                                     # compiles
    nfev[name] = int(run().nfev)
reps = dict(reps_in) or {name: max(1, min(2000, round(pass_s / best_time(run, 3))))
                         for name, run in runs.items()}
timer = eval_timer(f, x, args)
times, ratios, te = {k: [] for k in runs}, {k: [] for k in runs}, [timer()]
for _ in range(3):
    for name, run in runs.items():
        times[name].append(best_time(run, reps[name]))
        te.append(timer())
        ratios[name].append(times[name][-1] / (nfev[name] * 0.5 * (te[-2] + te[-1])))
for name in runs:
    print(json.dumps({"mode": name, "ratio": float(np.median(ratios[name])),
                      "time": min(times[name]), "nfev": nfev[name], "reps": reps[name],
                      "te": te, "file": str(where)}), flush=True)
'''


def git(repo, *args):
    """stdout of ``git -C repo args`` (stripped); RuntimeError with git's message on failure."""
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def tree_ids(repo, rev):
    """(current id, baseline id): short commit ids, the current one with ``+ working tree``
    when ``git status --porcelain`` shows changes under curvopt/."""
    current = git(repo, "rev-parse", "--short", "HEAD")
    if git(repo, "status", "--porcelain", "--", "curvopt/"):
        current += " + working tree"
    return current, git(repo, "rev-parse", "--short", f"{rev}^{{commit}}")


def run_child(tree, objective, n, pass_s, reps):
    """{mode: record} from one measuring child in ``tree``.

    Parameters
    ----------
    tree : Path
        Root of the tree whose ``curvopt`` is imported.
    objective : str
        ``"chained-rosen"``, ``"pairwise-rosen"`` or ``"logistic100"``.
    n : int
        Dimension.
    pass_s : float
        Seconds per pass the child calibrates ``reps`` to when ``reps`` is empty.
    reps : dict
        ``{mode: calls per pass}``; empty to let the child calibrate.

    Returns
    -------
    dict
        Per mode: ratio (median over passes), time (best, s), nfev, reps, te (t_eval
        samples, s), file (the imported ``curvopt/__init__.py``).
    """
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tree), objective, str(n),
                           str(pass_s), json.dumps(reps), str(ROOT / "benchmarks")],
                          cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"child in {tree} ({objective}, n = {n}) failed:\n{proc.stderr}")
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    out = {r["mode"]: r for r in records}
    if set(out) != set(MODES):
        raise RuntimeError(f"child in {tree} reported {sorted(out)}, not {list(MODES)}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return out


def measure(trees, objective, n, pairs, pass_s):
    """{tree label: [child records]} for one (objective, n), children alternating
    baseline, current, ``pairs`` times; ``reps`` from the first child for all."""
    out, reps = {label: [] for label in trees}, {}
    for _ in range(pairs):
        for label, tree in trees.items():
            rec = run_child(tree, objective, n, pass_s, reps)
            reps = reps or {m: r["reps"] for m, r in rec.items()}
            out[label].append(rec)
    return out


def summarize(runs, mode):
    """(ratio, time, nfev set, t_eval samples, reps) of one tree and mode: medians over its
    children."""
    recs = [rec[mode] for rec in runs]
    return (float(np.median([r["ratio"] for r in recs])),
            float(np.median([r["time"] for r in recs])),
            sorted({r["nfev"] for r in recs}),
            [t for r in recs for t in r["te"]], recs[0]["reps"])


def header(ids, rev):
    """The lines above the table: commits, date, versions."""
    import numba
    return [f"curvopt.hessian: current {ids[0]} vs baseline {ids[1]} (--rev {rev})",
            f"date {datetime.datetime.now().isoformat(timespec='seconds')}, numpy"
            f" {np.__version__}, numba {numba.__version__}, python {sys.version.split()[0]}",
            ""]


def t_eval_note(objective, n, runs):
    """Footnote on the t_eval samples of both trees for one (objective, n)."""
    te = {label: summarize(recs, MODES[0])[3] for label, recs in runs.items()}
    both = te["baseline"] + te["current"]
    return (f"   t_eval {objective} n = {n}: median baseline {np.median(te['baseline']) * 1e9:.0f}"
            f" ns, current {np.median(te['current']) * 1e9:.0f} ns (max/min over both"
            f" {max(both) / min(both):.2f})")


def table(results, pairs):
    """Table lines and footnotes from {(objective, n): {label: [records]}}."""
    lines = [f"{'objective':>13} {'n':>4} {'mode':>11} {'t_eval(ns)':>10} {'base ratio':>10}"
             f" {'cur ratio':>9} {'base ms':>8} {'cur ms':>8} {'cur/base':>8}"]
    notes = []
    for (objective, n), runs in results.items():
        for mode in MODES:
            rb, tb, nb, teb, reps = summarize(runs["baseline"], mode)
            rc, tc, nc, tec, _ = summarize(runs["current"], mode)
            lines.append(f"{objective:>13} {n:>4} {mode:>11} {np.median(teb + tec) * 1e9:>10.0f}"
                         f" {rb:>10.2f} {rc:>9.2f} {tb * 1e3:>8.3f} {tc * 1e3:>8.3f}"
                         f" {tc / tb:>8.2f}")
            notes.append(f"   nfev {objective} n = {n} {mode}: baseline {nb}, current {nc}"
                         + ("" if nb == nc else "  <- DIFFERENT") + f"; {reps} calls per pass")
        notes.append(t_eval_note(objective, n, runs))
    legend = ["   ratio = time / (nfev x one compiled evaluation), median over 3 passes per"
              " child, then over the tree's children (A B" + " A B" * (pairs - 1)
              + ", A = baseline);",
              "   ms = a child's best call over its passes, median over the tree's children;"
              " cur/base = current ms / baseline ms (< 1: faster now);",
              "   t_eval: a compiled loop of evaluations (best of 3 loops of ~20 ms), timed"
              " before and after each timing; column: median over both trees' samples"]
    return lines + legend + notes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="n = 50, Rosenbrock only, one A B pair, fewer reps; no results file")
    ap.add_argument("--rev", default=DEFAULT_REV, help=f"baseline commit (default {DEFAULT_REV})")
    opts = ap.parse_args()
    cases = ([("chained-rosen", 50)] if opts.quick else
             [("chained-rosen", n) for n in (50, 100, 200)]
             + [("pairwise-rosen", n) for n in (50, 100)] + [("logistic100", 50)])
    pairs, pass_s = (1, 0.05) if opts.quick else (2, 0.2)
    ids = tree_ids(ROOT, opts.rev)
    tmp = Path(tempfile.mkdtemp(prefix="curvopt-baseline-"))
    old = tmp / "baseline"
    try:
        git(ROOT, "worktree", "add", "--detach", str(old), opts.rev)
        trees = {"baseline": old, "current": ROOT}
        results = {}
        for objective, n in cases:
            print(f"measuring {objective} n = {n} ...", file=sys.stderr, flush=True)
            results[(objective, n)] = measure(trees, objective, n, pairs, pass_s)
    finally:
        if old.exists():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    text = "\n".join(header(ids, opts.rev) + table(results, pairs)) + "\n"
    sys.stdout.write(text)
    if not opts.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
