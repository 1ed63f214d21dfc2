"""pytest plugin (``-p tests.nbkernel``, as `make test` loads it): the notebooks' kernel.

With ``--nbval-kernel-name lossref-warm`` each notebook runs in a fresh process forked from a
zygote that has imported torch once per pytest worker, instead of a kernel that imports it
again (tests/kernels/lossref-warm/warm_kernel.py says how and why). This plugin makes the
kernel spec findable (``JUPYTER_PATH``), starts each worker's zygote when the worker's session
starts (a kernel asked for while the zygote still imports waits for it) and stops
it when the session finishes (if a worker dies instead, its zygote notices and exits).
A plugin rather than hooks in tests/conftest.py, which would see only the items under tests/.

The kernel spec gives its kernels one OpenMP thread (``OMP_NUM_THREADS=1`` in kernel.json, as
the Makefile gives NumPy's BLAS one): the pytest workers keep every core busy already, and a
kernel's torch threads then only spin against them (chapter 4's 400 SGD steps took 3 core-s
and 14 s on two threads of a busy 2-core machine, 0.1 core-s on one). The notebooks print the
same either way.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# (nbval's costly rfc3987_syntax import is deferred by tests/quickstart.py, loaded before this)

KERNEL = "lossref-warm"
HERE = Path(__file__).parent
_zygote: dict = {}


def kernel_environment() -> dict:
    """The environment jupyter_client gives this kernel spec's launcher: ours, then the spec's."""
    spec = json.loads((HERE / "kernels" / KERNEL / "kernel.json").read_text())
    return {**os.environ, **spec.get("env", {})}


def pytest_configure(config) -> None:
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(HERE), os.environ.get("JUPYTER_PATH")) if p)


def pytest_sessionstart(session) -> None:
    config = session.config
    controller = not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None)
    if getattr(config.option, "nbval_kernel_name", None) != KERNEL or controller:
        return  # no notebooks in this kernel, or xdist's controller (its workers run them)
    folder = Path(tempfile.mkdtemp(prefix="lossref-kernel-"))
    path = folder / "zygote.sock"
    log = open(folder / "zygote.log", "wb")  # noqa: SIM115 (open while the zygote runs)
    os.environ["LOSSREF_WARM_KERNEL"] = str(path)  # the zygote and every launcher from now on
    process = subprocess.Popen(
        [sys.executable, str(HERE / "kernels" / KERNEL / "warm_kernel.py"), "serve", str(path),
         str(os.getpid())],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=folder,
        env=kernel_environment())  # as jupyter_client passes it (not C-level setenv()s)
    _zygote.update(process=process, folder=folder, log=log)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session) -> None:  # in each xdist worker too (unconfigure is not)
    if not _zygote:
        return
    process = _zygote["process"]
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _zygote["log"].close()
    shutil.rmtree(_zygote["folder"], ignore_errors=True)
    _zygote.clear()
