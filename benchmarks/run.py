"""lossref against torch: time per call and peak memory, written to benchmarks/results.json.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/run.py``); about a minute on two cores.

For every loss (BCE, BCEWithLogits, cross-entropy with class indices, cross-entropy with
weight + label smoothing + ignore_index, cross-entropy with probability targets, NLL) at
1e3 … 1e7 input elements, float32 and float64 (cross-entropy and NLL also with 100 classes at
1e6 and 1e7), and for cross-entropy at language-model shapes:

* lossref's time, torch's time with ``torch.set_num_threads(1)`` and with its default threads,
  each the best of several interleaved rounds after a warm-up (``time.perf_counter``);
* the ratio lossref / torch-1-thread (the per-core comparison: NumPy runs on one core);
* lossref's peak traced memory (``tracemalloc``) per byte of the input array;
* the largest relative difference between lossref's and torch's result (a sanity check).

``--readme`` prints the Markdown table for README.md from the stored results without timing.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on some machines and pin NumPy's OpenBLAS to
# an older kernel; benchmark without them (this process only: re-execute once without both).
_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _BLAS_VARS) and "--readme" not in sys.argv:
    env = {k: v for k, v in os.environ.items() if k not in _BLAS_VARS}
    env["LOSSREF_BENCH_UNSET"] = ",".join(f"{v}={os.environ[v]}" for v in _BLAS_VARS
                                          if v in os.environ)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
sys.path.insert(0, str(HERE.parent / "src"))
import lossref  # noqa: E402

SIZES = [10**3, 10**4, 10**5, 10**6, 10**7]
CLASSES = 1000          # (N, C) shapes of the sweep: N = size / C
SMALL_CLASSES = 100     # a second class count at 1e6 and 1e7, where NumPy's per-row overhead shows
LM_SHAPES = [(8192, 1024), (2048, 32000), (512, 128000)]
DTYPES = ["float32", "float64"]
TOL = {"float32": 2e-5, "float64": 1e-9}   # the parity tests' rtol
ROUNDS = 7              # interleaved rounds; each round times lossref, torch-1, torch-default
MIN_SAMPLE = 0.02       # seconds: small cases repeat the call until one sample takes this long

LOSSES = {
    "bce": "BCE",
    "bce_logits": "BCEWithLogits",
    "ce": "CE, class indices",
    "ce_w_ls_ii": "CE, weight + label_smoothing + ignore_index",
    "ce_probs": "CE, probability targets",
    "nll": "NLL",
}


# ----------------------------------------------------------------------------- the cases
def make_case(loss: str, shape: tuple, dtype: str, seed: int = 0):
    """Inputs for one case and the two calls: ``(x, lossref_call, torch_call)``."""
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    n_el = math.prod(shape)
    if loss in ("bce", "bce_logits"):
        if loss == "bce":
            x = rng.uniform(0.01, 0.99, n_el).astype(dt)
        else:
            x = (rng.standard_normal(n_el, dtype=np.float32) * 3).astype(dt)
        y = (rng.random(n_el, dtype=np.float32) < 0.5).astype(dt)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        if loss == "bce":
            return (x, lambda: lossref.binary_cross_entropy(x, y),
                    lambda: F.binary_cross_entropy(tx, ty))
        return (x, lambda: lossref.binary_cross_entropy_with_logits(x, y),
                lambda: F.binary_cross_entropy_with_logits(tx, ty))

    n, c = shape
    x = (rng.standard_normal(shape, dtype=np.float32) * 2).astype(dt)
    target = rng.integers(0, c, n)
    tx, tt = torch.from_numpy(x), torch.from_numpy(target)
    if loss == "ce":
        return x, (lambda: lossref.cross_entropy(x, target)), (lambda: F.cross_entropy(tx, tt))
    if loss == "ce_w_ls_ii":
        target[rng.random(n) < 0.1] = -100
        w = rng.uniform(0.5, 2.0, c).astype(dt)
        tw = torch.from_numpy(w)
        return (x, lambda: lossref.cross_entropy(x, target, weight=w, ignore_index=-100,
                                                 label_smoothing=0.1),
                lambda: F.cross_entropy(tx, tt, weight=tw, ignore_index=-100, label_smoothing=0.1))
    if loss == "ce_probs":
        probs = np.exp(rng.standard_normal(shape, dtype=np.float32)).astype(dt)
        probs /= probs.sum(axis=1, keepdims=True)
        tp = torch.from_numpy(probs)
        return x, (lambda: lossref.cross_entropy(x, probs)), (lambda: F.cross_entropy(tx, tp))
    if loss == "nll":
        logp = (x - np.log(np.exp(x).sum(axis=1, keepdims=True))).astype(dt)
        tl = torch.from_numpy(logp)
        return logp, (lambda: lossref.nll_loss(logp, target)), (lambda: F.nll_loss(tl, tt))
    raise ValueError(loss)


def cases():
    """(group, loss, shape, dtype) in the order they run."""
    out = []
    for dtype in DTYPES:
        for loss in LOSSES:
            for size in SIZES:
                shape = (size,) if loss.startswith("bce") else (max(size // CLASSES, 1), CLASSES)
                out.append(("sweep", loss, shape, dtype))
    for dtype in DTYPES:
        for loss in ("ce", "ce_w_ls_ii", "ce_probs", "nll"):
            for size in (10**6, 10**7):
                shape = (size // SMALL_CLASSES, SMALL_CLASSES)
                out.append((f"C={SMALL_CLASSES}", loss, shape, dtype))
    for shape in LM_SHAPES:
        out.append(("lm", "ce", shape, "float32"))
    return out


# ----------------------------------------------------------------------------- measuring
def calls_per_sample(fn) -> int:
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    return max(1, math.ceil(MIN_SAMPLE / max(once, 1e-7)))


def best_interleaved(variants: dict, rounds: int) -> dict:
    """Best seconds per call of each variant; each round runs every variant once, in turn."""
    import torch

    numbers = {}
    for name, (fn, threads) in variants.items():   # warm-up, and how many calls make a sample
        torch.set_num_threads(threads)
        fn()
        numbers[name] = calls_per_sample(fn)
    best = {name: math.inf for name in variants}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, (fn, threads) in variants.items():
                torch.set_num_threads(threads)
                k = numbers[name]
                start = time.perf_counter()
                for _ in range(k):
                    fn()
                best[name] = min(best[name], (time.perf_counter() - start) / k)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


def peak_memory(fn) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def relative_difference(ours, theirs) -> float:
    ours = float(np.asarray(ours, dtype=np.float64))
    theirs = float(theirs.double())
    return abs(ours - theirs) / max(abs(theirs), 1e-300)


# ----------------------------------------------------------------------------- the machine
def cpu_model() -> str:
    info = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    name = info.get("model name", platform.machine())
    if "cpu family" in info:
        name += f" (family {info['cpu family']}, model {info.get('model', '?')})"
    return name


def blas_kernel() -> str:
    """The OpenBLAS kernel NumPy runs (threadpoolctl if installed, else asked via ctypes)."""
    try:
        from threadpoolctl import threadpool_info
        blas = [f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')}, "
                f"{d.get('num_threads')} threads" for d in threadpool_info()
                if d.get("user_api") == "blas"]
        return "; ".join(blas) or "no BLAS found by threadpoolctl"
    except ImportError:
        pass
    try:
        import ctypes
        libs = sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("libscipy_openblas*"))
        lib = ctypes.CDLL(str(libs[0]))
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename"):
            if hasattr(lib, name):
                fn = getattr(lib, name)
                fn.restype = ctypes.c_char_p
                return f"OpenBLAS kernel {fn().decode()} (threadpoolctl not installed)"
    except (IndexError, OSError, AttributeError):
        pass
    return "unknown (threadpoolctl not installed): skipped"


def machine() -> dict:
    import torch

    simd = np.show_config(mode="dicts").get("SIMD Extensions", {})
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "numpy_simd_baseline": simd.get("baseline", []),
        "numpy_simd_found": simd.get("found", []),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_default_threads": torch.get_num_threads(),
        "numpy_blas_kernel": blas_kernel(),
        "unset_for_this_run": os.environ.get("LOSSREF_BENCH_UNSET", ""),
    }


# ----------------------------------------------------------------------------- reporting
def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def shape_text(shape) -> str:
    return "×".join(str(d) for d in shape)


def print_table(rows) -> None:
    head = (f"{'loss':<44} {'dtype':<8} {'shape':<13} {'lossref':>10} {'torch 1t':>10} "
            f"{'torch Nt':>10} {'ratio':>6} {'peak/in':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{LOSSES[r['loss']]:<44} {r['dtype']:<8} {shape_text(r['shape']):<13} "
              f"{fmt_time(r['lossref_s']):>10} {fmt_time(r['torch_1t_s']):>10} "
              f"{fmt_time(r['torch_default_s']):>10} {r['ratio_1t']:>6.2f} "
              f"{r['peak_per_input_byte']:>7.2f}")


def readme_table(data: dict) -> str:
    """README.md's Markdown tables: each loss and dtype at 1e6 and 1e7 elements; the LM shapes."""
    m = data["machine"]
    threads = m["torch_default_threads"]
    rows = {(r["group"], r["loss"], r["dtype"], r["elements"]): r for r in data["results"]}

    def ratio(r):
        return f"**{r['ratio_1t']:.2f}**" if r["ratio_1t"] > 1 else f"{r['ratio_1t']:.2f}"

    lines = [
        f"`make bench` on {m['cpu']}, {m['cores']} cores, NumPy {m['numpy']}, torch {m['torch']}; "
        f"reduction='mean', best of {data['settings']['rounds']} interleaved rounds. "
        "*ratio* = lossref time / torch time with `torch.set_num_threads(1)` (NumPy uses one "
        "core; **bold** = lossref slower); *peak* = lossref's peak traced memory per byte of "
        f"input. BCE inputs are 1-D; CE and NLL inputs are (N, {data['settings']['classes']}).",
        "",
        "| loss | dtype | 10⁶: lossref | torch | ratio | 10⁷: lossref | torch | ratio | peak |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for dtype in DTYPES:
        for loss, label in LOSSES.items():
            a, b = rows[("sweep", loss, dtype, 10**6)], rows[("sweep", loss, dtype, 10**7)]
            lines.append(f"| {label} | {dtype} | {fmt_time(a['lossref_s'])} | "
                         f"{fmt_time(a['torch_1t_s'])} | {ratio(a)} | {fmt_time(b['lossref_s'])} | "
                         f"{fmt_time(b['torch_1t_s'])} | {ratio(b)} | "
                         f"{max(a['peak_per_input_byte'], b['peak_per_input_byte']):.2f} |")
    lines += [
        "",
        "Cross-entropy with class indices at language-model shapes (float32):",
        "",
        f"| (N, C) | lossref | torch, 1 thread | torch, {threads} threads | ratio | peak |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in data["results"]:
        if r["group"] == "lm":
            lines.append(f"| {shape_text(r['shape'])} | {fmt_time(r['lossref_s'])} | "
                         f"{fmt_time(r['torch_1t_s'])} | {fmt_time(r['torch_default_s'])} | "
                         f"{ratio(r)} | {r['peak_per_input_byte']:.2f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def run(only: str | None = None, rounds: int = ROUNDS, out: Path = RESULTS) -> dict:
    import torch

    default_threads = torch.get_num_threads()
    info = machine()
    print("machine:")
    for key, value in info.items():
        print(f"  {key}: {value}")
    todo = [c for c in cases() if only is None or c[1] == only]
    rows = []
    t0 = time.perf_counter()
    for i, (group, loss, shape, dtype) in enumerate(todo, 1):
        x, ours, theirs = make_case(loss, shape, dtype)
        n_el = math.prod(shape)
        big = n_el > 2 * 10**7
        torch.set_num_threads(1)
        diff = relative_difference(ours(), theirs())
        best = best_interleaved({"lossref": (ours, 1), "torch_1t": (theirs, 1),
                                 "torch_default": (theirs, default_threads)},
                                rounds=max(2, rounds - 2) if big else rounds)
        peak = peak_memory(ours)
        row = {
            "group": group, "loss": loss, "label": LOSSES[loss], "dtype": dtype,
            "shape": list(shape), "elements": n_el, "input_bytes": int(x.nbytes),
            "lossref_s": best["lossref"], "torch_1t_s": best["torch_1t"],
            "torch_default_s": best["torch_default"],
            "ratio_1t": best["lossref"] / best["torch_1t"],
            "peak_bytes": int(peak), "peak_per_input_byte": peak / x.nbytes,
            "rel_diff_vs_torch": diff, "within_test_tolerance": diff <= TOL[dtype],
        }
        rows.append(row)
        flag = "" if row["within_test_tolerance"] else f"  !! differs from torch by {diff:.2e}"
        print(f"[{i:3d}/{len(todo)} {time.perf_counter() - t0:6.1f}s] {group:<6} {loss:<11} "
              f"{dtype:<8} {shape_text(shape):<13} lossref {fmt_time(row['lossref_s']):>10}  "
              f"torch-1 {fmt_time(row['torch_1t_s']):>10}  torch-{default_threads} "
              f"{fmt_time(row['torch_default_s']):>10}  ratio {row['ratio_1t']:5.2f}  "
              f"peak/in {row['peak_per_input_byte']:5.2f}{flag}", flush=True)
        del x, ours, theirs
    torch.set_num_threads(default_threads)
    data = {"machine": info,
            "settings": {"rounds": rounds, "min_sample_seconds": MIN_SAMPLE, "reduction": "mean",
                         "classes": CLASSES, "small_classes": SMALL_CLASSES,
                         "total_seconds": round(time.perf_counter() - t0, 1)},
            "results": rows}
    print()
    print_table(rows)
    print(f"\n{len(rows)} cases in {data['settings']['total_seconds']} s")
    if only is None:
        out.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {out}")
        if out == RESULTS:
            print("chapter 18 of the book plots this file: run `make execute` to refresh its "
                  "stored outputs, and `python benchmarks/run.py --readme` for README.md's table")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true",
                        help="print README.md's Markdown table from results.json and exit")
    parser.add_argument("--only", choices=sorted(LOSSES), help="one loss only (results not saved)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="the results file to write (or to read, with --readme)")
    args = parser.parse_args()
    if args.readme:
        print(readme_table(json.loads(args.out.read_text())))
        return
    run(args.only, args.rounds, args.out.resolve())


if __name__ == "__main__":
    main()
