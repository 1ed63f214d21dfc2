"""The fast paths of issue 29 against torch, live: each shortcut a loss takes for speed must
give torch's numbers in the cases it skips work for (and in those it must not skip).

- cross_entropy / nll_loss: targets checked with one min and one max (``class_targets``),
  ``ignore_index`` inside or outside the targets' range, hit or not; target dtypes; row-wise
  ufunc loops (``row_loops``) at class counts and spatial sizes on both sides of their limits;
- smooth_l1_loss / huber_loss: blockwise sums across block edges, nan/inf, tiny kinks; their
  gradients clipped in one pass;
- ctc_loss: sequences ending (and starting the β recursion) at different frames;
- hinge_embedding_loss: masked ufuncs, targets other than ±1, broadcasting, its peak memory.
"""

from __future__ import annotations

import numpy as np
import pytest
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


def _close(ours, theirs, dtype):
    """assert_matches_torch, and for float16 the same dtype and values within 2 ulp."""
    if dtype != np.float16:
        return assert_matches_torch(ours, theirs, dtype)
    ours, expected = np.asarray(ours), theirs.detach().numpy()
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    np.testing.assert_allclose(ours.astype(np.float32), expected.astype(np.float32), rtol=2e-3,
                               equal_nan=True)


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


# (N, C) with C below 16, below 256 (buffered), not a multiple of 16, at and above NumPy's
# 8192-element buffer;
# (N, C, D) with D below 16, below 256 and above
@pytest.mark.parametrize("shape", [(50, 3), (40, 100), (9, 520), (3, 8192), (2, 9000),
                                   (6, 5, 7), (4, 6, 40), (2, 5, 300), (3, 4, 5, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_row_loops_give_torchs_numbers(shape, dtype, label_smoothing):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    target = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    _check_class_loss("cross_entropy", x, target, label_smoothing=label_smoothing)
    loss, _ = lossref.grad.cross_entropy(x, target, label_smoothing=label_smoothing,
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


# --- smooth_l1_loss / huber_loss: the blockwise Σ with reused buffers and a block of kinks ------
@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("size", [1, 7, 65536, 65537, 200_003])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kinked_sums_over_blocks(name, size, dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(size) * 2).astype(dtype)
    y = (rng.standard_normal(size) * 2).astype(dtype)
    kw = {"beta": 0.3} if name == "smooth_l1_loss" else {"delta": 0.3}
    for reduction in ("mean", "sum"):
        assert_matches_torch(getattr(lossref, name)(x, y, reduction=reduction, **kw),
                             getattr(F, name)(t(x), t(y), reduction=reduction, **kw), dtype)


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
def test_kinked_sums_with_nan_inf_and_a_kink_below_float32s_step(name):
    x = np.linspace(-3, 3, 70_001).astype(np.float32)
    y = np.zeros_like(x)
    x[5], x[70_000] = np.inf, -np.inf
    kw = {"beta": 1e-30} if name == "smooth_l1_loss" else {"delta": 1e-30}
    for xs in (x, np.where(np.arange(x.size) == 66_000, np.nan, x).astype(np.float32)):
        assert_matches_torch(getattr(lossref, name)(xs, y, **kw),
                             getattr(F, name)(t(xs), t(y), **kw), np.float32)


# --- ctc_loss: per-frame steps stacked, end and start frames looked up once ---------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ctc_sequences_ending_at_different_frames(dtype):
    rng = np.random.default_rng(5)
    n_frames, batch, n_classes = 12, 6, 5
    raw = rng.standard_normal((n_frames, batch, n_classes))
    lp = (raw - np.log(np.exp(raw).sum(-1, keepdims=True))).astype(dtype)
    targets = rng.integers(1, n_classes, (batch, 4))
    targets[0, :2] = 2                                   # a repeat: needs a blank between
    il = np.array([12, 1, 0, 7, 7, 3])
    tl = np.array([4, 0, 0, 3, 4, 2])
    for reduction in ("none", "mean", "sum"):
        tx = t(lp).requires_grad_(True)
        out = F.ctc_loss(tx, t(targets), t(il), t(tl), reduction=reduction, zero_infinity=True)
        out.sum().backward()
        kw = {"reduction": reduction, "zero_infinity": True}
        assert_matches_torch(lossref.ctc_loss(lp, targets, il, tl, **kw), out.detach(), dtype)
        loss, grad = lossref.grad.ctc_loss(lp, targets, il, tl, return_loss=True, **kw)
        assert_matches_torch(loss, out.detach(), dtype)
        np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-4, atol=1e-6)


# --- hinge_embedding_loss: masked ufuncs into one buffer ----------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_hinge_embedding_masks(dtype, reduction):
    x = np.array([0.3, -0.2, np.nan, 2.0, -np.inf, np.inf, 1.0, 0.0, 5.0], dtype)
    y = np.array([1, -1, -1, -1, 0, 0.5, -1, 1, 2], dtype)
    for margin in (1.0, 0.0, -1.5):
        _close(
            lossref.hinge_embedding_loss(x, y, margin=margin, reduction=reduction),
            F.hinge_embedding_loss(t(x), t(y), margin=margin, reduction=reduction), dtype)
    # broadcasting input against target, and a 0-d pair
    xb, yb = np.ones((3, 1), dtype), np.array([1.0, -1.0, 0.0], dtype)
    _close(lossref.hinge_embedding_loss(xb, yb, reduction=reduction),
                         F.hinge_embedding_loss(t(xb), t(yb), reduction=reduction), dtype)
    x0, y0 = np.array(0.25, dtype), np.array(-1.0, dtype)
    _close(lossref.hinge_embedding_loss(x0, y0, reduction=reduction),
                         F.hinge_embedding_loss(t(x0), t(y0), reduction=reduction), dtype)


def test_hinge_embedding_peak_memory_stays_near_the_input():
    import tracemalloc
    x = np.abs(np.random.default_rng(6).standard_normal(10**6)).astype(np.float32)
    y = np.where(np.arange(x.size) % 2, 1.0, -1.0).astype(np.float32)
    tracemalloc.start()
    lossref.hinge_embedding_loss(x, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.5 * x.nbytes


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_gradients_clipped_in_one_pass(name, dtype):
    # at and around the kink (±0.5), far out, ±inf, nan, ±0
    x = np.array([0.5, -0.5, 0.49, -0.51, 3.0, -3.0, np.inf, -np.inf, np.nan, 0.0, -0.0], dtype)
    y = np.zeros_like(x)
    kw = {"beta": 0.5} if name == "smooth_l1_loss" else {"delta": 0.5}
    for reduction in ("none", "sum", "mean"):
        tx = t(x).requires_grad_(True)
        getattr(F, name)(tx, t(y), reduction=reduction, **kw).sum().backward()
        _close(getattr(lossref.grad, name)(x, y, reduction=reduction, **kw), tx.grad, dtype)
