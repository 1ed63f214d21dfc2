"""The speed paths of nll_loss and cross_entropy (issue 29) give the numbers of the general path
and of torch: nll_loss's usual call (one range check, gather in blocks) and cross_entropy's
log-softmax on a transposed block for few classes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracle import TOL

import lossref
from lossref import classification

# around the gather's block of 16384 samples, and the few-class limit of 64
SHAPES = [(1, 5), (7, 3), (16384, 4), (16385, 4), (40000, 2), (300, 63), (300, 64), (50, 512)]


def t(a):
    return torch.from_numpy(np.asarray(a))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_fast_path_is_the_general_path(shape, dtype, reduction):
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(0, 3, shape).astype(dtype)
    target = rng.integers(0, shape[1], shape[0])
    assert classification._common_nll(x, target, -100, reduction) is not None
    ours = lossref.nll_loss(x, target, reduction=reduction)
    # a weight of ones takes the general path: the same values, bit for bit
    general = lossref.nll_loss(x, target, weight=np.ones(shape[1], dtype), reduction=reduction)
    np.testing.assert_array_equal(ours, general)
    assert np.asarray(ours).dtype == dtype
    theirs = F.nll_loss(t(x), t(target), reduction=reduction).numpy()
    np.testing.assert_allclose(ours, theirs, **TOL[dtype])


@pytest.mark.parametrize("n", [9, 16385])
@pytest.mark.parametrize("bad", [-1, 5, -100, 2**40])
def test_nll_fast_path_leaves_every_other_target_to_the_general_path(n, bad):
    x = np.random.default_rng(0).normal(size=(n, 5)).astype(np.float32)
    target = np.arange(n) % 5
    target[n // 2] = bad
    assert classification._common_nll(x, target, -100, "mean") is None
    if bad == -100:                     # ignored: torch's mean over the other targets
        np.testing.assert_allclose(lossref.nll_loss(x, target),
                                   F.nll_loss(t(x), t(target)).item(), rtol=2e-5)
    else:
        with pytest.raises(IndexError):
            lossref.nll_loss(x, target)
    # an ignore_index that is a class, other dtypes and layouts go the general way too
    ok = np.arange(n) % 5
    assert classification._common_nll(x, ok, 3, "mean") is None
    assert classification._common_nll(x, ok.astype(np.int32), -100, "mean") is None
    assert classification._common_nll(np.asfortranarray(x), ok, -100, "mean") is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", [2, 3, 5, 16, 40, 63])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_few_classes_matches_torch(c, dtype, reduction):
    rng = np.random.default_rng(c)
    x = rng.normal(0, 4, (5000, c)).astype(dtype)
    x[0, :] = 80.0                      # exp(x) overflows float32 without the max
    x[1, 0] = -np.inf
    target = rng.integers(0, c, 5000)
    ours = lossref.cross_entropy(x, target, reduction=reduction)
    theirs = F.cross_entropy(t(x), t(target), reduction=reduction).numpy()
    np.testing.assert_allclose(ours, theirs, **TOL[dtype])
    # and the gradient's softmax (the transposed maximum), against autograd
    xt = t(x).requires_grad_()
    F.cross_entropy(xt, t(target)).backward()
    np.testing.assert_allclose(lossref.grad.cross_entropy(x, target), xt.grad.numpy(),
                               rtol=1e-4 if dtype == np.float32 else 1e-8, atol=1e-9)


def test_cross_entropy_few_classes_nonfinite_rows():
    x = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf],
                  [1.0, 2.0, 3.0]], np.float32)
    target = np.array([1, 1, 0, 2])
    ours = lossref.cross_entropy(x, target, reduction="none")
    theirs = F.cross_entropy(t(x), t(target), reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, equal_nan=True)
