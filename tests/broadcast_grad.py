"""Comparing a gradient that sums over broadcast copies (an input smaller than the loss).

Where x broadcasts against the target, d loss / d x adds the gradients of all the positions x was
copied to. Those terms can cancel to almost 0, and then float32 rounding of the sum decides the
result's last bits, in torch as in lossref. ``gradcheck.assert_grad_close`` judges near-zero
elements against the result's own scale; here they are judged against the scale of the summed
terms instead: torch's gradient with respect to the expanded array, times the number of copies.
"""

from __future__ import annotations

import numpy as np

from gradcheck import GRAD_RTOL, torch_grad


def terms_scale(loss_of_expanded, array: np.ndarray, full_shape: tuple, grad_output,
                extra_factor: float = 1.0) -> float:
    """copies × max |torch gradient with respect to ``array`` broadcast to ``full_shape``|."""
    full = np.broadcast_to(array, full_shape).copy()
    grad, = torch_grad(loss_of_expanded, [full], grad_output)
    finite = np.abs(grad[np.isfinite(grad)])
    copies = full.size / max(array.size, 1)
    return extra_factor * copies * (float(finite.max()) if finite.size else 0.0)


def assert_summed_grad_close(ours, expected, dtype, scale: float) -> None:
    """Same dtype and shape as torch's; values within rtol, near-zero sums within rtol × scale."""
    ours, expected = np.asarray(ours), np.asarray(expected)
    assert ours.dtype == expected.dtype, f"dtype {ours.dtype} != torch {expected.dtype}"
    assert ours.shape == expected.shape, f"shape {ours.shape} != torch {expected.shape}"
    rtol = GRAD_RTOL[np.dtype(dtype).type]
    finite = expected[np.isfinite(expected)]
    scale = max(scale, float(np.abs(finite).max()) if finite.size else 0.0)
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol * scale, equal_nan=True)
