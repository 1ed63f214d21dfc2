"""Binder's configuration agrees with requirements.txt and installs torch's CPU-only wheel."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

from book_toc import ROOT

BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def requirements(path) -> tuple[dict[str, Requirement], list[str]]:
    """(name -> requirement, pip options) of a requirements file (comments and -e lines aside)."""
    reqs, options = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            options.append(line)
            continue
        req = Requirement(line)
        reqs[req.name.lower()] = req
    return reqs, options


def test_binder_installs_the_cpu_wheel_of_the_pinned_torch():
    binder, options = requirements(BINDER / "requirements.txt")
    main, _ = requirements(ROOT / "requirements.txt")
    assert any(o.split()[0] in ("--extra-index-url", "--index-url") and o.split()[-1] == CPU_INDEX
               for o in options), f"binder/requirements.txt does not use {CPU_INDEX}: {options}"
    (pin,) = [s for s in binder["torch"].specifier if s.operator == "=="]
    (main_pin,) = [s for s in main["torch"].specifier if s.operator == "=="]
    assert Version(pin.version).local == "cpu", f"binder pins torch {pin}, not a +cpu wheel"
    assert Version(pin.version).public == Version(main_pin.version).public, \
        f"torch {pin.version} in binder/, {main_pin.version} in requirements.txt"


def test_binder_pins_agree_with_requirements():
    binder, _ = requirements(BINDER / "requirements.txt")
    main, _ = requirements(ROOT / "requirements.txt")
    for name, req in binder.items():
        assert name in main, f"binder installs {name}, which requirements.txt does not have"
        if name != "torch":
            assert req.specifier == main[name].specifier, \
                f"{name}: {req.specifier} in binder/, {main[name].specifier} in requirements.txt"


def test_binder_has_what_the_notebooks_import():
    """The package's own dependencies, its [book] extra, torch and a kernel; the package itself
    is installed by postBuild (repo2docker installs requirements before copying the repo)."""
    binder, _ = requirements(BINDER / "requirements.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    needed = [Requirement(r).name.lower() for r in
              project["dependencies"] + project["optional-dependencies"]["book"]]
    missing = sorted(set(needed + ["torch", "ipykernel", "jupyterlab"]) - set(binder))
    assert not missing, f"binder/requirements.txt lacks {missing}"
    post = (BINDER / "postBuild").read_text(encoding="utf-8")
    assert re.search(r"pip install .*-e \.", post), "binder/postBuild does not install the package"
    assert (BINDER / "postBuild").stat().st_mode & 0o111, "binder/postBuild is not executable"
