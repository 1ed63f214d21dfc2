"""Execute book notebooks in place, in order, with the project's kernel; store the outputs.

    python book/_tools/execute.py                 # every notebook listed in _toc.yml
    python book/_tools/execute.py book/en/01_*.ipynb   # just these

Each notebook runs in a fresh kernel with its own folder as the working directory,
exactly as nbval re-runs it, so the stored outputs are the ones nbval compares.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import toc   # book/_tools/toc.py, beside this script

ROOT = Path(__file__).resolve().parents[2]


def toc_notebooks() -> list[Path]:
    """Every ``.ipynb`` file named in ``_toc.yml``, in reading order."""
    return [ROOT / f"{name}.ipynb" for name in toc.docnames() if not (ROOT / f"{name}.md").exists()]


def execute(path: Path) -> tuple[Path, float, int]:
    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(nb, path)
    n_code = sum(cell.cell_type == "code" for cell in nb.cells)
    return path, time.perf_counter() - start, n_code


def main(argv: list[str]) -> int:
    paths = [Path(p).resolve() for p in argv] if argv else toc_notebooks()
    missing = [p for p in paths if not p.exists()]
    if missing:
        print("missing notebooks:", *missing, sep="\n  ", file=sys.stderr)
        return 1
    print(f"executing {len(paths)} notebook(s) with 2 workers", flush=True)
    failed = 0
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = {pool.submit(execute, p): p for p in paths}
        for i, future in enumerate(futures, 1):
            path = futures[future]
            rel = path.relative_to(ROOT)
            try:
                _, seconds, n_code = future.result()
                print(f"[{i}/{len(paths)}] {rel}: {n_code} code cells in {seconds:.1f} s", flush=True)
            except Exception as exc:  # report every failing notebook, then fail
                failed += 1
                print(f"[{i}/{len(paths)}] {rel}: FAILED\n{exc}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
