"""classification.py against torch, live: cross_entropy (class indices and probabilities) and
nll_loss (and their classes) — values, gradients, weights, ignore_index, label smoothing, K-dim
and unbatched inputs, edge cases, ±inf/nan, refused inputs, torch tensors as inputs, memory (no N×C
one-hot), float16/bfloat16 near the overflow edges.

Values within oracle.TOL (float32 rtol 2e-5, float64 rtol 1e-9), gradients within the
``lossref.grad`` contract (float32 rtol 1e-4, float64 rtol 1e-8) on hypothesis-generated shapes,
options, legacy ``size_average``/``reduce`` pairs, all-ignored batches and ``grad_output``.
"""

from __future__ import annotations

import tracemalloc
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
    TOL,
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
    t,
    tensor_case,
    torch_grad,
    upstream,
)

import lossref

VALUE_SETTINGS = examples(150)


# ---- values against torch ------------------------------------------------------------------

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
@VALUE_SETTINGS
def test_cross_entropy_class_indices(case):
    x, target, weight, ignore_index, smoothing, reduction, dtype = case
    ours = lossref.cross_entropy(x, target, weight=weight, ignore_index=ignore_index,
                                 reduction=reduction, label_smoothing=smoothing)
    theirs = F.cross_entropy(t(x), t(target), weight=t(weight), ignore_index=ignore_index,
                             reduction=reduction, label_smoothing=smoothing)
    assert_matches_torch(ours, theirs, dtype)


@given(classification_case(probabilities=True))
@VALUE_SETTINGS
def test_cross_entropy_probabilities(case):
    x, target, weight, _, smoothing, reduction, dtype = case
    ours = lossref.cross_entropy(x, target, weight=weight, reduction=reduction,
                                 label_smoothing=smoothing)
    theirs = F.cross_entropy(t(x), t(target), weight=t(weight), reduction=reduction,
                             label_smoothing=smoothing)
    assert_matches_torch(ours, theirs, dtype)


@given(classification_case())
@VALUE_SETTINGS
def test_nll_loss(case):
    x, target, weight, ignore_index, _, reduction, dtype = case
    ours = lossref.nll_loss(x, target, weight=weight, ignore_index=ignore_index,
                            reduction=reduction)
    theirs = F.nll_loss(t(x), t(target), weight=t(weight), ignore_index=ignore_index,
                        reduction=reduction)
    assert_matches_torch(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_classes_match_torch_classes(dtype, reduction):
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (4, 3)).astype(dtype)
    classes = np.array([2, 0, 1, 2])
    weight = np.array([0.5, 1.0, 2.0], dtype=dtype)
    pairs = [
        (lossref.CrossEntropyLoss(weight=weight, ignore_index=0, label_smoothing=0.2,
                                  reduction=reduction)(logits, classes),
         torch.nn.CrossEntropyLoss(weight=t(weight), ignore_index=0, label_smoothing=0.2,
                                   reduction=reduction)(t(logits), t(classes))),
        (lossref.NLLLoss(weight=weight, reduction=reduction)(lossref.log_softmax(logits, 1), classes),
         torch.nn.NLLLoss(weight=t(weight), reduction=reduction)(F.log_softmax(t(logits), 1), t(classes))),
    ]
    for ours, theirs in pairs:
        assert_matches_torch(ours, theirs, dtype)


def test_module_reports_bad_reduction_when_called():
    loss = lossref.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        loss(X2, Y2)


# ---- gradients against torch autograd ------------------------------------------------------

@st.composite
def classification_grad_case(draw, probabilities=False):
    """Input (C,), (N, C) or (N, C, d1, ..., dK); targets, weight, ignore_index, smoothing."""
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    n_classes = draw(st.integers(1, 5))
    if draw(st.integers(0, 4)) == 0:
        shape, target_shape = (n_classes,), ()
    else:
        n = draw(st.integers(0, 4))
        spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
        shape, target_shape = (n, n_classes) + spatial, (n,) + spatial
    x = rng.normal(0, draw(st.sampled_from([1.0, 5.0, 30.0])), shape).astype(dtype)
    weight = rng.uniform(0.1, 3, n_classes).astype(dtype) if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.35, 1.0]))
    kw = draw(st.sampled_from(REDUCTION_ARGS))
    if probabilities:
        logits = rng.normal(0, 2, shape)
        axis = 0 if len(shape) == 1 else 1
        target = (np.exp(logits) / np.exp(logits).sum(axis=axis, keepdims=True)).astype(dtype)
        ignore_index = -100
    else:
        ignore_index = draw(st.sampled_from([-100, 0, n_classes - 1, 7]))
        target = rng.integers(0, n_classes, target_shape)
        mode = draw(st.sampled_from(["none", "some", "all"]))   # how many targets are ignored
        if mode != "none":
            share = 0.3 if mode == "some" else 1.0
            target = np.where(rng.uniform(size=target_shape) < share, ignore_index, target)
        target = np.asarray(target, dtype=np.int64)
    go = upstream(draw, rng, shape[:1] + shape[2:] if len(shape) > 1 else (),
                  resolved(kw), dtype)
    return x, target, weight, ignore_index, smoothing, kw, go, dtype


@given(classification_grad_case())
@SETTINGS
def test_cross_entropy_grad_class_indices(case):
    x, target, w, ignore_index, eps, kw, go, dtype = case
    compare_grad(lambda x, go: lossref.grad.cross_entropy(
                     x, target, w, ignore_index=ignore_index, label_smoothing=eps,
                     grad_output=go, **kw),
                 lambda xt: F.cross_entropy(xt, t(target), t(w), ignore_index=ignore_index,
                                            label_smoothing=eps, **kw),
                 x, go, dtype, reference_inputs=(0.0,))


@given(classification_grad_case(probabilities=True))
@SETTINGS
def test_cross_entropy_grad_probabilities(case):
    x, target, w, _, eps, kw, go, dtype = case
    compare_grad(lambda x, go: lossref.grad.cross_entropy(x, target, w, label_smoothing=eps,
                                                          grad_output=go, **kw),
                 lambda xt: F.cross_entropy(xt, t(target), t(w), label_smoothing=eps, **kw),
                 x, go, dtype, reference_inputs=(0.0,))


@given(classification_grad_case())
@SETTINGS
def test_nll_loss_grad(case):
    x, target, w, ignore_index, _, kw, go, dtype = case
    compare_grad(lambda x, go: lossref.grad.nll_loss(x, target, w, ignore_index=ignore_index,
                                                     grad_output=go, **kw),
                 lambda xt: F.nll_loss(xt, t(target), t(w), ignore_index=ignore_index, **kw),
                 x, go, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_ignored_batch_has_nan_loss_and_exact_zero_gradient(dtype):
    x = np.array([[1.0, 2.0], [1.0, 3.0]], dtype)
    target = np.array([-100, -100])
    for kw in [{}, {"weight": np.array([1.0, 2.0], dtype)}, {"label_smoothing": 0.2}]:
        assert np.isnan(lossref.cross_entropy(x, target, **kw))
        ours = lossref.grad.cross_entropy(x, target, **kw)
        (theirs,) = torch_grad(lambda xt: F.cross_entropy(
            xt, t(target), **{k: t(v) if k == "weight" else v for k, v in kw.items()}), [x])
        np.testing.assert_array_equal(ours, np.zeros_like(x))
        np.testing.assert_array_equal(theirs, np.zeros_like(x))
    np.testing.assert_array_equal(lossref.grad.nll_loss(x, target), np.zeros_like(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_class_weights_match_torch(dtype):
    """Every kept target has weight 0: the weighted mean divides by 0 (nan loss and gradient)."""
    x = np.array([[1.0, 2.0], [1.0, 3.0]], dtype)
    target, w = np.array([0, 0]), np.array([0.0, 1.0], dtype)
    for reduction in ["mean", "sum"]:
        for grad_fn, loss_fn in [(lossref.grad.cross_entropy, F.cross_entropy),
                                 (lossref.grad.nll_loss, F.nll_loss)]:
            ours = grad_fn(x, target, w, reduction=reduction)
            (theirs,) = torch_grad(lambda xt: loss_fn(xt, t(target), t(w), reduction=reduction),
                                   [x])
            assert_grad_close(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonfinite_logits_gradients_match_torch(dtype):
    """±inf and nan logits: the gradients torch gives (nan rows)."""
    x = np.array([[np.inf, 1.0], [-np.inf, 0.0], [np.nan, 2.0], [np.inf, np.inf]], dtype)
    y = np.array([[1.0, 0.0], [1.0, 0.5], [0.0, 1.0], [0.0, 1.0]], dtype)
    labels = np.array([0, 1, 1, -100])
    cases = [
        (lambda x: lossref.grad.cross_entropy(x, labels, reduction="sum", label_smoothing=0.1),
         lambda xt: F.cross_entropy(xt, t(labels), reduction="sum", label_smoothing=0.1)),
        (lambda x: lossref.grad.cross_entropy(x, y),
         lambda xt: F.cross_entropy(xt, t(y))),
        (lambda x: lossref.grad.nll_loss(x, labels, reduction="none"),
         lambda xt: F.nll_loss(xt, t(labels), reduction="none")),
    ]
    for ours, theirs in cases:
        assert_grad_close(ours(x), torch_grad(theirs, [x])[0], dtype)


def test_non_contiguous_input():
    x = np.asfortranarray(np.random.default_rng(0).normal(size=(5, 3)))
    labels = np.array([0, 2, 1, 1, 0])
    w = np.array([0.5, 1.0, 2.0])
    ours = lossref.grad.cross_entropy(x, labels, w, label_smoothing=0.2)
    (theirs,) = torch_grad(lambda xt: F.cross_entropy(xt, t(labels), t(w), label_smoothing=0.2),
                           [np.ascontiguousarray(x)])
    assert_grad_close(ours, theirs, np.float64)
    assert_grad_close(lossref.grad.nll_loss(x, labels, w),
                      torch_grad(lambda xt: F.nll_loss(xt, t(labels), t(w)),
                                 [np.ascontiguousarray(x)])[0], np.float64)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_grad_builds_no_one_hot(smoothing):
    """Peak memory: the (N, C) gradient and a block of work, never a second (N, C) array."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4096)).astype(np.float32)
    labels = rng.integers(0, 4096, 256)
    w = rng.uniform(0.5, 2, 4096).astype(np.float32)
    tracemalloc.start()
    lossref.grad.cross_entropy(x, labels, weight=w, label_smoothing=smoothing)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1.5 * x.nbytes, f"peak {peak} bytes for an input of {x.nbytes} bytes"


def test_accepts_torch_tensors():
    x = np.array([[1.0, 2.0], [1.0, 3.0]])
    go = np.array([1.0, -2.0])
    ours = lossref.grad.nll_loss(t(x).requires_grad_(), t(np.array([0, 1])), reduction="none",
                                 grad_output=t(go))
    np.testing.assert_array_equal(ours, [[-1.0, 0.0], [0.0, 2.0]])


# ---- an independent check: central finite differences in float64 ----------------------------

def _fd_cases():
    rng = np.random.default_rng(2024)
    rng.uniform(0.05, 0.95, (3, 4))               # the draws test_binary's cases take first
    rng.uniform(0, 1, (3, 4))
    logits = rng.normal(0, 2, (3, 4))
    w4 = rng.uniform(0.5, 2, 4)
    labels = np.array([0, 3, -100])
    image = rng.normal(0, 1, (2, 4, 3))           # (N, C, d1)
    image_labels = np.array([[0, 3, 1], [2, -100, 2]])
    dist = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    go = rng.normal(size=3)
    return [
        ("ce weight smoothing ignore", logits, lossref.cross_entropy,
         dict(target=labels, weight=w4, label_smoothing=0.15)),
        ("ce K-dim", image, lossref.cross_entropy,
         dict(target=image_labels, label_smoothing=0.3, reduction="sum")),
        ("ce unbatched", logits[0], lossref.cross_entropy, dict(target=np.array(2))),
        ("ce probabilities", logits, lossref.cross_entropy,
         dict(target=dist, weight=w4, label_smoothing=0.1, reduction="none", grad_output=go)),
        ("nll weight ignore", logits, lossref.nll_loss, dict(target=labels, weight=w4)),
    ]


FD_CASES = _fd_cases()


@pytest.mark.parametrize("x, loss, options", [c[1:] for c in FD_CASES],
                         ids=[c[0] for c in FD_CASES])
def test_central_differences_agree(x, loss, options):
    check_central_differences(x, loss, options)


# ---- edge cases -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huge_logits_are_finite_and_exact(dtype, reduction):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], dtype)
    labels = np.array([1, 0])
    ce = lossref.cross_entropy(x, labels, reduction=reduction, label_smoothing=0.1)
    assert np.all(np.isfinite(ce))
    assert_matches_torch(ce, F.cross_entropy(t(x), t(labels), reduction=reduction,
                                             label_smoothing=0.1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nan_propagates_like_torch(dtype, reduction):
    x = np.array([[np.nan, 1.0], [0.5, 2.0]], dtype)
    labels = np.array([0, 1])
    assert_matches_torch(lossref.cross_entropy(x, labels, reduction=reduction),
                         F.cross_entropy(t(x), t(labels), reduction=reduction), dtype)
    assert_matches_torch(lossref.nll_loss(x, labels, reduction=reduction),
                         F.nll_loss(t(x), t(labels), reduction=reduction), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_batch_mean_is_nan_sum_is_zero(dtype):
    empty, labels = np.zeros((0, 3), dtype), np.zeros(0, np.int64)
    for reduction in REDUCTIONS:
        calls = [
            (lossref.cross_entropy(empty, labels, reduction=reduction),
             F.cross_entropy(t(empty), t(labels), reduction=reduction)),
            (lossref.cross_entropy(empty, empty, reduction=reduction),
             F.cross_entropy(t(empty), t(empty), reduction=reduction)),
            (lossref.nll_loss(empty, labels, reduction=reduction),
             F.nll_loss(t(empty), t(labels), reduction=reduction)),
        ]
        for ours, theirs in calls:
            assert_empty_batch(ours, theirs, dtype, reduction)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 0.5]])
def test_all_targets_ignored_gives_nan_mean(dtype, smoothing, weight):
    x = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]], dtype)
    labels = np.array([-100, -100])
    w = None if weight is None else np.array(weight, dtype)
    ours = lossref.cross_entropy(x, labels, weight=w, label_smoothing=smoothing)
    assert np.isnan(ours)
    assert_matches_torch(ours, F.cross_entropy(t(x), t(labels), weight=t(w),
                                               label_smoothing=smoothing), dtype)


def test_ignored_class_still_in_softmax_denominator():
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    ignored = lossref.cross_entropy(x, np.array([0]), ignore_index=2, reduction="none")
    dropped = lossref.cross_entropy(x[:, :2], np.array([0]), reduction="none")
    assert ignored[0] > dropped[0]
    assert_matches_torch(ignored, F.cross_entropy(t(x), torch.tensor([0]), ignore_index=2,
                                                  reduction="none"), np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_result_dtype_follows_input(dtype):
    x = np.array([[0.2, 0.7]], dtype)
    for value in (lossref.cross_entropy(x, np.array([1])), lossref.nll_loss(x, np.array([1])),
                  lossref.cross_entropy(x, x, reduction="none")):
        assert np.asarray(value).dtype == dtype


def test_lists_and_float64_targets_are_accepted():
    # NumPy turns lists into float64/int64; lossref casts targets to the input's dtype
    assert lossref.cross_entropy([[1.0, 2.0]], [1], weight=[1, 2]).dtype == np.float64


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_and_k_dimensional_inputs(reduction):
    rng = np.random.default_rng(3)
    for shape, target in [((4,), np.array(2)), ((4,), np.array([2])),
                          ((2, 4, 3), rng.integers(0, 4, (2, 3))),
                          ((2, 4, 2, 3), rng.integers(0, 4, (2, 2, 3))),
                          ((2, 4, 1, 2, 2), rng.integers(0, 4, (2, 1, 2, 2)))]:
        x = rng.normal(size=shape).astype(np.float64)
        w = np.array([1.0, 0.5, 2.0, 1.5])
        # torch itself fails on a (C,) input with a (1,) target once smoothing is on
        smoothing = 0.0 if target.shape == (1,) else 0.3
        assert_matches_torch(
            lossref.cross_entropy(x, target, weight=w, reduction=reduction,
                                  label_smoothing=smoothing),
            F.cross_entropy(t(x), t(target), weight=t(w), reduction=reduction,
                            label_smoothing=smoothing),
            np.float64)
        assert_matches_torch(lossref.nll_loss(x, target, weight=w, reduction=reduction),
                             F.nll_loss(t(x), t(target), weight=t(w), reduction=reduction),
                             np.float64)


def test_weighted_mean_divides_by_sum_of_target_weights():
    x = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]])
    labels, w = np.array([0, 1, 1]), np.array([1.0, 2.0])
    per_sample = lossref.cross_entropy(x, labels, weight=w, reduction="none")
    mean = lossref.cross_entropy(x, labels, weight=w)
    assert mean == pytest.approx(per_sample.sum() / (1 + 2 + 2), rel=1e-15)
    assert mean != pytest.approx(per_sample.sum() / 3)


def test_no_numpy_warning_reaches_the_reader():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lossref.cross_entropy(np.array([[-np.inf, 0.0]]), np.array([1]))
        lossref.cross_entropy(np.zeros((0, 2)), np.zeros(0, np.int64))
        lossref.cross_entropy(np.zeros((0, 2)), np.zeros((0, 2)))
        lossref.nll_loss(np.zeros((2, 2)), np.array([-100, -100]))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_builds_no_one_hot(smoothing):
    """Peak extra memory stays near one input-sized buffer; an (N, C) one-hot would double it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4096)).astype(np.float32)
    labels = rng.integers(0, 4096, 256)
    w = rng.uniform(0.5, 2, 4096).astype(np.float32)
    tracemalloc.start()
    lossref.cross_entropy(x, labels, weight=w, label_smoothing=smoothing)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1.5 * x.nbytes, f"peak {peak} bytes for an input of {x.nbytes} bytes"


def test_confident_rows_give_torchs_exact_loss_and_gradient():
    """A row led by its target's logit: torch's float32 loss reaches exactly 0 (from a lead of
    about 17) and its gradient for the target exactly 0; lossref's shift by the row max gives
    the same numbers: within 2 ulp, exactly 0 where torch's is (a shortcut without the shift
    gave -1.2e-7 and +1.2e-7 there, and 4.530e-05 for torch's 4.542e-05 at a lead of 10)."""
    leads = np.arange(1, 41, dtype=np.float32)
    x = np.stack([leads, np.zeros_like(leads)], axis=1)
    y = np.zeros(len(leads), dtype=np.int64)
    tx = torch.from_numpy(x).requires_grad_(True)
    theirs = F.cross_entropy(tx, torch.from_numpy(y), reduction="none")
    theirs.sum().backward()
    ours = lossref.cross_entropy(x, y, reduction="none")
    expected = theirs.detach().numpy()
    np.testing.assert_allclose(ours, expected, rtol=2.4e-7, atol=0)     # 2 ulp of float32
    assert (ours >= 0).all() and (ours[expected == 0] == 0).all()
    grad = lossref.grad.cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-6, atol=0)


# ---- ±inf and nan ------------------------------------------------------------------------------

CE_OPTIONS = [{}, {"label_smoothing": 0.3}, {"label_smoothing": 1.0},
              {"weight": [1.0, 2.0]}, {"ignore_index": 0},
              {"weight": [1.0, 2.0], "label_smoothing": 0.2, "ignore_index": 1}]


def _options(options, dtype, tensors):
    out = dict(options)
    if "weight" in out:
        w = np.array(out["weight"], dtype)
        out["weight"] = t(w) if tensors else w
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_cross_entropy_and_nll_nonfinite_logits(dtype, reduction, options):
    x = logit_pairs(dtype)
    labels = np.arange(len(x)) % 2
    ours = lossref.cross_entropy(x, labels, reduction=reduction, **_options(options, dtype, False))
    theirs = F.cross_entropy(t(x), t(labels), reduction=reduction,
                             **_options(options, dtype, True))
    assert_matches_torch(ours, theirs, dtype)
    if "label_smoothing" not in options:
        assert_matches_torch(
            lossref.nll_loss(x, labels, reduction=reduction, **_options(options, dtype, False)),
            F.nll_loss(t(x), t(labels), reduction=reduction, **_options(options, dtype, True)),
            dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probabilities_nonfinite(dtype, reduction, smoothing):
    x = logit_pairs(dtype)
    soft = np.tile(np.array([[0.25, 0.75], [1.0, 0.0], [np.nan, 0.5], [np.inf, 0.0], [0.5, 0.5]],
                            dtype), (5, 1))
    for logits, target in [(x, np.full_like(x, 0.5)), (np.zeros_like(x), soft), (x, soft)]:
        assert_matches_torch(
            lossref.cross_entropy(logits, target, reduction=reduction, label_smoothing=smoothing),
            F.cross_entropy(t(logits), t(target), reduction=reduction, label_smoothing=smoothing),
            dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonfinite_spatial_and_unbatched(dtype):
    image = np.array([[[np.inf, 0.0], [1.0, np.nan], [-np.inf, 2.0]]], dtype)    # (N=1, C=3, d1=2)
    labels = np.array([[0, 1]])
    for reduction in REDUCTIONS:
        assert_matches_torch(lossref.cross_entropy(image, labels, reduction=reduction),
                             F.cross_entropy(t(image), t(labels), reduction=reduction), dtype)
        assert_matches_torch(lossref.nll_loss(image, labels, reduction=reduction),
                             F.nll_loss(t(image), t(labels), reduction=reduction), dtype)
    single = np.array([np.inf, 1.0, -np.inf], dtype)
    for label in [0, 1, 2]:
        assert_matches_torch(lossref.cross_entropy(single, np.array(label), reduction="none"),
                             F.cross_entropy(t(single), t(np.array(label)), reduction="none"),
                             dtype)


# ---- refused inputs: torch raises, lossref names the bad value ---------------------------------

f32 = np.float32
X2 = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]], f32)
Y2 = np.array([0, 1, 1])

CASES = [
    # id, lossref call, torch call, exception, pattern the message must contain
    ("ce batch mismatch",
     lambda: lossref.cross_entropy(X2, np.array([0, 1])),
     lambda: F.cross_entropy(t(X2), torch.tensor([0, 1])),
     ValueError, r"Expected input batch_size \(3\) to match target batch_size \(2\)"),
    ("ce spatial target mismatch",
     lambda: lossref.cross_entropy(np.zeros((2, 3, 4), f32), np.zeros((2, 5), np.int64)),
     lambda: F.cross_entropy(torch.zeros(2, 3, 4), torch.zeros(2, 5, dtype=torch.long)),
     ValueError, r"Expected target shape \(2, 4\) .* got \(2, 5\)"),
    ("ce class index out of range",
     lambda: lossref.cross_entropy(X2, np.array([0, 5, 1])),
     lambda: F.cross_entropy(t(X2), torch.tensor([0, 5, 1])),
     IndexError, r"Target 5 is out of bounds: class indices must be in \[0, 1\]"),
    ("ce negative class index",
     lambda: lossref.cross_entropy(X2, np.array([0, -1, 1]), reduction="none"),
     lambda: F.cross_entropy(t(X2), torch.tensor([0, -1, 1]), reduction="none"),
     IndexError, r"Target -1 is out of bounds"),
    ("ce weight wrong length",
     lambda: lossref.cross_entropy(X2, Y2, weight=np.ones(3, f32)),
     lambda: F.cross_entropy(t(X2), t(Y2), weight=torch.ones(3)),
     ValueError, r"one entry for each of the 2 classes, got shape \(3,\)"),
    ("ce weight 2-d",
     lambda: lossref.cross_entropy(X2, Y2, weight=np.ones((1, 2), f32), label_smoothing=0.1),
     lambda: F.cross_entropy(t(X2), t(Y2), weight=torch.ones(1, 2), label_smoothing=0.1),
     ValueError, r"got shape \(1, 2\)"),
    ("ce label_smoothing above 1",
     lambda: lossref.cross_entropy(X2, Y2, label_smoothing=1.5),
     lambda: F.cross_entropy(t(X2), t(Y2), label_smoothing=1.5),
     ValueError, r"label_smoothing must be between 0.0 and 1.0, got 1.5"),
    ("ce ignore_index with probabilities",
     lambda: lossref.cross_entropy(X2, np.full((3, 2), 0.5, f32), ignore_index=1),
     lambda: F.cross_entropy(t(X2), torch.full((3, 2), 0.5), ignore_index=1),
     ValueError, r"ignore_index=1 is not supported with class-probability targets"),
    ("ce integer probabilities",
     lambda: lossref.cross_entropy(X2, np.ones((3, 2), np.int64)),
     lambda: F.cross_entropy(t(X2), torch.ones(3, 2, dtype=torch.long)),
     TypeError, r"must be floating point, got dtype int64"),
    ("ce float class indices",
     lambda: lossref.cross_entropy(X2, np.array([0.0, 1.0, 1.0], f32)),
     lambda: F.cross_entropy(t(X2), torch.tensor([0.0, 1.0, 1.0])),
     TypeError, r"target must hold integer class indices, got dtype float32"),
    ("ce bool class indices",
     lambda: lossref.cross_entropy(X2, np.array([True, False, True])),
     lambda: F.cross_entropy(t(X2), torch.tensor([True, False, True])),
     TypeError, r"got dtype bool"),
    ("ce unknown reduction",
     lambda: lossref.cross_entropy(X2, Y2, reduction="average"),
     lambda: F.cross_entropy(t(X2), t(Y2), reduction="average"),
     ValueError, r"average is not a valid value for reduction"),
    ("ce 2-d target for 2-d input",
     lambda: lossref.cross_entropy(np.zeros((2, 3), f32), np.zeros((2, 4), np.int64)),
     lambda: F.cross_entropy(torch.zeros(2, 3), torch.zeros(2, 4, dtype=torch.long)),
     ValueError, r"Expected target shape \(2,\)"),
    ("nll class index out of range",
     lambda: lossref.nll_loss(X2, np.array([2, 0, 0])),
     lambda: F.nll_loss(t(X2), torch.tensor([2, 0, 0])),
     IndexError, r"Target 2 is out of bounds"),
    ("nll weight wrong length",
     lambda: lossref.nll_loss(X2, Y2, weight=np.ones(5, f32)),
     lambda: F.nll_loss(t(X2), t(Y2), weight=torch.ones(5)),
     ValueError, r"each of the 2 classes, got shape \(5,\)"),
    ("nll float target",
     lambda: lossref.nll_loss(X2, np.array([0.0, 1.0, 1.0])),
     lambda: F.nll_loss(t(X2), torch.tensor([0.0, 1.0, 1.0])),
     TypeError, r"integer class indices, got dtype float64"),
    ("nll 0-d input",
     lambda: lossref.nll_loss(np.float32(1.0), np.array(0)),
     lambda: F.nll_loss(torch.tensor(1.0), torch.tensor(0)),
     ValueError, r"at least 1 dimension"),
]


@pytest.mark.parametrize("ours, theirs, error, pattern",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lossref_raises_where_torch_raises(ours, theirs, error, pattern):
    check_refused(ours, theirs, error, pattern)


def test_negative_label_smoothing_is_refused():
    # torch silently ignores a negative label_smoothing; lossref refuses it (documented)
    assert float(F.cross_entropy(t(X2), t(Y2), label_smoothing=-0.1)) == \
        pytest.approx(float(F.cross_entropy(t(X2), t(Y2))))
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0.0 and 1.0, got -0.1"):
        lossref.cross_entropy(X2, Y2, label_smoothing=-0.1)


# ---- torch tensors as inputs (duck-typed, torch never imported by lossref) ---------------------

@given(tensor_case())
@examples(40)
def test_cross_entropy_and_nll_loss_accept_tensors(args):
    dtype, n, c, rng, reduction, weighted = args
    x = rng.normal(size=(n, c)).astype(dtype)
    y = rng.integers(0, c, n)
    w = rng.uniform(0.5, 2, c).astype(dtype) if weighted else None
    log_p = (x - np.log(np.exp(x).sum(axis=1, keepdims=True))).astype(dtype)
    check_tensor_inputs(lambda input, target, weight: lossref.cross_entropy(
        input, target, weight, reduction=reduction), dict(input=x, target=y, weight=w), {})
    check_tensor_inputs(lambda input, target, weight: lossref.CrossEntropyLoss(
        weight, reduction=reduction, label_smoothing=0.1)(input, target),
        dict(input=x, target=y, weight=w), {})
    soft = rng.dirichlet(np.ones(c), n).astype(dtype)
    check_tensor_inputs(lossref.cross_entropy, dict(input=x, target=soft),
                        dict(reduction=reduction))
    check_tensor_inputs(lambda input, target, weight: lossref.nll_loss(
        input, target, weight, reduction=reduction), dict(input=log_p, target=y, weight=w), {})
    check_tensor_inputs(lambda input, target: lossref.NLLLoss(reduction=reduction)(input, target),
                        dict(input=log_p, target=y), {})


def test_results_stay_numpy_and_agree_with_torch():
    x = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]], requires_grad=True)
    y = torch.tensor([0, 1, 1])
    ours = lossref.cross_entropy(x, y)
    assert isinstance(ours, np.float32)
    assert x.grad is None and x.requires_grad                     # the tensor is untouched
    torch_value = torch.nn.functional.cross_entropy(x, y).item()
    np.testing.assert_allclose(ours, torch_value, rtol=2e-5)


# ---- float16 / bfloat16 near the overflow edges (issue 25) ------------------------------------
#: logit magnitudes up to float16's largest finite value (65504), where exp and sums overflow
MAGNITUDES = [1.0, 11.0, 90.0, 1000.0, 6e4]


@given(data=st.data())
@examples(30)
def test_half_precision_near_overflow_matches_torch(data):
    """Values within 2 ulp and gradients within 4 ulp of torch's CPU kernels, inf where torch
    overflows, at magnitudes up to float16's largest value. p·Σg - g_t at a confident target
    cancels in float32 before the rounding: there both sides carry float32's error of the
    cancelling terms, so entries within 2^-18 of those terms' size are judged absolutely
    (a confident row's p - 1 may differ from torch's by float32's spacing at 1)."""
    name = data.draw(st.sampled_from(["cross_entropy", "nll_loss"]))
    rng = rng_from(data.draw)
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6))
    shape = (n, c) + ((data.draw(st.integers(1, 3)),) if data.draw(st.booleans()) else ())
    scale = data.draw(st.sampled_from(MAGNITUDES))
    x = np.clip(rng.standard_normal(shape) * scale, -6e4, 6e4)
    target = rng.integers(0, c, (n,) + shape[2:])
    if name == "nll_loss":
        x = -np.abs(x)
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    # the cancelling terms p·g and g: g is 1 a sample, or 1/count for the mean
    check_half(name, [x, target], data.draw(st.sampled_from(HALF_NAMES)), grad_floor=2.0**-18,
               term_scale=1.0 / target.size if reduction == "mean" else 1.0,
               reduction=reduction)


# --- issue 29's fast paths against torch: one min/max target check, ignore_index in and out
# of the targets' range, target dtypes, row-wise ufunc loops (row_loops) on both sides of their limits
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


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_spatial_input_with_no_positions(dtype, name, reduction):
    """(N, C, 0) input, (N, 0) target: torch gives nan / 0 / an empty loss and an empty
    gradient (lossref raised ZeroDivisionError building its flat index)."""
    x, y = np.zeros((2, 5, 0), dtype), np.zeros((2, 0), np.int64)
    tx = t(x).requires_grad_(True)
    theirs = getattr(F, name)(tx, t(y), reduction=reduction)
    go = np.ones(tuple(theirs.shape), dtype)
    theirs.backward(t(go))
    ours = np.asarray(getattr(lossref, name)(x, y, reduction=reduction))
    assert ours.dtype == dtype and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours, theirs.detach().numpy())
    grad = getattr(lossref.grad, name)(x, y, reduction=reduction, grad_output=go)
    assert grad.dtype == dtype and grad.shape == x.shape
