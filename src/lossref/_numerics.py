"""Numerically stable building blocks shared by every loss.

Each function follows the operation order of PyTorch's CPU kernel, so that the
same float32 or float64 inputs round the same way. NumPy warnings about
``log(0)`` or ``exp`` overflow are silenced where PyTorch prints nothing and
the IEEE result (``-inf``, ``0``) is what the formula wants.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._validation import HALF_DTYPES

__all__ = ["FEW_CLASSES", "QUIET", "as_samples", "clamp_below", "clamp_log", "class_max",
           "few_classes_log_norm", "log1m_clamped", "log_p_class_sums", "log_sigmoid",
           "log_softmax", "log_softmax_sums", "one_block_class_sums", "one_block_softmax",
           "per_row", "sigmoid", "softmax", "softmax_dim", "softmax_into", "spreads"]

#: Where torch silently returns nan/inf (inf - inf, 0 * inf, a sum of +inf and -inf, an
#: overflow), NumPy warns: ``with np.errstate(**QUIET):`` around such a computation.
QUIET = dict(invalid="ignore", divide="ignore", over="ignore")

LOG_CLAMP = -100.0
"""PyTorch's ``binary_cross_entropy`` clamps each log term at -100, so BCE(0, 1) = 100."""


def clamp_below(a: np.ndarray, lo: float) -> np.ndarray:
    """``a = max(a, lo)`` in place (NaN stays NaN); returns ``a``.

    Written as a masked store: ``np.maximum(a, lo)`` with a scalar bound runs a scalar loop
    in NumPy 2.x, about three times slower than ``a[a < lo] = lo`` when few elements are
    clamped (BCE clamps only probabilities of exactly 0 or 1).
    """
    a[a < lo] = lo
    return a


def clamp_log(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``max(log(x), -100)``, elementwise, in the dtype of ``x`` (into ``out`` if given)."""
    with np.errstate(divide="ignore"):
        out = np.log(x, out=out)
    return clamp_below(out, LOG_CLAMP)


def log1m_clamped(x: np.ndarray) -> np.ndarray:
    """``max(log1p(-x), -100)``: the clamped ``log(1 - x)`` of BCE, accurate for small x."""
    with np.errstate(divide="ignore"):
        out = np.negative(x, out=np.empty_like(x))
        np.log1p(out, out=out)
    return clamp_below(out, LOG_CLAMP)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``, finite for any finite x.

    The naive ``log(1 / (1 + exp(-x)))`` overflows for x below about -88 (float32);
    this form never exponentiates a positive number. float16/bfloat16 are computed in
    float32 and rounded once, as torch's CPU ``log_sigmoid`` kernel does (opmath).
    """
    if x.dtype in HALF_DTYPES:
        return log_sigmoid(x.astype(np.float32)).astype(x.dtype)
    z = np.abs(x, out=np.empty_like(x))
    np.negative(z, out=z)
    np.exp(z, out=z)
    np.log1p(z, out=z)
    # min(x, 0) against a 0 of x's dtype: NumPy's fastest form (an array of zeros or a
    # Python 0 makes it cast or stream a second array, 1.5-4x slower)
    min_x_0 = np.minimum(x, x.dtype.type(0))
    return np.subtract(min_x_0, z, out=z)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` in one buffer; ``exp`` overflow for very negative x gives the exact
    limit 0. float16/bfloat16 in float32, rounded once (torch's CPU kernel: opmath)."""
    x = np.asarray(x)
    if x.dtype in HALF_DTYPES:
        return sigmoid(x.astype(np.float32)).astype(x.dtype)
    out = np.negative(x, out=np.empty_like(x))
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.divide(1, out, out=out)


def softmax_dim(ndim: int, name: str) -> int:
    """PyTorch's implicit ``dim`` for ``softmax``/``log_softmax`` when none is given (with its warning)."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``(x - max) - log(sum(exp(x - max)))`` along ``axis``, as PyTorch computes it.

    Subtracting the maximum first keeps every exponent at or below 0, so nothing overflows;
    one buffer of the input's size is allocated and reused.
    """
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    with np.errstate(**QUIET):
        out = np.subtract(x, m)
        np.exp(out, out=out)
        log_norm = np.log(np.sum(out, axis=axis, keepdims=True))
        np.subtract(x, m, out=out)  # recompute x - max rather than hold a second buffer
        return np.subtract(out, log_norm, out=out)


BLOCK_BYTES = 1 << 18
"""The losses over classes work through their input a block of samples at a time, about
256 KiB per block: each temporary buffer is allocated once, is reused for every block and
stays in the core's L2 cache, and no (N, C) temporary is ever built."""


def as_samples(x: np.ndarray) -> np.ndarray:
    """View a class-axis input as ``(N, C, D)``: N samples, C classes, D positions.

    ``(N, C)`` becomes ``(N, C, 1)``, ``(N, C, d1, …, dK)`` becomes ``(N, C, d1·…·dK)`` and an
    unbatched ``(C,)`` becomes ``(1, C, 1)``, so every loss over classes has one shape to handle.
    """
    if x.ndim == 1:
        return x.reshape(1, x.shape[0], 1)
    return x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))


def _blocks(x3: np.ndarray) -> tuple[list[slice], int]:
    """Slices of the sample axis of ``x3`` holding about ``BLOCK_BYTES`` each, and their length."""
    n, c, d = x3.shape
    step = max(1, min(n, BLOCK_BYTES // max(c * d * x3.itemsize, 1)))
    return [slice(i, i + step) for i in range(0, n, step)], step


#: No shortcut around the max: ``Σ e^x · e^-m`` instead of ``Σ e^(x - m)`` saves a pass over
#: the block but is not PyTorch's number — in float32 it gave a loss of -1.2e-7 for logits
#: [17, 0] (torch: exactly 0), a gradient of +1.2e-7 where torch's is 0, and 4.530e-05 for
#: [10, 0] where torch prints 4.542e-05. The subtraction stays.


#: Below this many classes, a (N, C) input's per-sample maximum is taken on a transposed copy
#: of each block (see class_max); from 64 on, NumPy's row reduction is the faster (measured).
FEW_CLASSES = 64


def class_max(block: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[n, 0, d] = max_c block[n, c, d]``, the max over the classes of an ``(n, C, D)``
    block, into ``out`` of shape ``(n, 1, D)``; ``-inf`` when there are no classes.

    With few classes and no positions (an ``(N, C)`` input, C < ``FEW_CLASSES``) NumPy's row
    reduction calls its inner loop once per sample on C elements, and that call, not the
    comparisons, is the cost: 3 ns an element at C = 16, 27 at C = 2. The block is copied
    transposed to (C, n) instead, and its maximum over the first axis runs each class's
    comparison across all n samples in one vectorised loop (about 1 ns an element, copy
    included). The maxima are the same numbers (a maximum is exact; a NaN propagates).

    With more classes (C ≥ ``FEW_CLASSES``, no positions) ``np.maximum.reduceat`` over the
    flat rows does the same row maxima with less work per row than the row reduction's
    iterator: 59 against 98 µs at 1000 × 100, 16 against 22 at 100 × 1000.
    """
    n, c, d = block.shape
    if d == 1 and c >= FEW_CLASSES and n > 1:
        np.maximum.reduceat(block.reshape(n * c), np.arange(0, n * c, c), out=out[:, 0, 0])
        return out
    if d != 1 or not 1 < c < FEW_CLASSES:
        return np.maximum.reduce(block, axis=1, keepdims=True, initial=-np.inf, out=out)
    transposed = np.empty((c, n), block.dtype)
    np.copyto(transposed, block[:, :, 0].T)
    np.maximum.reduce(transposed, axis=0, out=out[:, 0, 0])
    return out


def spreads(x3: np.ndarray) -> bool:
    """True when :func:`per_row` copies the row numbers out: rows of 32 to 255 classes, no
    positions, more than one NumPy buffer (8192 elements). There NumPy runs ``x - m`` with
    one ``m`` per row through its buffers, and a broadcast copy of ``m`` then one plain
    subtraction is faster: 47 -> 33 µs a 256 KiB float32 block at C = 100, 41 -> 27 in
    float64 (measured; C = 10 gains nothing, C = 3 loses, and from 256 classes
    ``row_loops`` does better). Whole calls at 10000 × 100: 5-12 % faster; at 20 × 100 the
    extra copy cost more than it saved, hence the size."""
    return x3.size > 8192 and x3.shape[2] == 1 and 32 <= x3.shape[1] < 256


def per_row(op, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None,
            scratch: np.ndarray | None = None) -> np.ndarray:
    """``op(a, b, out=out)`` for an (n, C, D) block ``a`` and one number per row ``b``
    (n, 1, D): the same numbers (the same elementwise operation), where :func:`spreads`
    says so with ``b`` first copied to every class of ``out``, or of ``scratch`` (a buffer
    of ``a``'s shape the caller has free) when ``out`` is ``a``."""
    if a.size > 8192 and a.shape[2] == 1 and 32 <= a.shape[1] < 256:     # spreads(a)
        if out is None:
            out = np.empty(a.shape, a.dtype)
        if scratch is None:
            scratch = np.empty(a.shape, a.dtype) if np.may_share_memory(out, a) else out
        np.copyto(scratch, b)
        return op(a, scratch, out=out)
    return op(a, b, out=out)


def log_softmax_sums(x3: np.ndarray, y: np.ndarray | None = None, w: np.ndarray | None = None,
                     class_sums: bool = False):
    """Log-softmax over the classes of an ``(N, C, D)`` array, without an (N, C, D) result.

    Returns ``m`` and ``log_norm`` of shape ``(N, 1, D)``, the max over the classes and
    ``log Σ_c exp(x - m)``, so that ``log p = (x - m) - log_norm`` — PyTorch's kernel and
    its order of operations: subtracting the max first keeps every exponent ≤ 0.
    With ``class_sums``, also ``Σ_c y[n, c, d] · w[c] · log p[n, c, d]`` of shape ``(N, D)``
    (``y`` of the input's shape and ``w`` of length C both optional), with PyTorch's
    products ``(log p · y) · w``; else ``None``.

    The input is worked through a block of samples at a time in one or two reused buffers
    (``BLOCK_BYTES`` each, kept in cache).
    ``np.einsum("ncd->nd", …)`` sums over the classes
    with a plain vectorised loop, as PyTorch's kernel does, and is about three times faster
    than ``np.sum(axis=1)`` on rows of a few hundred classes.
    """
    if x3.nbytes <= BLOCK_BYTES:                        # one block: nothing to set up
        with np.errstate(**QUIET):
            if not class_sums:
                return (*one_block_softmax(x3), None)
            return one_block_class_sums(x3, y, w)
    n, c, d = x3.shape
    m = np.empty((n, 1, d), x3.dtype)
    log_norm = np.empty((n, 1, d), x3.dtype)
    sums = np.empty((n, d), x3.dtype) if class_sums else None
    blocks, step = _blocks(x3)
    shifted_buffer = np.empty((step, c, d), x3.dtype)
    exp_buffer = np.empty_like(shifted_buffer) if class_sums else shifted_buffer
    with np.errstate(**QUIET):
        for rows in blocks:
            block = x3[rows]
            class_max(block, out=m[rows])
            shifted = per_row(np.subtract, block, m[rows], shifted_buffer[:len(block)])
            exps = np.exp(shifted, out=exp_buffer[:len(block)])
            np.log(np.einsum("ncd->nd", exps)[:, None, :], out=log_norm[rows])
            if not class_sums:
                continue
            log_p = per_row(np.subtract, shifted, log_norm[rows], shifted, scratch=exps)
            _sum_classes(log_p, None if y is None else y[rows], w, out=sums[rows])
    return m, log_norm, sums


def _sum_classes(log_p: np.ndarray, y: np.ndarray | None, w: np.ndarray | None,
                 out: np.ndarray) -> None:
    """``Σ_c y_c w_c log_p[n, c, d]`` of a block into ``out`` (N, D): ``log_p`` times ``y`` in
    place, then one ``einsum`` over the classes (with ``w`` as its second operand)."""
    if y is not None:
        log_p *= y
    if w is None:
        np.einsum("ncd->nd", log_p, out=out)
    else:
        np.einsum("ncd,c->nd", log_p, w, out=out)


def one_block_softmax(x3: np.ndarray, scale=None, out: np.ndarray | None = None):
    """``m`` and ``log_norm`` of :func:`log_softmax_sums` (no class sums), or with ``out``
    the ``scale · softmax`` of :func:`softmax_into` (``scale`` (N, 1, D) or one number),
    for an input of at most ``BLOCK_BYTES``: the same operations on the same (only) block,
    without the buffers and the block list set up for many blocks (half the time of a call
    at (1, 1000); those two call it for one block). Call it with NumPy's warnings off
    (``QUIET``), as they do.
    """
    n, _, d = x3.shape
    m = class_max(x3, np.empty((n, 1, d), x3.dtype))
    exps = per_row(np.subtract, x3, m, out)
    np.exp(exps, out=exps)
    sums = np.einsum("ncd->nd", exps)[:, None, :]
    if out is not None:
        per_row(np.multiply, out, scale / sums, out)      # (a buffer of its own if spread)
    return m, np.log(sums, out=sums)


def one_block_class_sums(x3: np.ndarray, y: np.ndarray | None = None,
                         w: np.ndarray | None = None):
    """:func:`log_softmax_sums` with ``class_sums`` for an input of at most ``BLOCK_BYTES``:
    its operations on its only block, without the block list and the buffers reused across
    blocks (a fifth of a (1, 1000) ``cross_entropy`` with label smoothing). Call it with
    NumPy's warnings off (``QUIET``), as that function does.
    """
    n, _, d = x3.shape
    m = class_max(x3, np.empty((n, 1, d), x3.dtype))
    shifted = per_row(np.subtract, x3, m)
    exps = np.exp(shifted)
    log_norm = np.log(np.einsum("ncd->nd", exps)[:, None, :])
    log_p = per_row(np.subtract, shifted, log_norm, shifted, scratch=exps)
    if y is not None:
        log_p *= y
    sums = np.einsum("ncd->nd", log_p) if w is None else np.einsum("ncd,c->nd", log_p, w)
    return m, log_norm, sums


def log_p_class_sums(x3: np.ndarray, m: np.ndarray, log_norm: np.ndarray,
                     y: np.ndarray | None = None, w: np.ndarray | None = None) -> np.ndarray:
    """The ``class_sums`` of :func:`log_softmax_sums`, ``Σ_c y_c w_c log p[n, c, d]`` of
    shape (N, D), from the ``m`` and ``log_norm`` a softmax already has (:func:`softmax_into`'s
    are the same numbers): ``log p = (x - m) - log_norm``, times ``y``, summed by the same
    ``einsum``, without the max, ``exp`` and sum passes. Block by block, in one reused buffer;
    call it with NumPy's warnings off (``QUIET``).
    """
    n, c, d = x3.shape
    sums = np.empty((n, d), x3.dtype)
    blocks, step = _blocks(x3)
    buffer = np.empty((step, c, d), x3.dtype)
    spread = np.empty_like(buffer) if spreads(x3) else None
    for rows in blocks:
        k = len(sums[rows])
        log_p = per_row(np.subtract, x3[rows], m[rows], buffer[:k])
        per_row(np.subtract, log_p, log_norm[rows], log_p,
                scratch=None if spread is None else spread[:k])
        _sum_classes(log_p, None if y is None else y[rows], w, out=sums[rows])
    return sums


def few_classes_log_norm(x3: np.ndarray):
    """``m`` and ``log_norm`` of :func:`log_softmax_sums` for an (N, C)
    input (``x3`` of shape (N, C, 1)) with few classes, 1 < C < ``FEW_CLASSES``.

    The same formula, max then ``log Σ_c exp(x - max)``, on each block of samples copied
    transposed to (C, n): every step is then one vectorised loop across the block's samples,
    where on rows of a few classes NumPy calls its loop once per sample (at C = 16 the max
    and ``x - max`` cost 3 and 1.5 ns an element that way; transposed, the whole pass costs
    less than the row max alone). The sum over the classes runs in class order, as
    PyTorch's ``log_softmax`` adds a row shorter than its vector width.
    """
    n, c, _ = x3.shape
    x2 = x3[:, :, 0]
    m = np.empty(n, x3.dtype)
    log_norm = np.empty(n, x3.dtype)
    blocks, step = _blocks(x3)
    buffer = np.empty((c, step), x3.dtype)
    with np.errstate(**QUIET):
        for rows in blocks:
            block = buffer[:, :len(m[rows])]
            np.copyto(block, x2[rows].T)                 # (C, n): classes × samples
            mr = np.maximum.reduce(block, axis=0, out=m[rows])
            np.subtract(block, mr, out=block)
            np.exp(block, out=block)
            np.log(np.add.reduce(block, axis=0), out=log_norm[rows])
    return m.reshape(n, 1, 1), log_norm.reshape(n, 1, 1)


def softmax_into(x3: np.ndarray, scale: np.ndarray, out: np.ndarray):
    """``out = scale · softmax(x3)`` over the classes of an ``(N, C, D)`` array, and the
    ``m``, ``log_norm`` of :func:`log_softmax_sums` (so the loss comes free with it).

    ``scale`` is ``(N, 1, D)`` (the upstream gradient of each sample, say), or one NumPy
    scalar for every sample (the same numbers as an array of it). Block by block:
    the exponentials go straight into ``out`` and one multiplication by ``scale / Σ e^…``
    normalises them, so the gradient of a softmax loss takes one pass for the max, one for
    ``exp``, one for the sums and one for the scaling, and no temporary of the input's size.
    """
    if x3.nbytes <= BLOCK_BYTES:                         # one block: nothing to set up
        with np.errstate(**QUIET):
            return one_block_softmax(x3, scale, out)
    n, c, d = x3.shape
    m = np.empty((n, 1, d), x3.dtype)
    log_norm = np.empty((n, 1, d), x3.dtype)
    per_sample = isinstance(scale, np.ndarray)
    blocks, step = _blocks(x3)
    spread = np.empty((step, c, d), x3.dtype) if spreads(x3) else None
    with np.errstate(**QUIET):
        for rows in blocks:
            block, o, mr = x3[rows], out[rows], m[rows]
            class_max(block, out=mr)
            per_row(np.subtract, block, mr, o)
            np.exp(o, out=o)
            sums = np.einsum("ncd->nd", o)[:, None, :]
            np.log(sums, out=log_norm[rows])
            per_row(np.multiply, o, (scale[rows] if per_sample else scale) / sums, o,
                    scratch=None if spread is None else spread[:len(o)])
    return m, log_norm


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``."""
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.subtract(x, np.max(x, axis=axis, keepdims=True, initial=-np.inf))
        np.exp(out, out=out)
        return np.divide(out, np.sum(out, axis=axis, keepdims=True), out=out)
