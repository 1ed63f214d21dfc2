"""The notebooks' kernel under `make test` (tests/kernels/lossref-warm): a kernel forked from the
zygote must look, to the notebook, like the kernel `--nbval-current-env` starts — same folder,
sys.argv, sys.path, environment, matplotlib backend and settings, warning filters, torch's
threads, displayed figures, what torch._dynamo changes when an optimizer first imports it (but
two documented traces), interrupt — and must never outlive its launcher; without a zygote,
or in a folder with a matplotlibrc (read when matplotlib is imported), the launcher is an
ordinary kernel."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jupyter_client
import pytest

HERE = Path(__file__).parent
#: What the kernel spec adds to a kernel's environment (OMP_NUM_THREADS): the zygote gets it too,
#: as tests/nbkernel.py starts it, and so does the ordinary kernel it is compared with.
SPEC_ENV = json.loads((HERE / "kernels" / "lossref-warm" / "kernel.json").read_text())["env"]
SERVE = [sys.executable, str(HERE / "kernels" / "lossref-warm" / "warm_kernel.py"), "serve"]
PROBE = """\
import json, os, sys
print(json.dumps({"cwd": os.getcwd(), "argv0": os.path.basename(sys.argv[0]),
                  "path0": sys.path[0], "main": sys.modules["__main__"].__name__,
                  "env": {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "IPY_"))},
                  "pid": os.getpid()}))
"""
#: What the notebooks' first cell imports, and the state it leaves: the zygote imported these
#: modules before any kernel existed, so they must come out the same as imported in a kernel.
AFTER_IMPORTS = """\
import json, sys, warnings
import numpy as np, torch, matplotlib, matplotlib.pyplot as plt
from lossref.notebook import use_book_figures
rc_before = {k: repr(v) for k, v in matplotlib.rcParams.items()}
use_book_figures()


def pattern(p):
    return getattr(p, "pattern", p)  # a compiled message or module pattern, a string, None


print(json.dumps({
    "backend": matplotlib.get_backend(), "rc_before": rc_before,
    "rc": {k: repr(v) for k, v in matplotlib.rcParams.items()},
    "filters": sorted(repr((a, pattern(m), f"{c.__module__}.{c.__qualname__}", pattern(mod), n))
                      for a, m, c, mod, n in warnings.filters),
    "threads": [torch.get_num_threads(), torch.get_num_interop_threads()],
    "printoptions": repr(np.get_printoptions()), "path": sys.path,
}))
"""

#: Then an optimizer, whose first call imports torch._dynamo (the zygote imported it already).
AFTER_DYNAMO = """\
import os
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1).step()
print(json.dumps({
    "filters": sorted(repr((a, pattern(m), f"{c.__module__}.{c.__qualname__}", pattern(mod), n))
                      for a, m, c, mod, n in warnings.filters),
    "env": {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "IPY_"))},
}))
"""
#: What importing torch._dynamo leaves in a fresh kernel and not in a warm one (warm_kernel.py's
#: _import_without_traces says why).
DYNAMO_TRACES = {
    "filters": {repr(("once", None, "sympy.utilities.exceptions.SymPyDeprecationWarning", None, 0))},
    "env": {"TORCHINDUCTOR_CACHE_DIR"},
}


def start(name, cwd):
    km = jupyter_client.KernelManager(kernel_name=name)
    km.start_kernel(cwd=str(cwd), env={**os.environ, **SPEC_ENV})
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def run(kc, code, timeout=60):
    """The cell's stdout, its display data's MIME types and its error name (or None)."""
    out, mimes, error = [], [], None

    def hook(msg):
        nonlocal error
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "display_data":
            mimes.extend(content["data"])
        elif kind == "error":
            error = content["ename"]

    kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    return "".join(out), mimes, error


def assert_exits(pid: int, seconds: float, message: str) -> None:
    """Wait until process ``pid`` has exited (gone, or a zombie nobody reaps), at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if "zombie" in Path(f"/proc/{pid}/status").read_text().lower():
                return
        except FileNotFoundError:
            return
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zygote")
    path = folder / "z.sock"
    saved = {k: os.environ.get(k) for k in ("LOSSREF_WARM_KERNEL", "JUPYTER_PATH")}
    os.environ["LOSSREF_WARM_KERNEL"] = str(path)
    os.environ["JUPYTER_PATH"] = str(HERE)
    log = folder / "zygote.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([*SERVE, str(path), str(os.getpid())],
                                   stdin=subprocess.DEVNULL, stderr=stderr,
                                   env={**os.environ, **SPEC_ENV})
    deadline = time.monotonic() + 120
    while not path.exists() or not log.read_text().endswith("\n"):
        assert process.poll() is None and time.monotonic() < deadline, "the zygote did not start"
        time.sleep(0.01)
    # it listens before it imports (the first kernel, the next test's, is asked for meanwhile):
    # the zygote says what it had imported when it began to listen, whatever the test's timing
    first = log.read_text().splitlines()[0]
    process.imported_torch_before_listening = first != "listening; torch imported: False"
    yield process
    process.terminate()
    process.wait(timeout=10)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_forked_kernel_looks_like_a_fresh_one(zygote, tmp_path):

    seen = {}
    for name in ("lossref-warm", "python3"):
        km, kc = start(name, tmp_path)
        try:
            text, _, error = run(kc, "import sys\nwarm = 'torch' in sys.modules\n" + PROBE)
            assert error is None
            seen[name] = json.loads(text)
            seen[name]["warm"] = run(kc, "print(warm)")[0].strip()
            text, _, error = run(kc, AFTER_IMPORTS)
            assert error is None, text
            seen[name].update(json.loads(text))
            _, mimes, error = run(kc, "plt.plot([1, 2])\nplt.show()")
            assert error is None and "image/png" in mimes, mimes  # the inline backend shows it
            seen[name]["mimes"] = mimes
            text, _, error = run(kc, AFTER_DYNAMO)
            assert error is None, text
            seen[name]["dynamo"] = json.loads(text)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    warm, fresh = seen["lossref-warm"], seen["python3"]
    assert (warm["warm"], fresh["warm"]) == ("True", "False")  # forked, and not
    assert not zygote.imported_torch_before_listening  # so that first kernel waited for it
    assert fresh["backend"] == "module://matplotlib_inline.backend_inline"
    assert fresh["threads"][0] == 1  # OMP_NUM_THREADS=1, from the kernel spec
    for key in ("cwd", "argv0", "path0", "main", "env", "backend", "rc_before", "rc", "filters",
                "threads", "printoptions", "path", "mimes"):
        assert warm[key] == fresh[key], (key, warm[key], fresh[key])
    assert warm["cwd"] == str(tmp_path)
    warm, fresh = warm["dynamo"], fresh["dynamo"]
    assert set(fresh["filters"]) - set(warm["filters"]) == DYNAMO_TRACES["filters"]
    assert set(warm["filters"]) <= set(fresh["filters"])
    # a trace the launching process has already (its own dynamo import) both kernels inherit
    traces = DYNAMO_TRACES["env"] - set(os.environ) - set(SPEC_ENV)
    assert set(fresh["env"]) - set(warm["env"]) == traces
    assert warm["env"] == {k: v for k, v in fresh["env"].items() if k not in traces}


def test_interrupt_reaches_the_kernel_and_a_killed_launcher_takes_it_along(zygote, tmp_path):

    km, kc = start("lossref-warm", tmp_path)
    try:
        pid = json.loads(run(kc, PROBE)[0])["pid"]
        assert pid != km.provisioner.pid  # the kernel is the zygote's child, not the launcher
        kc.execute("import time\ntime.sleep(60)")
        time.sleep(1)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    finally:
        kc.stop_channels()
        km.provisioner.process.send_signal(signal.SIGKILL)  # as nbval's shutdown(now=True) does
        km.provisioner.process.wait()
    assert_exits(pid, 30, "the kernel outlived its killed launcher")
    km.cleanup_resources()


def test_without_a_zygote_the_launcher_is_an_ordinary_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(HERE))
    monkeypatch.setenv("LOSSREF_WARM_KERNEL", str(tmp_path / "nobody-listens.sock"))
    km, kc = start("lossref-warm", tmp_path)
    try:
        text, _, error = run(kc, "import os, sys\nprint('torch' in sys.modules, os.getppid())")
        assert error is None
        warm, parent = text.split()
        assert warm == "False" and int(parent) == os.getpid()  # jupyter_client's own child
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_the_zygote_exits_with_the_process_that_started_it(tmp_path):
    path = tmp_path / "z.sock"
    starter = subprocess.Popen(  # a parent that starts a zygote, prints its pid and exits
        [sys.executable, "-c", ("import os, subprocess; "
         f"p = subprocess.Popen({[*SERVE, str(path)]!r} + [str(os.getpid())], "
         "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL); print(p.pid)")],
        stdout=subprocess.PIPE, text=True)
    pid = int(starter.communicate(timeout=60)[0])
    assert_exits(pid, 120, "the zygote outlived the process that started it")


def test_a_folder_with_a_matplotlibrc_gets_a_fresh_kernel(zygote, tmp_path):
    # matplotlib reads ./matplotlibrc when imported; the zygote imported it elsewhere
    (tmp_path / "matplotlibrc").write_text("lines.linewidth: 7\n")
    km, kc = start("lossref-warm", tmp_path)
    try:
        text, _, error = run(kc, "import sys, matplotlib\n"
                                 "print('torch' in sys.modules, matplotlib.rcParams['lines.linewidth'])")
        assert error is None and text.split() == ["False", "7.0"], text
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

