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

When NOTHING that feeds the build changed since that clean build (``_build/.site-sources``: a
digest of the config and toc, every file under ``book/`` (pages, images, the extension, these
tools), lossref's sources (the API page is their docstrings) and the versions above), and
``_build/html`` is still the tree that build wrote (``_build/.site-html``: its files' names,
sizes and times), Sphinx is not started at all: that build's ``_build/html`` and its log stand
(Sphinx itself takes ~12 s to find that nothing changed). Any changed input builds as above.

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
SOURCES = BUILD / ".site-sources"
HTML_STAMP = BUILD / ".site-html"
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


def sources_digest() -> str:
    """Everything the build reads: config, toc, every file under book/, lossref's sources (autodoc)."""
    h = hashlib.sha256(inputs_digest().encode())
    files = [ROOT / "_config.yml", ROOT / "_toc.yml"]
    for top in (ROOT / "book", ROOT / "src" / "lossref"):
        files += sorted(p for p in top.rglob("*") if p.is_file() and not any(
            part in ("__pycache__", ".ipynb_checkpoints") for part in p.parts))
    for path in files:
        h.update(f"\0{path.relative_to(ROOT)}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def html_digest() -> str:
    """The built tree as the build left it: every file's name, size and modification time."""
    h = hashlib.sha256()
    html = BUILD / "html"
    for path in sorted(html.rglob("*")) if html.is_dir() else []:
        if path.is_file():
            st = path.stat()
            h.update(f"{path.relative_to(html)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def up_to_date(digest: str, sources: str) -> bool:
    """The last build ended clean, nothing it reads has changed, and its _build/html is intact."""
    return (all(p.is_file() for p in (STAMP, SOURCES, HTML_STAMP, LOG))
            and STAMP.read_text() == digest and SOURCES.read_text() == sources
            and (BUILD / "html" / "index.html").is_file() and HTML_STAMP.read_text() == html_digest())


def build(fresh: bool = False) -> tuple[int, str, float, str]:
    """(exit code, log, seconds, kind) of one build; kind: "full", "incremental" or "up to date"
    (nothing changed since the last clean build: Sphinx not run, that build's log returned)."""
    start = time.perf_counter()
    digest, sources = inputs_digest(), sources_digest()
    if not fresh and up_to_date(digest, sources):
        return 0, LOG.read_text(encoding="utf-8"), time.perf_counter() - start, "up to date"
    incremental = (not fresh and STAMP.is_file() and STAMP.read_text() == digest
                   and (BUILD / "html" / "index.html").is_file())
    for stamp in (STAMP, SOURCES, HTML_STAMP):
        stamp.unlink(missing_ok=True)
    if not incremental:
        for sub in ("html", ".doctrees"):
            shutil.rmtree(BUILD / sub, ignore_errors=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(ROOT), *FLAGS]
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
        # what this build read (sources hashed before it started: an edit made meanwhile
        # does not match) and the tree it wrote
        SOURCES.write_text(sources)
        HTML_STAMP.write_text(html_digest())
    return proc.returncode, log, seconds, "incremental" if incremental else "full"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="build from scratch")
    args = parser.parse_args(argv)
    how = "from scratch" if args.fresh or not STAMP.is_file() else "incrementally if clean"
    print(f"build_site: building _build/html {how} (log: _build/build.log)", flush=True)
    code, log, seconds, kind = build(fresh=args.fresh)
    if kind == "up to date":
        print("build_site: _build/html is up to date (nothing it is built from changed since "
              "the last clean build): no rebuild", flush=True)
        return code
    print(log[-3000:] if code else log.strip().splitlines()[-1] if log.strip() else "")
    print(f"build_site: {kind} build, exit {code}, {seconds:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
