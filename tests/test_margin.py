"""margin.py against torch, live: soft_margin, hinge_embedding, cosine_embedding.

Values within the dtype's tolerance (tests/oracle.py), gradients within the lossref.grad
contract (tests/oracle.py), on hypothesis-drawn shapes, options and values: quarter-grid
values so that ties at the margin occur, NaN and ±inf, empty batches, both dtypes.
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
    assert_matches_torch_or_half,
    check_half,
    check_value_and_grad,
    rng_from,
    t,
    torch_grad,
)

import lossref
from lossref import grad


@st.composite
def soft_margin_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    x = rng.normal(0, draw(st.sampled_from([1.0, 5.0])), shape)
    # far into the overflow of exp(-y·x) (float32 past ~88.7, float64 past ~709.8), never near it
    x = sprinkle(rng, x, [-100.0, -1000.0, 40.0, 500.0] + SPECIALS, rate=0.15)
    y_shape = shape[len(shape) - draw(st.integers(0, len(shape))):]
    y_shape = shrink(draw, y_shape)
    y = rng.choice([1.0, -1.0], y_shape)
    if draw(st.booleans()):
        y = sprinkle(rng, y, [0.0, 0.5, 2.0], rate=0.3)
    return x.astype(dtype), y.astype(dtype), draw(st.sampled_from(REDUCTIONS)), dtype, rng


@given(soft_margin_case())
@MARGIN_SETTINGS
def test_soft_margin_loss(case):
    x, y, reduction, dtype, rng = case
    check_value_and_grad(lambda x: lossref.soft_margin_loss(x, y, reduction=reduction),
          lambda x, **k: grad.soft_margin_loss(x, y, reduction=reduction, **k),
          lambda x: F.soft_margin_loss(x, t(y), reduction=reduction), [x], dtype, reduction, rng)


def test_soft_margin_overflows_to_inf_like_torch():
    for dtype, edge in [(np.float32, 89.0), (np.float64, 710.0)]:
        x = np.array([-edge, -edge + 1.5], dtype=dtype)
        ours = lossref.soft_margin_loss(x, np.ones(2), reduction="none")
        theirs = F.soft_margin_loss(t(x), t(np.ones(2, dtype)), reduction="none").numpy()
        assert np.isinf(ours[0]) and np.isinf(theirs[0])
        np.testing.assert_allclose(ours, theirs)
        # the gradient there is inf / inf = nan, in both
        assert np.isnan(grad.soft_margin_loss(x, np.ones(2), reduction="none")[0])


@st.composite
def hinge_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    margin = draw(st.sampled_from([1.0, 0.5, 0.0, -0.25, 2.0]))
    x = grid(rng, shape, 3.0)
    x = sprinkle(rng, x, [margin] * 3 + SPECIALS, rate=0.2)  # ties at the kink x = margin
    y_shape = shape
    mode = draw(st.integers(0, 2))
    if mode == 1:  # the target broadcasts to the input
        y_shape = shrink(draw, shape)
    elif mode == 2:  # the input broadcasts to the target
        x = x[tuple(slice(0, 1) if d == 1 else slice(None) for d in shrink(draw, shape))]
    y = rng.choice([1.0, -1.0], y_shape)
    if draw(st.booleans()):
        y = sprinkle(rng, y, [0.0, 0.5, np.nan], rate=0.3)  # neither 1 nor -1: both terms
    return x.astype(dtype), y.astype(dtype), margin, draw(st.sampled_from(REDUCTIONS)), dtype, rng


@given(hinge_case())
@MARGIN_SETTINGS
def test_hinge_embedding_loss(case):
    x, y, margin, reduction, dtype, rng = case
    # Each loss element's derivative in x is at most 2 (both terms, for a target neither 1 nor
    # -1) times its share of grad_output; where x broadcasts, its gradient sums such terms and
    # may cancel to 0 (torch's float64 sum left 5.55e-17 of +-1/12 terms where lossref's gave 0).
    count = max(int(np.prod(np.broadcast_shapes(x.shape, y.shape))), 1)

    def term_scale(grad_output):
        share = 1.0 / count if reduction == "mean" else 1.0
        if grad_output is not None and grad_output.size:
            share = float(np.abs(grad_output).max())
        return 2.0 * share

    check_value_and_grad(lambda x: lossref.hinge_embedding_loss(x, y, margin, reduction=reduction),
          lambda x, **k: grad.hinge_embedding_loss(x, y, margin, reduction=reduction, **k),
          lambda x: F.hinge_embedding_loss(x, t(y), margin, reduction=reduction),
          [x], dtype, reduction, rng, term_scale=term_scale)


@st.composite
def cosine_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    rng = rng_from(draw)
    d = draw(st.integers(0, 4))
    if draw(st.integers(0, 3)) == 0:
        s1 = s2 = (d,)
        y = np.asarray(rng.choice([1.0, -1.0, 0.0]))
    else:
        n = draw(st.integers(0, 5))
        s1, s2 = (n, d), (n, d)
        if draw(st.booleans()):
            s2 = (1, d) if draw(st.booleans()) else s2
        y_len = 1 if (n and draw(st.integers(0, 4)) == 0) else n
        y = rng.choice([1.0, -1.0, 1.0, -1.0, 0.0], y_len)
    x1, x2 = grid(rng, s1), grid(rng, s2)
    if x1.ndim == 2 and x1.size and draw(st.booleans()):
        x1[0] = 0.0  # a zero vector: cosine 0 through the 1e-12 in the norms
    if draw(st.integers(0, 4)) == 0:
        x2 = sprinkle(rng, x2, SPECIALS, rate=0.1)
    if draw(st.booleans()):  # tiny vectors, where the 1e-12 matters
        x1, x2 = x1 * 1e-7, x2 * 1e-7
    margin = draw(st.sampled_from([0.0, 0.5, -0.5, 0.25]))
    cast = lambda a: a.astype(dtype)  # noqa: E731
    return cast(x1), cast(x2), cast(y), margin, draw(st.sampled_from(REDUCTIONS)), dtype, rng


def cosine_term_scale(x1, x2, y, reduction):
    """Bound on the terms of d loss / d x: |x2| / den + |x1| / |x1|² per pair, summed over pairs.

    With parallel vectors (always in D = 1) the exact gradient is 0 and both libraries return
    the rounding residue of ``x2 / den - cos · x1 / |x1|²``: judge it against the terms' size.
    """
    def scale(grad_output):
        with np.errstate(all="ignore"):
            a, b = np.abs(x1.astype(np.float64)), np.abs(x2.astype(np.float64))
            m1, m2 = (a * a).sum(-1) + 1e-12, (b * b).sum(-1) + 1e-12
            den = np.sqrt(m1 * m2)
            terms = np.broadcast_to(np.sqrt(m2) / den + np.sqrt(m1) / m1 + np.sqrt(m1) / den
                                    + np.sqrt(m2) / m2, np.broadcast_shapes(m1.shape, m2.shape))
            n = np.broadcast_shapes(m1.shape, m2.shape, y.shape)
            g = 1.0 if grad_output is None else np.abs(grad_output).max(initial=0.0)
            g = g / max(int(np.prod(n)), 1) if reduction == "mean" else g
            total = g * terms.sum()
        return float(total) if np.isfinite(total) else 0.0
    return scale


@given(cosine_case())
@MARGIN_SETTINGS
def test_cosine_embedding_loss(case):
    x1, x2, y, margin, reduction, dtype, rng = case
    check_value_and_grad(lambda a, b: lossref.cosine_embedding_loss(a, b, y, margin, reduction=reduction),
          lambda a, b, **k: grad.cosine_embedding_loss(a, b, y, margin, reduction=reduction, **k),
          lambda a, b: F.cosine_embedding_loss(a, b, t(y), margin, reduction=reduction),
          [x1, x2], dtype, reduction, rng, term_scale=cosine_term_scale(x1, x2, y, reduction))


def test_cosine_eps_of_1e12_in_each_squared_norm():
    x = np.full((1, 3), 1e-7)
    theirs = F.cosine_embedding_loss(t(x), t(x), t(np.ones(1)), reduction="none").numpy()
    ours = lossref.cosine_embedding_loss(x, x, np.ones(1), reduction="none")
    naive = 1 - (x * x).sum() / np.sqrt((x * x).sum() ** 2)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours[0] > 0.9 and abs(naive) < 1e-12  # the eps dominates norms of 3e-14


def test_hinge_tie_takes_torchs_side():
    """At the kink the clamp passes the slope, as torch's clamp_min (``>= 0``) does."""
    x, y = np.array([1.0, 0.5, 1.0]), np.array([-1.0, -1.0, 1.0])
    want = torch_grad(lambda x: F.hinge_embedding_loss(x, t(y), 1.0, reduction="sum"), [x])
    got = grad.hinge_embedding_loss(x, y, 1.0, reduction="sum")
    np.testing.assert_array_equal(got, want[0])
    assert got[0] == -1.0  # x = margin: the hinge's slope passes


# ---- the surface: classes, legacy arguments, refused inputs (margin_cases) -----------------
MODULE = ('soft_margin_loss', 'hinge_embedding_loss', 'cosine_embedding_loss')
(test_classes_call_their_function, test_legacy_size_average_reduce, test_unknown_reduction,
 test_bad_inputs_raise_where_torch_raises) = surface_tests(MODULE)


def test_torch_tensors_are_accepted():
    a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[2.0, 1.0]])
    ours = lossref.cosine_embedding_loss(a, b, torch.tensor([1.0]))
    np.testing.assert_allclose(ours, F.cosine_embedding_loss(a, b, torch.tensor([1.0])).numpy(),
                               rtol=1e-6)


# ---- half precision near the overflow edges ---------------------------------------------------
@given(st.data())
@HALF_SETTINGS
def test_half_precision_near_overflow(data):
    """float16/bfloat16 as torch's CPU computes them: soft margin's exp near log 65504 ≈ 11.09,
    cosine's squared norms and their product near and past 65504 (torch's composite overflows
    there and a positive pair's loss becomes 1), hinge distances around the margin."""
    dtype_name = data.draw(st.sampled_from(HALF_NAMES))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    rng = rng_from(data.draw)
    n, d = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6))
    signs = rng.choice([1.0, -1.0], n)
    x = rng.uniform(-12, 12, (n, d))
    check_half("soft_margin_loss", [x, np.sign(x + 0.5) * signs[:, None]], dtype_name,
               reduction=reduction)
    check_half("hinge_embedding_loss", [np.abs(x), np.repeat(signs[:, None], d, 1)], dtype_name,
               margin=data.draw(st.sampled_from([1.0, 5.0, 11.5])), reduction=reduction)
    scale = data.draw(st.sampled_from([1.0, 16.0, 60.0, 128.0, 256.0, 300.0]))
    check_half("cosine_embedding_loss",
               [rng.standard_normal((n, d)) * scale, rng.standard_normal((n, d)) * scale, signs],
               dtype_name, diff=(0, 1), margin=data.draw(st.sampled_from([0.0, 0.5])),
               reduction=reduction)


# --- issue 29's fast paths against torch
# --- hinge_embedding_loss: masked ufuncs into one buffer ----------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_hinge_embedding_masks(dtype, reduction):
    x = np.array([0.3, -0.2, np.nan, 2.0, -np.inf, np.inf, 1.0, 0.0, 5.0], dtype)
    y = np.array([1, -1, -1, -1, 0, 0.5, -1, 1, 2], dtype)
    for margin in (1.0, 0.0, -1.5):
        assert_matches_torch_or_half(
            lossref.hinge_embedding_loss(x, y, margin=margin, reduction=reduction),
            F.hinge_embedding_loss(t(x), t(y), margin=margin, reduction=reduction), dtype)
    # broadcasting input against target, and a 0-d pair
    xb, yb = np.ones((3, 1), dtype), np.array([1.0, -1.0, 0.0], dtype)
    assert_matches_torch_or_half(lossref.hinge_embedding_loss(xb, yb, reduction=reduction),
                         F.hinge_embedding_loss(t(xb), t(yb), reduction=reduction), dtype)
    x0, y0 = np.array(0.25, dtype), np.array(-1.0, dtype)
    assert_matches_torch_or_half(lossref.hinge_embedding_loss(x0, y0, reduction=reduction),
                         F.hinge_embedding_loss(t(x0), t(y0), reduction=reduction), dtype)


def test_hinge_embedding_peak_memory_stays_near_the_input():
    import tracemalloc
    x = np.abs(np.random.default_rng(6).standard_normal(10**6)).astype(np.float32)
    y = np.where(np.arange(x.size) % 2, 1.0, -1.0).astype(np.float32)
    tracemalloc.start()
    lossref.hinge_embedding_loss(x, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.5 * x.nbytes
