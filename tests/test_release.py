"""lossref as a release: one version, a wheel and an sdist that twine accepts, and a wheel that
installs alone into a fresh virtual environment and imports without torch (issue 27).

The build runs without isolation (``--no-isolation``: the project's .venv already has setuptools
and ``build``), so the only network use is pip fetching NumPy and ml_dtypes for the fresh
environment, from its cache when warm — what a reader's ``pip install lossref`` does.
"""

from __future__ import annotations

import email
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

import lossref

ROOT = Path(__file__).resolve().parents[1]


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600,
                          **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}"
    return proc


#: what the sdist is built from (a copy, so setuptools' build/ and egg-info stay out of the tree)
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "CITATION.cff", "src")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    tree, out = tmp_path_factory.mktemp("tree"), tmp_path_factory.mktemp("dist")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, tree / name)
    run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", out,
        tree)
    return out


def test_version_is_single_sourced():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in meta and meta["dynamic"] == ["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", lossref.__version__)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{lossref.__version__}]" in changelog, "CHANGELOG.md has no entry for this version"
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert f"version: {lossref.__version__}" in citation


def test_wheel_and_sdist_pass_twine(dist):
    files = sorted(dist.iterdir())
    names = [f.name for f in files]
    assert f"lossref-{lossref.__version__}-py3-none-any.whl" in names
    assert f"lossref-{lossref.__version__}.tar.gz" in names
    run(sys.executable, "-m", "twine", "check", "--strict", *files)


def test_wheel_metadata(dist):
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_string(zf.read(meta_name).decode())
        assert "lossref/py.typed" in zf.namelist()
        assert any(n.endswith("licenses/LICENSE") for n in zf.namelist())
    assert meta["Version"] == lossref.__version__
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["License-Expression"] == "MIT"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().lstrip().startswith("# lossref"), "README is not the long description"
    requires = sorted(r.split(">")[0].split("=")[0].strip() for r in meta.get_all("Requires-Dist")
                      if "extra ==" not in r)
    assert requires == ["ml_dtypes", "numpy"]
    assert meta.get_all("Project-URL"), "no project URLs"
    assert len(meta.get_all("Classifier")) >= 5


def test_wheel_installs_alone_and_imports_without_torch(dist, tmp_path):
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)  # an empty venv: our pip installs into it
    py = env / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", py, "--disable-pip-version-check")
    wheel = next(dist.glob("*.whl"))
    # --no-compile: pip's byte-compiling of every NumPy module (half this test's CPU) is not
    # what is checked; the import below compiles what it imports
    run(*pip, "install", "--quiet", "--no-compile", wheel)
    # what `pip list` lists: the distributions installed in the venv's site-packages
    site = env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    names = sorted(d.metadata["Name"].lower()
                   for d in importlib.metadata.distributions(path=[str(site)]))
    assert "torch" not in names and "lossref" in names, names
    script = ("import sys, numpy as np, lossref, ml_dtypes; "
              "x = np.array([[1, 2], [1, 3]], dtype=ml_dtypes.bfloat16); "
              "print(lossref.__version__, repr(lossref.cross_entropy(x.astype(np.float32), "
              "np.array([0, 1]))), 'torch' in sys.modules)")
    installed_out = run(py, "-c", script, cwd=tmp_path).stdout
    # the same lines from this checkout's lossref, computed here (no second interpreter)
    import ml_dtypes  # here, not at the top: every pytest worker imports the test modules

    x = np.array([[1, 2], [1, 3]], dtype=ml_dtypes.bfloat16)
    with np.printoptions(legacy=False):
        here = (f"{lossref.__version__} "
                f"{lossref.cross_entropy(x.astype(np.float32), np.array([0, 1]))!r} False\n")
    assert installed_out == here and installed_out.split()[-1] == "False", (installed_out, here)
