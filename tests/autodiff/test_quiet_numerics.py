"""inf and NaN results are silent, as in PyTorch: numpy's "divide by zero encountered in log"
is not printed for the library's own ops, while a user's own numpy code still warns, a
user's own filters (-W error) still win, and ad.detect_anomaly() names the op.

Each test runs a small script in a fresh interpreter, which is what a user sees (pytest
resets warning filters around every test, so an in-process check would test pytest)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, script: str, *python_flags: str) -> subprocess.CompletedProcess:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    return subprocess.run([sys.executable, *python_flags, str(path)], capture_output=True,
                          text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)}, timeout=120)


def test_inf_and_nan_results_print_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, """
        import autodiff as ad, nn
        print(ad.tensor(0.0).log().item())                           # -inf
        x = ad.tensor([0.0, -1.0, 1e30], dtype=ad.float32, requires_grad=True)
        y = x.log() + x.sqrt() + x.exp() + 1 / x + x ** -1.5 + (x * 0) / 0
        y.sum().backward()                                            # inf and NaN gradients
        print(y.tolist(), x.grad.tolist())
        logits = ad.tensor([[0.0, float("inf")]])
        print(nn.functional.log_softmax(logits, dim=1).tolist())

        @ad.compile
        def step(t):
            loss = (t.log() / 0).sum()
            loss.backward()
            return loss.detach()
        print(step(x).item(), step(x).item())                         # traced, then replayed
    """)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[0] == "-inf"


def test_the_users_own_numpy_code_still_warns(tmp_path: Path) -> None:
    result = run(tmp_path, """
        import numpy as np
        import autodiff as ad
        ad.tensor(0.0).log()
        np.log(np.zeros(1))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (f"{tmp_path / 'script.py'}:5: RuntimeWarning: "
                                             f"divide by zero encountered in log")
    assert "autodiff" not in result.stderr


def test_the_users_own_filters_win(tmp_path: Path) -> None:
    result = run(tmp_path, """
        import autodiff as ad
        ad.tensor(0.0).log()
    """, "-W", "error::RuntimeWarning")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "RuntimeWarning: divide by zero encountered in log"


def test_detect_anomaly_still_names_the_op(tmp_path: Path) -> None:
    result = run(tmp_path, """
        import autodiff as ad
        x = ad.tensor([0.0], requires_grad=True)
        try:
            with ad.detect_anomaly():
                x.log()
        except ad.AnomalyError as error:
            print(error)
    """)
    assert result.stderr == ""
    assert result.stdout.startswith("log: forward produced inf (created at ")
    assert "script.py:6)" in result.stdout


def test_the_librarys_other_warnings_still_show(tmp_path: Path) -> None:
    result = run(tmp_path, """
        import autodiff as ad
        x = ad.tensor([1.0], dtype=ad.float32, requires_grad=True)
        ad.gradcheck(lambda t: t.exp().sum(), (x,), atol=1e-2, rtol=1e-2)
        print(ad.tensor([]).mean())                                   # numpy's own warning
    """)
    assert "UserWarning: gradcheck: inputs are not float64" in result.stderr
    assert "RuntimeWarning: Mean of empty slice" in result.stderr
