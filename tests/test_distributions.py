"""kl_div, poisson_nll_loss, gaussian_nll_loss: values, gradients (var's too), warnings and errors
against torch, live, on hypothesis-generated shapes (broadcasting and empty ones), options and
values (zeros, NaN and ±inf included)."""

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
    REDUCTIONS,
    SETTINGS,
    assert_grad_close,
    assert_matches_torch,
    broadcastable_shape,
    central_difference,
    check_half,
    examples,
    recorded,
    t,
    terms_scale,
    torch_grad,
)

import lossref


@st.composite
def shapes_and_rng(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    full = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    if draw(st.integers(0, 4)) == 0:   # broadcasting: torch does it silently for these losses
        return rng, broadcastable_shape(draw, full), broadcastable_shape(draw, full)
    return rng, full, full


def sprinkle(draw, rng, a, values):
    """Replace ~15% of ``a`` by special values, in one example out of four."""
    a = np.array(a)
    if a.size and draw(st.integers(0, 3)) == 0:
        mask = rng.uniform(size=a.shape) < 0.15
        a[mask] = rng.choice(values, size=int(mask.sum()))
    return a


def grad_output_for(rng, reduction, shape, dtype):
    return rng.normal(0, 1, shape if reduction == "none" else ()).astype(dtype)


def compare(name, x, y, options, grad_output, dtype):
    ours, our_warnings = recorded(lambda: getattr(lossref, name)(x, y, **options))
    theirs, torch_warnings = recorded(lambda: getattr(F, name)(t(x), t(y), **options))
    assert our_warnings == torch_warnings
    assert_matches_torch(ours, theirs, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected, = torch_grad(lambda a: getattr(F, name)(a, t(y), **options), [x], grad_output)
        got = getattr(lossref.grad, name)(x, y, **options, grad_output=grad_output)
        full = np.broadcast_shapes(x.shape, y.shape)
        scale = 0.0 if full == x.shape else terms_scale(
            lambda a: getattr(F, name)(a, t(y), **options), x, full, grad_output)
    assert_grad_close(got, expected, dtype, scale)


# ---- kl_div ------------------------------------------------------------------------------------


@given(st.sampled_from(DTYPES), shapes_and_rng(), st.sampled_from(REDUCTIONS + ["batchmean"]),
       st.booleans(), st.data())
@SETTINGS
def test_kl_div_matches_torch(dtype, case, reduction, log_target, data):
    rng, x_shape, y_shape = case
    x = np.log(np.array(rng.uniform(0.01, 1, x_shape)))       # log-probabilities
    p = np.array(rng.uniform(0, 1, y_shape))
    p[rng.uniform(size=y_shape) < 0.2] = 0.0                  # 0·log 0 = 0
    with np.errstate(divide="ignore"):
        y = np.log(p) if log_target else p
    x = sprinkle(data.draw, rng, x, [-np.inf, np.inf, np.nan, 0.0])
    y = sprinkle(data.draw, rng, y, [-np.inf, np.inf, np.nan, 0.0, 2.0, -1.0])
    shape = np.broadcast_shapes(x_shape, y_shape)
    options = {"reduction": reduction, "log_target": log_target}
    compare("kl_div", x.astype(dtype), y.astype(dtype), options,
            grad_output_for(rng, reduction, shape, dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div_nan_cases_and_batchmean(dtype):
    x = np.array([[-np.inf, -np.inf, 0.0], [-1.0, -2.0, -0.5]], dtype)
    p = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], dtype)
    none = lossref.kl_div(x, p, reduction="none")
    assert np.isnan(none[0, 0]) and none[0, 1] == np.inf and none[0, 2] == 0   # 0·(-inf) is NaN
    log_p = np.log(np.array([[1.0, 1.0, 1.0], [0.2, 0.3, 0.5]], dtype))
    log_p[0, 0] = -np.inf
    assert np.isnan(lossref.kl_div(np.zeros_like(x), log_p, reduction="none",
                                   log_target=True)[0, 0])
    finite = x[1:], p[1:]
    np.testing.assert_allclose(lossref.kl_div(*finite, reduction="batchmean"),
                               lossref.kl_div(*finite, reduction="sum") / 1, rtol=1e-6)
    ours, msgs = recorded(lambda: lossref.kl_div(x[1:], p[1:]))
    assert len(msgs) == 1 and "'batchmean' divides only by the batch size" in msgs[0][1]
    np.testing.assert_allclose(ours, lossref.kl_div(*finite, reduction="sum") / 3, rtol=1e-6)
    # a 0-d input: batchmean divides by nothing
    assert_matches_torch(lossref.kl_div(np.array(-1.0, dtype), np.array(0.5, dtype),
                                        reduction="batchmean"),
                         F.kl_div(t(np.array(-1.0, dtype)), t(np.array(0.5, dtype)),
                                  reduction="batchmean"), dtype)


def test_kl_div_cross_entropy_identity():
    """CE(p, q) = H(p) + KL(p || q), per sample."""
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(5, 4))
    p = rng.dirichlet(np.ones(4), size=5)
    log_q = lossref.log_softmax(logits, 1)
    entropy = -(p * np.log(p)).sum(1)
    ce = lossref.cross_entropy(logits, p, reduction="none")
    np.testing.assert_allclose(ce, entropy + lossref.kl_div(log_q, p, reduction="none").sum(1))


@pytest.mark.parametrize("legacy", [(False, None), (None, False), (True, True)])
def test_kl_div_legacy_arguments(legacy):
    x, y = np.log([[0.3, 0.7], [0.5, 0.5]]), np.array([[0.1, 0.9], [0.6, 0.4]])
    for reduction in ["mean", "batchmean"]:   # torch still divides by the batch for 'batchmean'
        ours, our_warnings = recorded(lambda: lossref.kl_div(x, y, *legacy, reduction=reduction))
        theirs, torch_warnings = recorded(lambda: F.kl_div(t(x), t(y), *legacy,
                                                           reduction=reduction))
        assert our_warnings == torch_warnings
        assert_matches_torch(ours, theirs, np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            expected, = torch_grad(lambda a: F.kl_div(a, t(y), *legacy, reduction=reduction),
                                   [x], np.ones(theirs.shape))
            got = lossref.grad.kl_div(x, y, *legacy, reduction=reduction,
                                      grad_output=np.ones(theirs.shape))
        assert_grad_close(got, expected, np.float64)


# ---- poisson_nll_loss --------------------------------------------------------------------------


@given(st.sampled_from(DTYPES), shapes_and_rng(), st.sampled_from(REDUCTIONS), st.booleans(),
       st.booleans(), st.sampled_from([1e-8, 1e-3, 0.5]), st.data())
@SETTINGS
def test_poisson_nll_loss_matches_torch(dtype, case, reduction, log_input, full, eps, data):
    rng, x_shape, y_shape = case
    x = np.array(rng.normal(0, 1.5, x_shape) if log_input else rng.uniform(0, 5, x_shape))
    y = np.array(rng.poisson(3.0, y_shape), dtype=float)
    y[rng.uniform(size=y_shape) < 0.2] += 0.5            # fractional targets, around 1 too
    x = sprinkle(data.draw, rng, x, [-np.inf, np.inf, np.nan, 0.0] + ([-1.0] * (not log_input)))
    y = sprinkle(data.draw, rng, y, [0.0, 1.0, np.inf, np.nan, -2.0])
    shape = np.broadcast_shapes(x_shape, y_shape)
    options = {"log_input": log_input, "full": full, "eps": eps, "reduction": reduction}
    compare("poisson_nll_loss", x.astype(dtype), y.astype(dtype), options,
            grad_output_for(rng, reduction, shape, dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_stirling_term_only_where_target_above_one(dtype):
    log_rate = np.zeros(5, dtype)
    y = np.array([0.0, 0.5, 1.0, 1.5, 4.0], dtype)
    extra = (lossref.poisson_nll_loss(log_rate, y, full=True, reduction="none")
             - lossref.poisson_nll_loss(log_rate, y, reduction="none"))
    stirling = y * np.log(y, where=y > 0, out=np.zeros_like(y)) - y \
        + 0.5 * np.log(2 * np.pi * np.maximum(y, 1))
    np.testing.assert_allclose(extra, np.where(y > 1, stirling, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(lossref.grad.poisson_nll_loss(log_rate, y, full=True),
                                  lossref.grad.poisson_nll_loss(log_rate, y))


# ---- gaussian_nll_loss -------------------------------------------------------------------------


@st.composite
def gaussian_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng, x_shape, y_shape = draw(shapes_and_rng())
    kind = draw(st.sampled_from(["same", "same", "row", "one", "float"]))
    if kind == "row" and len(x_shape) >= 1:
        var_shape = x_shape[:-1]
    elif kind == "one" and len(x_shape) >= 1:
        k = draw(st.integers(0, len(x_shape) - 1))
        var_shape = x_shape[:k] + (1,) + x_shape[k + 1:]
    else:
        var_shape = x_shape
    eps = draw(st.sampled_from([0.0, 1e-6, 1e-2, 0.3]))
    x = np.array(rng.normal(0, 2, x_shape))
    y = np.array(rng.normal(0, 2, y_shape))
    var = np.array(rng.uniform(0, 2, var_shape))
    if var.size:
        var[rng.uniform(size=var_shape) < 0.25] = rng.choice([0.0, eps / 3, eps])  # clamped
    x = sprinkle(draw, rng, x, [np.inf, -np.inf, np.nan])
    var = sprinkle(draw, rng, var, [np.inf, np.nan, 0.0])
    var = float(rng.uniform(0, 2)) if kind == "float" else var.astype(dtype)
    options = {"full": draw(st.booleans()), "eps": eps,
               "reduction": draw(st.sampled_from(REDUCTIONS))}
    return x.astype(dtype), y.astype(dtype), var, options, rng, dtype


@given(gaussian_case())
@SETTINGS
def test_gaussian_nll_loss_matches_torch(case):
    x, y, var, options, rng, dtype = case
    torch_var = var if isinstance(var, float) else t(var)
    ours = lossref.gaussian_nll_loss(x, y, var, **options)
    theirs = F.gaussian_nll_loss(t(x), t(y), torch_var, **options)
    assert_matches_torch(ours, theirs, dtype)
    grad_output = grad_output_for(rng, options["reduction"], theirs.shape, dtype)
    got = lossref.grad.gaussian_nll_loss(x, y, var, **options, grad_output=grad_output)
    if isinstance(var, float):
        expected, = torch_grad(lambda a: F.gaussian_nll_loss(a, t(y), var, **options), [x],
                               grad_output)
        assert_grad_close(got, expected, dtype)
    else:
        expected = torch_grad(lambda a, v: F.gaussian_nll_loss(a, t(y), v, **options),
                              [x, var], grad_output)
        assert isinstance(got, tuple) and len(got) == 2
        # input and var may both be broadcast (against the target, along var's 1-sized dims):
        # near-zero sums are judged against the summed terms, var expanded to the input's shape
        v_unsqueezed = var if var.ndim == x.ndim else var[..., None]
        full = np.broadcast_shapes(x.shape, y.shape, v_unsqueezed.shape)
        x_scale = 0.0 if full == x.shape else terms_scale(
            lambda a: F.gaussian_nll_loss(a, t(y), t(np.broadcast_to(v_unsqueezed, full).copy()),
                                          **options), x, full, grad_output)
        v_scale = 0.0 if var.shape == full else terms_scale(
            lambda v: F.gaussian_nll_loss(t(x), t(y), v, **options), v_unsqueezed, x.shape,
            grad_output, extra_factor=np.prod(full) / max(np.prod(x.shape), 1))
        assert_grad_close(got[0], expected[0], dtype, x_scale)
        assert_grad_close(got[1], expected[1], dtype, v_scale)


def test_gaussian_var_gradient_at_the_clamp_is_evaluated_at_eps():
    """Not 0: torch clamps under no_grad, so d/dvar is 1/(2 eps) - (x - y)²/(2 eps²)."""
    x, y = np.array([0.0, 1.0, 2.0]), np.zeros(3)
    var, eps = np.array([0.0, 1e-9, 0.5]), 1e-6
    _, d_var = lossref.grad.gaussian_nll_loss(x, y, var, eps=eps, reduction="sum")
    v = np.maximum(var, eps)
    np.testing.assert_allclose(d_var, 0.5 / v - 0.5 * (x - y) ** 2 / v ** 2, rtol=1e-12)
    _, torch_d_var = torch_grad(lambda a, b: F.gaussian_nll_loss(a, t(y), b, eps=eps,
                                                                 reduction="sum"), [x, var])
    assert_grad_close(d_var, torch_d_var, np.float64)
    # above the clamp the gradient is the true derivative
    d_input = lossref.grad.gaussian_nll_loss(x, y, 0.7, reduction="sum")
    np.testing.assert_allclose(d_input, central_difference(
        lambda a: lossref.gaussian_nll_loss(a, y, 0.7, reduction="sum"), x), rtol=1e-6)


# ---- half precision -------------------------------------------------------------------------


@given(data=st.data())
@examples(60)
def test_half_precision_near_overflow_matches_torch(data):
    """float16/bfloat16 (issue 25): exp near float16's overflow (log 65504 = 11.09), squared
    errors past it, log-probabilities down to -30, counts up to 300, variances near eps."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    name = data.draw(st.sampled_from(["kl_div", "poisson_nll_loss", "gaussian_nll_loss"]))
    dtype_name = data.draw(st.sampled_from(["float16", "bfloat16"]))
    options = {"reduction": data.draw(st.sampled_from(REDUCTIONS))}
    diff = (0,)
    if name == "kl_div":
        options["log_target"] = data.draw(st.booleans())
        x = -rng.uniform(0, data.draw(st.sampled_from([1.0, 10.0, 30.0])), shape)
        y = -rng.uniform(0, 5, shape) if options["log_target"] else rng.uniform(0, 1, shape)
        arrays = [x, y]
    elif name == "poisson_nll_loss":
        options["log_input"] = data.draw(st.booleans())
        options["full"] = data.draw(st.booleans())
        top = data.draw(st.sampled_from([1.0, 10.5, 11.5, 80.0]))
        x = rng.uniform(-top, top, shape)
        x = x if options["log_input"] else np.abs(x)
        arrays = [x, np.round(rng.uniform(0, data.draw(st.sampled_from([3, 300])), shape))]
    else:
        options["full"] = data.draw(st.booleans())
        scale = data.draw(st.sampled_from([1.0, 100.0, 300.0]))
        var = rng.uniform(0, data.draw(st.sampled_from([1e-5, 1.0, 100.0])), shape)
        arrays, diff = [rng.normal(0, scale, shape), rng.normal(0, scale, shape), var], (0, 2)
    check_half(name, arrays, dtype_name, diff=diff, **options)


# ---- warnings, errors, classes, signatures ----------------------------------------------------

f32 = np.float32
A = np.array([[0.2, 0.8], [0.5, 0.5]], f32)
BAD = [
    ("kl unknown reduction", lambda: lossref.kl_div(A, A, reduction="avg"),
     lambda: F.kl_div(t(A), t(A), reduction="avg"), ValueError,
     r"avg is not a valid value for reduction"),
    ("kl shapes do not broadcast", lambda: lossref.kl_div(A, A[:, :1].T[:, :1].repeat(3, 0)),
     lambda: F.kl_div(t(A), t(A[:, :1].T[:, :1].repeat(3, 0))), ValueError,
     r"input shape \(2, 2\), target shape \(3, 1\) cannot be broadcast"),
    ("kl integer input", lambda: lossref.kl_div(np.array([1, 2]), np.array([1, 2])),
     lambda: F.kl_div(torch.tensor([1, 2]), torch.tensor([1, 2])), TypeError,
     r"input must be a floating-point array, got dtype int64"),
    ("poisson unknown reduction", lambda: lossref.poisson_nll_loss(A, A, reduction="batchmean"),
     lambda: F.poisson_nll_loss(t(A), t(A), reduction="batchmean"), ValueError,
     r"batchmean is not a valid value for reduction"),
    ("poisson elementwise_mean", lambda: lossref.poisson_nll_loss(A, A,
                                                                  reduction="elementwise_mean"),
     lambda: F.poisson_nll_loss(t(A), t(A), reduction="elementwise_mean"), ValueError,
     r"elementwise_mean is not a valid value"),
    ("poisson shapes", lambda: lossref.poisson_nll_loss(A, np.ones(3, f32)),
     lambda: F.poisson_nll_loss(t(A), torch.ones(3)), ValueError,
     r"target shape \(3,\) cannot be broadcast"),
    ("gaussian negative float var", lambda: lossref.gaussian_nll_loss(A, A, -1.0),
     lambda: F.gaussian_nll_loss(t(A), t(A), -1.0), ValueError,
     r"var has negative entry/entries: var=-1\.0"),
    ("gaussian negative var entry", lambda: lossref.gaussian_nll_loss(A, A, A - 0.6),
     lambda: F.gaussian_nll_loss(t(A), t(A), t(A - 0.6)), ValueError,
     r"var has negative entry/entries, e\.g\. .*-0\.4"),
    ("gaussian var of a wrong size", lambda: lossref.gaussian_nll_loss(A, A, np.ones(3, f32)),
     lambda: F.gaussian_nll_loss(t(A), t(A), torch.ones(3)), ValueError,
     r"var is of incorrect size: var shape \(3,\) for input shape \(2, 2\)"),
    ("gaussian 0-d var on a 2-d input", lambda: lossref.gaussian_nll_loss(A, A, np.ones((), f32)),
     lambda: F.gaussian_nll_loss(t(A), t(A), torch.ones(())), ValueError,
     r"var is of incorrect size: var shape \(\) for input shape \(2, 2\)"),
    ("gaussian var two dims of 1", lambda: lossref.gaussian_nll_loss(
        np.zeros((2, 3, 4), f32), np.zeros((2, 3, 4), f32), np.ones((2, 1, 1), f32)),
     lambda: F.gaussian_nll_loss(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), torch.ones(2, 1, 1)),
     ValueError, r"var is of incorrect size"),
    ("gaussian int var", lambda: lossref.gaussian_nll_loss(A, A, 1),
     lambda: F.gaussian_nll_loss(t(A), t(A), 1), TypeError,
     r"var must be a Python float or an array of variances, got 1 of type int"),
    ("gaussian numpy float32 var", lambda: lossref.gaussian_nll_loss(A, A, np.float32(1.0)),
     lambda: F.gaussian_nll_loss(t(A), t(A), np.float32(1.0)), TypeError,
     r"got np\.float32\(1\.0\) of type float32"),
    ("gaussian unknown reduction", lambda: lossref.gaussian_nll_loss(A, A, A, reduction="avg"),
     lambda: F.gaussian_nll_loss(t(A), t(A), t(A), reduction="avg"), ValueError,
     r"avg is not valid"),
    ("gaussian reduction None", lambda: lossref.gaussian_nll_loss(A, A, A, reduction=None),
     lambda: F.gaussian_nll_loss(t(A), t(A), t(A), reduction=None), TypeError,
     r"reduction must be a str"),
    ("poisson reduction a list", lambda: lossref.poisson_nll_loss(A, A, reduction=["sum"]),
     lambda: F.poisson_nll_loss(t(A), t(A), reduction=["sum"]), TypeError,
     r"reduction must be a str"),
    ("poisson log_input 1", lambda: lossref.poisson_nll_loss(A, A, log_input=1),
     lambda: F.poisson_nll_loss(t(A), t(A), log_input=1), TypeError,
     r"argument 'log_input' must be bool, not int"),
    ("kl log_target a string", lambda: lossref.kl_div(A, A, log_target="yes"),
     lambda: F.kl_div(t(A), t(A), log_target="yes"), TypeError,
     r"argument 'log_target' must be bool, not str"),
    ("gaussian eps complex", lambda: lossref.gaussian_nll_loss(A, A, A, eps=2 + 3j),
     lambda: F.gaussian_nll_loss(t(A), t(A), t(A), eps=2 + 3j), ValueError,
     r"eps=\(2\+3j\) cannot be converted"),
    ("gaussian eps a string", lambda: lossref.gaussian_nll_loss(A, A, A, eps="0.5"),
     lambda: F.gaussian_nll_loss(t(A), t(A), t(A), eps="0.5"), TypeError,
     r"eps must be a number"),
    ("gaussian var checked before reduction",
     lambda: lossref.gaussian_nll_loss(A, A, -A, reduction="avg"),
     lambda: F.gaussian_nll_loss(t(A), t(A), t(-A), reduction="avg"), ValueError,
     r"var has negative entry"),
]


@pytest.mark.parametrize("ours, theirs, error, pattern", [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_bad_input_raises_like_torch(ours, theirs, error, pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(Exception) as torch_error:
            theirs()
        with pytest.raises(error, match=pattern):
            ours()
    if error is ValueError and torch_error.type is ValueError:   # torch's own words, kept
        assert str(torch_error.value).split(":")[0] in str(pytest.raises(error, ours).value)


@pytest.mark.parametrize("eps", [0.5 + 0j, True, 2, np.float32(0.2), 0.3])
def test_gaussian_eps_is_read_as_torch_clamp_reads_it(eps):
    """eps is a Python-level option (torch's ``clamp_(min=eps)``): a complex with imaginary part
    0 is its real part, a bool or an int a number."""
    v = np.array([[0.1, 0.9], [3.0, 0.25]], f32)
    assert_matches_torch(lossref.gaussian_nll_loss(A, A[::-1].copy(), v, eps=eps),
                         F.gaussian_nll_loss(t(A), t(A[::-1].copy()), t(v), eps=eps), f32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_inputs(dtype):
    e = np.zeros((0, 3), dtype)
    for reduction in ["none", "mean", "sum", "batchmean"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert_matches_torch(lossref.kl_div(e, e, reduction=reduction),
                                 F.kl_div(t(e), t(e), reduction=reduction), dtype)
    for reduction in REDUCTIONS:
        assert_matches_torch(lossref.poisson_nll_loss(e, e, full=True, reduction=reduction),
                             F.poisson_nll_loss(t(e), t(e), full=True, reduction=reduction), dtype)
        assert_matches_torch(lossref.gaussian_nll_loss(e, e, np.ones(0, dtype),
                                                       reduction=reduction),
                             F.gaussian_nll_loss(t(e), t(e), torch.ones(0, dtype=t(e).dtype),
                                                 reduction=reduction), dtype)


CLASSES = [("KLDivLoss", {"reduction": "batchmean", "log_target": True}, False),
           ("PoissonNLLLoss", {"log_input": False, "full": True, "eps": 1e-3}, False),
           ("GaussianNLLLoss", {"full": True, "eps": 1e-2, "reduction": "sum"}, True)]


@pytest.mark.parametrize("cls, options, takes_var", CLASSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_classes_match_torch(cls, options, takes_var, dtype):
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0.1, 3, (3, 4)).astype(dtype), rng.uniform(0.1, 3, (3, 4)).astype(dtype)
    args = (x, y) + ((rng.uniform(0, 1, (3, 1)).astype(dtype),) if takes_var else ())
    assert_matches_torch(getattr(lossref, cls)(**options)(*args),
                         getattr(torch.nn, cls)(**options)(*map(t, args)), dtype)


def test_kl_div_loss_class_warns_for_mean_at_each_call():
    x, y = np.log([[0.3, 0.7]]), np.array([[0.1, 0.9]])
    _, ours = recorded(lambda: lossref.KLDivLoss()(x, y))
    _, theirs = recorded(lambda: torch.nn.KLDivLoss()(t(x), t(y)))
    assert ours == theirs and len(ours) == 1
