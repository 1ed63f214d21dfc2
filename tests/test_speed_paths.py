"""The fast paths of issue 29 against torch, live: each shortcut a loss takes for speed must
give torch's numbers in the cases it skips work for (and in those it must not skip).

- cross_entropy / nll_loss: targets checked with one min and one max (``class_targets``),
  ``ignore_index`` inside or outside the targets' range, hit or not; target dtypes; row-wise
  ufunc loops (``row_loops``) at class counts and spatial sizes on both sides of their limits.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch_ref import TOL, assert_matches_torch, t

import lossref


def _torch_pair(name, x, target, **kw):
    """torch's loss and its gradient with respect to ``x``."""
    tx = t(x).requires_grad_(True)
    kw = {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    out = getattr(F, name)(tx, t(target), **kw)
    out.sum().backward()
    return out.detach(), tx.grad


def _check_class_loss(name, x, target, **kw):
    loss, grad = _torch_pair(name, x, target, **kw)
    assert_matches_torch(getattr(lossref, name)(x, target, **kw), loss, x.dtype)
    assert_matches_torch(getattr(lossref.grad, name)(x, target, **kw), grad, x.dtype)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("ignore_index", [-100, 0, 3, 6, 99])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ignore_index_in_and_out_of_the_targets_range(name, ignore_index, reduction):
    # targets 2..5: ignore_index 0 and 6 are classes no target holds (the min/max shortcut
    # skips the mask), 3 is hit, -100 and 99 are outside [0, C)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 7)).astype(np.float32)
    target = rng.integers(2, 6, 40)
    target[0], target[1] = 2, 5
    _check_class_loss(name, x, target, ignore_index=ignore_index, reduction=reduction)
    w = rng.uniform(0.5, 2, 7).astype(np.float32)
    _check_class_loss(name, x, target, weight=w, ignore_index=ignore_index, reduction=reduction)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_and_an_empty_batch(name):
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    _check_class_loss(name, x, np.full(5, -100))           # mean nan, gradient zeros
    _check_class_loss(name, x, np.full(5, 2), ignore_index=2)
    _check_class_loss(name, x[:0], np.zeros(0, np.int64), reduction="sum")
    _check_class_loss(name, x[:0], np.zeros(0, np.int64), reduction="none")


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.uint64, np.int64])
def test_target_dtypes_index_the_same_classes(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((30, 9)).astype(np.float32)
    target = rng.integers(0, 9, 30)
    for name in ("cross_entropy", "nll_loss"):
        loss, grad = _torch_pair(name, x, target)
        assert_matches_torch(getattr(lossref, name)(x, target.astype(dtype)), loss, np.float32)
        assert_matches_torch(getattr(lossref.grad, name)(x, target.astype(dtype)), grad,
                             np.float32)


def test_a_target_out_of_range_still_raises():
    x = np.zeros((3, 4), np.float32)
    for bad in ([0, 4, 1], [0, -1, 1], [0, -100, 7]):
        for fn in (lossref.cross_entropy, lossref.nll_loss, lossref.grad.cross_entropy):
            with pytest.raises(IndexError):
                fn(x, np.array(bad))
        with pytest.raises(IndexError):
            F.cross_entropy(t(x), t(np.array(bad)))


# (N, C) with C below 16, not a multiple of 16, at and above NumPy's 8192-element buffer;
# (N, C, D) with D below and above 16
@pytest.mark.parametrize("shape", [(50, 3), (40, 100), (9, 520), (3, 8192), (2, 9000),
                                   (6, 5, 7), (4, 6, 40), (3, 4, 5, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_row_loops_give_torchs_numbers(shape, dtype, label_smoothing):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    target = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    _check_class_loss("cross_entropy", x, target, label_smoothing=label_smoothing)
    loss, grad = lossref.grad.cross_entropy(x, target, label_smoothing=label_smoothing,
                                            return_loss=True)
    np.testing.assert_allclose(loss, lossref.cross_entropy(x, target,
                                                           label_smoothing=label_smoothing),
                               **TOL[np.dtype(dtype).type])


def test_row_loops_leave_numpys_buffer_size_as_it_was():
    before = np.getbufsize()
    x = np.zeros((4, 100), np.float32)
    lossref.cross_entropy(x, np.zeros(4, np.int64))
    lossref.grad.cross_entropy(x, np.zeros(4, np.int64))
    with pytest.raises(IndexError):
        lossref.cross_entropy(x, np.full(4, 100))
    assert np.getbufsize() == before


def test_confident_and_non_finite_rows():
    x = np.array([[17, 0], [0, 17], [1e30, -1e30], [np.inf, 0], [np.nan, 1], [-np.inf, 0]],
                 np.float32)
    target = np.array([0, 1, 0, 0, 1, 1])
    for rows in ([0, 1, 2], [0, 1, 2, 3], [4], [5]):
        _check_class_loss("cross_entropy", x[rows], target[rows], reduction="none")
    loss, grad = _torch_pair("cross_entropy", x[:2], target[:2], reduction="none")
    assert (lossref.cross_entropy(x[:2], target[:2], reduction="none") == loss.numpy()).all()
    assert (lossref.grad.cross_entropy(x[:2], target[:2], reduction="none")
            == grad.numpy()).all()
