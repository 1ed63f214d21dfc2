"""The usual-call fast paths of the class losses (issue 29, round 3): each gives the general
path's numbers bit for bit (the general path forced with int32 targets, which the fast paths
leave to it) and torch's, at sizes around their edges: one sample, one class, the few-class
limit (64), one ufunc buffer (8192 elements), one block (256 KiB) and rows per_row spreads
(32 to 255 classes, more than one buffer: (65, 128) in one block, (1000, 100) in two)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracle import TOL

import lossref
from lossref import _cross_entropy_fast, classification, multilabel, multilabel_margin, vocabulary

SHAPES = [(1, 1), (1, 5), (3, 1), (1, 1000), (10, 100), (7, 63), (7, 64), (64, 128), (10, 1000),
          (65, 128), (1, 8193), (300, 300), (2000, 3), (1000, 100)]
REDUCTIONS = ["mean", "sum", "none"]


def t(a):
    return torch.from_numpy(np.asarray(a))


def _logits(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(0, 3, shape).astype(dtype)
    if shape[1] > 2:
        x[0, 1] = 80.0                  # exp overflows float32 without the max
    return x, rng.integers(0, shape[1], shape[0])


def _same(a, b):
    """Equal values bit for bit (nan where nan), dtype, shape and type (scalar or array)."""
    assert type(a) is type(b)
    assert np.asarray(a).dtype == np.asarray(b).dtype and np.shape(a) == np.shape(b)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_fast_path_is_the_general_path(shape, dtype, reduction):
    x, target = _logits(shape, dtype)
    assert classification._plain_call(x, target, -100)
    general = target.astype(np.int32)
    assert not classification._plain_call(x, general, -100)
    ours = lossref.cross_entropy(x, target, reduction=reduction)
    _same(ours, lossref.cross_entropy(x, general, reduction=reduction))
    loss, grad = lossref.grad.cross_entropy(x, target, reduction=reduction, return_loss=True)
    loss_g, grad_g = lossref.grad.cross_entropy(x, general, reduction=reduction,
                                                return_loss=True)
    _same(loss, loss_g)
    _same(grad, grad_g)
    _same(lossref.grad.cross_entropy(x, target, reduction=reduction), grad_g)
    # and torch's numbers, forward and autograd
    xt = t(x).requires_grad_()
    out = F.cross_entropy(xt, t(target), reduction=reduction)
    np.testing.assert_allclose(ours, out.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(loss, out.detach().numpy(), **TOL[dtype])
    out.sum().backward()
    np.testing.assert_allclose(grad, xt.grad.numpy(),
                               rtol=1e-4 if dtype == np.float32 else 1e-8, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_fast_path_nonfinite_rows(reduction):
    x = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf],
                  [1.0, 2.0, 3.0], [0.0, -0.0, 0.0]], np.float32)
    x = np.repeat(x, 30, axis=1)        # 90 classes: the row-max path, not the few-class one
    target = np.array([1, 1, 0, 2, 1])
    ours = lossref.cross_entropy(x, target, reduction=reduction)
    _same(ours, lossref.cross_entropy(x, target.astype(np.int32), reduction=reduction))
    _same(lossref.grad.cross_entropy(x, target, reduction=reduction),
          lossref.grad.cross_entropy(x, target.astype(np.int32), reduction=reduction))
    theirs = F.cross_entropy(t(x), t(target), reduction=reduction).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, equal_nan=True)


def test_cross_entropy_fast_path_leaves_other_calls_to_the_general_path():
    x, target = _logits((9, 5), np.float32)
    plain = classification._plain_call
    assert plain(x, target, -100, 0.0) and plain(x, target, 5, 0)
    assert not plain(x, target, 3)                          # a class is ignored
    assert not plain(x, target, -100, 0.1)                  # smoothing
    assert not plain(x, target, -100, False)                # bool: torch's parser decides
    assert not plain(np.asfortranarray(x), target, -100)
    assert not plain(x.astype(np.float16), target, -100)
    assert not plain(x, target.tolist(), -100)
    assert not plain(x[:0], target[:0], -100)               # empty batch
    assert not plain(x, target[:4], -100)                   # batch mismatch: its error
    for bad in (-1, 5, 2**40):
        wrong = target.copy()
        wrong[4] = bad
        assert not plain(x, wrong, -100)
        with pytest.raises(IndexError):
            lossref.cross_entropy(x, wrong)
    ignored = target.copy()
    ignored[4] = -100
    np.testing.assert_allclose(lossref.cross_entropy(x, ignored),
                               F.cross_entropy(t(x), t(ignored)).item(), rtol=2e-5)


#: (weight, label_smoothing, share of targets ignored, ignore_index) of _class_call's cases:
#: the benchmark's call, each option alone, and an ignore_index that is a class
CLASS_OPTIONS = [(True, 0.1, 0.1, -100), (True, 0.0, 0.0, -100), (False, 0.1, 0.0, -100),
                 (False, 0.0, 0.3, -100), (False, 0.2, 0.0, 0)]


def _class_case(shape, dtype, options):
    x, target = _logits(shape, dtype)
    weighted, eps, ignored, ignore_index = options
    rng = np.random.default_rng(shape[0])
    target[rng.random(shape[0]) < ignored] = ignore_index
    w = rng.uniform(0.5, 2.0, shape[1]).astype(dtype) if weighted else None
    return x, target, {"weight": w, "label_smoothing": eps, "ignore_index": ignore_index}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("options", CLASS_OPTIONS)
def test_class_cross_entropy_fast_path_is_the_general_path(shape, dtype, options):
    """Weight, smoothing and ignored targets (_common_class_cross_entropy and its gradient):
    the general path's numbers (forced by int32 targets) and torch's, each reduction."""
    x, target, options_kw = _class_case(shape, dtype, options)
    assert classification._class_call(x, target, options_kw["weight"],
                                      options_kw["ignore_index"], options_kw["label_smoothing"])
    general = target.astype(np.int32)
    assert not classification._class_call(x, general, options_kw["weight"],
                                          options_kw["ignore_index"],
                                          options_kw["label_smoothing"])
    for reduction in REDUCTIONS:
        _check_class_call(x, target, general, dtype, dict(options_kw, reduction=reduction))


def _check_class_call(x, target, general, dtype, kw):
    ours = lossref.cross_entropy(x, target, **kw)
    _same(ours, lossref.cross_entropy(x, general, **kw))
    loss, grad = lossref.grad.cross_entropy(x, target, return_loss=True, **kw)
    loss_g, grad_g = lossref.grad.cross_entropy(x, general, return_loss=True, **kw)
    _same(loss, loss_g)
    _same(grad, grad_g)
    _same(lossref.grad.cross_entropy(x, target, **kw), grad_g)
    tkw = dict(kw, weight=None if kw["weight"] is None else t(kw["weight"]))
    xt = t(x).requires_grad_()
    out = F.cross_entropy(xt, t(target), **tkw)
    np.testing.assert_allclose(ours, out.detach().numpy(), equal_nan=True, **TOL[dtype])
    np.testing.assert_allclose(loss, out.detach().numpy(), equal_nan=True, **TOL[dtype])
    out.sum().backward()
    np.testing.assert_allclose(grad, xt.grad.numpy(),
                               rtol=1e-4 if dtype == np.float32 else 1e-8, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_cross_entropy_fast_path_edge_rows(reduction):
    """Non-finite logits, every target ignored (a nan mean, a zero gradient), and the
    smoothing of 1 (0 · inf): the general path's numbers."""
    x = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf],
                  [1.0, 2.0, 3.0], [0.0, -0.0, 0.0]], np.float32)
    x = np.repeat(x, 30, axis=1)
    w = np.linspace(0.5, 2, 90, dtype=np.float32)
    for target in (np.array([1, 1, 0, 2, 1]), np.full(5, -100)):
        for eps in (0.0, 0.1, 1.0):
            kw = {"weight": w, "label_smoothing": eps, "reduction": reduction}
            general = target.astype(np.int32)
            _same(lossref.cross_entropy(x, target, **kw),
                  lossref.cross_entropy(x, general, **kw))
            for a, b in zip(lossref.grad.cross_entropy(x, target, return_loss=True, **kw),
                            lossref.grad.cross_entropy(x, general, return_loss=True, **kw),
                            strict=True):
                _same(a, b)
    theirs = F.cross_entropy(t(x), t(np.full(5, -100)), weight=t(w), label_smoothing=0.1)
    assert np.isnan(theirs.item()) and np.isnan(lossref.cross_entropy(
        x, np.full(5, -100), weight=w, label_smoothing=0.1))


def test_class_cross_entropy_fast_path_leaves_other_calls_to_the_general_path():
    x, target = _logits((9, 5), np.float32)
    w = np.ones(5, np.float32)
    call = classification._class_call
    assert call(x, target, w, -100, 0.1) and call(x, target, None, 3, 0)
    assert not call(x, target, w.astype(np.float64), -100, 0.1)    # a weight to cast
    assert not call(x, target, w[:4], -100, 0.1)                   # its error
    assert not call(x, target, w.tolist(), -100, 0.1)
    assert not call(x, target, w, -100, True)                      # torch's parser decides
    assert not call(x, target, w, True, 0.1)
    assert not call(x, target, w, -100, 1.5)                       # its error
    assert not call(x, target, w, 2**63, 0.1)
    assert not call(x, target.astype(np.int32), w, -100, 0.1)
    assert not call(x[:0], target[:0], w, -100, 0.1)
    assert not call(x, target[:4], w, -100, 0.1)
    assert not call(x.astype(np.float16), target, w.astype(np.float16), -100, 0.1)
    for bad in (-1, 5, -100):
        wrong = target.copy()
        wrong[4] = bad
        assert _cross_entropy_fast._class_targets(wrong, 5, 3) is None      # the general path
        with pytest.raises(IndexError):                                # raises
            lossref.cross_entropy(x, wrong, weight=w, label_smoothing=0.1, ignore_index=3)
        with pytest.raises(IndexError):
            lossref.grad.cross_entropy(x, wrong, weight=w, ignore_index=3)
    with pytest.raises(ValueError):
        lossref.cross_entropy(x, target, weight=w, label_smoothing=1.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("weighted", "eps"), [(False, 0.0), (True, 0.1)])
def test_probability_cross_entropy_fast_path_is_the_general_path(shape, dtype, weighted, eps):
    """Class-probability targets (_common_probability_cross_entropy and its gradient): the
    general path's numbers (forced by a list target, the same numbers) and torch's, each
    reduction."""
    x, _ = _logits(shape, dtype)
    rng = np.random.default_rng(shape[1])
    y = rng.exponential(1.0, shape).astype(dtype)
    y /= y.sum(axis=1, keepdims=True)
    w = rng.uniform(0.5, 2.0, shape[1]).astype(dtype) if weighted else None
    assert classification._probability_call(x, y, w, -100, eps)
    general = y.tolist()
    assert not classification._probability_call(x, general, w, -100, eps)
    for reduction in REDUCTIONS:
        kw = {"weight": w, "label_smoothing": eps, "reduction": reduction}
        _check_probability_call(x, y, w, general, dtype, kw)


def _check_probability_call(x, y, w, general, dtype, kw):
    ours = lossref.cross_entropy(x, y, **kw)
    _same(ours, lossref.cross_entropy(x, general, **kw))
    loss, grad = lossref.grad.cross_entropy(x, y, return_loss=True, **kw)
    loss_g, grad_g = lossref.grad.cross_entropy(x, general, return_loss=True, **kw)
    _same(loss, loss_g)
    _same(grad, grad_g)
    _same(lossref.grad.cross_entropy(x, y, **kw), grad_g)
    xt = t(x).requires_grad_()
    out = F.cross_entropy(xt, t(y), **dict(kw, weight=None if w is None else t(w)))
    np.testing.assert_allclose(ours, out.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(loss, out.detach().numpy(), **TOL[dtype])
    out.sum().backward()
    np.testing.assert_allclose(grad, xt.grad.numpy(),
                               rtol=1e-4 if dtype == np.float32 else 1e-8, atol=1e-7)


def test_probability_cross_entropy_fast_path_leaves_other_calls_to_the_general_path():
    x, _ = _logits((9, 5), np.float32)
    y = np.full((9, 5), 0.2, np.float32)
    w = np.ones(5, np.float32)
    call = classification._probability_call
    assert call(x, y, None, -100, 0.0) and call(x, y, w, -1, 0.3)
    assert not call(x, y.astype(np.float64), None, -100, 0.0)      # a target to cast
    assert not call(x, y, w.astype(np.float64), -100, 0.0)
    assert not call(x, y, w[:4], -100, 0.0)
    assert not call(x, y, None, 0, 0.0)                            # its error
    assert not call(x, y, None, -100, 2.0)
    assert not call(x, y, None, -100, False)
    assert not call(x[:0], y[:0], None, -100, 0.0)
    assert not call(x, y.tolist(), None, -100, 0.0)
    strided = np.full((9, 10), 0.1, np.float32)[:, ::2]
    assert not call(x, strided, None, -100, 0.0)
    np.testing.assert_allclose(lossref.cross_entropy(x, strided),
                               F.cross_entropy(t(x), t(strided.copy())).item(), rtol=2e-5)
    with pytest.raises(ValueError):
        lossref.cross_entropy(x, y, ignore_index=0)
    with pytest.raises(ValueError):
        lossref.grad.cross_entropy(x, y, ignore_index=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (3, 1), (1, 1000), (10, 100), (1000, 10),
                                   (77, 130)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("p", "margin"), [(1, 1.0), (2, 0.5), (1, 2)])
def test_multi_margin_fast_path_is_the_general_path(shape, dtype, reduction, p, margin):
    x, target = _logits(shape, dtype)
    x[-1, 0] = np.nan                   # a nan score adds nothing, as in the kernel
    plain = multilabel._plain_multi_margin
    assert plain(x, target, p, margin, None)
    general = target.astype(np.int32)
    assert not plain(x, general, p, margin, None)
    kw = {"p": p, "margin": margin, "reduction": reduction}
    ours = lossref.multi_margin_loss(x, target, **kw)
    _same(ours, lossref.multi_margin_loss(x, general, **kw))
    grad = lossref.grad.multi_margin_loss(x, target, **kw)
    _same(grad, lossref.grad.multi_margin_loss(x, general, **kw))
    xt = t(x).requires_grad_()
    out = F.multi_margin_loss(xt, t(target), **kw)
    np.testing.assert_allclose(ours, out.detach().numpy(), **TOL[dtype])
    out.sum().backward()
    np.testing.assert_allclose(grad, xt.grad.numpy(),
                               rtol=1e-4 if dtype == np.float32 else 1e-8, atol=1e-7)


def test_multi_margin_fast_path_leaves_other_calls_to_the_general_path():
    x, target = _logits((9, 5), np.float32)
    plain = multilabel._plain_multi_margin
    assert plain(x, target, 1, 1.0, None)
    assert not plain(x, target, 1, 1.0, np.ones(5, np.float32))
    assert not plain(x, target, 3, 1.0, None)
    assert not plain(x, target, 1.0, 1.0, None)
    assert not plain(x, target, 1, 1 + 0j, None)
    assert not plain(x, target, 1, np.float32(1), None)
    assert not plain(np.asfortranarray(x), target, 1, 1.0, None)
    assert not plain(x[:0], target[:0], 1, 1.0, None)
    assert not plain(x[0], target[:1], 1, 1.0, None)       # unbatched: its shapes
    for bad in (-1, 5):
        wrong = target.copy()
        wrong[4] = bad
        assert not plain(x, wrong, 1, 1.0, None)
        with pytest.raises(IndexError):
            lossref.multi_margin_loss(x, wrong)
    with pytest.raises(ValueError):
        lossref.multi_margin_loss(x, target, p=3)


def _labels(shape, rng, counts):
    """Label rows with ``counts[n]`` labels (duplicates allowed), then -1, then junk labels."""
    y = rng.integers(0, shape[1], shape)
    for row, k in enumerate(counts):
        if k < shape[1]:
            y[row, k] = -1              # the labels after the first -1 do not count
    return y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 1), (1, 1000), (10, 100), (300, 10),
                                   (40, 200)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("counts", ["even", "skewed", "none"])
def test_multilabel_margin_fast_path_is_the_general_path(shape, dtype, reduction, counts):
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(0, 1, shape).astype(dtype)
    n, c = shape
    k = {"even": [min(5, c)] * n, "none": [0] * n,
         "skewed": [c] + [int(v) for v in rng.integers(0, 2, n - 1)]}[counts]
    y = _labels(shape, rng, k)
    if n > 2 and c > 2:
        x[1, 0], x[2, 1] = np.nan, np.inf
    plain = multilabel_margin._plain_multilabel_margin
    assert plain(x, y)
    general = y.astype(np.int32)
    assert not plain(x, general)
    ours = lossref.multilabel_margin_loss(x, y, reduction=reduction)
    _same(ours, lossref.multilabel_margin_loss(x, general, reduction=reduction))
    grad = lossref.grad.multilabel_margin_loss(x, y, reduction=reduction)
    _same(grad, lossref.grad.multilabel_margin_loss(x, general, reduction=reduction))
    xt = t(x).requires_grad_()
    out = F.multilabel_margin_loss(xt, t(y), reduction=reduction)
    np.testing.assert_allclose(ours, out.detach().numpy(), equal_nan=True, **TOL[dtype])
    out.sum().backward()
    np.testing.assert_allclose(grad, xt.grad.numpy(), equal_nan=True,
                               rtol=1e-4 if dtype == np.float32 else 1e-8, atol=1e-7)


def test_multilabel_margin_blocks_pad_and_sort():
    """Rows longer than a block, and label counts so uneven that rows go longest first, in
    blocks each padded to its own longest row: the same numbers as torch."""
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, (600, 300)).astype(np.float32)
    y = _labels(x.shape, rng, [300 if i % 97 == 0 else i % 4 for i in range(600)])
    ours = lossref.multilabel_margin_loss(x, y, reduction="none")
    np.testing.assert_allclose(ours, F.multilabel_margin_loss(t(x), t(y), reduction="none"),
                               rtol=1e-5, atol=1e-6)
    xt = t(x).requires_grad_()
    F.multilabel_margin_loss(xt, t(y)).backward()
    np.testing.assert_allclose(lossref.grad.multilabel_margin_loss(x, y), xt.grad.numpy(),
                               rtol=1e-4, atol=1e-9)


def test_multilabel_margin_long_rows_come_in_pieces():
    """A row of 3000 labels over 3000 classes: its 9·10⁶ terms (36 MB) are formed a few label
    slots at a time, and the pieces add up to torch's loss and gradient."""
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (2, 3000))
    y = np.stack([rng.permutation(3000), np.r_[rng.permutation(3000)[:5], [-1] * 2995]])
    ours = lossref.multilabel_margin_loss(x, y, reduction="none")
    np.testing.assert_allclose(ours, F.multilabel_margin_loss(t(x), t(y), reduction="none"),
                               rtol=1e-12)
    xt = t(x).requires_grad_()
    F.multilabel_margin_loss(xt, t(y)).backward()
    np.testing.assert_allclose(lossref.grad.multilabel_margin_loss(x, y), xt.grad.numpy(),
                               rtol=1e-12, atol=1e-15)


def test_multilabel_margin_fast_path_leaves_other_calls_to_the_general_path():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6)).astype(np.float32)
    y = _labels(x.shape, rng, [2, 3, 0, 6])
    plain = multilabel_margin._plain_multilabel_margin
    assert plain(x, y)
    assert not plain(x[0], y[0])                        # unbatched: its shapes
    assert not plain(x[:0], y[:0])
    assert not plain(x, y[:, :5])
    assert not plain(x.astype(np.float16), y)
    for bad in (-2, 6):
        wrong = y.copy()
        wrong[3, 5] = bad
        assert not plain(x, wrong)
        with pytest.raises(IndexError):
            lossref.multilabel_margin_loss(x, wrong)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 3, 1), (1, 8, 5), (7, 5, 3), (16, 64, 1000),
                                   (65, 16, 1008), (2, 4, 70000)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_linear_cross_entropy_fast_path_is_the_general_path(shape, dtype, reduction):
    n, h, v = shape
    rng = np.random.default_rng(n * v)
    x = rng.normal(0, 2, (n, h)).astype(dtype)
    w = (rng.normal(0, 1, (v, h)) / h**0.5).astype(dtype)
    target = rng.integers(0, v, n)
    one_block = n * v * np.dtype(dtype).itemsize <= vocabulary.MIN_BLOCK_BYTES
    assert vocabulary._plain_call(x, w, target, None, None, None, 0.0, None) == one_block
    general = target.astype(np.int32)
    ours = lossref.linear_cross_entropy(x, w, target, reduction=reduction)
    _same(ours, lossref.linear_cross_entropy(x, w, general, reduction=reduction))
    loss, grads = lossref.grad.linear_cross_entropy(x, w, target, reduction=reduction,
                                                    return_loss=True)
    loss_g, grads_g = lossref.grad.linear_cross_entropy(x, w, general, reduction=reduction,
                                                        return_loss=True)
    _same(loss, loss_g)
    for a, b in zip(grads, grads_g, strict=True):
        _same(a, b)
    for a, b in zip(lossref.grad.linear_cross_entropy(x, w, target, reduction=reduction),
                    grads_g, strict=True):
        _same(a, b)
    xt, wt = t(x).requires_grad_(), t(w).requires_grad_()
    out = F.cross_entropy(xt @ wt.T, t(target), reduction=reduction)
    np.testing.assert_allclose(ours, out.detach().numpy(), **TOL[dtype])
    out.sum().backward()
    tol = {"rtol": 1e-4, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-8, "atol": 1e-12}
    np.testing.assert_allclose(grads[0], xt.grad.numpy(), **tol)
    np.testing.assert_allclose(grads[1], wt.grad.numpy(), **tol)


def test_linear_cross_entropy_fast_path_leaves_other_calls_to_the_general_path():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    target = np.array([0, 4, 2, 1])
    plain = vocabulary._plain_call
    assert plain(x, w, target, None, None, None, 0.0, None)
    assert not plain(x, w, target, np.zeros(5, np.float32), None, None, 0.0, None)
    assert not plain(x, w, target, None, np.ones(5, np.float32), None, 0.0, None)
    assert not plain(x, w, target, None, None, -100, 0.0, None)
    assert not plain(x, w, target, None, None, None, 0.1, None)
    assert not plain(x, w.astype(np.float64), target, None, None, None, 0.0, None)
    assert not plain(x[0], w, target[:1], None, None, None, 0.0, None)
    wrong = target.copy()
    wrong[1] = 5
    assert not plain(x, w, wrong, None, None, None, 0.0, None)
    with pytest.raises(IndexError):
        lossref.linear_cross_entropy(x, w, wrong)
