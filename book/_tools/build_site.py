"""Build the site into ``_build/html``, incrementally when that is safe (``make book``, the tests).

    python book/_tools/build_site.py            # -W -n --keep-going, as CI builds it
    python book/_tools/build_site.py --fresh    # throw away Sphinx's environment first

Sphinx keeps its environment and doctrees in ``_build/.doctrees``: a rebuild with nothing
changed takes seconds, and a changed chapter rebuilds that page. But an incremental build only
reports the warnings of the pages it re-reads, so a warning in an unchanged page would go
unseen. Two rules keep ``-W`` honest:

- the build is incremental only after a CLEAN build (exit 0, no warning) whose inputs other than
  the pages are unchanged: ``_build/.site-ok`` holds a digest of ``_config.yml``, ``_toc.yml``,
  the extension package ``book/_ext`` and the installed jupyter-book/Sphinx versions, written
  only when a build ends clean and removed before every build;
- anything else (no stamp, a failed or interrupted build, a changed config, toc or extension)
  builds from scratch.

A fresh clone (CI) has no ``_build``: it always builds from scratch, warnings of every page
included. The log goes to ``_build/build.log``; the exit code is jupyter-book's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
STAMP = BUILD / ".site-ok"
LOG = BUILD / "build.log"
FLAGS = ["--builder", "html", "-W", "-n", "--keep-going"]


def inputs_digest() -> str:
    """What, besides the pages themselves, decides how every page is built."""
    h = hashlib.sha256()
    files = [ROOT / "_config.yml", ROOT / "_toc.yml"]
    files += sorted(p for p in (ROOT / "book" / "_ext").rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    for dist in ("jupyter-book", "sphinx", "myst-nb", "sphinx-book-theme"):
        try:
            h.update(f"{dist}=={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            pass
    return h.hexdigest()


def build(fresh: bool = False) -> tuple[int, str, float, bool]:
    """(exit code, log, seconds, incremental?) of one ``jupyter-book build``."""
    digest = inputs_digest()
    incremental = (not fresh and STAMP.is_file() and STAMP.read_text() == digest
                   and (BUILD / "html" / "index.html").is_file())
    STAMP.unlink(missing_ok=True)
    if not incremental:
        for sub in ("html", ".doctrees"):
            shutil.rmtree(BUILD / sub, ignore_errors=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(ROOT), *FLAGS]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8",
                          errors="replace", timeout=1800,
                          env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    seconds = time.perf_counter() - start
    log = proc.stdout + "\n" + proc.stderr
    BUILD.mkdir(exist_ok=True)
    LOG.write_text(log, encoding="utf-8")
    clean = proc.returncode == 0 and not re.search(r"\bWARNING\b|\bERROR\b", log)
    if clean:
        STAMP.write_text(digest)
    return proc.returncode, log, seconds, incremental


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="build from scratch")
    args = parser.parse_args(argv)
    kind = "from scratch" if args.fresh or not STAMP.is_file() else "incrementally if clean"
    print(f"build_site: building _build/html {kind} (log: _build/build.log)", flush=True)
    code, log, seconds, incremental = build(fresh=args.fresh)
    print(log[-3000:] if code else log.strip().splitlines()[-1] if log.strip() else "")
    print(f"build_site: {'incremental' if incremental else 'full'} build, exit {code}, "
          f"{seconds:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
