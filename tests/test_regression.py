"""l1_loss, mse_loss, smooth_l1_loss, huber_loss: values, gradients, warnings and errors against
torch, live, on hypothesis-generated shapes (broadcasting and empty ones), options and values
(NaN, ±inf and exact ties included)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import lossref
from oracle import (DTYPES, HALF_SETTINGS, REDUCTIONS, SETTINGS, assert_grad_close,
                    assert_matches_torch, broadcastable_shape, check_half, recorded, t,
                    terms_scale, torch_grad)

NAMES = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"]
WEIGHTED = {"l1_loss", "mse_loss", "huber_loss"}


@st.composite
def regression_case(draw, name):
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    full = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    if draw(st.integers(0, 3)) == 0:   # different shapes: torch warns and broadcasts
        x_shape, y_shape = broadcastable_shape(draw, full), broadcastable_shape(draw, full)
    else:
        x_shape = y_shape = full
    scale = draw(st.sampled_from([0.3, 1.0, 5.0]))
    x = rng.normal(0, scale, x_shape)
    y = rng.normal(0, scale, y_shape)
    if x_shape == y_shape and x.size:
        ties = rng.uniform(size=x_shape) < 0.2       # exact zeros of x - y (the L1 kink)
        y[ties] = x[ties]
    if draw(st.integers(0, 3)) == 0:
        for a in (x, y):
            a[rng.uniform(size=a.shape) < 0.15] = rng.choice([np.nan, np.inf, -np.inf])
    options = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    if name == "smooth_l1_loss":
        options["beta"] = draw(st.sampled_from([0.0, 0.5, 1.0, 2.5]))
    if name == "huber_loss":
        options["delta"] = draw(st.sampled_from([0.5, 1.0, 2.5]))
    weight = None
    if name in WEIGHTED and draw(st.booleans()):
        weight = np.array(rng.uniform(0, 2, x_shape))
        weight[rng.uniform(size=x_shape) < 0.2] = rng.choice([0.0, 0.0, np.inf, -1.0])
        weight = weight.astype(dtype)
    g_shape = np.broadcast_shapes(x_shape, y_shape) if options["reduction"] == "none" else ()
    grad_output = rng.normal(0, 1, g_shape).astype(dtype)
    return x.astype(dtype), y.astype(dtype), weight, options, grad_output, dtype


def check_against_torch(name, case):
    x, y, weight, options, grad_output, dtype = case
    ours_fn, ours_grad = getattr(lossref, name), getattr(lossref.grad, name)
    extra = {} if weight is None else {"weight": weight}
    ours, our_warnings = recorded(lambda: ours_fn(x, y, **options, **extra))
    theirs, torch_warnings = recorded(
        lambda: getattr(F, name)(t(x), t(y), **options, **({} if weight is None
                                                            else {"weight": t(weight)})))
    assert our_warnings == torch_warnings
    assert_matches_torch(ours, theirs, dtype)

    def torch_fn(a):
        return getattr(F, name)(a, t(y), **options,
                                **({} if weight is None else {"weight": t(weight)}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected, = torch_grad(torch_fn, [x], grad_output)
        got = ours_grad(x, y, **options, **extra, grad_output=grad_output)
        full = np.broadcast_shapes(x.shape, y.shape)
        if full == x.shape:
            assert_grad_close(got, expected, dtype)
            return
        # x was broadcast: its gradient sums copies (weights expanded too; the weighted mean's
        # larger Σw is made up by a second factor of the number of copies)
        w_full = None if weight is None else np.broadcast_to(weight, full).copy()
        copies = np.prod(full) / max(x.size, 1)
        scale = terms_scale(lambda a: getattr(F, name)(
            a, t(y), **options, **({} if w_full is None else {"weight": t(w_full)})),
            x, full, grad_output, extra_factor=1.0 if weight is None else copies)
    assert_grad_close(got, expected, dtype, scale)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@SETTINGS
def test_values_gradients_and_warnings_match_torch(name, data):
    check_against_torch(name, data.draw(regression_case(name)))


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@HALF_SETTINGS
def test_half_precision_near_overflow_matches_torch(name, data):
    """float16/bfloat16 (issue 25): shapes up to 200 elements (torch's vectorised loop and its
    scalar tail), errors near float16's overflow (256² > 65504) and near its subnormals."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    scale = data.draw(st.sampled_from([1e-3, 1.0, 30.0, 180.0, 256.0, 300.0]))
    options = {"reduction": data.draw(st.sampled_from(REDUCTIONS))}
    if name == "smooth_l1_loss":
        options["beta"] = data.draw(st.sampled_from([0.0, 0.3, 1.0, 50.0]))
    if name == "huber_loss":
        options["delta"] = data.draw(st.sampled_from([0.3, 1.0, 50.0]))
    x, y = rng.normal(0, scale, shape), rng.normal(0, scale, shape)
    check_half(name, [x, y], data.draw(st.sampled_from(["float16", "bfloat16"])), **options)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kinks_take_torch_side(dtype):
    """x - y exactly 0, ±beta and ±delta: the gradient torch's backward picks at each kink."""
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, 3.0], dtype)
    y = np.zeros(7, dtype)
    for name, options in [("l1_loss", {}), ("mse_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                          ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 1.0}),
                          ("huber_loss", {"delta": 0.5})]:
        expected, = torch_grad(lambda a: getattr(F, name)(a, t(y), **options), [x])
        got = getattr(lossref.grad, name)(x, y, **options)
        assert_grad_close(got, expected, dtype)
    np.testing.assert_array_equal(lossref.grad.l1_loss(x[:1], y[:1]), [0.0])   # sign(0) = 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_beta_delta_relation_and_beta_zero(dtype):
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 2, 50).astype(dtype), rng.normal(0, 2, 50).astype(dtype)
    for d in (0.25, 1.0, 3.0):
        np.testing.assert_allclose(lossref.huber_loss(x, y, reduction="none", delta=d),
                                   d * lossref.smooth_l1_loss(x, y, reduction="none", beta=d),
                                   rtol=1e-6)
    np.testing.assert_array_equal(lossref.smooth_l1_loss(x, y, beta=0.0), lossref.l1_loss(x, y))


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_means_differ(dtype):
    """l1/mse: Σ w·e / Σ w;  huber: mean(w·e) — both as torch computes them."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(4, 3)).astype(dtype)
    w = rng.uniform(0, 3, (4, 3)).astype(dtype)
    e = np.abs(x - y)
    np.testing.assert_allclose(lossref.l1_loss(x, y, weight=w), (w * e).sum() / w.sum(), rtol=1e-5)
    huber = lossref.huber_loss(x, y, reduction="none")
    np.testing.assert_allclose(lossref.huber_loss(x, y, weight=w), (w * huber).mean(), rtol=1e-5)
    for name in WEIGHTED:
        assert_matches_torch(getattr(lossref, name)(x, y, weight=w),
                             getattr(F, name)(t(x), t(y), weight=t(w)), dtype)


def test_n1_against_n_warns_and_broadcasts():
    """The (N, 1) vs (N,) trap: same warning text, same (N, N) table, same wrong number."""
    rng = np.random.default_rng(1)
    pred, y = rng.normal(size=(5, 1)).astype(np.float32), rng.normal(size=5).astype(np.float32)
    for name in NAMES:
        ours, our_warnings = recorded(lambda: getattr(lossref, name)(pred, y, reduction="none"))
        theirs, torch_warnings = recorded(lambda: getattr(F, name)(t(pred), t(y), reduction="none"))
        assert ours.shape == (5, 5) and our_warnings == torch_warnings
        assert our_warnings[0][0] is UserWarning and "torch.Size([5])" in our_warnings[0][1]
        assert_matches_torch(ours, theirs, np.float32)
    with pytest.warns(UserWarning, match="different to the input size"):
        wrong = lossref.mse_loss(pred, y)
    assert not np.isclose(wrong, lossref.mse_loss(pred[:, 0], y))


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "smooth_l1_loss"])  # huber has none
@pytest.mark.parametrize("legacy", [(False, None), (None, False), (True, True)])
def test_legacy_arguments(name, legacy):
    x, y = np.array([1.0, -2.0, 0.5]), np.array([0.0, 1.0, 0.5])
    size_average, reduce = legacy
    ours, our_warnings = recorded(lambda: getattr(lossref, name)(x, y, size_average, reduce))
    theirs, torch_warnings = recorded(lambda: getattr(F, name)(t(x), t(y), size_average, reduce))
    assert our_warnings == torch_warnings
    assert_matches_torch(ours, theirs, np.float64)
    if name != "smooth_l1_loss":   # the legacy pair also applies to the weighted branch
        w = np.array([0.5, 2.0, 1.0])
        ours, our_warnings = recorded(
            lambda: getattr(lossref, name)(x, y, size_average, reduce, weight=w))
        theirs, torch_warnings = recorded(
            lambda: getattr(F, name)(t(x), t(y), size_average, reduce, weight=t(w)))
        assert our_warnings == torch_warnings
        assert_matches_torch(ours, theirs, np.float64)


def test_elementwise_mean_is_deprecated_like_torch():
    x, y = np.array([1.0, -2.0]), np.array([0.0, 1.0])
    ours, our_warnings = recorded(lambda: lossref.l1_loss(x, y, reduction="elementwise_mean"))
    theirs, torch_warnings = recorded(lambda: F.l1_loss(t(x), t(y), reduction="elementwise_mean"))
    assert our_warnings == torch_warnings
    assert_matches_torch(ours, theirs, np.float64)


f32 = np.float32
A = np.array([1.0, 2.0, 3.0], f32)
BAD = [
    # id, lossref call, torch call, exception, pattern the message must contain
    ("shapes do not broadcast", lambda: lossref.mse_loss(A, A[:2]),
     lambda: F.mse_loss(t(A), t(A[:2])), ValueError,
     r"input shape \(3,\), target shape \(2,\) cannot be broadcast"),
    ("negative beta", lambda: lossref.smooth_l1_loss(A, A, beta=-1.0),
     lambda: F.smooth_l1_loss(t(A), t(A), beta=-1.0), ValueError, r"beta=-1\.0"),
    ("nan beta", lambda: lossref.smooth_l1_loss(A, A, beta=float("nan")),
     lambda: F.smooth_l1_loss(t(A), t(A), beta=float("nan")), ValueError, r"beta=nan"),
    ("zero delta", lambda: lossref.huber_loss(A, A, delta=0.0),
     lambda: F.huber_loss(t(A), t(A), delta=0.0), ValueError,
     r"non-positive values for delta, got delta=0\.0"),
    ("negative delta, weighted", lambda: lossref.huber_loss(A, A, delta=-2, weight=A),
     lambda: F.huber_loss(t(A), t(A), delta=-2, weight=t(A)), ValueError, r"delta=-2\.0"),
    ("l1 weight of the wrong shape", lambda: lossref.l1_loss(A, A, weight=A[:1]),
     lambda: F.l1_loss(t(A), t(A), weight=t(A[:1])), ValueError,
     r"Weights and input must have the same size: weight shape \(1,\), input shape \(3,\)"),
    ("mse weight of the target's broadcast shape",
     lambda: lossref.mse_loss(A[:, None], A, weight=np.ones((3, 3), f32)),
     lambda: F.mse_loss(t(A[:, None]), t(A), weight=torch.ones(3, 3)), ValueError,
     r"weight shape \(3, 3\), input shape \(3, 1\)"),
    ("unknown reduction", lambda: lossref.l1_loss(A, A, reduction="avg"),
     lambda: F.l1_loss(t(A), t(A), reduction="avg"), ValueError,
     r"avg is not a valid value for reduction"),
    ("unknown reduction, weighted", lambda: lossref.mse_loss(A, A, reduction="avg", weight=A),
     lambda: F.mse_loss(t(A), t(A), reduction="avg", weight=t(A)), ValueError,
     r"Invalid reduction mode: avg"),
    ("elementwise_mean, weighted",
     lambda: lossref.huber_loss(A, A, reduction="elementwise_mean", weight=A),
     lambda: F.huber_loss(t(A), t(A), reduction="elementwise_mean", weight=t(A)), ValueError,
     r"Invalid reduction mode: elementwise_mean"),
    ("beta a string", lambda: lossref.smooth_l1_loss(A, A, beta="0.5"),
     lambda: F.smooth_l1_loss(t(A), t(A), beta="0.5"), TypeError,
     r"argument 'beta' must be float, not str"),
    ("delta None, weighted", lambda: lossref.huber_loss(A, A, delta=None, weight=A),
     lambda: F.huber_loss(t(A), t(A), delta=None, weight=t(A)), TypeError,
     r"argument 'delta' must be float, not NoneType"),
    ("HuberLoss delta complex", lambda: lossref.HuberLoss(delta=1 + 0j),
     lambda: torch.nn.HuberLoss(delta=1 + 0j), TypeError,
     r"delta must be a float or int, got: <class 'complex'>"),
    ("integer input", lambda: lossref.l1_loss(np.array([1, 2]), np.array([1, 2])),
     lambda: F.l1_loss(torch.tensor([1, 2]), torch.tensor([1, 2])), TypeError,
     r"input must be a floating-point array, got dtype int64"),
]


@pytest.mark.parametrize("ours, theirs, error, pattern", [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_bad_input_raises_like_torch(ours, theirs, error, pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(Exception):
            theirs()
        with pytest.raises(error, match=pattern):
            ours()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_inputs(dtype, reduction):
    """mean -> nan (also the weighted means: 0 / 0), sum -> 0, none -> empty; gradients empty."""
    e = np.zeros((0, 3), dtype)
    for name in NAMES:
        extra = {"weight": e} if name in WEIGHTED else {}
        for kw in ({}, extra):
            ours = getattr(lossref, name)(e, e, reduction=reduction, **kw)
            theirs = getattr(F, name)(t(e), t(e), reduction=reduction,
                                      **{k: t(v) for k, v in kw.items()})
            assert_matches_torch(ours, theirs, dtype)
            assert getattr(lossref.grad, name)(e, e, reduction=reduction, **kw).shape == (0, 3)


@pytest.mark.parametrize("beta", [0j, False, 0])
def test_a_beta_equal_to_zero_is_l1_before_any_type_check(beta):
    """torch compares ``beta == 0.0`` in Python first: 0j (which its parser refuses) is L1."""
    x, y = A, A[::-1].copy()
    assert_matches_torch(lossref.smooth_l1_loss(x, y, beta=beta),
                         F.smooth_l1_loss(t(x), t(y), beta=beta), np.float32)
    np.testing.assert_array_equal(lossref.grad.smooth_l1_loss(x, y, beta=beta),
                                  lossref.grad.l1_loss(x, y))


def test_grad_output_shape_is_checked():
    with pytest.raises(ValueError, match=r"grad_output of shape \(2,\)"):
        lossref.grad.mse_loss(A, A, grad_output=np.ones(2))


CLASSES = [("L1Loss", {}), ("MSELoss", {"reduction": "sum"}),
           ("SmoothL1Loss", {"beta": 0.3, "reduction": "none"}), ("HuberLoss", {"delta": 0.4})]


@pytest.mark.parametrize("cls, options", CLASSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_classes_match_torch(cls, options, dtype):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(3, 4)).astype(dtype)
    assert_matches_torch(getattr(lossref, cls)(**options)(x, y),
                         getattr(torch.nn, cls)(**options)(t(x), t(y)), dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_gradient_rounds_in_torchs_order_in_float16(reduction):
    """torch's backward is (x - y)·(2/N or 2), then ·grad_output, each rounded to float16: with
    2**17 differences of 0.001 the first product flushes to 0 under 'mean' before a
    grad_output of 1024 could lift it, so the gradient is exactly 0 (lossref once gave 1.5e-5)."""
    n = 2**17
    x, y = np.full(n, 0.001, np.float16), np.zeros(n, np.float16)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    F.mse_loss(tx, torch.from_numpy(y), reduction=reduction).backward(
        torch.tensor(1024.0, dtype=torch.float16))
    ours = lossref.grad.mse_loss(x, y, reduction=reduction, grad_output=np.float16(1024))
    assert ours.dtype == np.float16
    np.testing.assert_array_equal(ours, tx.grad.numpy())
