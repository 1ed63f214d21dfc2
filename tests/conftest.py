"""pytest configuration shared by every test file.

Under CI (the environment variable ``CI`` is set, as ``.ci/run`` runs), hypothesis draws the
same examples on every run (``derandomize``), so a submission's result does not depend on the
random examples of that run; locally each run explores new examples. Hypothesis prints the
reproducing blob of any failure either way.

The constants the test files share (DTYPES, REDUCTIONS, the hypothesis settings of n examples,
``examples(n)``, inheriting this profile) and the torch oracle live in oracle.py: one test file
per source module (test_binary.py for binary.py, ...) imports them from there.
"""

import os
import sys

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: training scripts that tests/test_watch.py runs under lossref.watch: never import them here
#: (`--doctest-modules` would run them: one starts a process group, one raises on purpose)
collect_ignore_glob = ["watch_scripts/*.py", "kernels/*"]



def pytest_runtest_setup(item) -> None:
    """torch on one thread in each test process (set once, as soon as a test module has
    imported torch): `make test` runs one pytest worker per core, and torch's default of one
    OpenMP thread per core on top of that only makes the threads wait for each other (its
    tiny oracle tensors gain nothing from a second thread: 10x the CPU time measured on 2
    cores). What a test compares is the same: its subprocesses and notebook kernels keep
    their own defaults, and a test that wants a thread count sets it itself."""
    torch = sys.modules.get("torch")
    if torch is not None and not _ONE_THREAD:
        torch.set_num_threads(1)
        _ONE_THREAD.append(True)


_ONE_THREAD: list = []
