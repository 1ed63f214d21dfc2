"""multilabel.py against torch, live: multi_margin, multilabel_margin, multilabel_soft_margin.

Quarter-grid scores (ties at the margin happen), NaN and ±inf, p ∈ {1, 2}, weights, the −1
padding rule (labels after the first −1 ignored, duplicates, any entry in [−1, C)), 0-D/1-D/2-D
inputs, empty batches, both dtypes.
"""

from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from margin_cases import grid, shrink, sprinkle, surface_tests
from oracle import (
    DTYPES,
    HALF_NAMES,
    HALF_SETTINGS,
    MARGIN_SETTINGS,
    REDUCTIONS,
    SPECIALS,
    check_half,
    check_value_and_grad,
    rng_from,
    t,
)

import lossref
from lossref import grad


def frames(draw, rng):
    """An input of shape (N, C), (C,) or () and its (N, C) view's N and C."""
    kind = draw(st.integers(0, 5))
    c = draw(st.integers(1, 6))
    if kind == 0:
        return (), 1, 1
    if kind == 1:
        return (c,), 1, c
    n = draw(st.integers(0, 5))
    return (n, c), n, c


@st.composite
def multi_margin_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    shape, n, c = frames(draw, rng)
    x = grid(rng, shape)
    if draw(st.integers(0, 4)) == 0:
        x = sprinkle(rng, x, SPECIALS, rate=0.15)
    if len(shape) == 2:
        target = rng.integers(0, c, n)
    else:
        target = rng.integers(0, c, draw(st.sampled_from([(), (1,)])))
    p = draw(st.sampled_from([1, 2]))
    margin = draw(st.sampled_from([1.0, 0.5, 0.0, -0.5, 1.25]))
    weight = rng.uniform(0.25, 3, c).astype(dtype) if draw(st.booleans()) else None
    return (x.astype(dtype), np.asarray(target, np.int64), p, margin, weight,
            draw(st.sampled_from(REDUCTIONS)), dtype, rng)


@given(multi_margin_case())
@MARGIN_SETTINGS
def test_multi_margin_loss(case):
    x, y, p, margin, w, reduction, dtype, rng = case
    opts = dict(p=p, margin=margin, reduction=reduction)
    ours = lambda x: lossref.multi_margin_loss(x, y, weight=w, **opts)  # noqa: E731
    if x.shape[:1] == (0,) and reduction != "none":
        # torch returns uninitialised memory for an empty batch; lossref: nan (mean), 0 (sum)
        assert (np.isnan(ours(x)) if reduction == "mean" else ours(x) == 0)
        return
    check_value_and_grad(ours, lambda x, **k: grad.multi_margin_loss(x, y, weight=w, **opts, **k),
          lambda x: F.multi_margin_loss(x, t(y), weight=t(w), **opts), [x], dtype, reduction, rng)


def padded_labels(rng, n, c, shape):
    """Rows of labels, each ended by −1 somewhere (or not at all), junk in [−1, C) after it."""
    rows = []
    for _ in range(n):
        k = int(rng.integers(0, c + 1))
        labels = rng.integers(0, c, k)  # duplicates allowed: the kernel counts them again
        if k < c:
            tail = rng.integers(-1, c, c - k - 1)
            row = np.concatenate([labels, [-1], tail])
        else:
            row = labels
        rows.append(row)
    return np.array(rows, dtype=np.int64).reshape(shape)


@st.composite
def multilabel_margin_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    shape, n, c = frames(draw, rng)
    x = grid(rng, shape)
    if draw(st.integers(0, 4)) == 0:
        x = sprinkle(rng, x, SPECIALS, rate=0.15)
    target = padded_labels(rng, n, c, shape if shape else ())
    return x.astype(dtype), target, draw(st.sampled_from(REDUCTIONS)), dtype, rng


@given(multilabel_margin_case())
@MARGIN_SETTINGS
def test_multilabel_margin_loss(case):
    x, y, reduction, dtype, rng = case
    ours = lambda x: lossref.multilabel_margin_loss(x, y, reduction=reduction)  # noqa: E731
    if x.shape[:1] == (0,) and reduction != "none":
        assert (np.isnan(ours(x)) if reduction == "mean" else ours(x) == 0)
        return
    check_value_and_grad(ours, lambda x, **k: grad.multilabel_margin_loss(x, y, reduction=reduction, **k),
          lambda x: F.multilabel_margin_loss(x, t(y), reduction=reduction),
          [x], dtype, reduction, rng)


def test_padding_rule_matches_torch_by_hand():
    """Only the labels before the first −1 count: [3, 0, −1, 1] means {3, 0}, not {3, 0, 1}."""
    x = np.array([[0.1, 0.2, 0.4, 0.8]])
    y = np.array([[3, 0, -1, 1]])
    by_hand = sum(max(0.0, 1 - x[0, j] + x[0, d]) for j in (3, 0) for d in (1, 2)) / 4
    theirs = F.multilabel_margin_loss(t(x), t(y)).item()
    assert lossref.multilabel_margin_loss(x, y) == np.float64(theirs)
    np.testing.assert_allclose(by_hand, theirs, rtol=1e-12)


@st.composite
def soft_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    c = draw(st.integers(0, 5))
    shape = draw(st.sampled_from([(c,), (draw(st.integers(0, 4)), c),
                                  (draw(st.integers(0, 3)), 2, c)]))
    x = rng.normal(0, draw(st.sampled_from([1.0, 10.0, 1e3])), shape)
    if draw(st.integers(0, 4)) == 0:
        x = sprinkle(rng, x, SPECIALS, rate=0.15)
    y = rng.integers(0, 2, shape).astype(np.float64)
    if draw(st.booleans()):
        y = rng.uniform(0, 1, shape)
    w = None
    if draw(st.booleans()):
        w = rng.uniform(0.2, 3, (c,) if draw(st.booleans()) else shrink(draw, shape))
    cast = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return cast(x), cast(y), cast(w), draw(st.sampled_from(REDUCTIONS)), dtype, rng


@given(soft_case())
@MARGIN_SETTINGS
def test_multilabel_soft_margin_loss(case):
    x, y, w, reduction, dtype, rng = case
    check_value_and_grad(lambda x: lossref.multilabel_soft_margin_loss(x, y, w, reduction=reduction),
          lambda x, **k: grad.multilabel_soft_margin_loss(x, y, w, reduction=reduction, **k),
          lambda x: F.multilabel_soft_margin_loss(x, t(y), t(w), reduction=reduction),
          [x], dtype, reduction, rng)


def test_multilabel_soft_margin_is_bce_with_logits_averaged_per_sample():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 2, (4, 3)), rng.integers(0, 2, (4, 3)).astype(np.float64)
    bce = F.binary_cross_entropy_with_logits(t(x), t(y), reduction="none").mean(dim=1)
    np.testing.assert_allclose(lossref.multilabel_soft_margin_loss(x, y, reduction="none"),
                               bce.numpy(), rtol=1e-12)


def test_multi_margin_mean_divides_by_n_not_the_weights():
    x, y = np.array([[0.1, 0.2, 0.4], [0.3, 0.9, 0.2]]), np.array([0, 2])
    w = np.array([3.0, 1.0, 0.5])
    per_sample = lossref.multi_margin_loss(x, y, weight=w, reduction="none")
    theirs = F.multi_margin_loss(t(x), t(y), weight=t(w)).item()
    np.testing.assert_allclose(per_sample.mean(), theirs, rtol=1e-12)
    assert abs(per_sample.sum() / w[y].sum() - theirs) > 1e-3


# ---- the surface: classes, legacy arguments, refused inputs (margin_cases) -----------------
MODULE = ('multi_margin_loss', 'multilabel_margin_loss', 'multilabel_soft_margin_loss')
(test_classes_call_their_function, test_legacy_size_average_reduce, test_unknown_reduction,
 test_bad_inputs_raise_where_torch_raises) = surface_tests(MODULE)


# ---- half precision near the overflow edges ---------------------------------------------------
@given(st.data())
@HALF_SETTINGS
def test_half_precision_near_overflow(data):
    """multilabel_soft_margin in float16/bfloat16 as torch computes it (log σ near exp's edge at
    |x| ≈ 11, large logits); multi_margin and multilabel_margin refused as torch's CPU kernels
    refuse both dtypes, value and gradient."""
    dtype_name = data.draw(st.sampled_from(HALF_NAMES))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    rng = rng_from(data.draw)
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6))
    scale = data.draw(st.sampled_from([1.0, 11.0, 100.0, 3e4]))
    x = rng.standard_normal((n, c)) * scale
    check_half("multilabel_soft_margin_loss", [x, (rng.random((n, c)) < 0.5) * 1.0],
               dtype_name, reduction=reduction)
    check_half("multi_margin_loss", [x, rng.integers(0, c, n)], dtype_name, reduction=reduction)
    check_half("multilabel_margin_loss", [x, np.full((n, c), -1)], dtype_name,
               reduction=reduction)
