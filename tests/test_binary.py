"""binary.py against torch, live: binary_cross_entropy and binary_cross_entropy_with_logits
(and their classes) — values, gradients, edge cases, ±inf/nan, refused inputs, torch tensors as
inputs, float16/bfloat16 near the overflow edges.

Values within oracle.TOL (float32 rtol 2e-5, float64 rtol 1e-9), gradients within the
``lossref.grad`` contract (float32 rtol 1e-4, float64 rtol 1e-8) on hypothesis-generated shapes,
options, legacy ``size_average``/``reduce`` pairs and ``grad_output``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from oracle import (
    DTYPES,
    HALF_NAMES,
    REDUCTION_ARGS,
    REDUCTIONS,
    SETTINGS,
    assert_empty_batch,
    assert_grad_close,
    assert_matches_torch,
    check_central_differences,
    check_half,
    check_refused,
    check_tensor_inputs,
    compare_grad,
    examples,
    logit_pairs,
    resolved,
    rng_from,
    shapes,
    suffix_shape,
    t,
    tensor_case,
    torch_grad,
    upstream,
)

import lossref

VALUE_SETTINGS = examples(150)


# ---- values against torch ------------------------------------------------------------------

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
    w = rng.uniform(0, 3, suffix_shape(draw, shape)) if draw(st.booleans()) else None
    return (x.astype(dtype), y.astype(dtype), None if w is None else w.astype(dtype),
            draw(st.sampled_from(REDUCTIONS)), dtype)


@given(bce_case())
@VALUE_SETTINGS
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
    w = rng.uniform(0, 3, suffix_shape(draw, shape)) if draw(st.booleans()) else None
    p = rng.uniform(0.1, 5, suffix_shape(draw, shape)) if draw(st.booleans()) else None
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return cast(x), cast(y), cast(w), cast(p), draw(st.sampled_from(REDUCTIONS)), dtype


@given(bce_logits_case())
@VALUE_SETTINGS
def test_binary_cross_entropy_with_logits(case):
    x, y, w, p, reduction, dtype = case
    ours = lossref.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction,
                                                     pos_weight=p)
    theirs = F.binary_cross_entropy_with_logits(t(x), t(y), weight=t(w), reduction=reduction,
                                                pos_weight=t(p))
    assert x.size == 0 or np.all(np.isfinite(ours)), "finite for any finite logits"
    assert_matches_torch(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_classes_match_torch_classes(dtype, reduction):
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (4, 3)).astype(dtype)
    probs = lossref.sigmoid(logits)
    labels = rng.integers(0, 2, (4, 3)).astype(dtype)
    weight = np.array([0.5, 1.0, 2.0], dtype=dtype)
    pairs = [
        (lossref.BCELoss(weight=weight, reduction=reduction)(probs, labels),
         torch.nn.BCELoss(weight=t(weight), reduction=reduction)(t(probs), t(labels))),
        (lossref.BCEWithLogitsLoss(pos_weight=weight, reduction=reduction)(logits, labels),
         torch.nn.BCEWithLogitsLoss(pos_weight=t(weight), reduction=reduction)(t(logits),
                                                                               t(labels))),
    ]
    for ours, theirs in pairs:
        assert_matches_torch(ours, theirs, dtype)


# ---- gradients against torch autograd ------------------------------------------------------

@st.composite
def bce_grad_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes())
    rng = rng_from(draw)
    x = rng.uniform(0, 1, shape)
    x[rng.uniform(size=shape) < 0.1] = 0.0       # exact 0s and 1s: torch's 1e-12 clamp
    x[rng.uniform(size=shape) < 0.1] = 1.0
    y = rng.uniform(0, 1, shape) if draw(st.booleans()) else rng.integers(0, 2, shape)
    w = rng.uniform(0, 3, suffix_shape(draw, shape)) if draw(st.booleans()) else None
    kw = draw(st.sampled_from(REDUCTION_ARGS))
    go = upstream(draw, rng, shape, resolved(kw), dtype)
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return cast(x), cast(y), cast(w), kw, go, dtype


@given(bce_grad_case())
@SETTINGS
def test_binary_cross_entropy_grad(case):
    x, y, w, kw, go, dtype = case
    compare_grad(lambda x, go: lossref.grad.binary_cross_entropy(x, y, w, grad_output=go,
                                                                 **kw),
                 lambda xt: F.binary_cross_entropy(xt, t(y), t(w), **kw), x, go, dtype)


@st.composite
def bce_logits_grad_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes())
    rng = rng_from(draw)
    x = rng.normal(0, draw(st.sampled_from([1.0, 10.0, 100.0])), shape)
    y = rng.uniform(0, 1, shape) if draw(st.booleans()) else rng.integers(0, 2, shape)
    w = rng.uniform(0, 3, suffix_shape(draw, shape)) if draw(st.booleans()) else None
    p = rng.uniform(0.1, 5, suffix_shape(draw, shape)) if draw(st.booleans()) else None
    kw = draw(st.sampled_from(REDUCTION_ARGS))
    go = upstream(draw, rng, shape, resolved(kw), dtype)
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return cast(x), cast(y), cast(w), cast(p), kw, go, dtype


@given(bce_logits_grad_case())
@SETTINGS
def test_binary_cross_entropy_with_logits_grad(case):
    x, y, w, p, kw, go, dtype = case
    compare_grad(lambda x, go: lossref.grad.binary_cross_entropy_with_logits(
                     x, y, w, pos_weight=p, grad_output=go, **kw),
                 lambda xt: F.binary_cross_entropy_with_logits(xt, t(y), t(w), pos_weight=t(p),
                                                               **kw),
                 x, go, dtype, reference_inputs=(np.inf, -np.inf))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_backward_clamp_at_1e_minus_12(dtype):
    x, y = np.array([0.0, 1.0, 0.0, 1.0], dtype), np.array([1.0, 0.0, 0.0, 1.0], dtype)
    ours = lossref.grad.binary_cross_entropy(x, y, reduction="sum")
    (theirs,) = torch_grad(lambda xt: F.binary_cross_entropy(xt, t(y), reduction="sum"), [x])
    np.testing.assert_allclose(ours, [-1e12, 1e12, 0.0, 0.0], rtol=1e-6)
    assert_grad_close(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonfinite_logits_gradients_match_torch(dtype):
    """±inf and nan logits: the gradients torch gives (finite σ(±inf) − y)."""
    x = np.array([[np.inf, 1.0], [-np.inf, 0.0], [np.nan, 2.0], [np.inf, np.inf]], dtype)
    y = np.array([[1.0, 0.0], [1.0, 0.5], [0.0, 1.0], [0.0, 1.0]], dtype)
    pos_weight = np.array([2.0, 0.5], dtype)
    ours = lossref.grad.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight)
    (theirs,) = torch_grad(
        lambda xt: F.binary_cross_entropy_with_logits(xt, t(y), pos_weight=t(pos_weight)), [x])
    assert_grad_close(ours, theirs, dtype)


# ---- an independent check: central finite differences in float64 ----------------------------

def _fd_cases():
    rng = np.random.default_rng(2024)
    probs = rng.uniform(0.05, 0.95, (3, 4))
    soft = rng.uniform(0, 1, (3, 4))
    logits = rng.normal(0, 2, (3, 4))
    w4 = rng.uniform(0.5, 2, 4)
    return [
        ("bce weight mean", probs, lossref.binary_cross_entropy,
         dict(target=soft, weight=w4)),
        ("bce none", probs, lossref.binary_cross_entropy,
         dict(target=soft, reduction="none", grad_output=rng.normal(size=(3, 4)))),
        ("logits pos_weight weight", logits, lossref.binary_cross_entropy_with_logits,
         dict(target=soft, weight=w4, pos_weight=w4[::-1].copy(), reduction="sum")),
    ]


FD_CASES = _fd_cases()


@pytest.mark.parametrize("x, loss, options", [c[1:] for c in FD_CASES],
                         ids=[c[0] for c in FD_CASES])
def test_central_differences_agree(x, loss, options):
    check_central_differences(x, loss, options)


# ---- edge cases -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_clamps_log_at_minus_100(dtype):
    x, y = np.array([0.0, 1.0, 0.0, 1.0], dtype), np.array([1.0, 0.0, 0.0, 1.0], dtype)
    ours = lossref.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(ours, [100.0, 100.0, 0.0, 0.0])
    assert_matches_torch(ours, F.binary_cross_entropy(t(x), t(y), reduction="none"), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huge_logits_are_finite_and_exact(dtype, reduction):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], dtype)
    y = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 1.0]], dtype)
    ours = lossref.binary_cross_entropy_with_logits(x, y, reduction=reduction,
                                                     pos_weight=np.array([2.0, 1.0, 0.5], dtype))
    assert np.all(np.isfinite(ours))
    assert_matches_torch(ours, F.binary_cross_entropy_with_logits(
        t(x), t(y), reduction=reduction, pos_weight=t(np.array([2.0, 1.0, 0.5], dtype))), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nan_propagates_like_torch(dtype, reduction):
    x = np.array([[np.nan, 1.0], [0.5, 2.0]], dtype)
    y = np.array([[1.0, 0.0], [0.0, 1.0]], dtype)
    assert_matches_torch(lossref.binary_cross_entropy_with_logits(x, y, reduction=reduction),
                         F.binary_cross_entropy_with_logits(t(x), t(y), reduction=reduction), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_batch_mean_is_nan_sum_is_zero(dtype):
    empty = np.zeros((0, 3), dtype)
    for reduction in REDUCTIONS:
        calls = [
            (lossref.binary_cross_entropy(empty, empty, reduction=reduction),
             F.binary_cross_entropy(t(empty), t(empty), reduction=reduction)),
            (lossref.binary_cross_entropy_with_logits(empty, empty, reduction=reduction),
             F.binary_cross_entropy_with_logits(t(empty), t(empty), reduction=reduction)),
        ]
        for ours, theirs in calls:
            assert_empty_batch(ours, theirs, dtype, reduction)


@pytest.mark.parametrize("dtype", DTYPES)
def test_result_dtype_follows_input(dtype):
    x = np.array([[0.2, 0.7]], dtype)
    for value in (lossref.binary_cross_entropy(x, x),
                  lossref.binary_cross_entropy_with_logits(x, x)):
        assert np.asarray(value).dtype == dtype


def test_lists_and_float64_targets_are_accepted():
    # NumPy turns lists into float64/int64; lossref casts targets to the input's dtype
    x = np.array([0.5, 0.2], np.float32)
    assert lossref.binary_cross_entropy(x, [1, 0]).dtype == np.float32
    assert lossref.binary_cross_entropy([0.5, 0.2], [1.0, 0.0]).dtype == np.float64


def test_no_numpy_warning_reaches_the_reader():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lossref.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
        lossref.binary_cross_entropy_with_logits(np.array([1e4, -1e4]), np.array([0.0, 1.0]))


# ---- ±inf and nan ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weights", [False, True])
def test_bce_with_logits_nonfinite_logits(dtype, reduction, with_weights):
    x = logit_pairs(dtype)
    y = np.tile(np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.0, 0.0]], dtype),
                (5, 1))
    w = np.array([1.0, 0.0], dtype) if with_weights else None
    p = np.array([2.0, 0.5], dtype) if with_weights else None
    ours = lossref.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction,
                                                     pos_weight=p)
    theirs = F.binary_cross_entropy_with_logits(t(x), t(y), weight=t(w), reduction=reduction,
                                                pos_weight=t(p))
    assert_matches_torch(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_bce_with_logits_nonfinite_targets(dtype, value):
    x = np.array([0.0, 2.0, -1.0], dtype)
    y = np.array([value, 1.0, 0.0], dtype)
    for reduction in REDUCTIONS:
        assert_matches_torch(
            lossref.binary_cross_entropy_with_logits(x, y, reduction=reduction),
            F.binary_cross_entropy_with_logits(t(x), t(y), reduction=reduction), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("where", ["input", "target"])
def test_bce_refuses_nonfinite_like_torch(dtype, value, where):
    good = np.array([0.5, 0.25], dtype)
    bad = np.array([value, 0.25], dtype)
    x, y = (bad, good) if where == "input" else (good, bad)
    with pytest.raises(RuntimeError, match=f"all elements of {where} should be between 0 and 1"):
        F.binary_cross_entropy(t(x), t(y))
    with pytest.raises(ValueError, match=f"all elements of {where} should be between 0 and 1, "
                                         r"got .*(inf|nan).* at index \(0,\)"):
        lossref.binary_cross_entropy(x, y)


# ---- refused inputs: torch raises, lossref names the bad value ---------------------------------

f32 = np.float32
X2 = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]], f32)
P = np.array([0.5, 0.2], f32)

CASES = [
    # id, lossref call, torch call, exception, pattern the message must contain
    ("bce input above 1",
     lambda: lossref.binary_cross_entropy(np.array([1.2, 0.5], f32), P),
     lambda: F.binary_cross_entropy(t(np.array([1.2, 0.5], f32)), t(P)),
     ValueError, r"input should be between 0 and 1, got .*1\.2"),
    ("bce input nan",
     lambda: lossref.binary_cross_entropy(np.array([np.nan, 0.5], f32), P),
     lambda: F.binary_cross_entropy(t(np.array([np.nan, 0.5], f32)), t(P)),
     ValueError, r"input should be between 0 and 1, got .*nan"),
    ("bce target above 1",
     lambda: lossref.binary_cross_entropy(P, np.array([2.0, 0.0], f32)),
     lambda: F.binary_cross_entropy(t(P), t(np.array([2.0, 0.0], f32))),
     ValueError, r"target should be between 0 and 1, got .*2\.0"),
    ("bce shape mismatch",
     lambda: lossref.binary_cross_entropy(P, np.array([1.0], f32)),
     lambda: F.binary_cross_entropy(t(P), t(np.array([1.0], f32))),
     ValueError, r"target shape \(1,\) must be the same as input shape \(2,\)"),
    ("bce weight does not broadcast",
     lambda: lossref.binary_cross_entropy(P, P, weight=np.ones(3, f32)),
     lambda: F.binary_cross_entropy(t(P), t(P), weight=torch.ones(3)),
     ValueError, r"weight of shape \(3,\) cannot be broadcast to the input shape \(2,\)"),
    ("bce integer input",
     lambda: lossref.binary_cross_entropy(np.array([1, 0]), np.array([1, 0])),
     lambda: F.binary_cross_entropy(torch.tensor([1, 0]), torch.tensor([1, 0])),
     TypeError, r"input must be a floating-point array, got dtype int64"),
    ("bce unknown reduction",
     lambda: lossref.binary_cross_entropy(P, P, reduction="avg"),
     lambda: F.binary_cross_entropy(t(P), t(P), reduction="avg"),
     ValueError, r"avg is not a valid value for reduction"),
    ("logits shape mismatch",
     lambda: lossref.binary_cross_entropy_with_logits(P, np.array([1.0], f32)),
     lambda: F.binary_cross_entropy_with_logits(t(P), t(np.array([1.0], f32))),
     ValueError, r"target shape \(1,\) must be the same as input shape \(2,\)"),
    ("pos_weight wrong length",
     lambda: lossref.binary_cross_entropy_with_logits(X2, X2, pos_weight=np.ones(3, f32)),
     lambda: F.binary_cross_entropy_with_logits(t(X2), t(X2), pos_weight=torch.ones(3)),
     ValueError, r"pos_weight of shape \(3,\) cannot be broadcast to the input shape \(3, 2\)"),
    ("pos_weight grows the input",
     lambda: lossref.binary_cross_entropy_with_logits(P, P, pos_weight=np.ones((2, 2), f32)),
     lambda: F.binary_cross_entropy_with_logits(t(P), t(P), pos_weight=torch.ones(2, 2)),
     ValueError, r"pos_weight of shape \(2, 2\) cannot be broadcast"),
    ("logits unknown reduction",
     lambda: lossref.binary_cross_entropy_with_logits(P, P, reduction="elementwise"),
     lambda: F.binary_cross_entropy_with_logits(t(P), t(P), reduction="elementwise"),
     ValueError, r"elementwise is not a valid value for reduction"),
]


@pytest.mark.parametrize("ours, theirs, error, pattern",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lossref_raises_where_torch_raises(ours, theirs, error, pattern):
    check_refused(ours, theirs, error, pattern)


# ---- torch tensors as inputs (duck-typed, torch never imported by lossref) ---------------------

@given(tensor_case())
@examples(40)
def test_binary_losses_accept_tensors(args):
    dtype, n, c, rng, reduction, weighted = args
    z = rng.normal(0, 3, (n, c)).astype(dtype)
    p = (1 / (1 + np.exp(-z))).astype(dtype)
    y = rng.integers(0, 2, (n, c)).astype(dtype)
    w = rng.uniform(0.5, 2, (n, c)).astype(dtype) if weighted else None
    pos = rng.uniform(0.5, 4, c).astype(dtype)
    check_tensor_inputs(lambda input, target, weight: lossref.binary_cross_entropy(
        input, target, weight, reduction=reduction), dict(input=p, target=y, weight=w), {})
    check_tensor_inputs(lambda input, target: lossref.BCELoss(reduction=reduction)(input, target),
                        dict(input=p, target=y), {})
    check_tensor_inputs(
        lambda input, target, weight, pos_weight: lossref.binary_cross_entropy_with_logits(
            input, target, weight, reduction=reduction, pos_weight=pos_weight),
        dict(input=z, target=y, weight=w, pos_weight=pos), {})
    check_tensor_inputs(lambda input, target, pos_weight: lossref.BCEWithLogitsLoss(
        reduction=reduction, pos_weight=pos_weight)(input, target),
        dict(input=z, target=y, pos_weight=pos), {})


# ---- float16 / bfloat16 near the overflow edges (issue 25) ------------------------------------
#: logit magnitudes up to float16's largest finite value (65504), where exp and sums overflow
MAGNITUDES = [1.0, 11.0, 90.0, 1000.0, 6e4]


@given(data=st.data())
@examples(30)
def test_half_precision_near_overflow_matches_torch(data):
    """Values within 2 ulp and gradients within 4 ulp of torch's CPU kernels, inf where torch
    overflows, at magnitudes up to float16's largest value."""
    name = data.draw(st.sampled_from(["binary_cross_entropy",
                                      "binary_cross_entropy_with_logits"]))
    rng = rng_from(data.draw)
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6))
    shape = (n, c) + ((data.draw(st.integers(1, 3)),) if data.draw(st.booleans()) else ())
    scale = data.draw(st.sampled_from(MAGNITUDES))
    x = np.clip(rng.standard_normal(shape) * scale, -6e4, 6e4)
    if name == "binary_cross_entropy":
        x = 1 / (1 + np.exp(-x / scale * 8))                   # probabilities, 0 and 1 included
        target = (rng.random(shape) > 0.5).astype(np.float64)
    else:
        target = rng.random(shape)
    check_half(name, [x, target], data.draw(st.sampled_from(HALF_NAMES)), grad_floor=2.0**-18,
               reduction=data.draw(st.sampled_from(REDUCTIONS)))
