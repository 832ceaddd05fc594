"""Tests of ``python -m curvopt check``: report text, JSON and every exit code.

Objectives are in tests/cli_targets.py with known classifications at the points used.
Each exit code is checked once through a real subprocess; input-error variants run
in-process through ``main(argv)``, which returns the same codes.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from curvopt.cli import EXIT_CODES, main

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def run(*argv):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]))
    return subprocess.run([sys.executable, "-m", "curvopt", "check", *argv], cwd=TESTS,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("target, x, cls", [
    ("bowl", "1,-2", "minimum"),
    ("saddle", "0,0", "saddle"),
    ("cap", "0,0", "maximum"),
    ("trough", "0,5", "degenerate"),
    ("bowl", "0,0", "not_stationary"),
    ("ridge", "0,0", "inconclusive"),
])
def test_exit_code_and_report_per_class(target, x, cls):
    out = run(f"cli_targets:{target}", "--x", x)
    assert out.returncode == EXIT_CODES[cls], out.stdout + out.stderr
    head = out.stdout.splitlines()[0]
    assert head.startswith("curvopt certificate: " + cls.upper().replace("_", " "))
    assert "eigenvalues of H" in out.stdout


def test_documented_codes_are_distinct():
    codes = list(EXIT_CODES.values()) + [1, 2]
    assert len(set(codes)) == len(codes) and EXIT_CODES["minimum"] == 0


def test_json_output_and_args():
    out = run("cli_targets:weighted", "--x=-1,4", "--args", "[[1.0, 2.0], [-1.0, 4.0]]",
              "--json", "--names", "a,b")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["classification"] == "minimum" and d["is_minimum"] is True
    assert d["names"] == ["a", "b"] and d["x"] == [-1.0, 4.0]
    assert np.allclose(d["lam"], [2.0, 4.0], rtol=1e-6)
    assert np.allclose(d["standard_errors"], [1 / np.sqrt(2), 0.5], rtol=1e-6)


def test_evaluation_error_exit_1_and_usage_exit_2():
    out = run("cli_targets:broken", "--x", "0")
    assert out.returncode == 1 and "this objective always fails" in out.stderr
    out = run("no_such_module_xyz:f", "--x", "0")
    assert out.returncode == 2 and "cannot import module" in out.stderr
    out = run("cli_targets:log_of_first", "--x=-1")
    assert out.returncode == 2 and "not finite" in out.stderr


def test_any_exception_of_the_users_function_is_exit_1(capsys, monkeypatch):
    """ValueError or TypeError raised by the user's code is an evaluation error (1), not a
    usage error: told apart by where it is raised, not by its type."""
    monkeypatch.chdir(TESTS)
    for target in ("cli_targets:raises_value_error", "cli_targets:raises_type_error"):
        assert main(["check", target, "--x", "0,0"]) == 1
        err = capsys.readouterr().err
        assert "evaluation failed" in err and "is x the right length" not in err
    assert main(["check", "cli_targets:bowl", "--x", "0,0",
                 "--jac", "cli_targets:raises_value_error"]) == 1


def test_import_and_syntax_errors_are_exit_2_and_json_errors_are_json(tmp_path, capsys):
    bad = tmp_path / "broken_syntax.py"
    bad.write_text("def f(x):\n    return x +\n")
    assert main(["check", f"{bad}:f", "--x", "0"]) == 2
    assert "SyntaxError" in capsys.readouterr().err
    assert main(["check", f"{bad}:f", "--x", "0", "--json"]) == 2
    d = json.loads(capsys.readouterr().out)
    assert d["error"]["exit_code"] == 2 and d["error"]["type"] == "InputError"
    monkeypatch_dir = TESTS
    import os
    cwd = os.getcwd()
    os.chdir(monkeypatch_dir)
    try:
        assert main(["check", "cli_targets:broken", "--x", "0", "--json"]) == 1
    finally:
        os.chdir(cwd)
    d = json.loads(capsys.readouterr().out)
    assert d["error"]["kind"] == "evaluation" and "always fails" in d["error"]["message"]


@pytest.mark.parametrize("argv, msg", [
    (["cli_targets:nope", "--x", "0"], "has no attribute"),
    (["cli_targets:not_callable", "--x", "0"], "not callable"),
    (["cli_targets", "--x", "0"], "MODULE:FUNCTION"),
    (["cli_targets:bowl", "--x", "1,a"], "comma-separated"),
    (["cli_targets:bowl", "--x", "1,-2", "--args", "{bad"], "not valid JSON"),
    (["cli_targets:bowl", "--x", "1,-2", "--args", '{"a": 1}'], "JSON list"),
    (["cli_targets:bowl", "--x-file", "missing.npy"], "no such file"),
    (["cli_targets:bowl", "--x", "1,-2", "--names", "a"], "names"),
    (["cli_targets:bowl", "--x", "1,-2", "--gtol", "0"], "gtol"),
])
def test_input_errors_in_process(argv, msg, capsys, monkeypatch):
    monkeypatch.chdir(TESTS)
    assert main(["check", *argv]) == 2
    assert msg in capsys.readouterr().err


def test_argparse_usage_errors_return_2(capsys):
    assert main(["check", "cli_targets:bowl"]) == 2           # neither --x nor --x-file
    assert main(["frobnicate"]) == 2
    assert main(["check", "--help"]) == 0
    assert "exit codes" in capsys.readouterr().out


def test_x_files_and_exact_derivatives(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(TESTS)
    x = np.array([1.0, -2.0])
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "x.txt", x)
    (tmp_path / "x.json").write_text(json.dumps({"x": x.tolist()}))
    (tmp_path / "l.json").write_text(json.dumps(x.tolist()))
    for name in ("x.npy", "x.txt", "x.json", "l.json"):
        assert main(["check", "cli_targets:bowl", "--x-file", str(tmp_path / name)]) == 0
    (tmp_path / "x.csv").write_text("1,-2")
    assert main(["check", "cli_targets:bowl", "--x-file", str(tmp_path / "x.csv")]) == 2
    capsys.readouterr()
    code = main(["check", "cli_targets:bowl", "--x", "[1, -2]", "--jac", "cli_targets:bowl_grad",
                 "--hess", "cli_targets:bowl_hess"])
    assert code == 0 and "Hessian: exact" in capsys.readouterr().out


def test_path_target(capsys):
    code = main(["check", f"{TESTS / 'cli_targets.py'}:saddle", "--x", "0,0", "--json"])
    assert code == 3
    d = json.loads(capsys.readouterr().out)
    assert np.allclose(np.abs(np.ravel(d["negative_directions"])), [0.0, 1.0], atol=1e-8)
