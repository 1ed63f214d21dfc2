"""Shared helpers for the gradient tests: torch autograd on the same arrays, finite differences.

Tolerances are the contract of ``lossref.grad``: rtol 1e-8 in float64 and 1e-4 in float32 of torch's
autograd (the operation order of torch's backward differs, so not bitwise). Elements that cancel to
almost zero are judged against the gradient's scale: atol = rtol × max |torch gradient|, or against
the size of the terms that cancel when that is larger (``scale``): the copies summed where an input
was broadcast (``terms_scale``), or the other inputs' gradients of a loss of several inputs
(``assert_grads_close``).
"""

from __future__ import annotations

import numpy as np
import torch

GRAD_RTOL = {np.float32: 1e-4, np.float64: 1e-8}


def torch_grad(loss_fn, inputs, grad_output=None):
    """Gradients of ``loss_fn(*tensors)`` with respect to each NumPy array in ``inputs``.

    ``inputs`` are NumPy arrays; each becomes a leaf tensor with ``requires_grad``. ``grad_output``
    (NumPy or None) is passed to ``torch.autograd.grad`` (None means ones of the output's shape).
    Returns a list of NumPy arrays (zeros where the input does not reach the loss).
    """
    leaves = [torch.from_numpy(np.array(x, copy=True)).requires_grad_(True) for x in inputs]
    out = loss_fn(*leaves)
    g = torch.ones_like(out) if grad_output is None else torch.from_numpy(np.array(grad_output, copy=True))
    grads = torch.autograd.grad(out, leaves, g, allow_unused=True)
    return [np.zeros_like(x) if gr is None else gr.numpy() for x, gr in zip(inputs, grads)]


def assert_grad_close(ours, expected, dtype, scale: float = 0.0) -> None:
    """Same dtype and shape as torch's gradient; values within the ``lossref.grad`` contract.

    Near-zero elements are judged within rtol × the larger of ``scale`` (0 unless the caller
    knows the size of the terms that cancel) and max |finite torch gradient|.
    """
    ours = np.asarray(ours)
    expected = np.asarray(expected)
    assert ours.dtype == expected.dtype, f"dtype {ours.dtype} != torch {expected.dtype}"
    assert ours.shape == expected.shape, f"shape {ours.shape} != torch {expected.shape}"
    rtol = GRAD_RTOL[np.dtype(dtype).type]
    finite = expected[np.isfinite(expected)]
    scale = max(scale, float(np.abs(finite).max()) if finite.size else 0.0)
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol * scale, equal_nan=True)


def assert_grads_close(got, want, dtype, term_scale: float = 0.0) -> None:
    """The lossref.grad contract for a loss of several inputs, judged on one common scale.

    One input's gradient can be the difference of the others' (the anchor's in a triplet is
    ∇d(a, p) − ∇d(a, n)); where that cancels to a rounding residue it is judged against the
    largest gradient of the loss, atol = rtol × max |torch gradient| over all inputs, or against
    ``term_scale``, the size of the terms that cancel, when that is larger.
    """
    finite = [np.abs(w[np.isfinite(w)]).max() for w in want if np.isfinite(w).any()]
    scale = max(float(max(finite)) if finite else 0.0, term_scale)
    for g, w in zip(got, want):
        assert_grad_close(g, w, dtype, scale)


def terms_scale(loss_of_expanded, array: np.ndarray, full_shape: tuple, grad_output,
                extra_factor: float = 1.0) -> float:
    """copies × max |torch gradient with respect to ``array`` broadcast to ``full_shape``|.

    Where ``array`` broadcasts against the target, d loss / d array adds the gradients of all the
    positions it was copied to. Those terms can cancel to almost 0, and then float32 rounding of
    the sum decides the result's last bits, in torch as in lossref: pass this as
    ``assert_grad_close``'s ``scale``.
    """
    full = np.broadcast_to(array, full_shape).copy()
    grad, = torch_grad(loss_of_expanded, [full], grad_output)
    finite = np.abs(grad[np.isfinite(grad)])
    copies = full.size / max(array.size, 1)
    return extra_factor * copies * (float(finite.max()) if finite.size else 0.0)


def central_difference(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f(x) / d x by central differences, element by element, in float64 (f returns a scalar)."""
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = float(f(x))
        x[i] = old - h
        down = float(f(x))
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad
