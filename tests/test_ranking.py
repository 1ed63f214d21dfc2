"""ranking.py against torch, live: margin_ranking_loss, triplet_margin_loss and
triplet_margin_with_distance_loss.

Margin ranking on quarter-grid scores (ties at the margin), NaN and ±inf, broadcasting. Triplets:

Every norm order torch's pairwise_distance takes (1, 2, 3, 1.5, 0.5, ±inf, 0, -1), eps inside
the difference (0 included, so that identical vectors sit at the norm's kink), swap, margins,
broadcasting between the three inputs, ties on a quarter grid, empty batches, NaN.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
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
    assert_matches_torch,
    check_half,
    check_value_and_grad,
    rng_from,
    t,
    torch_grad,
)

import lossref
from lossref import grad

# ---- margin ranking -------------------------------------------------------------------------

@st.composite
def ranking_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    x1 = grid(rng, shrink(draw, shape))
    x2 = grid(rng, shrink(draw, shape))
    y = rng.choice([1.0, -1.0], shrink(draw, shape))
    if draw(st.integers(0, 3)) == 0:
        x1 = sprinkle(rng, x1, SPECIALS, rate=0.1)
    if draw(st.booleans()):
        y = sprinkle(rng, y, [0.0, 0.5], rate=0.2)
    margin = draw(st.sampled_from([0.0, 0.5, 1.0, -0.25]))
    cast = lambda a: a.astype(dtype)  # noqa: E731
    return cast(x1), cast(x2), cast(y), margin, draw(st.sampled_from(REDUCTIONS)), dtype, rng


@given(ranking_case())
@MARGIN_SETTINGS
def test_margin_ranking_loss(case):
    x1, x2, y, margin, reduction, dtype, rng = case
    check_value_and_grad(lambda a, b: lossref.margin_ranking_loss(a, b, y, margin, reduction=reduction),
          lambda a, b, **k: grad.margin_ranking_loss(a, b, y, margin, reduction=reduction, **k),
          lambda a, b: F.margin_ranking_loss(a, b, t(y), margin, reduction=reduction),
          [x1, x2], dtype, reduction, rng)


def test_ranking_tie_takes_torchs_side():
    """At the kink the clamp passes the slope, as torch's clamp_min (``>= 0``) does."""
    a, b, y = np.array([1.0, 2.0]), np.array([1.0, 1.0]), np.array([1.0, -1.0])
    want = torch_grad(lambda a, b: F.margin_ranking_loss(a, b, t(y), 0.0, reduction="sum"), [a, b])
    got = grad.margin_ranking_loss(a, b, y, 0.0, reduction="sum")
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert got[0][0] == -1.0  # -y·(x1 - x2) + margin = 0 exactly: the slope passes


# ---- triplets ------------------------------------------------------------------------------

# orders whose norms are exact on grid values (sums, max, count, the sqrt of an exact sum)
EXACT_ORDERS = [1.0, 2.0, np.inf, -np.inf, 0.0]
OTHER_ORDERS = [3.0, 1.5, 0.5, -1.0]


@st.composite
def triplet_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    p = draw(st.sampled_from(EXACT_ORDERS + OTHER_ORDERS))
    kind = draw(st.integers(0, 5))
    if kind == 0:
        shape = (draw(st.integers(1, 4)),)
    elif kind == 1:
        shape = (draw(st.integers(0, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    else:
        shape = (draw(st.integers(0, 5)), draw(st.integers(1, 4)))
    if p in EXACT_ORDERS:  # ties: grid values, eps 0 or a grid value
        make = lambda s: grid(rng, s)  # noqa: E731
        eps = draw(st.sampled_from([0.0, 0.0, 0.25, 1e-6]))
    else:  # pow of other orders may round differently: continuous values, no exact ties
        make = lambda s: rng.normal(0, 1, s)  # noqa: E731
        eps = draw(st.sampled_from([1e-6, 0.0, 0.1]))
    a, pos, neg = (make(shrink(draw, shape) if draw(st.booleans()) else shape) for _ in range(3))
    if draw(st.integers(0, 5)) == 0:
        neg = sprinkle(rng, neg, [np.nan], rate=0.2)
    margin = draw(st.sampled_from([1.0, 0.5, 2.0]))
    swap = draw(st.booleans())
    cast = lambda x: x.astype(dtype)  # noqa: E731
    return (cast(a), cast(pos), cast(neg), margin, p, eps, swap,
            draw(st.sampled_from(REDUCTIONS)), dtype, rng)


@given(triplet_case())
@MARGIN_SETTINGS
def test_triplet_margin_loss(case):
    a, pos, neg, margin, p, eps, swap, reduction, dtype, rng = case
    opts = dict(margin=margin, p=p, eps=eps, swap=swap, reduction=reduction)
    check_value_and_grad(lambda *x: lossref.triplet_margin_loss(*x, **opts),
          lambda *x, **k: grad.triplet_margin_loss(*x, **opts, **k),
          lambda *x: F.triplet_margin_loss(*x, **opts), [a, pos, neg], dtype, reduction, rng)


def test_triplet_swap_tie_splits_the_gradient():
    """d(a, n) == d(p, n): torch's minimum sends half the gradient to each distance."""
    a, pos, neg = np.array([[0.0, 0.0]]), np.array([[2.0, 0.0]]), np.array([[1.0, 0.0]])
    opts = dict(margin=1.0, eps=0.0, swap=True)
    want = torch_grad(lambda *x: F.triplet_margin_loss(*x, **opts), [a, pos, neg])
    for ours, theirs in zip(grad.triplet_margin_loss(a, pos, neg, **opts), want):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_eps_sits_inside_the_difference():
    a, pos, neg = np.zeros((1, 4)), np.zeros((1, 4)), np.full((1, 4), 0.5)
    ours = lossref.triplet_margin_loss(a, pos, neg, reduction="none", eps=1e-6)
    theirs = F.triplet_margin_loss(t(a), t(pos), t(neg), reduction="none", eps=1e-6).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    inside = 1.0 + np.linalg.norm(a - pos + 1e-6) - np.linalg.norm(a - neg + 1e-6)
    outside = max(1.0 + (np.linalg.norm(a - pos) + 1e-6) - (np.linalg.norm(a - neg) + 1e-6), 0)
    np.testing.assert_allclose(ours[0], inside, rtol=1e-12)
    assert abs(inside - outside) > 1e-6  # where the eps sits changes the loss


@st.composite
def distance_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    shape = (draw(st.integers(0, 5)), draw(st.integers(1, 4)))
    a, pos, neg = (rng.normal(0, 1, shape).astype(dtype) for _ in range(3))
    return (a, pos, neg, draw(st.sampled_from([1.0, 0.5, 2.0])), draw(st.booleans()),
            draw(st.sampled_from(REDUCTIONS)), dtype, rng)


@given(distance_case())
@MARGIN_SETTINGS
def test_triplet_margin_with_distance_loss_default(case):
    a, pos, neg, margin, swap, reduction, dtype, rng = case
    opts = dict(margin=margin, swap=swap, reduction=reduction)
    check_value_and_grad(lambda *x: lossref.triplet_margin_with_distance_loss(*x, **opts),
          lambda *x, **k: grad.triplet_margin_with_distance_loss(*x, **opts, **k),
          lambda *x: F.triplet_margin_with_distance_loss(*x, **opts),
          [a, pos, neg], dtype, reduction, rng)


@given(distance_case())
@MARGIN_SETTINGS
def test_triplet_margin_with_distance_loss_callable(case):
    """The same distance written once for NumPy arrays and once for torch tensors."""
    a, pos, neg, margin, swap, reduction, dtype, _ = case
    opts = dict(margin=margin, swap=swap, reduction=reduction)
    ours = lossref.triplet_margin_with_distance_loss(
        a, pos, neg, distance_function=lambda u, v: np.abs(u - v).sum(-1), **opts)
    theirs = F.triplet_margin_with_distance_loss(
        t(a), t(pos), t(neg), distance_function=lambda u, v: (u - v).abs().sum(-1), **opts)
    assert_matches_torch(ours, theirs, dtype)


def test_triplet_with_distance_gradient_needs_the_default_distance():
    x = np.zeros((2, 3))
    with pytest.raises(NotImplementedError, match="distance_function=None"):
        grad.triplet_margin_with_distance_loss(x, x, x, distance_function=lambda u, v: u - v)


def test_triplet_zero_dim_inputs():
    a, pos, neg = np.array(1.0), np.array(0.0), np.array(3.0)
    ours = lossref.triplet_margin_loss(a, pos, neg, reduction="none")
    theirs = F.triplet_margin_loss(torch.tensor(1.0, dtype=torch.float64), t(pos), t(neg),
                                   reduction="none")
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
    assert np.shape(ours) == tuple(theirs.shape)


# ---- the surface: classes, legacy arguments, refused inputs (margin_cases) -----------------
MODULE = ('margin_ranking_loss', 'triplet_margin_loss', 'triplet_margin_with_distance_loss')
(test_classes_call_their_function, test_legacy_size_average_reduce, test_unknown_reduction,
 test_bad_inputs_raise_where_torch_raises) = surface_tests(MODULE)


# ---- half precision near the overflow edges ---------------------------------------------------
@given(st.data())
@HALF_SETTINGS
def test_half_precision_near_overflow(data):
    """float16/bfloat16 as torch's CPU computes them: differences near 65504 (x1 − x2 overflows
    in the half dtype before the norm, which torch takes in float32 and rounds once), scores
    whose differences round to the dtype's step at the margin."""
    dtype_name = data.draw(st.sampled_from(HALF_NAMES))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    rng = rng_from(data.draw)
    n, d = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6))
    scale = data.draw(st.sampled_from([1.0, 100.0, 3e4, 4e4]))
    a, p, q = (rng.standard_normal((n, d)) * scale for _ in range(3))
    swap = data.draw(st.booleans())
    check_half("triplet_margin_loss", [a, p, q], dtype_name, diff=(0, 1, 2), swap=swap,
               reduction=reduction)
    check_half("triplet_margin_with_distance_loss", [a, p, q], dtype_name, diff=(0, 1, 2),
               swap=swap, reduction=reduction)
    check_half("margin_ranking_loss", [a[:, 0], p[:, 0], rng.choice([1.0, -1.0], n)],
               dtype_name, diff=(0, 1), margin=data.draw(st.sampled_from([0.0, 0.1, 1.0])),
               reduction=reduction)
