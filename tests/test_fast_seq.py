"""The fast paths of the ranking losses and ctc_loss: bit for bit the general path, and torch.

``margin_ranking_loss``, ``triplet_margin_loss`` and ``triplet_margin_with_distance_loss`` take
a short way for the usual call (plain float32/float64 arrays of one shape and dtype, plain
options). Each case here runs twice, once as called and once with the fast path switched off
(its function made to answer ``None``), and the two must agree in value (bit for bit), dtype,
type (a 0-D result stays what it was) and warnings; then the value is checked against torch,
live. ``ctc_loss`` checks its labels on the padded targets at once and picks them one by one
only when that fails: padding that is out of range must still be accepted.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lossref
from lossref import ranking

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
# (N, D) shapes: empty, single, odd, the sweep's small ones, more than two dimensions
SHAPES = [(0, 16), (1, 1), (5,), (3, 256), (62, 16), (7, 3, 5), (4, 0)]


def run(call):
    """The call's result and the warnings it raised (category and text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    return value, [(w.category, str(w.message)) for w in caught]


def both_paths(monkeypatch, fast_name, call):
    """(fast, general): the call as it is, then with ``ranking.<fast_name>`` answering None."""
    fast = run(call)
    with monkeypatch.context() as m:
        m.setattr(ranking, fast_name, lambda *args: None)
        general = run(call)
    return fast, general


def assert_same(fast, general):
    (value, warned), (expected, expected_warned) = fast, general
    assert type(value) is type(expected)
    assert np.asarray(value).dtype == np.asarray(expected).dtype
    assert np.asarray(value).shape == np.asarray(expected).shape
    assert np.asarray(value).tobytes() == np.asarray(expected).tobytes()
    assert warned == expected_warned


def data(rng, shape, dtype, special=False):
    x = rng.standard_normal(shape).astype(dtype)
    if special and x.size >= 3:
        x.flat[:3] = [np.nan, np.inf, -np.inf]
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_fast_path_is_the_general_path_and_torch(monkeypatch, dtype, shape,
                                                                reduction):
    rng = np.random.default_rng(0)
    for special, margin in [(False, 0), (False, 0.5), (True, -1.25), (False, 3)]:
        x1, x2 = data(rng, shape, dtype, special), data(rng, shape, dtype)
        y = np.where(rng.random(shape) < 0.5, 1, -1).astype(dtype)
        call = lambda: lossref.margin_ranking_loss(x1, x2, y, margin=margin,  # noqa: E731
                                                   reduction=reduction)
        fast, general = both_paths(monkeypatch, "_common_ranking", call)
        assert_same(fast, general)
        theirs = F.margin_ranking_loss(torch.from_numpy(x1), torch.from_numpy(x2),
                                       torch.from_numpy(y), margin=margin, reduction=reduction)
        np.testing.assert_allclose(fast[0], theirs.numpy(), equal_nan=True, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [s for s in SHAPES if s[-1]])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_fast_path_is_the_general_path_and_torch(monkeypatch, dtype, shape, reduction):
    rng = np.random.default_rng(1)
    options = [dict(), dict(swap=True), dict(margin=0.25, eps=0.0), dict(margin=3, eps=1e-3),
               dict(p=2.0, swap=True, margin=2.0)]
    for i, option in enumerate(options):
        a, pos, neg = (data(rng, shape, dtype, special=i == 3) for _ in range(3))
        if shape[0] > 1:
            pos[0] = a[0]                          # a zero distance (eps alone)
            neg[-1] = pos[-1]                      # a tie for swap
        call = lambda: lossref.triplet_margin_loss(a, pos, neg, reduction=reduction,  # noqa: E731
                                                   **option)
        fast, general = both_paths(monkeypatch, "_common_triplet", call)
        assert_same(fast, general)
        theirs = F.triplet_margin_loss(*map(torch.from_numpy, (a, pos, neg)),
                                       reduction=reduction, **option)
        np.testing.assert_allclose(fast[0], theirs.numpy(), equal_nan=True, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [s for s in SHAPES if s[-1]])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_with_distance_fast_path_is_the_general_path_and_torch(monkeypatch, dtype,
                                                                       shape, swap):
    rng = np.random.default_rng(2)
    for reduction in REDUCTIONS:
        a, pos, neg = (data(rng, shape, dtype) for _ in range(3))
        call = lambda: lossref.triplet_margin_with_distance_loss(  # noqa: E731
            a, pos, neg, swap=swap, margin=0.5, reduction=reduction)
        fast, general = both_paths(monkeypatch, "_common_triplet", call)
        assert_same(fast, general)
        theirs = F.triplet_margin_with_distance_loss(*map(torch.from_numpy, (a, pos, neg)),
                                                     swap=swap, margin=0.5,
                                                     reduction=reduction)
        np.testing.assert_allclose(fast[0], theirs.numpy(), **TOL[dtype])


def test_overflowing_differences_warn_on_both_paths(monkeypatch):
    big = np.full((2, 3), 3e38, np.float32)
    call = lambda: lossref.triplet_margin_loss(big, -big, big)  # noqa: E731
    fast, general = both_paths(monkeypatch, "_common_triplet", call)
    assert_same(fast, general)
    assert any("overflow" in text for _, text in fast[1])
    call = lambda: lossref.margin_ranking_loss(big[0], -big[0], np.ones(3, np.float32))  # noqa: E731
    assert_same(*both_paths(monkeypatch, "_common_ranking", call))


@pytest.mark.parametrize("call", [
    # what the fast paths leave alone: other dtypes, shapes, option types, lists, 0-D
    lambda x: lossref.triplet_margin_loss(x, x[:1], x, p=1),
    lambda x: lossref.triplet_margin_loss(x, x, x.astype(np.float64), margin=True),
    lambda x: lossref.triplet_margin_loss(x.tolist(), x, x, swap=True, eps=np.float32(0.5)),
    lambda x: lossref.triplet_margin_loss(x[0, 0], x[0, 1], x[0, 2]),
    lambda x: lossref.triplet_margin_with_distance_loss(x, x[:1], x.astype(np.float16)),
    lambda x: lossref.margin_ranking_loss(x, x[:1], np.ones_like(x), margin=np.float64(1)),
    lambda x: lossref.margin_ranking_loss(x, x, np.ones(x.shape, np.int64), margin=True),
    lambda x: lossref.margin_ranking_loss(x[0, 0], x[0, 1], x[0, 2]),
], ids=range(8))
def test_calls_off_the_fast_paths_are_unchanged(monkeypatch, call):
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    fast = run(lambda: call(x))
    with monkeypatch.context() as m:
        m.setattr(ranking, "_common_triplet", lambda *args: None)
        m.setattr(ranking, "_common_ranking", lambda *args: None)
        general = run(lambda: call(x))
    assert_same(fast, general)


@pytest.mark.parametrize("margin, error", [(0, ValueError), (-1.0, ValueError),
                                           ("1", TypeError), (None, TypeError)])
def test_bad_margins_still_raise(margin, error):
    x = np.ones((2, 3), np.float32)
    with pytest.raises(error):
        lossref.triplet_margin_loss(x, x, x, margin=margin)
    with pytest.raises(error):
        lossref.triplet_margin_with_distance_loss(x, x, x, margin=margin)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding", [-1, 0, 99])
def test_ctc_padding_past_the_lengths_may_hold_anything(dtype, padding):
    rng = np.random.default_rng(4)
    frames, batch, classes = 12, 3, 6
    x = rng.standard_normal((frames, batch, classes))
    lp = (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)
    targets = rng.integers(1, classes, (batch, 5))
    tl, il = np.array([5, 2, 0]), np.array([12, 7, 0])
    padded = targets.copy()
    padded[np.arange(5) >= tl[:, None]] = padding
    for reduction in REDUCTIONS:
        ours = lossref.ctc_loss(lp, padded, il, tl, reduction=reduction)
        clean = np.where(np.arange(5) < tl[:, None], targets, 1)
        theirs = F.ctc_loss(torch.from_numpy(lp), torch.from_numpy(clean), torch.from_numpy(il),
                            torch.from_numpy(tl), reduction=reduction)
        np.testing.assert_allclose(ours, theirs.numpy(), **TOL[dtype])
        assert np.asarray(ours).tobytes() == np.asarray(
            lossref.ctc_loss(lp, clean, il, tl, reduction=reduction)).tobytes()
        grad = lossref.grad.ctc_loss(lp, padded, il, tl, reduction=reduction)
        assert grad.tobytes() == lossref.grad.ctc_loss(lp, clean, il, tl,
                                                       reduction=reduction).tobytes()
    padded[0, 1] = padding if padding < 0 or padding >= classes else classes
    with pytest.raises(IndexError, match="out of bounds"):
        lossref.ctc_loss(lp, padded, il, tl)


@pytest.mark.parametrize("frames", [63, 64, 65, 129])
def test_ctc_long_inputs_across_the_recursions_frame_chunks(frames):
    """The recursion prepares y's terms 64 frames at a time: values and gradients at and past
    the chunk edges, with sequences ending (and β starting) at different frames."""
    rng = np.random.default_rng(frames)
    batch, classes, longest = 4, 7, 12
    x = rng.standard_normal((frames, batch, classes))
    lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    targets = rng.integers(1, classes, (batch, longest))
    targets[0, 1::2] = targets[0, 0::2]                     # repeats need blanks between
    il = np.array([frames, frames - 1, min(frames, 64), 30])
    tl = np.array([longest, 7, 0, 5])
    for reduction in REDUCTIONS:
        loss, grad = lossref.grad.ctc_loss(lp, targets, il, tl, reduction=reduction,
                                           return_loss=True)
        tlp = torch.from_numpy(lp).requires_grad_(True)
        theirs = F.ctc_loss(tlp, *map(torch.from_numpy, (targets, il, tl)),
                            reduction=reduction)
        theirs.sum().backward()
        np.testing.assert_allclose(loss, theirs.detach().numpy(), **TOL[np.float64])
        np.testing.assert_allclose(grad, tlp.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_ctc_loss_alone_is_the_gradients_loss_bit_for_bit(seed):
    """``ctc_loss`` keeps two frames of α (its ring); the gradient keeps the whole table. The
    loss of each must be the same number: varied lengths (0 included), blanks, -inf entries."""
    rng = np.random.default_rng(seed)
    frames, batch, classes, labels = (int(rng.integers(lo, hi)) for lo, hi in
                                      ((1, 90), (1, 6), (2, 12), (0, 8)))
    dtype = DTYPES[seed % 2]
    x = rng.standard_normal((frames, batch, classes)) * 2
    log_probs = (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)
    if seed % 5 == 0 and log_probs.size:
        log_probs.flat[rng.integers(0, log_probs.size)] = -np.inf
    blank = int(rng.integers(0, classes))
    targets = rng.integers(0, classes, (batch, labels))
    input_lengths = rng.integers(0, frames + 1, batch)
    target_lengths = rng.integers(0, labels + 1, batch)
    for reduction in REDUCTIONS:
        for zero_infinity in (False, True):
            args = (log_probs, targets, input_lengths, target_lengths, blank, reduction,
                    zero_infinity)
            alone = lossref.ctc_loss(*args)
            with_gradient, _ = lossref.grad.ctc_loss(*args, return_loss=True)
            assert np.asarray(alone).dtype == np.asarray(with_gradient).dtype
            np.testing.assert_array_equal(alone, with_gradient)


@pytest.mark.parametrize("shape", [(50, 16, 20, 30), (100, 32, 40, 30), (200, 32, 30, 50)])
def test_ctc_loss_peak_memory_stays_below_three_inputs(shape):
    """The loss alone holds two frames of α and a few frames of y(l'), never the (T, N, 2S+1)
    tables, which with 2S+1 positions over C classes would alone be up to 3x ``log_probs``."""
    import tracemalloc

    frames, batch, classes, labels = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((frames, batch, classes), dtype=np.float32)
    log_probs = x - np.log(np.exp(x).sum(-1, keepdims=True))
    args = (log_probs, rng.integers(1, classes, (batch, labels)), np.full(batch, frames),
            rng.integers(labels // 2, labels + 1, batch))
    lossref.ctc_loss(*args)
    tracemalloc.start()
    try:
        lossref.ctc_loss(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * log_probs.nbytes, f"peak {peak / log_probs.nbytes:.2f}x the input"
