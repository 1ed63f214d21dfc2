"""lossref.watch: training scripts with planted misuses, run under `python -m lossref.watch`.

Each script under tests/watch_scripts marks its planted line with `# PLANTED <code>`; the report
must name that code at that `path:line`. The subprocesses start together (the machine is shared)
and are collected by the tests that read them.
"""

import contextlib
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import lossref

SCRIPTS = Path(__file__).parent / "watch_scripts"
SRC = Path(__file__).parents[1] / "src"
TIMEOUT = 180


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1")
    env.pop("LOSSREF_LANG", None)
    env.update(extra)
    return env


def _start(script, *flags, env=None):
    return subprocess.Popen([sys.executable, "-m", "lossref.watch", *flags, script, "a", "b"],
                            cwd=SCRIPTS, env=env or _env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Run as subprocesses: the clean run (its stderr must be empty: no runpy warning), torch.compile
# (dynamo's state stays out of the test process) and the two DDP ranks. The other scripts run
# in-process through lossref.watch.main, which is what `python -m lossref.watch` calls.
RUNS = {
    "clean": ("clean.py",),
    "compiled": ("compiled.py",),
}


@pytest.fixture(scope="module")
def in_process():
    """Run `python -m lossref.watch ARGS` in this process: (exception or None, stderr)."""
    results = {}

    def result(*args):
        if args not in results:
            saved = sys.argv[:], sys.path[:], os.getcwd()
            stderr, error = io.StringIO(), None
            try:
                os.chdir(SCRIPTS)
                with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                    lossref.watch.main(list(args))
            except Exception as exc:                            # noqa: BLE001
                error = exc
            finally:
                sys.argv[:], sys.path[:] = saved[0], saved[1]
                os.chdir(saved[2])
            results[args] = (error, stderr.getvalue())
        return results[args]

    return result


@pytest.fixture(scope="module")
def runs():
    """Start every script at once; each test waits for the ones it reads."""
    procs = {name: _start(args[-1], *args[:-1]) for name, args in RUNS.items()}
    port = _free_port()
    for rank in (0, 1):
        env = _env(RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port))
        procs[f"ddp{rank}"] = _start("ddp.py", env=env)
    results = {}

    def result(name):
        if name not in results:
            try:
                out, err = procs[name].communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                procs[name].kill()
                raise
            results[name] = (procs[name].returncode, out, err)
        return results[name]

    yield result
    for p in procs.values():
        if p.poll() is None:
            p.kill()
            p.wait()


def planted(script, which=0):
    """(line number, code) of the script's `which`-th `# PLANTED code` line."""
    lines = [(number, text.split("# PLANTED")[1].split()[0])
             for number, text in enumerate((SCRIPTS / script).read_text().splitlines(), 1)
             if "# PLANTED" in text]
    return lines[which]


def report_lines(stderr, prefix):
    return [line for line in stderr.splitlines() if line.startswith(prefix)]


def test_clean_script_prints_nothing_and_gets_its_arguments(runs):
    code, out, err = runs("clean")
    assert (code, out, err) == (0, "done a b\n", "")      # no runpy RuntimeWarning either


def test_each_finding_at_the_readers_line_once(in_process):
    error, err = in_process("planted.py")
    assert error is None, err
    # the helper's line (functional), the module loss's line, the nan batch's line
    for which in range(3):
        line, finding = planted("planted.py", which)
        hits = report_lines(err, f"planted.py:{line}: warning {finding}: ")
        assert len(hits) == 1, err                          # once per (site, code)
    assert "torch/nn" not in err and "lossref/" not in err
    assert "lossref.watch summary: 3 codes at 3 call sites (30 loss calls watched at 3 sites)" in err
    for which, calls in ((0, "3 calls"), (1, "3 calls"), (2, "3 calls")):
        assert f"    planted.py:{planted('planted.py', which)[0]}  {calls}\n" in err


def test_nan_mid_training(in_process):
    _, err = in_process("planted.py")
    line, finding = planted("planted.py", 2)
    hit = report_lines(err, f"planted.py:{line}: warning {finding}: ")[0]
    assert "first non-finite loss (nan) at call 8 of this site (mse_loss)" in hit
    assert "input holds 1 nan" in hit


def test_raising_call_reports_before_the_exception(in_process):
    error, err = in_process("raises.py")
    line, _ = planted("raises.py")
    assert isinstance(error, RuntimeError) and "Expected target size" in str(error)
    hits = report_lines(err, f"raises.py:{line}: error class-axis-last: ")
    assert len(hits) == 1, err                           # printed before the error went on


def test_strict_stops_at_the_first_finding_in_chinese(in_process):
    error, err = in_process("--strict", "--lang", "zh", "planted.py")
    line, finding = planted("planted.py", 1)          # the first loss call of the run
    assert isinstance(error, lossref.watch.WatchError), err
    assert str(error).startswith(f"planted.py:{line}: warning {finding}: ")
    assert "cross_entropy" in str(error) and any("\u4e00" <= ch <= "\u9fff" for ch in str(error))
    assert str(error) in err.splitlines()             # printed, then raised
    assert "lossref.watch 小结" in err
    assert "scores-to-nll" not in err                  # it stopped before the next loss


def test_lang_from_the_environment(monkeypatch):
    monkeypatch.setenv("LOSSREF_LANG", "zh")
    assert lossref.watch().lang == "zh"
    assert lossref.watch(lang="en").lang == "en"


def test_ddp_each_rank_reports(runs):
    line, finding = planted("ddp.py")
    for rank in (0, 1):
        code, _, err = runs(f"ddp{rank}")
        assert code == 0, err
        hits = report_lines(err, f"ddp.py:{line}: warning {finding}: ")
        assert len(hits) == 1 and hits[0].endswith(f" [rank {rank}]"), err
        # torch's own size warning (stacklevel=2) still points at the reader's line
        assert f"ddp.py:{line}: UserWarning: Using a target size" in err


def test_torch_compile(runs):
    code, out, err = runs("compiled")
    line, finding = planted("compiled.py")
    assert code == 0, err
    assert "graph breaks: 0" in out
    assert len(report_lines(err, f"compiled.py:{line}: warning {finding}: ")) == 1
    assert len(report_lines(err, "compiled.py:")) == 1      # the compiled loss is not watched


# -- in-process -----------------------------------------------------------------------------

def probabilities(seed=0, n=8, c=4):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g).softmax(dim=1), torch.randint(0, c, (n,), generator=g)


def test_with_block_restores_torch_and_matches_diagnose():
    original = F.cross_entropy
    probs, labels = probabilities()
    buffer = io.StringIO()
    with lossref.watch(lang="zh", file=buffer) as w:
        assert F.cross_entropy is not original and w.active
        loss = F.cross_entropy(probs, labels)
    assert F.cross_entropy is original and not w.active
    torch.testing.assert_close(loss, original(probs, labels))
    expected = lossref.diagnose("cross_entropy", probs, labels)[0]
    first = buffer.getvalue().splitlines()[0]
    assert first.endswith(f": warning {expected.code}: {expected.message_zh}")
    assert f"{Path(__file__).name}:" in first


def test_strict_in_process():
    probs, labels = probabilities()
    with pytest.raises(lossref.watch.WatchError) as info, lossref.watch(strict=True,
                                                                         file=io.StringIO()):
        F.cross_entropy(probs, labels)
    assert info.value.finding.code == "softmax-before-cross-entropy"


def test_level_info_shows_notes():
    g = torch.Generator().manual_seed(1)
    logits, labels = torch.randn(6, 3, generator=g), torch.tensor([0, 1, 2, 0, 1, 2])
    weight = torch.tensor([1.0, 2.0, 3.0])
    codes = {f.code for f in lossref.diagnose("cross_entropy", logits, labels, weight=weight)}
    for level in ("warning", "info"):
        buffer = io.StringIO()
        with lossref.watch(level=level, file=buffer):
            F.cross_entropy(logits, labels, weight=weight)
        shown = {c for c in codes if f" info {c}: " in buffer.getvalue()}
        assert shown == (codes if level == "info" else set()), buffer.getvalue()
    assert "weighted-mean-denominator" in codes


def test_max_calls_per_site():
    logits, labels = torch.randn(8, 4), torch.randint(0, 4, (8,))
    probs, _ = probabilities()
    for max_calls, expected in ((3, ""), (4, "softmax-before-cross-entropy")):
        buffer = io.StringIO()
        with lossref.watch(max_calls=max_calls, file=buffer) as w:
            for step in range(5):
                F.cross_entropy(probs if step == 3 else logits, labels)   # one site
        assert ("softmax-before-cross-entropy" in buffer.getvalue()) == bool(expected)
        assert sum(w.calls.values()) == 5 and len(w.calls) == 1


def test_nonfinite_after_max_calls_in_process():
    buffer = io.StringIO()
    x = torch.zeros(4, 3)
    with lossref.watch(max_calls=1, file=buffer):
        for step in range(4):
            x[0, 0] = float("inf") if step >= 2 else 0.0
            F.mse_loss(x, torch.zeros(4, 3))
    text = buffer.getvalue()
    assert text.count("nonfinite-loss:") == 1
    assert "first non-finite loss (inf) at call 3 of this site (mse_loss)" in text
    assert "2 calls" in text                     # the summary counts both non-finite calls


def test_import_lossref_stays_torch_free():
    code = ("import sys, lossref; w = lossref.watch(); assert 'torch' not in sys.modules; "
            "import lossref.watch as m; assert m is lossref.watch and callable(m)")
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(), timeout=TIMEOUT)
