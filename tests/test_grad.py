"""lossref.grad against torch.autograd.grad, live, and against central finite differences.

The contract (see ``lossref.grad``): float64 within rtol 1e-8 of torch's autograd, float32 within
1e-4, elements near zero judged against the gradient's scale (``gradcheck.assert_grad_close``).
Hypothesis draws shapes (empty batches included), every option of each loss, the legacy
``size_average``/``reduce`` pair, all-ignored batches, and a random ``grad_output``.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lossref
from gradcheck import GRAD_RTOL, assert_grad_close, central_difference, torch_grad
from lossref._reduction import legacy_reduction
from torch_ref import t

DTYPES = [np.float32, np.float64]
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# how a call asks for its reduction: the keyword, or the legacy pair (which overrides it)
REDUCTION_ARGS = [{"reduction": "none"}, {"reduction": "mean"}, {"reduction": "sum"},
                  {"size_average": False}, {"reduce": False},
                  {"size_average": True, "reduce": True}]


def resolved(kw: dict) -> str:
    if "reduction" in kw:
        return kw["reduction"]
    return legacy_reduction(kw.get("size_average"), kw.get("reduce"), emit_warning=False)


@st.composite
def shapes(draw, max_dims=3):
    return tuple(draw(st.lists(st.integers(0, 4), max_size=max_dims)))


def broadcastable_to(draw, shape):
    """A shape that broadcasts to ``shape`` without growing it (a suffix, with some 1s)."""
    k = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else d for d in shape[len(shape) - k:])


def upstream(draw, rng, loss_shape, reduction, dtype):
    """``grad_output``: None (ones), or random values of the loss output's shape."""
    if draw(st.booleans()):
        return None
    return rng.normal(0, 2, loss_shape if reduction == "none" else ()).astype(dtype)


def compare(ours_fn, torch_fn, x, grad_output, dtype, reference_inputs=()):
    """lossref's gradient and torch's, legacy-argument warnings silenced on both sides.

    ``assert_grad_close`` judges elements near zero against the largest gradient element. When
    every element is small because two terms cancel (a confident softmax: p - 1 with p within a
    few float32 ulps of 1; sigmoid(x) - y with y close to sigmoid(x)), torch's float32 result
    already carries an absolute error of about ulp(1) times the size of the cancelling terms, and
    its exp/log round differently from NumPy's. Those terms are bounded by torch's gradient at
    ``reference_inputs`` (logits 0 for a softmax, ±inf for a sigmoid: the extremes the gradient
    interpolates), so the tolerance's scale is the largest of those gradients too.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = ours_fn(x, grad_output)
        (theirs,) = torch_grad(torch_fn, [x], grad_output)
        references = [torch_grad(torch_fn, [np.full_like(x, ref)], grad_output)[0]
                      for ref in reference_inputs]
    if not references:
        assert_grad_close(ours, theirs, dtype)
        return
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (ours.dtype, ours.shape)
    scale = max(np.abs(g[np.isfinite(g)]).max(initial=0.0) for g in [theirs] + references)
    np.testing.assert_allclose(ours, theirs, rtol=GRAD_RTOL[dtype], atol=GRAD_RTOL[dtype] * scale,
                               equal_nan=True)


@st.composite
def bce_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(0, 1, shape)
    x[rng.uniform(size=shape) < 0.1] = 0.0       # exact 0s and 1s: torch's 1e-12 clamp
    x[rng.uniform(size=shape) < 0.1] = 1.0
    y = rng.uniform(0, 1, shape) if draw(st.booleans()) else rng.integers(0, 2, shape)
    w = rng.uniform(0, 3, broadcastable_to(draw, shape)) if draw(st.booleans()) else None
    kw = draw(st.sampled_from(REDUCTION_ARGS))
    go = upstream(draw, rng, shape, resolved(kw), dtype)
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return cast(x), cast(y), cast(w), kw, go, dtype


@given(bce_case())
@SETTINGS
def test_binary_cross_entropy_grad(case):
    x, y, w, kw, go, dtype = case
    compare(lambda x, go: lossref.grad.binary_cross_entropy(x, y, w, grad_output=go, **kw),
            lambda xt: F.binary_cross_entropy(xt, t(y), t(w), **kw), x, go, dtype)


@st.composite
def bce_logits_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(0, draw(st.sampled_from([1.0, 10.0, 100.0])), shape)
    y = rng.uniform(0, 1, shape) if draw(st.booleans()) else rng.integers(0, 2, shape)
    w = rng.uniform(0, 3, broadcastable_to(draw, shape)) if draw(st.booleans()) else None
    p = rng.uniform(0.1, 5, broadcastable_to(draw, shape)) if draw(st.booleans()) else None
    kw = draw(st.sampled_from(REDUCTION_ARGS))
    go = upstream(draw, rng, shape, resolved(kw), dtype)
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return cast(x), cast(y), cast(w), cast(p), kw, go, dtype


@given(bce_logits_case())
@SETTINGS
def test_binary_cross_entropy_with_logits_grad(case):
    x, y, w, p, kw, go, dtype = case
    compare(lambda x, go: lossref.grad.binary_cross_entropy_with_logits(
                x, y, w, pos_weight=p, grad_output=go, **kw),
            lambda xt: F.binary_cross_entropy_with_logits(xt, t(y), t(w), pos_weight=t(p), **kw),
            x, go, dtype, reference_inputs=(np.inf, -np.inf))


@st.composite
def classification_case(draw, probabilities=False):
    """Input (C,), (N, C) or (N, C, d1, ..., dK); targets, weight, ignore_index, smoothing."""
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
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


@given(classification_case())
@SETTINGS
def test_cross_entropy_grad_class_indices(case):
    x, target, w, ignore_index, eps, kw, go, dtype = case
    compare(lambda x, go: lossref.grad.cross_entropy(
                x, target, w, ignore_index=ignore_index, label_smoothing=eps, grad_output=go, **kw),
            lambda xt: F.cross_entropy(xt, t(target), t(w), ignore_index=ignore_index,
                                       label_smoothing=eps, **kw),
            x, go, dtype, reference_inputs=(0.0,))


@given(classification_case(probabilities=True))
@SETTINGS
def test_cross_entropy_grad_probabilities(case):
    x, target, w, _, eps, kw, go, dtype = case
    compare(lambda x, go: lossref.grad.cross_entropy(x, target, w, label_smoothing=eps,
                                                     grad_output=go, **kw),
            lambda xt: F.cross_entropy(xt, t(target), t(w), label_smoothing=eps, **kw),
            x, go, dtype, reference_inputs=(0.0,))


@given(classification_case())
@SETTINGS
def test_nll_loss_grad(case):
    x, target, w, ignore_index, _, kw, go, dtype = case
    compare(lambda x, go: lossref.grad.nll_loss(x, target, w, ignore_index=ignore_index,
                                                grad_output=go, **kw),
            lambda xt: F.nll_loss(xt, t(target), t(w), ignore_index=ignore_index, **kw),
            x, go, dtype)


# ---- exact values and edge cases -----------------------------------------------------------

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
def test_bce_backward_clamp_at_1e_minus_12(dtype):
    x, y = np.array([0.0, 1.0, 0.0, 1.0], dtype), np.array([1.0, 0.0, 0.0, 1.0], dtype)
    ours = lossref.grad.binary_cross_entropy(x, y, reduction="sum")
    (theirs,) = torch_grad(lambda xt: F.binary_cross_entropy(xt, t(y), reduction="sum"), [x])
    np.testing.assert_allclose(ours, [-1e12, 1e12, 0.0, 0.0], rtol=1e-6)
    assert_grad_close(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonfinite_logits_gradients_match_torch(dtype):
    """±inf and nan logits: the gradients torch gives (finite σ(±inf) − y; nan rows for CE)."""
    x = np.array([[np.inf, 1.0], [-np.inf, 0.0], [np.nan, 2.0], [np.inf, np.inf]], dtype)
    y = np.array([[1.0, 0.0], [1.0, 0.5], [0.0, 1.0], [0.0, 1.0]], dtype)
    labels = np.array([0, 1, 1, -100])
    pos_weight = np.array([2.0, 0.5], dtype)
    cases = [
        (lambda x: lossref.grad.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight),
         lambda xt: F.binary_cross_entropy_with_logits(xt, t(y), pos_weight=t(pos_weight))),
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


def test_grad_output_of_the_wrong_shape_is_refused():
    x = np.array([[1.0, 2.0], [1.0, 3.0]])
    with pytest.raises(ValueError, match=r"grad_output of shape \(3,\) must have the shape of "
                                         r"the loss output, \(2,\)"):
        lossref.grad.cross_entropy(x, np.array([0, 1]), reduction="none", grad_output=np.ones(3))
    with pytest.raises(ValueError, match=r"grad_output of shape \(2,\) .* \(\) "):
        lossref.grad.binary_cross_entropy_with_logits(x, x, grad_output=np.ones(2))


def test_legacy_arguments_warn_as_the_forward_does():
    x, y = np.array([0.3, 0.6]), np.array([0.0, 1.0])
    with pytest.warns(UserWarning, match=r"please use reduction='sum' instead"):
        ours = lossref.grad.binary_cross_entropy(x, y, size_average=False)
    np.testing.assert_allclose(ours, lossref.grad.binary_cross_entropy(x, y, reduction="sum"))


def test_accepts_torch_tensors():
    x = np.array([[1.0, 2.0], [1.0, 3.0]])
    go = np.array([1.0, -2.0])
    ours = lossref.grad.nll_loss(t(x).requires_grad_(), t(np.array([0, 1])), reduction="none",
                                 grad_output=t(go))
    np.testing.assert_array_equal(ours, [[-1.0, 0.0], [0.0, 2.0]])


def test_grad_module_lists_the_four_losses():
    assert {"binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
            "nll_loss"} <= set(lossref.grad.__all__)


# ---- an independent check: central finite differences in float64 -----------------------------

def _fd_cases():
    rng = np.random.default_rng(2024)
    probs = rng.uniform(0.05, 0.95, (3, 4))
    soft = rng.uniform(0, 1, (3, 4))
    logits = rng.normal(0, 2, (3, 4))
    w4 = rng.uniform(0.5, 2, 4)
    labels = np.array([0, 3, -100])
    image = rng.normal(0, 1, (2, 4, 3))           # (N, C, d1)
    image_labels = np.array([[0, 3, 1], [2, -100, 2]])
    dist = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    go = rng.normal(size=3)
    return [
        ("bce weight mean", probs, lossref.binary_cross_entropy,
         dict(target=soft, weight=w4)),
        ("bce none", probs, lossref.binary_cross_entropy,
         dict(target=soft, reduction="none", grad_output=rng.normal(size=(3, 4)))),
        ("logits pos_weight weight", logits, lossref.binary_cross_entropy_with_logits,
         dict(target=soft, weight=w4, pos_weight=w4[::-1].copy(), reduction="sum")),
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
    options = dict(options)
    target, go = options.pop("target"), options.pop("grad_output", None)

    def weighted_loss(x):
        out = np.asarray(loss(x, target, **options))
        return np.sum(out if go is None else go * out)

    ours = getattr(lossref.grad, loss.__name__)(x, target, grad_output=go, **options)
    numeric = central_difference(weighted_loss, x)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-6 * np.abs(numeric).max())
