"""lossref against torch.nn.functional, live, on hypothesis-generated shapes, options and values.

float32 within rtol 2e-5 (atol 2e-6), float64 within rtol 1e-9 (atol 1e-12).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lossref
from torch_ref import assert_matches_torch, t

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

dims = st.integers(min_value=0, max_value=4)


@st.composite
def shapes(draw, min_dims=0, max_dims=3):
    return tuple(draw(st.lists(dims, min_size=min_dims, max_size=max_dims)))


def rng_from(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def broadcastable_to(draw, shape):
    """A shape that broadcasts to ``shape`` without growing it (a suffix, with some 1s)."""
    k = draw(st.integers(0, len(shape)))
    suffix = shape[len(shape) - k:]
    return tuple(1 if draw(st.booleans()) else d for d in suffix)


@st.composite
def bce_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes())
    rng = rng_from(draw)
    x = rng.uniform(0, 1, shape)
    # exact 0s and 1s exercise the -100 clamp
    x[rng.uniform(size=shape) < 0.1] = 0.0
    x[rng.uniform(size=shape) < 0.1] = 1.0
    y = rng.uniform(0, 1, shape) if draw(st.booleans()) else rng.integers(0, 2, shape)
    w = rng.uniform(0, 3, broadcastable_to(draw, shape)) if draw(st.booleans()) else None
    return (x.astype(dtype), y.astype(dtype), None if w is None else w.astype(dtype),
            draw(st.sampled_from(REDUCTIONS)), dtype)


@given(bce_case())
@SETTINGS
def test_binary_cross_entropy(case):
    x, y, w, reduction, dtype = case
    ours = lossref.binary_cross_entropy(x, y, weight=w, reduction=reduction)
    theirs = F.binary_cross_entropy(t(x), t(y), weight=t(w), reduction=reduction)
    assert_matches_torch(ours, theirs, dtype)


@st.composite
def bce_logits_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes())
    rng = rng_from(draw)
    scale = draw(st.sampled_from([1.0, 10.0, 100.0, 1e4]))
    x = rng.normal(0, scale, shape)
    y = rng.uniform(0, 1, shape) if draw(st.booleans()) else rng.integers(0, 2, shape)
    w = rng.uniform(0, 3, broadcastable_to(draw, shape)) if draw(st.booleans()) else None
    p = rng.uniform(0.1, 5, broadcastable_to(draw, shape)) if draw(st.booleans()) else None
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return cast(x), cast(y), cast(w), cast(p), draw(st.sampled_from(REDUCTIONS)), dtype


@given(bce_logits_case())
@SETTINGS
def test_binary_cross_entropy_with_logits(case):
    x, y, w, p, reduction, dtype = case
    ours = lossref.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction,
                                                     pos_weight=p)
    theirs = F.binary_cross_entropy_with_logits(t(x), t(y), weight=t(w), reduction=reduction,
                                                pos_weight=t(p))
    assert x.size == 0 or np.all(np.isfinite(ours)), "finite for any finite logits"
    assert_matches_torch(ours, theirs, dtype)


@st.composite
def classification_case(draw, probabilities=False):
    """Input (C,), (N, C) or (N, C, d1, ..., dK) with targets, weight, ignore_index, smoothing."""
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    n_classes = draw(st.integers(1, 6))
    if draw(st.integers(0, 4)) == 0:
        shape, target_shape = (n_classes,), ()
    else:
        n = draw(st.integers(0, 5))
        spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
        shape, target_shape = (n, n_classes) + spatial, (n,) + spatial
    scale = draw(st.sampled_from([1.0, 5.0, 30.0]))
    x = rng.normal(0, scale, shape).astype(dtype)
    weight = rng.uniform(0.1, 3, n_classes).astype(dtype) if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.35, 1.0]))
    reduction = draw(st.sampled_from(REDUCTIONS))
    if probabilities:
        axis = 0 if len(shape) == 1 else 1
        logits = rng.normal(0, 2, shape)
        target = np.exp(logits) / np.exp(logits).sum(axis=axis, keepdims=True)
        return x, target.astype(dtype), weight, -100, smoothing, reduction, dtype
    ignore_index = draw(st.sampled_from([-100, 0, n_classes - 1, 7]))
    target = rng.integers(0, n_classes, target_shape)
    if target.size and draw(st.booleans()):
        target = np.where(rng.uniform(size=target_shape) < 0.3, ignore_index, target)
    return x, np.asarray(target, dtype=np.int64), weight, ignore_index, smoothing, reduction, dtype


@given(classification_case())
@SETTINGS
def test_cross_entropy_class_indices(case):
    x, target, weight, ignore_index, smoothing, reduction, dtype = case
    ours = lossref.cross_entropy(x, target, weight=weight, ignore_index=ignore_index,
                                 reduction=reduction, label_smoothing=smoothing)
    theirs = F.cross_entropy(t(x), t(target), weight=t(weight), ignore_index=ignore_index,
                             reduction=reduction, label_smoothing=smoothing)
    assert_matches_torch(ours, theirs, dtype)


@given(classification_case(probabilities=True))
@SETTINGS
def test_cross_entropy_probabilities(case):
    x, target, weight, _, smoothing, reduction, dtype = case
    ours = lossref.cross_entropy(x, target, weight=weight, reduction=reduction,
                                 label_smoothing=smoothing)
    theirs = F.cross_entropy(t(x), t(target), weight=t(weight), reduction=reduction,
                             label_smoothing=smoothing)
    assert_matches_torch(ours, theirs, dtype)


@given(classification_case())
@SETTINGS
def test_nll_loss(case):
    x, target, weight, ignore_index, _, reduction, dtype = case
    ours = lossref.nll_loss(x, target, weight=weight, ignore_index=ignore_index,
                            reduction=reduction)
    theirs = F.nll_loss(t(x), t(target), weight=t(weight), ignore_index=ignore_index,
                        reduction=reduction)
    assert_matches_torch(ours, theirs, dtype)


@given(st.sampled_from(DTYPES), shapes(min_dims=1), st.integers(0, 2**32 - 1))
@SETTINGS
def test_activations(dtype, shape, seed):
    x = np.random.default_rng(seed).normal(0, 20, shape).astype(dtype)
    dim = len(shape) - 1
    assert_matches_torch(lossref.sigmoid(x), torch.sigmoid(t(x)), dtype)
    assert_matches_torch(lossref.logsigmoid(x), F.logsigmoid(t(x)), dtype)
    assert_matches_torch(lossref.softmax(x, dim), F.softmax(t(x), dim), dtype)
    assert_matches_torch(lossref.log_softmax(x, dim), F.log_softmax(t(x), dim), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_modules_match_torch_modules(dtype, reduction):
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (4, 3)).astype(dtype)
    probs = lossref.sigmoid(logits)
    labels = rng.integers(0, 2, (4, 3)).astype(dtype)
    classes = np.array([2, 0, 1, 2])
    weight = np.array([0.5, 1.0, 2.0], dtype=dtype)
    pairs = [
        (lossref.BCELoss(weight=weight, reduction=reduction)(probs, labels),
         torch.nn.BCELoss(weight=t(weight), reduction=reduction)(t(probs), t(labels))),
        (lossref.BCEWithLogitsLoss(pos_weight=weight, reduction=reduction)(logits, labels),
         torch.nn.BCEWithLogitsLoss(pos_weight=t(weight), reduction=reduction)(t(logits), t(labels))),
        (lossref.CrossEntropyLoss(weight=weight, ignore_index=0, label_smoothing=0.2,
                                  reduction=reduction)(logits, classes),
         torch.nn.CrossEntropyLoss(weight=t(weight), ignore_index=0, label_smoothing=0.2,
                                   reduction=reduction)(t(logits), t(classes))),
        (lossref.NLLLoss(weight=weight, reduction=reduction)(lossref.log_softmax(logits, 1), classes),
         torch.nn.NLLLoss(weight=t(weight), reduction=reduction)(F.log_softmax(t(logits), 1), t(classes))),
    ]
    for ours, theirs in pairs:
        assert_matches_torch(ours, theirs, dtype)


# --- float16 / bfloat16 near the overflow edges (issue 25) ------------------------------------
from test_half import HALF, assert_within_ulp  # noqa: E402  (the half contract's ulp check)

HALF_LOSSES = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
               "nll_loss"]
#: logit magnitudes up to float16's largest finite value (65504), where exp and sums overflow
MAGNITUDES = [1.0, 11.0, 90.0, 1000.0, 6e4]


@st.composite
def half_case(draw):
    name = draw(st.sampled_from(HALF_LOSSES))
    dtype_name = draw(st.sampled_from(sorted(HALF)))
    np_dtype = HALF[dtype_name][0]
    rng = rng_from(draw)
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    shape = (n, c) + ((draw(st.integers(1, 3)),) if draw(st.booleans()) else ())
    scale = draw(st.sampled_from(MAGNITUDES))
    x = np.clip(rng.standard_normal(shape) * scale, -6e4, 6e4)
    if name == "binary_cross_entropy":
        x = 1 / (1 + np.exp(-x / scale * 8))                   # probabilities, 0 and 1 included
        target = (rng.random(shape) > 0.5).astype(np.float64)
    elif name == "binary_cross_entropy_with_logits":
        target = rng.random(shape)
    else:
        target = rng.integers(0, c, (n,) + shape[2:])
        if name == "nll_loss":
            x = -np.abs(x)
    x = x.astype(np.float32).astype(np_dtype)
    if target.dtype.kind == "f":
        target = target.astype(np.float32).astype(np_dtype)
    return name, dtype_name, x, target, draw(st.sampled_from(REDUCTIONS))


@given(half_case())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_half_precision_near_overflow_matches_torch(case):
    """Values within 2 ulp and gradients within 4 ulp of torch's CPU kernels, inf where torch
    overflows, at magnitudes up to float16's largest value."""
    name, dtype_name, x, target, reduction = case
    torch_dtype = HALF[dtype_name][1]
    tx = torch.from_numpy(x.astype(np.float32)).to(torch_dtype).requires_grad_(True)
    tt = (torch.from_numpy(target) if target.dtype.kind == "i"
          else torch.from_numpy(target.astype(np.float32)).to(torch_dtype))
    theirs = getattr(F, name)(tx, tt, reduction=reduction)
    theirs.backward(torch.ones_like(theirs))
    ours = getattr(lossref, name)(x, target, reduction=reduction)
    assert_within_ulp(ours, theirs, 2, dtype_name, f"{name} value")
    grad_output = None if reduction != "none" else np.ones(theirs.shape, x.dtype)
    grad = getattr(lossref.grad, name)(x, target, reduction=reduction, grad_output=grad_output)
    # p·Σg - g_t at a confident target cancels in float32 before the rounding: there both
    # sides carry float32's error of the cancelling terms, so entries within 2^-18 of the
    # largest one are judged absolutely, the rest within 4 ulp
    expected = tx.grad.float().numpy()
    finite = np.isfinite(expected)
    floor = 2.0**-18 * np.abs(expected[finite]).max(initial=0.0)
    with np.errstate(invalid="ignore"):                 # inf - inf: judged by the ulp check
        close = finite & (np.abs(np.asarray(grad, np.float32) - expected) <= floor)
    assert_within_ulp(np.where(close, expected.astype(x.dtype), grad), tx.grad, 4, dtype_name,
                      f"{name} gradient")
