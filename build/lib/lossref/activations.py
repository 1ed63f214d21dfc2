"""The activations the losses are built from, with ``torch.nn.functional`` signatures.

They are public so that the book can show each step of a loss by hand.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _numerics
from ._validation import as_float

__all__ = ["log_softmax", "logsigmoid", "sigmoid", "softmax"]


def sigmoid(input: ArrayLike) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, elementwise.

    Examples
    --------
    >>> import numpy as np
    >>> print(np.round(sigmoid(np.array([-0.8267, 0.0], dtype=np.float32)), 4))
    [0.3043 0.5   ]
    """
    return _numerics.sigmoid(as_float(input, "input", "sigmoid"))


def logsigmoid(input: ArrayLike) -> np.ndarray:
    r""":math:`\log \sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`, finite for any finite x.

    Examples
    --------
    >>> import numpy as np
    >>> print(logsigmoid(np.array([-1e4, 0.0, 1e4])))
    [-1.00000000e+04 -6.93147181e-01  0.00000000e+00]
    """
    return _numerics.log_sigmoid(as_float(input, "input", "logsigmoid"))


def _dim(x: np.ndarray, dim: int | None, name: str) -> int:
    if dim is None:
        return _numerics.softmax_dim(x.ndim, name)
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"{name}: Dimension out of range (expected to be in range of "
                         f"[{-max(x.ndim, 1)}, {max(x.ndim, 1) - 1}], but got {dim})")
    return dim


def softmax(input: ArrayLike, dim: int | None = None) -> np.ndarray:
    r"""Softmax along ``dim``: :math:`e^{x_c - m} / \sum_j e^{x_j - m}` with :math:`m = \max_j x_j`.

    Examples
    --------
    >>> import numpy as np
    >>> print(np.round(softmax(np.array([[1.0, 2.0]]), dim=1), 4))
    [[0.2689 0.7311]]
    """
    x = as_float(input, "input", "softmax")
    return _numerics.softmax(x, _dim(x, dim, "softmax") if x.ndim else None)


def log_softmax(input: ArrayLike, dim: int | None = None) -> np.ndarray:
    r"""Log-softmax along ``dim``: :math:`(x_c - m) - \log \sum_j e^{x_j - m}`.

    Examples
    --------
    >>> import numpy as np
    >>> print(np.round(log_softmax(np.array([[1.0, 2.0]]), dim=1), 4))
    [[-1.3133 -0.3133]]
    """
    x = as_float(input, "input", "log_softmax")
    return _numerics.log_softmax(x, _dim(x, dim, "log_softmax") if x.ndim else None)
