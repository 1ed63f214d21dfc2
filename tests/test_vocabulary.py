"""linear_cross_entropy and its gradients against torch, live; its memory bound; bad input.

Values and gradients within rtol 1e-4 (float32) / 1e-8 (float64): the logits come from a matrix
product whose summation order differs from torch's BLAS call, then the log-softmax is streamed
over blocks of classes. The memory bounds of issue 13 are measured with tracemalloc at a
smaller scale than a real vocabulary (8-16 MiB of logits).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from oracle import (
    DTYPES,
    GRAD_RTOL,
    REDUCTIONS,
    assert_grad_close,
    examples,
    rounding_scale,
    t,
    torch_grad,
)

import lossref
import lossref.vocabulary as vocabulary

SETTINGS = examples(80)


@st.composite
def lce_case(draw):
    """Batched or unbatched input, K-dimensional weights, bias, class weights, index targets
    (some ignored) or probability targets, smoothing, every reduction, and blocks as small as
    a few logits (so the streamed log-softmax crosses many class blocks)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from(DTYPES))
    n, hidden, classes = draw(st.integers(0, 6)), draw(st.integers(1, 5)), draw(st.integers(2, 7))
    out = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) if draw(st.booleans()) else ()
    unbatched = n == 1 and not out and draw(st.booleans())
    x = rng.normal(size=(hidden,) if unbatched else (n, hidden))
    w_lin = rng.normal(0, 2, (classes, *out, hidden))
    bias = rng.normal(size=(classes, *out)) if draw(st.booleans()) else None
    weight = rng.uniform(0, 2, classes) if draw(st.booleans()) else None
    logits_shape = (classes,) if unbatched else (n, classes, *out)
    ignore_index = None
    if draw(st.booleans()):
        target = rng.uniform(size=logits_shape).astype(dtype)
    else:
        target = rng.integers(0, classes, () if unbatched else (n, *out))
        ignore_index = draw(st.sampled_from([None, -100, 0, 1]))
        if ignore_index is not None and target.ndim:
            target[rng.uniform(size=target.shape) < 0.3] = ignore_index
    options = dict(reduction=draw(st.sampled_from(REDUCTIONS)), ignore_index=ignore_index,
                   label_smoothing=draw(st.sampled_from([0.0, 0.0, 0.1, 1.0])))
    block = draw(st.sampled_from([32, 256, vocabulary.MIN_BLOCK_BYTES]))
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return (cast(x), cast(w_lin), target, cast(bias), cast(weight), options, block, dtype, rng)


@given(lce_case())
@SETTINGS
def test_linear_cross_entropy_values_and_gradients_match_torch(case):
    x, w_lin, target, bias, weight, options, block, dtype, rng = case
    default_block = vocabulary.MIN_BLOCK_BYTES
    vocabulary.MIN_BLOCK_BYTES = block
    try:
        check_against_torch(x, w_lin, target, bias, weight, options, dtype, rng)
    finally:
        vocabulary.MIN_BLOCK_BYTES = default_block


def check_against_torch(x, w_lin, target, bias, weight, options, dtype, rng):

    def torch_loss(*leaves):
        return F.linear_cross_entropy(leaves[0], leaves[1], t(target),
                                      linear_bias=leaves[2] if len(leaves) > 2 else None,
                                      weight=t(weight), **options)

    leaves = [x, w_lin] + ([bias] if bias is not None else [])
    theirs = torch_loss(*(t(a) for a in leaves)).numpy()
    ours = lossref.linear_cross_entropy(x, w_lin, target, linear_bias=bias, weight=weight,
                                        **options)
    assert np.asarray(ours).dtype == theirs.dtype and np.shape(ours) == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=GRAD_RTOL[dtype], atol=GRAD_RTOL[dtype],
                               equal_nan=True)

    grad_output = rng.normal(size=theirs.shape).astype(dtype)
    expected = torch_grad(torch_loss, leaves, grad_output)
    got = lossref.grad.linear_cross_entropy(x, w_lin, target, linear_bias=bias, weight=weight,
                                            **options, grad_output=grad_output)
    assert len(got) == len(leaves)
    # Each gradient entry sums terms (softmax - target) * grad_output * (an input or weight
    # entry), over tokens or classes; where they cancel, float rounding of their total size is
    # all that differs (hypothesis found -3.7671e-04 against torch's -3.7652e-04, float32, where
    # the largest entry, 1.1e-3, left 1.1e-7 of slack). Their total is at most
    # 2 |grad_output| max|input, weight| per token (the mean divides by the tokens again).
    tokens = max(int(np.prod(np.shape(target))), 1)
    biggest = max(float(np.abs(a).max()) if np.size(a) else 0.0 for a in leaves)
    total = 2 * float(np.abs(grad_output).max() if grad_output.size else 0.0) * max(biggest, 1.0)
    total *= 1 if options.get("reduction", "mean") == "mean" else tokens
    for ours_grad, torch_grad_ in zip(got, expected):
        assert_grad_close(ours_grad, torch_grad_, dtype,
                          scale=rounding_scale(total, dtype, ulps=64))


def test_equals_cross_entropy_of_the_whole_logits():
    rng = np.random.default_rng(0)
    x, w_lin, b = rng.normal(size=(64, 16)), rng.normal(size=(500, 16)), rng.normal(size=500)
    y = rng.integers(0, 500, 64)
    whole = lossref.cross_entropy(x @ w_lin.T + b, y, label_smoothing=0.1)
    np.testing.assert_allclose(lossref.linear_cross_entropy(x, w_lin, y, linear_bias=b,
                                                            label_smoothing=0.1),
                               whole, rtol=1e-12)


def peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype, smoothing", [(np.float32, 0.0), (np.float64, 0.1)])
def test_peak_memory_stays_below_an_eighth_of_the_logits(dtype, smoothing):
    """Issue 13's bounds at a smaller scale: 512 tokens, hidden 16, 4096 classes (8 MiB of
    float32 logits, 16 MiB of float64). Forward peak < logits / 8; gradient peak < twice the
    returned gradients + logits / 8."""
    rng = np.random.default_rng(1)
    n, hidden, classes = 512, 16, 4096
    x = rng.normal(size=(n, hidden)).astype(dtype)
    w_lin = (rng.normal(size=(classes, hidden)) / 4).astype(dtype)
    y = rng.integers(0, classes, n)
    logits = n * classes * np.dtype(dtype).itemsize
    kw = dict(label_smoothing=smoothing, weight=np.ones(classes, dtype))
    forward = peak_bytes(lambda: lossref.linear_cross_entropy(x, w_lin, y, **kw))
    assert forward < logits / 8, (forward, logits)
    backward = peak_bytes(lambda: lossref.grad.linear_cross_entropy(x, w_lin, y, **kw))
    assert backward < 2 * (x.nbytes + w_lin.nbytes) + logits / 8, (backward, logits)
    # and the whole logits would take (at least) the full size
    assert peak_bytes(lambda: lossref.cross_entropy(x @ w_lin.T, y)) >= logits


def test_module_holds_its_weight_and_matches_torch_module():
    rng = np.random.default_rng(2)
    torch.manual_seed(0)
    theirs = torch.nn.LinearCrossEntropyLoss(4, 6, out_features=(2,), bias=True,
                                             dtype=torch.float64, label_smoothing=0.2)
    w_lin = theirs.linear.weight.detach().numpy().reshape(6, 2, 4)
    bias = theirs.linear.bias.detach().numpy().reshape(6, 2)
    ours = lossref.LinearCrossEntropyLoss(w_lin, linear_bias=bias, label_smoothing=0.2)
    assert (ours.in_features, ours.num_classes, ours.out_features) == (4, 6, (2,))
    x, y = rng.normal(size=(3, 4)), rng.integers(0, 6, (3, 2))
    np.testing.assert_allclose(ours(x, y), theirs(t(x), t(y)).item(), rtol=1e-12)


def test_options_batch_chunk_size_and_torch_tensors():
    rng = np.random.default_rng(3)
    x, w_lin = rng.normal(size=(10, 3)), rng.normal(size=(7, 3))
    y = rng.integers(0, 7, 10)
    options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=3)
    theirs = F.linear_cross_entropy(t(x), t(w_lin), t(y)).item()   # the same value
    np.testing.assert_allclose(lossref.linear_cross_entropy(t(x), t(w_lin), t(y),
                                                            options=options), theirs, rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_all_targets_ignored_mean_is_nan_gradients_zero(smoothing):
    x, w_lin, y = np.ones((3, 2)), np.eye(4, 2), np.full(3, -100)
    loss = lossref.linear_cross_entropy(x, w_lin, y, label_smoothing=smoothing)
    assert np.isnan(loss)
    assert np.isnan(F.linear_cross_entropy(t(x), t(w_lin), t(y),
                                          label_smoothing=smoothing).item())
    for g in lossref.grad.linear_cross_entropy(x, w_lin, y, label_smoothing=smoothing):
        assert not g.any()


X = np.ones((3, 4))
W = np.ones((5, 4))
Y = np.array([0, 1, 2])

BAD = [
    ("input of 3 dimensions", lambda m: m(X[None], W, Y),
     ValueError, r"dimensionality 1 or 2, \(in_features,\) or \(N, in_features\)"),
    ("linear_weight of 1 dimension", lambda m: m(X, W[0], Y),
     ValueError, r"linear_weight with dimensionality at least 2"),
    ("in_features differ", lambda m: m(X, W[:, :3], Y),
     ValueError, r"in_features\), got 4 and 3"),
    ("bias of the wrong shape", lambda m: m(X, W, Y, linear_bias=np.ones(4)),
     ValueError, r"expected linear_bias shape \(5,\), got \(4,\)"),
    ("K-dimensional weight, unbatched input", lambda m: m(X[0], W[:, None], np.array([1])),
     ValueError, r"requires batched input"),
    ("ignore_index with probabilities", lambda m: m(X, W, np.full((3, 5), 0.2),
                                                    ignore_index=-100),
     ValueError, r"ignore_index=-100 cannot be specified when target contains probabilities"),
    ("class index out of range", lambda m: m(X, W, np.array([0, 1, 5])),
     IndexError, r"Target 5 is out of bounds"),
    ("batch sizes differ", lambda m: m(X, W, np.array([0, 1])),
     ValueError, r"Expected input batch_size \(3\) to match target batch_size \(2\)"),
    ("float class indices", lambda m: m(X, W, np.array([0.0, 1.0, 2.0])),
     TypeError, r"target must hold integer class indices, got dtype float64"),
    ("class weight of the wrong length", lambda m: m(X, W, Y, weight=np.ones(4)),
     ValueError, r"one entry for each of the 5 classes, got shape \(4,\)"),
    ("label_smoothing above 1", lambda m: m(X, W, Y, label_smoothing=1.5),
     ValueError, r"label_smoothing must be between 0.0 and 1.0, got 1.5"),
    ("unknown reduction", lambda m: m(X, W, Y, reduction="avg"),
     ValueError, r"avg is not a valid value for reduction"),
]


@pytest.mark.parametrize("call, error, pattern", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_linear_cross_entropy_raises_where_torch_raises(call, error, pattern):
    def theirs(x, w, y, **kw):
        kw = {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        return F.linear_cross_entropy(t(x), t(w), t(y), **kw)
    with pytest.raises(Exception):
        call(theirs)
    with pytest.raises(error, match=pattern):
        call(lossref.linear_cross_entropy)
    with pytest.raises(error, match=pattern):
        call(lossref.grad.linear_cross_entropy)


@given(st.integers(1, 5), st.integers(1, 7), st.integers(1, 4),
       st.sampled_from([1.0, 8.0, 60.0]), st.sampled_from(["float16", "bfloat16"]),
       st.sampled_from(["none", "mean", "sum"]), st.integers(0, 2**32 - 1))
@examples(40)
def test_half_precision_matches_torch_linear_then_cross_entropy(n, c, k, scale, dtype_name,
                                                                reduction, seed):
    """float16/bfloat16: torch's linear (logits rounded once) then cross_entropy, values within
    2 ulp and both gradients within 4 ulp, up to logits of several thousand (issue 25)."""
    from test_half import HALF, assert_within_ulp

    np_dtype, torch_dtype, _ = HALF[dtype_name]
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, k)) * scale).astype(np.float32).astype(np_dtype)
    w = (rng.standard_normal((c, k)) * scale).astype(np.float32).astype(np_dtype)
    target = rng.integers(0, c, n)
    tx, tw = (torch.from_numpy(a.astype(np.float32)).to(torch_dtype).requires_grad_(True)
              for a in (x, w))
    theirs = F.linear_cross_entropy(tx, tw, torch.from_numpy(target), reduction=reduction)
    theirs.backward(torch.ones_like(theirs))
    loss, (d_x, d_w) = lossref.grad.linear_cross_entropy(
        x, w, target, reduction=reduction, return_loss=True,
        grad_output=None if reduction != "none" else np.ones(theirs.shape, np_dtype))
    assert_within_ulp(loss, theirs, 2, dtype_name, "value")
    np.testing.assert_array_equal(np.asarray(loss), np.asarray(
        lossref.linear_cross_entropy(x, w, target, reduction=reduction)))
    assert_within_ulp(d_x, tx.grad, 4, dtype_name, "d input")
    assert_within_ulp(d_w, tw.grad, 4, dtype_name, "d linear_weight")
