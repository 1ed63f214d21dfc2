"""lossref against torch: time per call and peak memory, written to benchmarks/results.json.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/run.py``); about six minutes on two cores (215 cases).

For every loss (BCE, BCEWithLogits, cross-entropy with class indices, cross-entropy with
weight + label smoothing + ignore_index, cross-entropy with probability targets, NLL) at
1e3 … 1e7 input elements, float32 and float64 (cross-entropy and NLL also with 100 classes at
1e6 and 1e7), and for cross-entropy at language-model shapes:

* lossref's time (NumPy's BLAS on one thread, ``OPENBLAS_NUM_THREADS=1``), torch's time with
  ``torch.set_num_threads(1)`` and with its default threads,
  each the best of several interleaved rounds after a warm-up (``time.perf_counter``);
* all of it twice, in two worker processes that differ only in glibc's allocator settings:
  ``default`` (as a user gets it: buffers above the mmap threshold are mmapped, so a large fresh
  output such as torch's (N, C) log-softmax is page-faulted on every call) and ``kept``
  (``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set high, so malloc keeps and reuses
  that memory: torch's best case). The workers take turns case by case;
* the ratio lossref / torch-1-thread in the default state, and against torch's best: lossref's
  faster state over torch's faster state (the per-core comparison: NumPy runs on one core);
* CTC at three (frames, sequences, classes, target length) shapes and linear_cross_entropy at a
  language-model head (2048 tokens, hidden 256, 32 000 classes), forward only; the latter's peak
  is per byte of the logits it never builds;
* every loss of torch.nn (all 22) at one realistic size — 4·10⁶ elements, or (8192, 512)
  logits, (8192, 256) triplets, CTC at T=100, N=32, C=40, S=30, linear cross-entropy 512 × 256
  → 32000 — forward only and as loss + gradient (torch's forward + autograd backward against
  lossref's forward + ``lossref.grad``), printed as one ratio table; and the same 22 again at
  about 10⁴ and 10⁵ elements (``SMALL_SIZES``), where a call's fixed cost counts;
* what glibc's malloc does with PyTorch's (8192, 1024) log-softmax in each allocator state, and
  whether PyTorch and NumPy ask for huge pages (``PROBE``, in fresh processes; ``--probe`` runs
  only this and stores it in results.json);
* a few NumPy micro-measurements that chapter 18 quotes (a fresh vs a reused 40 MB array,
  ``np.exp`` per element, row sums with ``einsum`` vs ``sum``, ``np.minimum`` with a scalar vs an
  array, ``np.max`` over rows of 100 vs 1000), so no number in the chapter is typed in;
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
import subprocess
import sys
import time
import tracemalloc
import types
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
#: glibc allocator settings of the two worker processes (environment variables, read at start-up)
ALLOCATORS = {
    "default": {},
    "kept": {"MALLOC_MMAP_THRESHOLD_": str(2**32), "MALLOC_TRIM_THRESHOLD_": str(2**32)},
}
_MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

LOSSES = {
    "bce": "BCE",
    "bce_logits": "BCEWithLogits",
    "ce": "CE, class indices",
    "ce_w_ls_ii": "CE, weight + label_smoothing + ignore_index",
    "ce_probs": "CE, probability targets",
    "nll": "NLL",
    "ctc": "CTC",
    "lce": "linear_cross_entropy",
}
SWEEP_LOSSES = ("bce", "bce_logits", "ce", "ce_w_ls_ii", "ce_probs", "nll")
#: every loss of torch.nn at one realistic size (issue 29): 4·10⁶ elements, or the shape given;
#: each timed forward only and as loss + gradient (torch: forward + autograd backward; lossref:
#: the forward + lossref.grad, or one call where lossref.grad takes return_loss=True)
ALL_SHAPES = {
    "binary_cross_entropy": (4 * 10**6,), "binary_cross_entropy_with_logits": (4 * 10**6,),
    "cross_entropy": (8192, 512), "nll_loss": (8192, 512),
    "l1_loss": (4 * 10**6,), "mse_loss": (4 * 10**6,), "smooth_l1_loss": (4 * 10**6,),
    "huber_loss": (4 * 10**6,), "kl_div": (8192, 512), "poisson_nll_loss": (4 * 10**6,),
    "gaussian_nll_loss": (4 * 10**6,), "hinge_embedding_loss": (4 * 10**6,),
    "soft_margin_loss": (4 * 10**6,), "cosine_embedding_loss": (8192, 512),
    "margin_ranking_loss": (4 * 10**6,), "triplet_margin_loss": (8192, 256),
    "triplet_margin_with_distance_loss": (8192, 256), "multi_margin_loss": (8192, 512),
    "multilabel_margin_loss": (8192, 512), "multilabel_soft_margin_loss": (8192, 512),
    "ctc_loss": (100, 32, 40, 30), "linear_cross_entropy": (512, 256, 32000),
}
LOSSES.update({name: name for name in ALL_SHAPES})
#: the same 22 at two smaller sizes, about 10⁴ and 10⁵ input elements (forward and loss +
#: gradient), where a call's fixed cost — argument checks, Python, NumPy's dispatch — weighs
SMALL_SIZES = (10**4, 10**5)


def small_shape(loss: str, n: int) -> tuple:
    """The shape of one of the 22 losses at about ``n`` input elements (``SMALL_SIZES``)."""
    if len(ALL_SHAPES[loss]) == 1:                  # elementwise: a flat input
        return (n,)
    if loss.startswith("triplet"):
        return (n // 128, 128)
    if loss == "ctc_loss":                          # (T, N, C, S): T·N·C log-probabilities
        return {10**4: (50, 8, 25, 10), 10**5: (100, 25, 40, 30)}[n]
    if loss == "linear_cross_entropy":              # (tokens, hidden, vocabulary): the logits
        return (n // 1000, 64 if n < 10**5 else 128, 1000)
    return (n // 100, 100)                          # (N, C) logits, 100 classes
#: CTC cases (T frames, N sequences, C classes, S target length) and linear_cross_entropy cases
#: (tokens, hidden, vocabulary); their *peak* is per byte of log_probs / of the logits never built
CTC_SHAPES = [(50, 16, 20, 30), (200, 32, 30, 50), (400, 8, 1000, 100)]
LCE_SHAPES = [(2048, 256, 32000)]


# ----------------------------------------------------------------------------- the cases
def all_arrays(loss: str, shape: tuple, dt, rng) -> tuple[list, tuple]:
    """Positional NumPy arguments of one of the 22 losses, and which of them are differentiated."""
    normal = lambda *s: (rng.standard_normal(s, dtype=np.float32) * 2).astype(dt)  # noqa: E731
    sign = lambda *s: np.where(rng.random(s) < 0.5, 1.0, -1.0).astype(dt)       # noqa: E731
    if loss == "binary_cross_entropy":
        return [rng.uniform(0.01, 0.99, shape).astype(dt), (rng.random(shape) < .5).astype(dt)], (0,)
    if loss in ("binary_cross_entropy_with_logits", "multilabel_soft_margin_loss"):
        return [normal(*shape), (rng.random(shape) < 0.5).astype(dt)], (0,)
    if loss in ("cross_entropy", "multi_margin_loss"):
        return [normal(*shape), rng.integers(0, shape[1], shape[0])], (0,)
    if loss == "nll_loss":
        x = normal(*shape)
        return [(x - np.log(np.exp(x).sum(1, keepdims=True))).astype(dt),
                rng.integers(0, shape[1], shape[0])], (0,)
    if loss in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"):
        return [normal(*shape), normal(*shape)], (0,)
    if loss == "kl_div":
        x, y = normal(*shape), normal(*shape)
        logp = (x - np.log(np.exp(x).sum(1, keepdims=True))).astype(dt)
        return [logp, (np.exp(y) / np.exp(y).sum(1, keepdims=True)).astype(dt)], (0,)
    if loss == "poisson_nll_loss":
        return [normal(*shape) / 2, rng.poisson(2.0, shape).astype(dt)], (0,)
    if loss == "gaussian_nll_loss":
        return [normal(*shape), normal(*shape), (np.abs(normal(*shape)) + 0.1).astype(dt)], (0, 2)
    if loss == "hinge_embedding_loss":
        return [np.abs(normal(*shape)), sign(*shape)], (0,)
    if loss == "soft_margin_loss":
        return [normal(*shape), sign(*shape)], (0,)
    if loss == "cosine_embedding_loss":
        return [normal(*shape), normal(*shape), sign(shape[0])], (0, 1)
    if loss == "margin_ranking_loss":
        return [normal(*shape), normal(*shape), sign(*shape)], (0, 1)
    if loss.startswith("triplet"):
        return [normal(*shape), normal(*shape), normal(*shape)], (0, 1, 2)
    if loss == "multilabel_margin_loss":
        n, c = shape
        target = np.full(shape, -1, dtype=np.int64)
        target[:, :5] = np.argsort(rng.random(shape), axis=1)[:, :5]
        return [normal(*shape), target], (0,)
    if loss == "ctc_loss":
        T, N, C, S = shape
        x = normal(T, N, C)
        logp = (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dt)
        return [logp, rng.integers(1, C, (N, S)), np.full(N, T),
                rng.integers(S // 2, S + 1, N)], (0,)
    if loss == "linear_cross_entropy":
        n, h, v = shape
        return [normal(n, h), (normal(v, h) / h**0.5).astype(dt), rng.integers(0, v, n)], (0, 1)
    raise ValueError(loss)


def make_all_case(loss: str, shape: tuple, dtype: str, with_grad: bool, seed: int = 0):
    """One of the 22 losses: ``(input array, lossref call, torch call)``, forward or with grad."""
    import inspect

    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(seed)
    arrays, diff = all_arrays(loss, shape, np.dtype(dtype), rng)
    tensors = [torch.from_numpy(a) for a in arrays]
    ours, theirs = getattr(lossref, loss), getattr(F, loss)
    x = arrays[0] if loss != "linear_cross_entropy" else types.SimpleNamespace(
        nbytes=shape[0] * shape[2] * np.dtype(dtype).itemsize)   # per byte of the logits
    if not with_grad:
        return x, (lambda: ours(*arrays)), (lambda: theirs(*tensors))
    grad_fn = getattr(lossref.grad, loss)
    pair = "return_loss" in inspect.signature(grad_fn).parameters
    leaves = [t.requires_grad_(True) if i in diff else t for i, t in enumerate(tensors)]

    def torch_step():
        for i in diff:
            leaves[i].grad = None
        out = theirs(*leaves)
        out.backward()
        return out.detach()

    def lossref_step():
        if pair:
            return grad_fn(*arrays, return_loss=True)[0]
        value = ours(*arrays)
        grad_fn(*arrays)
        return value

    return x, lossref_step, torch_step


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

    if loss == "ctc":
        T, N, C, S = shape
        raw = rng.standard_normal((T, N, C)).astype(dt)
        logp = (raw - np.log(np.exp(raw).sum(-1, keepdims=True))).astype(dt)
        targets, in_len = rng.integers(1, C, (N, S)), np.full(N, T)
        tgt_len = rng.integers(S // 2, S + 1, N)
        tensors = [torch.from_numpy(a) for a in (logp, targets, in_len, tgt_len)]
        return (logp, lambda: lossref.ctc_loss(logp, targets, in_len, tgt_len),
                lambda: F.ctc_loss(*tensors))
    if loss == "lce":
        n, h, v = shape
        x = rng.standard_normal((n, h)).astype(dt)
        w = (rng.standard_normal((v, h)) / h**0.5).astype(dt)
        y = rng.integers(0, v, n)
        tx, tw, ty = map(torch.from_numpy, (x, w, y))
        logits = np.empty((0,), dtype=dt)   # stands for the (n, v) logits: peak per byte of them
        logits_bytes = types.SimpleNamespace(nbytes=n * v * logits.itemsize)
        return (logits_bytes, lambda: lossref.linear_cross_entropy(x, w, y),
                lambda: F.linear_cross_entropy(tx, tw, ty))

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
        for loss in SWEEP_LOSSES:
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
    for shape in CTC_SHAPES:
        out.append(("ctc", "ctc", shape, "float32"))
    for shape in LCE_SHAPES:
        out.append(("vocab", "lce", shape, "float32"))
    for group in ("all", "all+grad"):
        for loss, shape in ALL_SHAPES.items():
            out.append((group, loss, shape, "float32"))
    for group in ("small", "small+grad"):
        for n in SMALL_SIZES:
            for loss in ALL_SHAPES:
                out.append((group, loss, small_shape(loss, n), "float32"))
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


def micro() -> dict:
    """NumPy facts chapter 18 explains lossref's design with: seconds per call, best of rounds."""
    n = 10**7
    buf = np.empty(n, dtype=np.float32)
    x = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    block = x[: 256 * 1000].reshape(256, 1000)
    exps = np.exp(block - block.max(axis=1, keepdims=True))
    out = np.empty_like(block)
    zeros = np.zeros_like(x[:10**6])

    def fresh_without_huge_pages():
        # NumPy asks for transparent huge pages (madvise) for every large array; whether the
        # kernel grants them depends on the machine's free memory at that moment (granted, a
        # fresh array costs about a refill). PyTorch does not ask for its buffers (the allocator
        # probe below): measured as PyTorch's fresh log-softmax buffer is, with 4 KiB pages.
        from numpy._core.multiarray import _set_madvise_hugepage

        was = _set_madvise_hugepage(False)
        try:
            return np.full(n, 1.0, dtype=np.float32)
        finally:
            _set_madvise_hugepage(was)

    best = best_interleaved({
        "fresh_40MB": (fresh_without_huge_pages, 1),
        "refill_40MB": (lambda: buf.fill(1.0), 1),
        "exp_256x1000": (lambda: np.exp(block, out=out), 1),
        "rowsum_sum_256x1000": (lambda: exps.sum(axis=1), 1),
        "rowsum_einsum_256x1000": (lambda: np.einsum("nc->n", exps), 1),
        "minimum_scalar_1e6": (lambda: np.minimum(x[:10**6], 0), 1),
        "minimum_array_1e6": (lambda: np.minimum(x[:10**6], zeros), 1),
        "rowmax_100_1e6": (lambda: x[:10**6].reshape(-1, 100).max(axis=1), 1),
        "rowmax_1000_1e6": (lambda: x[:10**6].reshape(-1, 1000).max(axis=1), 1),
    }, rounds=ROUNDS)
    return best


# ----------------------------------------------------------------------------- the allocator
#: Run in a fresh process per allocator setting: what malloc does with PyTorch's 8192 × 1024
#: float32 log-softmax over 10 calls (glibc's mallinfo2 counts the bytes in mmapped chunks) and
#: whether that memory, and a NumPy array's, is marked for huge pages (the "hg" flag of its
#: mapping in /proc/self/smaps, set by madvise(MADV_HUGEPAGE)). Chapter 18 reads the answers
#: (each process imports torch: seconds the book's tests need not spend on every run).
PROBE = r"""
import ctypes, numpy as np, torch
class Info(ctypes.Structure):
    names = (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks "
        "keepcost"
    )
    _fields_ = [(n, ctypes.c_size_t) for n in names.split()]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
def huge(ptr):
    lines = open("/proc/self/smaps").read().splitlines()
    for i, line in enumerate(lines):
        if "-" in line.split()[0] and ":" not in line.split()[0]:
            lo, hi = (int(v, 16) for v in line.split()[0].split("-"))
            inside = lo <= ptr < hi
        elif inside and line.startswith("VmFlags:"):
            return " hg" in line
x, sizes = torch.randn(8192, 1024), []
for _ in range(10):
    before = libc.mallinfo2().hblkhd
    y = torch.log_softmax(x, dim=1)
    sizes.append(libc.mallinfo2().hblkhd - before)
    del y
y = torch.log_softmax(x, dim=1)
torch_huge = huge(y.data_ptr() + 2**20)
a = np.ones(8192 * 1024, np.float32)
print(sum(s > 0 for s in sizes), max(sizes), torch_huge, huge(a.ctypes.data + 2**20))
"""
#: the probe's settings: the two allocator states, and torch asked for transparent huge pages
PROBE_STATES = {**ALLOCATORS, "thp": {"THP_MEM_ALLOC_ENABLE": "1"}}


def allocator_probe() -> dict:
    """:data:`PROBE` in one fresh process per setting of :data:`PROBE_STATES`, all at once."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "THP_"))}
    running = {state: subprocess.Popen([sys.executable, "-c", PROBE], env=clean | extra,
                                       stdout=subprocess.PIPE, text=True)
               for state, extra in PROBE_STATES.items()}
    probed = {}
    for state, proc in running.items():
        out = proc.communicate()[0].split()
        if proc.returncode != 0:
            raise RuntimeError(f"the allocator probe failed in state {state}")
        probed[state] = {"env": PROBE_STATES[state], "calls": 10,
                         "mmapped_calls": int(out[0]), "mmapped_bytes": int(out[1]),
                         "torch_huge_pages": out[2] == "True",
                         "numpy_huge_pages": out[3] == "True"}
    return probed


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
        "numpy_blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
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
            f"{'kept 1t':>10} {'torch Nt':>10} {'ratio':>6} {'vsbest':>6} {'peak/in':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{LOSSES[r['loss']]:<44} {r['dtype']:<8} {shape_text(r['shape']):<13} "
              f"{fmt_time(r['lossref_s']):>10} {fmt_time(r['torch_1t_s']):>10} "
              f"{fmt_time(r['torch_1t_kept_s']):>10} {fmt_time(r['torch_default_s']):>10} "
              f"{r['ratio_1t']:>6.2f} {r['ratio_best']:>6.2f} {r['peak_per_input_byte']:>7.2f}")


def ratio_table(rows) -> list[str]:
    """The 22 losses (issue 29's table): lossref over torch's faster allocator state, per core,
    forward and loss + gradient; and over torch on all its threads, for reference."""
    by = {(r["group"], r["loss"]): r for r in rows if r["group"].startswith("all")}
    if not by:
        return []
    lines = [f"{'loss':<34} {'shape':<14} {'forward':>8} {'+grad':>8} {'fwd vs Nt':>9} "
             f"{'peak/in':>7}"]
    for loss, shape in ALL_SHAPES.items():
        f, g = by.get(("all", loss)), by.get(("all+grad", loss))
        if not f and not g:
            continue
        cell = lambda r, k: f"{r[k]:.2f}" if r else "-"      # noqa: E731
        lines.append(f"{loss:<34} {shape_text(shape):<14} {cell(f, 'ratio_best'):>8} "
                     f"{cell(g, 'ratio_best'):>8} "
                     f"{(f['lossref_best_s'] / f['torch_default_kept_s']) if f else float('nan'):>9.2f} "
                     f"{cell(f, 'peak_per_input_byte'):>7}")
    return lines


def small_table(rows, markdown: bool = False) -> list[str]:
    """The 22 losses at ``SMALL_SIZES``: lossref over torch's faster state, forward and loss +
    gradient, per core (plain text for the run's printout, or README's Markdown)."""
    by = {(r["group"], r["loss"], r["nominal_elements"]): r for r in rows
          if r["group"].startswith("small")}
    if not by:
        return []
    sizes = [f"10^{round(math.log10(n))}" for n in SMALL_SIZES]
    cols = [f"{s} {kind}" for s in sizes for kind in ("forward", "+grad")]
    if markdown:
        lines = ["| loss | " + " | ".join(c.replace("10^4", "10⁴").replace("10^5", "10⁵")
                                          for c in cols) + " |",
                 "|---|" + "---:|" * len(cols)]
    else:
        lines = [f"{'loss':<34}" + "".join(f"{c:>14}" for c in cols)]
    for loss in ALL_SHAPES:
        cells = []
        for n in SMALL_SIZES:
            for group in ("small", "small+grad"):
                r = by.get((group, loss, n))
                cells.append(f"{r['ratio_best']:.2f}" if r else "-")
        if markdown:
            cells = [f"**{c}**" if c != "-" and float(c) > 1 else c for c in cells]
            lines.append(f"| {loss} | " + " | ".join(cells) + " |")
        else:
            lines.append(f"{loss:<34}" + "".join(f"{c:>14}" for c in cells))
    return lines


def small_size(row: dict) -> int:
    """Which of ``SMALL_SIZES`` a "small" row stands for."""
    return next(n for n in SMALL_SIZES if list(small_shape(row["loss"], n)) == list(row["shape"]))


def readme_table(data: dict) -> str:
    """README.md's Markdown tables: each loss and dtype at 1e6 and 1e7 elements; the LM shapes."""
    m = data["machine"]
    threads = m["torch_default_threads"]
    rows = {(r["group"], r["loss"], r["dtype"], r["elements"]): r for r in data["results"]}

    def ratio(value):
        return f"**{value:.2f}**" if value > 1 else f"{value:.2f}"

    lines = [
        f"`make bench` on {m['cpu']}, {m['cores']} cores, NumPy {m['numpy']}, torch {m['torch']}; "
        f"reduction='mean', best of {data['settings']['rounds']} interleaved rounds, all on one "
        "thread (`torch.set_num_threads(1)`; NumPy uses one core). *torch* is PyTorch with glibc's "
        "default allocator, *torch, kept* with `MALLOC_MMAP_THRESHOLD_`/`MALLOC_TRIM_THRESHOLD_` "
        "set high (malloc keeps large buffers instead of mmapping them afresh: torch's best case). "
        "*ratio* = lossref's time / torch's time in its faster state (**bold** = lossref slower); "
        "*peak* = lossref's peak traced memory per byte of input. BCE inputs are 1-D; CE and NLL "
        f"inputs are (N, {data['settings']['classes']}).",
        "",
        "| loss | dtype | 10⁶: lossref | torch | torch, kept | ratio "
        "| 10⁷: lossref | torch | torch, kept | ratio | peak |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for dtype in DTYPES:
        for loss in SWEEP_LOSSES:
            label = LOSSES[loss]
            cells = []
            for size in (10**6, 10**7):
                r = rows[("sweep", loss, dtype, size)]
                cells += [fmt_time(r["lossref_best_s"]), fmt_time(r["torch_1t_s"]),
                          fmt_time(r["torch_1t_kept_s"]), ratio(r["ratio_best"])]
            peak = max(rows[("sweep", loss, dtype, size)]["peak_per_input_byte"]
                       for size in (10**6, 10**7))
            lines.append(f"| {label} | {dtype} | " + " | ".join(cells) + f" | {peak:.2f} |")
    lines += [
        "",
        "Cross-entropy with class indices at language-model shapes (float32); torch also with "
        f"its default {threads} threads:",
        "",
        f"| (N, C) | lossref | torch | torch, kept | torch, {threads} threads, kept | ratio | peak |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["results"]:
        if r["group"] == "lm":
            lines.append(f"| {shape_text(r['shape'])} | {fmt_time(r['lossref_best_s'])} | "
                         f"{fmt_time(r['torch_1t_s'])} | {fmt_time(r['torch_1t_kept_s'])} | "
                         f"{fmt_time(r['torch_default_kept_s'])} | {ratio(r['ratio_best'])} | "
                         f"{r['peak_per_input_byte']:.2f} |")
    lines += [
        "",
        "CTC, (T, N, C, S) = frames, sequences, classes, target length, and linear_cross_entropy, "
        "(tokens, hidden, vocabulary), float32, forward only; *peak* per byte of `log_probs` "
        "for CTC and per byte of the (tokens, vocabulary) logits that lossref never builds:",
        "",
        "| loss | shape | lossref | torch | torch, kept | ratio | peak |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in data["results"]:
        if r["group"] in ("ctc", "vocab"):
            lines.append(f"| {r['label']} | {shape_text(r['shape'])} | "
                         f"{fmt_time(r['lossref_best_s'])} | {fmt_time(r['torch_1t_s'])} | "
                         f"{fmt_time(r['torch_1t_kept_s'])} | {ratio(r['ratio_best'])} | "
                         f"{r['peak_per_input_byte']:.3f} |")
    every = {(r["group"], r["loss"]): r for r in data["results"]
             if r["group"].startswith("all")}
    if every:
        lines += [
            "",
            "Every loss of `torch.nn` at one realistic size (4·10⁶ elements, or (8192, 512) logits, "
            "(8192, 256) triplets, CTC at T=100, N=32, C=40, S=30, linear cross-entropy "
            "512 × 256 → 32000), float32: *forward* and *loss + gradient* (torch's forward and "
            "autograd backward against lossref's forward and `lossref.grad`), as ratios to torch "
            "in its faster allocator state, one core each; *peak* per byte of input:",
            "",
            "| loss | forward | loss + gradient | peak |",
            "|---|---:|---:|---:|",
        ]
        for loss in ALL_SHAPES:
            f, g = every.get(("all", loss)), every.get(("all+grad", loss))
            if f and g:
                lines.append(f"| {loss} | {ratio(f['ratio_best'])} | {ratio(g['ratio_best'])} | "
                             f"{f['peak_per_input_byte']:.2f} |")
    small = small_table(data["results"], markdown=True)
    if small:
        lines += [
            "",
            "The same 22 losses at about 10⁴ and 10⁵ input elements (elementwise losses flat; "
            "(N, 100) logits; triplets (N, 128); CTC (T, N, C, S) = (50, 8, 25, 10) and "
            "(100, 25, 40, 30); linear cross-entropy (10, 64) and (100, 128) → 1000), float32, "
            "same ratios; here a call's fixed cost counts:",
            "",
            *small,
        ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- workers
def worker(state: str) -> None:
    """One allocator state: read case numbers on stdin, answer one JSON line each on stdout."""
    import torch

    default_threads = torch.get_num_threads()
    todo = cases()
    send = sys.stdout.write
    send(json.dumps({"machine": machine(), "malloc": {k: os.environ.get(k, "")
                                                       for k in _MALLOC_VARS}}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("micro"):
            send(json.dumps({"micro": micro()}) + "\n")
            sys.stdout.flush()
            continue
        group, loss, shape, dtype = todo[request["case"]]
        if group.startswith(("all", "small")):
            x, ours, theirs = make_all_case(loss, shape, dtype, with_grad=group.endswith("+grad"))
        else:
            x, ours, theirs = make_case(loss, shape, dtype)
        big = math.prod(shape) > 2 * 10**7
        torch.set_num_threads(1)
        answer = {"rel_diff_vs_torch": relative_difference(ours(), theirs())}
        rounds = request["rounds"]
        if group == "vocab" or loss == "linear_cross_entropy":   # ~a second per call
            rounds = min(rounds, 3)
        elif big:
            rounds = max(2, rounds - 2)
        answer.update(best_interleaved({"lossref": (ours, 1), "torch_1t": (theirs, 1),
                                        "torch_default": (theirs, default_threads)},
                                       rounds=rounds))
        if request.get("peak"):
            answer["peak_bytes"] = peak_memory(ours)
        answer["input_bytes"] = int(x.nbytes)
        send(json.dumps(answer) + "\n")
        sys.stdout.flush()
        del x, ours, theirs
        torch.set_num_threads(default_threads)


class Worker:
    """A child process of this script in one allocator state, answering requests in turn."""

    def __init__(self, state: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in _MALLOC_VARS}
        env.update(ALLOCATORS[state])
        # per core: NumPy's BLAS (linear_cross_entropy's matmuls) on one thread, like torch's
        env["OPENBLAS_NUM_THREADS"] = "1"
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", state], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.hello = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker exited with code {self.proc.wait()}")
        return json.loads(line)

    def ask(self, **request) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


# ----------------------------------------------------------------------------- main
def run(only: str | None = None, rounds: int = ROUNDS, out: Path = RESULTS) -> dict:
    workers = {state: Worker(state) for state in ALLOCATORS}
    info = workers["default"].hello["machine"]
    info["allocator_states"] = {state: w.hello["malloc"] for state, w in workers.items()}
    threads = info["torch_default_threads"]
    print("machine:")
    for key, value in info.items():
        print(f"  {key}: {value}")
    todo = [(i, c) for i, c in enumerate(cases()) if only is None or c[1] == only]
    rows = []
    t0 = time.perf_counter()
    try:
        # first, while each worker has only imported torch: after the cases, malloc's heap may
        # hold 40 MB of freed, resident memory (its trim threshold rises up to 64 MiB once a
        # 32 MiB buffer is freed), and a "fresh" 40 MB array is then served from it, unfaulted
        micro_results = {state: w.ask(micro=True)["micro"] for state, w in workers.items()}
        for k, (i, (group, loss, shape, dtype)) in enumerate(todo, 1):
            # the two states take turns; the default one also measures lossref's peak memory
            d = workers["default"].ask(case=i, rounds=rounds, peak=True)
            kept = workers["kept"].ask(case=i, rounds=rounds)
            lossref_best = min(d["lossref"], kept["lossref"])
            torch_best = min(d["torch_1t"], kept["torch_1t"])
            diff = max(d["rel_diff_vs_torch"], kept["rel_diff_vs_torch"])
            row = {
                "group": group, "loss": loss, "label": LOSSES[loss], "dtype": dtype,
                "shape": list(shape), "elements": math.prod(shape),
                "input_bytes": d["input_bytes"],
                "lossref_s": d["lossref"], "lossref_kept_s": kept["lossref"],
                "lossref_best_s": lossref_best,
                "torch_1t_s": d["torch_1t"], "torch_1t_kept_s": kept["torch_1t"],
                "torch_default_s": d["torch_default"],
                "torch_default_kept_s": kept["torch_default"],
                "ratio_1t": d["lossref"] / d["torch_1t"],
                "ratio_best": lossref_best / torch_best,
                "peak_bytes": d["peak_bytes"],
                "peak_per_input_byte": d["peak_bytes"] / d["input_bytes"],
                "rel_diff_vs_torch": diff, "within_test_tolerance": diff <= TOL[dtype],
            }
            if group.startswith("small"):   # which of SMALL_SIZES (shapes differ by loss)
                row["nominal_elements"] = small_size(row)
            rows.append(row)
            flag = "" if row["within_test_tolerance"] else f"  !! differs from torch by {diff:.2e}"
            print(f"[{k:3d}/{len(todo)} {time.perf_counter() - t0:6.1f}s] {group:<6} {loss:<11} "
                  f"{dtype:<8} {shape_text(shape):<13} lossref {fmt_time(lossref_best):>10}  "
                  f"torch-1 {fmt_time(row['torch_1t_s']):>10} (kept "
                  f"{fmt_time(row['torch_1t_kept_s']):>10})  torch-{threads} "
                  f"{fmt_time(row['torch_default_s']):>10}  ratio vs best "
                  f"{row['ratio_best']:5.2f}  peak/in {row['peak_per_input_byte']:5.2f}{flag}",
                  flush=True)
    finally:
        for w in workers.values():
            w.close()
    probed = allocator_probe()
    data = {"machine": info,
            "settings": {"rounds": rounds, "min_sample_seconds": MIN_SAMPLE, "reduction": "mean",
                         "classes": CLASSES, "small_classes": SMALL_CLASSES,
                         "allocators": ALLOCATORS,
                         "total_seconds": round(time.perf_counter() - t0, 1)},
            "results": rows,
            "micro": micro_results,
            "allocator_probe": probed}
    print()
    print_table(rows)
    if any(r["group"].startswith("all") for r in rows):
        print("\nEvery loss, per core: lossref / torch's faster allocator state "
              "(forward; loss + gradient):")
        print("\n".join(ratio_table(rows)))
    if any(r["group"].startswith("small") for r in rows):
        print("\nThe same at about 10^4 and 10^5 elements (lossref / torch's faster state):")
        print("\n".join(small_table(rows)))
    print("\nNumPy micro-measurements (seconds per call, default / kept allocator):")
    for name in micro_results["default"]:
        print(f"  {name:<24} {fmt_time(micro_results['default'][name]):>10} "
              f"{fmt_time(micro_results['kept'][name]):>10}")
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
    parser.add_argument("--probe", action="store_true",
                        help="run only the allocator probe and store it in the results file")
    parser.add_argument("--worker", choices=sorted(ALLOCATORS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if args.probe:
        data = json.loads(args.out.read_text())
        data["allocator_probe"] = allocator_probe()
        args.out.write_text(json.dumps(data, indent=1) + "\n")
        print(json.dumps(data["allocator_probe"], indent=1))
        return
    if args.readme:
        print(readme_table(json.loads(args.out.read_text())))
        return
    run(args.only, args.rounds, args.out.resolve())


if __name__ == "__main__":
    main()
