"""Reduce an elementwise loss a cache-sized block at a time (regression and distributions).

``reduce(elements(x, y), "mean")`` on 4·10⁶ float32 elements runs each step of the per-element
formula as its own pass over 16 MB: every pass streams through memory, and a formula of six
steps costs six round trips. PyTorch fuses the steps into one loop. Cut into blocks of
``ELEMENT_BLOCK_BYTES`` (128 KiB), the same NumPy steps run on data that stays in the core's L2
cache: the inputs are read from memory once, the temporaries never leave the cache (they live
in per-thread :func:`work_buffers`), and only one partial sum per block is kept. The
per-element formula is written once and used both ways.

The fast paths of the losses that use it (issue 29) test for the common call with
:func:`plain_pair` and go straight to :func:`total_by_blocks`, the function the general path
ends in for those arrays: the same number, without the general checks (~10 µs a call at
10³ float32 elements, a third to a half of the whole call).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from ._numerics import QUIET
from ._reduction import reduce
from ._validation import HALF_DTYPES, as_float, as_like, asarray, broadcast_shape, is_bfloat16

__all__ = ["block_total", "constant_block", "float_pair", "in_opmath", "like_input",
           "mean_factor", "plain_pair", "reduce_elementwise", "total_by_blocks", "with_scalar",
           "work_buffers"]


def with_scalar(ufunc: np.ufunc, a: np.ndarray, c: float) -> np.ndarray:
    """``ufunc(a, c)`` (``np.multiply`` or ``np.divide``) for a Python number ``c``, as torch.

    For float16/bfloat16 torch's CPU ``mul``/``div`` by a Python number take the number in
    float32, compute in float32 and round once (``binary_op_scalar`` in BinaryOpsKernel.cpp);
    NumPy would first round ``c`` to the half dtype (2π becomes 6.28125 in float16). (torch's
    ``add`` has no such path: there the number is rounded first, as NumPy does.)
    """
    if a.dtype in HALF_DTYPES:
        return ufunc(a.astype(np.float32), np.float32(c)).astype(a.dtype)
    return ufunc(a, c)


def in_opmath(elements: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``elements(*arrays)`` computed in float32 and rounded once for float16/bfloat16 arrays.

    torch's "opmath" kernels (one rounding at the end, e.g. ``xlogy``, bfloat16 smooth L1);
    float32/float64 arrays go through as they are.
    """
    dtype = arrays[0].dtype
    if dtype not in HALF_DTYPES:
        return elements(*arrays)
    return np.asarray(elements(*(a.astype(np.float32) for a in arrays))).astype(dtype)


def like_input(a, like: np.ndarray, name: str, fn: str) -> np.ndarray:
    """``_validation.as_like``, which also takes an ``ml_dtypes.bfloat16`` array.

    (``as_like`` refuses bfloat16: NumPy does not count it as a number. Until it does, the
    regression and distribution losses read their targets, weights and variances here.)
    """
    arr = asarray(a)
    if is_bfloat16(arr.dtype):
        return arr.astype(like.dtype, copy=False)
    return as_like(arr, like, name, fn)


def float_pair(input, target, fn: str) -> tuple[np.ndarray, np.ndarray, tuple]:
    """``_validation.float_pair`` with :func:`like_input` for the target."""
    x = as_float(input, "input", fn)
    y = like_input(target, x, "target", fn)
    return x, y, broadcast_shape(fn, input=x, target=y)

#: bytes per block of :func:`reduce_elementwise`: 128 KiB (32 768 float32). A block's two
#: inputs and three work buffers (640 KiB) stay in one core's 2 MiB L2 cache. Huber at 10⁵
#: float32 elements, best of 15 interleaved rounds: 122 µs, against 148 with 256 KiB blocks
#: and 141 with 64 KiB ones (smaller blocks pay NumPy's per-call cost more often).
ELEMENT_BLOCK_BYTES = 1 << 17


def _longest_block(itemsize: int) -> int:
    """Elements in the longest block: a tail shorter than a quarter block joins the block
    before it (10⁵ float32 elements: three blocks, not three and a 1 696-element one that
    costs its six NumPy calls' overhead for 2% of the work)."""
    step = ELEMENT_BLOCK_BYTES // itemsize
    return step + step // 4


#: a block of ones per dtype, read-only: the right-hand side of :func:`block_total`'s dot
_ONES = {np.dtype(t): np.ones(_longest_block(np.dtype(t).itemsize), t)
         for t in (np.float32, np.float64)}
for _ones in _ONES.values():
    _ones.flags.writeable = False

#: the reductions :func:`reduce_elementwise` computes a block at a time
_TOTALS = frozenset(("mean", "sum"))


def block_total(a: np.ndarray) -> float:
    """``a.sum()`` of a 1-d float32/float64 block of at most ``ELEMENT_BLOCK_BYTES``, by BLAS.

    ``np.dot(a, ones)`` runs 2.5x faster than NumPy's pairwise ``sum`` on a cached block, and
    at this length is as accurate (OpenBLAS keeps dozens of partial sums: measured relative
    error 2e-7 in float32 on 65 536 elements, against 1e-7 for ``sum``).
    """
    return float(np.dot(a, _ONES[a.dtype][:a.size]))


#: where in a 4 KiB page each of :func:`work_buffers`' three buffers starts. A large array
#: (NumPy's, through malloc's mmap) starts 16 bytes into a page; a loop that reads one array and
#: writes another starting at the same place in a page stalls on "4K aliasing" (each load waits
#: for the store 4096·k bytes away to be ruled out): np.subtract(x, y, out=b) of a float32 block
#: measured 31 µs with b aligned like x, 8 µs with b 1 KiB further on. Hence these offsets.
_PAGE, _OFFSETS = 4096, (1024, 2048, 3072)


class _Scratch(threading.local):
    """Work buffers of one block per dtype, made on a thread's first call and reused by every
    later one. A fresh block-sized array is a fresh mapping, paid in page faults on every call
    (Huber at 10⁵ float32: 195 µs with buffers made per call, 141 µs reused, before the page
    offsets below). ``threading.local``: each thread has its own."""

    def __init__(self):
        self.buffers: dict[np.dtype, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.constants: dict[np.dtype, float] = {}


_SCRATCH = _Scratch()


def _buffers(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This thread's three buffers of one block of ``dtype``, at :data:`_OFFSETS` in a page."""
    buffers = _SCRATCH.buffers.get(dtype)
    if buffers is None:
        step = _longest_block(dtype.itemsize)
        stride = step * dtype.itemsize + _PAGE        # a block, then room to shift the next
        arena = np.empty(3 * stride + _PAGE, np.uint8)
        shift = -arena.ctypes.data % _PAGE             # bytes to the arena's first page
        buffers = _SCRATCH.buffers[dtype] = tuple(
            arena[start:start + step * dtype.itemsize].view(dtype)
            for start in (shift + k * stride + offset for k, offset in enumerate(_OFFSETS)))
    return buffers


def work_buffers(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-d work buffers of one block of ``dtype`` (float32/float64), this thread's own.

    A block sum slices them to its block's length and may overwrite them freely; nothing else
    may hold on to them after it returns.
    """
    z, c, _ = _buffers(dtype)
    return z, c


def constant_block(value: float, dtype: np.dtype) -> np.ndarray:
    """A block of ``value`` rounded to ``dtype``, this thread's own, refilled only when the
    value changes. NumPy 2.x's ``minimum`` against one number runs a loop about 2.5x slower
    than against an array of it (measured, a block of float32), so kinks come as a block."""
    block = _buffers(dtype)[2]
    if _SCRATCH.constants.get(dtype) != value:   # (a NaN is refilled every time: harmless)
        block.fill(value)                         # rounds as np.full does
        _SCRATCH.constants[dtype] = value
    return block


def plain_pair(input, target, reduction) -> bool:
    """Whether a call is the common one the fast paths take: ``input`` and ``target`` plain
    C-contiguous ndarrays of one shape (not empty) and one float32/float64 dtype, and
    ``reduction`` the string 'mean' or 'sum'.

    Each test is an attribute read or a dict lookup (no ``np.issubdtype``, no broadcasting):
    ~1 µs for what the general path checks in ~10. Such arrays pass every check of the general
    path unchanged, and it would reduce them with :func:`total_by_blocks` as well, so a fast
    path that calls it returns the general path's value bit for bit.
    """
    return (type(input) is np.ndarray and type(target) is np.ndarray
            and type(reduction) is str and reduction in _TOTALS
            and input.dtype is target.dtype and input.dtype in _ONES
            and input.shape == target.shape and input.size > 0
            and input.flags.c_contiguous and target.flags.c_contiguous)


def mean_factor(reduction: str, x: np.ndarray):
    """What ``_reduction.reduce_grad(None, x.shape, x.dtype, reduction)`` holds in every element
    for 'mean' — ``1 / N`` computed in the dtype — or ``None`` for 'sum' (ones: multiplying by
    them changes no number). For the grad fast paths (plain float32/float64 arrays only)."""
    if reduction == "sum":
        return None
    one = x.dtype.type(1)
    return one / x.dtype.type(x.size)


def total_by_blocks(block_sum: Callable[..., float], reduction: str, x: np.ndarray,
                    y: np.ndarray, *params) -> np.generic:
    """``'mean'`` or ``'sum'`` of an elementwise loss of two C-contiguous float32/float64 arrays
    of one shape, not empty: ``block_sum(x_block, y_block, *params)`` sums a block.

    The block sums are added in float64 and the total rounded once to the input's dtype: it
    differs from one pairwise sum over all elements (and from torch's cascade sum) only in
    the last bits. One block (up to 40 960 float32) is its own total. Call it under
    ``np.errstate(**QUIET)``.
    """
    n = x.size
    step = ELEMENT_BLOCK_BYTES // x.itemsize
    xf, yf = x.ravel(), y.ravel()
    if n <= step + step // 4:
        total = block_sum(xf, yf, *params)
    else:
        starts = list(range(0, n - step // 4, step))    # a short tail joins the last block
        sums = [block_sum(xf[i:j], yf[i:j], *params) for i, j in zip(starts, starts[1:] + [n])]
        total = float(np.asarray(sums, dtype=np.float64).sum())
    if reduction == "mean":
        total = total / n
    return x.dtype.type(total)


def reduce_elementwise(elements: Callable[..., np.ndarray], reduction: str, x: np.ndarray,
                       y: np.ndarray, block_sum: Callable[..., float] | None = None,
                       params: tuple = ()):
    """``reduce(elements(x, y), reduction)``, a block of elements at a time when it can.

    ``elements`` maps the arrays to the per-element loss of their broadcast shape (it may write
    into the temporaries it makes, never into its arguments). Blocks are used for ``'mean'``
    and ``'sum'`` when both arrays have the same shape, are C-contiguous and float32/float64
    (:func:`total_by_blocks`); otherwise (``'none'``, broadcasting, half precision, empty
    input) the whole array goes through :func:`lossref._reduction.reduce` as it is.

    ``block_sum(x_block, y_block, *params)``, when given, returns the sum of
    ``elements(x_block, y_block)`` computed another way (fewer passes over the block, in
    :func:`work_buffers`); it is used instead for the blocks.
    """
    blockwise = (reduction in _TOTALS and x.size > 0 and x.dtype in _ONES
                 and x.dtype == y.dtype and x.shape == y.shape
                 and x.flags.c_contiguous and y.flags.c_contiguous)
    if not blockwise:
        return reduce(elements(x, y), reduction)
    if block_sum is None:
        def block_sum(x_block, y_block):
            return block_total(elements(x_block, y_block))
    with np.errstate(**QUIET):
        return total_by_blocks(block_sum, reduction, x, y, *params)
