"""Shared cases for the regression-family tests (test_regression: l1_loss, mse_loss; test_huber:
smooth_l1_loss, huber_loss): one hypothesis case and one check of value, warnings and gradient
against torch, and the per-loss bodies of the table tests each file runs for its own losses."""

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
    HALF_SETTINGS,
    REDUCTIONS,
    SETTINGS,
    assert_grad_close,
    assert_matches_torch,
    broadcastable_shape,
    check_half,
    recorded,
    rng_from,
    t,
    terms_scale,
    torch_grad,
)

import lossref

#: the losses that take a ``weight``
WEIGHTED = {"l1_loss", "mse_loss", "huber_loss"}


@st.composite
def regression_case(draw, name):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
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


def check_half_near_overflow(name, data):
    """float16/bfloat16 (issue 25): shapes up to 200 elements (torch's vectorised loop and its
    scalar tail), errors near float16's overflow (256² > 65504) and near its subnormals."""
    rng = rng_from(data.draw)
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    scale = data.draw(st.sampled_from([1e-3, 1.0, 30.0, 180.0, 256.0, 300.0]))
    options = {"reduction": data.draw(st.sampled_from(REDUCTIONS))}
    if name == "smooth_l1_loss":
        options["beta"] = data.draw(st.sampled_from([0.0, 0.3, 1.0, 50.0]))
    if name == "huber_loss":
        options["delta"] = data.draw(st.sampled_from([0.3, 1.0, 50.0]))
    x, y = rng.normal(0, scale, shape), rng.normal(0, scale, shape)
    check_half(name, [x, y], data.draw(st.sampled_from(["float16", "bfloat16"])), **options)


def check_kinks(cases, dtype):
    """x - y exactly 0, ±0.5, ±1, 2, 3 against 0: the gradient torch's backward picks at each
    kink of each (name, options) in ``cases``."""
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, 3.0], dtype)
    y = np.zeros(7, dtype)
    for name, options in cases:
        expected, = torch_grad(lambda a: getattr(F, name)(a, t(y), **options), [x])
        got = getattr(lossref.grad, name)(x, y, **options)
        assert_grad_close(got, expected, dtype)


def check_n1_against_n(name):
    """The (N, 1) vs (N,) trap: same warning text, same (N, N) table, same wrong number."""
    rng = np.random.default_rng(1)
    pred, y = rng.normal(size=(5, 1)).astype(np.float32), rng.normal(size=5).astype(np.float32)
    ours, our_warnings = recorded(lambda: getattr(lossref, name)(pred, y, reduction="none"))
    theirs, torch_warnings = recorded(lambda: getattr(F, name)(t(pred), t(y), reduction="none"))
    assert ours.shape == (5, 5) and our_warnings == torch_warnings
    assert our_warnings[0][0] is UserWarning and "torch.Size([5])" in our_warnings[0][1]
    assert_matches_torch(ours, theirs, np.float32)


LEGACY = [(False, None), (None, False), (True, True)]


def check_legacy(name, legacy):
    """The legacy size_average/reduce pair: torch's value and warnings, weighted too."""
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


def check_empty(names, dtype, reduction):
    """mean -> nan (also the weighted means: 0 / 0), sum -> 0, none -> empty; gradients empty."""
    e = np.zeros((0, 3), dtype)
    for name in names:
        extra = {"weight": e} if name in WEIGHTED else {}
        for kw in ({}, extra):
            ours = getattr(lossref, name)(e, e, reduction=reduction, **kw)
            theirs = getattr(F, name)(t(e), t(e), reduction=reduction,
                                      **{k: t(v) for k, v in kw.items()})
            assert_matches_torch(ours, theirs, dtype)
            assert getattr(lossref.grad, name)(e, e, reduction=reduction, **kw).shape == (0, 3)


def check_class(cls, options, dtype):
    """The class with ``options`` called on (3, 4) arrays, against torch's class."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(3, 4)).astype(dtype)
    assert_matches_torch(getattr(lossref, cls)(**options)(x, y),
                         getattr(torch.nn, cls)(**options)(t(x), t(y)), dtype)


def family_tests(names: list):
    """The tests test_regression and test_huber run alike, for the losses ``names`` of their
    module, for the test file to bind to test names: values, gradients and warnings against
    torch (hypothesis), float16/bfloat16 near the overflow edges, empty inputs."""

    @pytest.mark.parametrize("name", names)
    @given(data=st.data())
    @SETTINGS
    def test_values_gradients_and_warnings_match_torch(name, data):
        check_against_torch(name, data.draw(regression_case(name)))

    @pytest.mark.parametrize("name", names)
    @given(data=st.data())
    @HALF_SETTINGS
    def test_half_precision_near_overflow_matches_torch(name, data):
        check_half_near_overflow(name, data)

    @pytest.mark.parametrize("dtype", DTYPES)
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_empty_inputs(dtype, reduction):
        check_empty(names, dtype, reduction)

    return (test_values_gradients_and_warnings_match_torch,
            test_half_precision_near_overflow_matches_torch, test_empty_inputs)
