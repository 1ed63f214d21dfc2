"""Shared helpers for the gradient tests: torch autograd on the same arrays, finite differences.

Tolerances are the contract of ``lossref.grad``: rtol 1e-8 in float64 and 1e-4 in float32 of torch's
autograd (the operation order of torch's backward differs, so not bitwise). Elements that cancel to
almost zero are judged against the gradient's scale: atol = rtol × max |torch gradient|.
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


def assert_grad_close(ours, expected, dtype) -> None:
    """Same dtype and shape as torch's gradient; values within the ``lossref.grad`` contract."""
    ours = np.asarray(ours)
    expected = np.asarray(expected)
    assert ours.dtype == expected.dtype, f"dtype {ours.dtype} != torch {expected.dtype}"
    assert ours.shape == expected.shape, f"shape {ours.shape} != torch {expected.shape}"
    rtol = GRAD_RTOL[np.dtype(dtype).type]
    finite = expected[np.isfinite(expected)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol * scale, equal_nan=True)


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
