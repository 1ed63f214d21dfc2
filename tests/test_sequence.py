"""ctc_loss and its gradient against torch, live: values, gradients, edge cases, bad input.

Values within rtol 1e-5 (float32) / 1e-9 (float64); gradients within the lossref.grad contract
(tests/oracle.py: rtol 1e-4 / 1e-8 of torch's autograd, atol relative to the gradient's scale).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from oracle import (
    DTYPES,
    REDUCTIONS,
    assert_grad_close,
    assert_matches_torch,
    central_difference,
    examples,
    rounding_scale,
    t,
    torch_grad,
)

import lossref

SETTINGS = examples(80)
VALUE_TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-9, atol=1e-12)}


def log_softmax(x: np.ndarray) -> np.ndarray:
    return x - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - x.max(-1, keepdims=True)


@st.composite
def ctc_case(draw):
    """Log-probabilities (normalised or not), targets padded or concatenated (repeats, the blank
    itself now and then), lengths from 0 up, every option."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from(DTYPES))
    frames, batch = draw(st.integers(1, 9)), draw(st.integers(1, 4))
    classes, longest = draw(st.integers(2, 5)), draw(st.integers(0, 5))
    blank = draw(st.integers(0, classes - 1))
    raw = rng.normal(0, 2, (frames, batch, classes))
    lp = log_softmax(raw) if draw(st.booleans()) else raw
    targets = rng.integers(0, classes, (batch, longest))
    if draw(st.booleans()):                              # a proper target avoids the blank
        targets[targets == blank] = (blank + 1) % classes
    if draw(st.booleans()):                              # runs of repeated labels
        targets[:, 1::2] = targets[:, ::2][:, :targets[:, 1::2].shape[1]]
    target_lengths = rng.integers(0, longest + 1, batch)
    input_lengths = rng.integers(0, frames + 1, batch)
    if draw(st.booleans()):
        targets = np.concatenate([row[:n] for row, n in zip(targets, target_lengths)])
    unbatched = batch == 1 and draw(st.booleans())
    if unbatched:
        lp = lp[:, 0]
    options = dict(blank=blank, reduction=draw(st.sampled_from(REDUCTIONS)),
                   zero_infinity=draw(st.booleans()))
    return lp.astype(dtype), targets, input_lengths, target_lengths, options, dtype, rng


@given(ctc_case())
@SETTINGS
def test_ctc_values_and_gradients_match_torch(case):
    lp, targets, il, tl, options, dtype, rng = case
    ours = lossref.ctc_loss(lp, targets, il, tl, **options)
    theirs = F.ctc_loss(t(lp), t(targets), t(il), t(tl), **options).detach().numpy()
    assert np.asarray(ours).dtype == theirs.dtype and np.shape(ours) == theirs.shape
    np.testing.assert_allclose(ours, theirs, equal_nan=True, **VALUE_TOL[dtype])

    grad_output = rng.normal(size=theirs.shape).astype(dtype)
    expected, = torch_grad(lambda x: F.ctc_loss(x, t(targets), t(il), t(tl), **options), [lp],
                           grad_output)
    got = lossref.grad.ctc_loss(lp, targets, il, tl, **options, grad_output=grad_output)
    # The gradient is grad_output·(exp(lp) − γ): where the two terms nearly cancel, what is left
    # carries their float rounding, a few ulp of |grad_output| (e.g. 2.3603e-05 against
    # torch's 2.3598e-05 for exp(−1.0e-4) − 1 times 0.23, in float32).
    terms = float(np.abs(grad_output).max())
    assert_grad_close(got, expected, dtype, scale=rounding_scale(terms, dtype, ulps=4))


def test_hand_example_three_frames_two_labels():
    """Every alignment of "ab" to 3 frames, enumerated: a-b, ab-, -ab, aab, abb (- = blank)."""
    y = np.array([[0.5, 0.3, 0.2], [0.4, 0.3, 0.3], [0.6, 0.1, 0.3]])   # frames × (-, a, b)
    paths = [(1, 0, 2), (1, 2, 0), (0, 1, 2), (1, 1, 2), (1, 2, 2)]
    p = sum(np.prod([y[s, c] for s, c in enumerate(path)]) for path in paths)
    lp = np.log(y)[:, None, :]
    ours = lossref.ctc_loss(lp, np.array([[1, 2]]), [3], [2], reduction="sum")
    np.testing.assert_allclose(ours, -np.log(p), rtol=1e-12)


def test_repeated_label_needs_a_blank_between():
    lp = np.log(np.full((2, 1, 2), 0.5))                       # two frames: "aa" cannot fit
    assert lossref.ctc_loss(lp, np.array([[1, 1]]), [2], [2], reduction="sum") == np.inf
    lp3 = np.log(np.full((3, 1, 2), 0.5))                      # three frames: only a-a
    np.testing.assert_allclose(lossref.ctc_loss(lp3, np.array([[1, 1]]), [3], [2],
                                                reduction="sum"), 3 * np.log(2), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_impossible_alignment_inf_nan_gradient_and_zero_infinity(dtype):
    lp = log_softmax(np.random.default_rng(0).normal(size=(3, 2, 3))).astype(dtype)
    targets, il, tl = np.array([[1, 2], [1, 1]]), [3, 2], [2, 2]
    for zero_infinity in (False, True):
        ours = lossref.ctc_loss(lp, targets, il, tl, reduction="none",
                                zero_infinity=zero_infinity)
        theirs = F.ctc_loss(t(lp), t(targets), il, tl, reduction="none",
                            zero_infinity=zero_infinity)
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5)
        assert np.isinf(ours[1]) != zero_infinity
        got = lossref.grad.ctc_loss(lp, targets, il, tl, reduction="sum",
                                    zero_infinity=zero_infinity)
        expected, = torch_grad(lambda x: F.ctc_loss(x, t(targets), il, tl, reduction="sum",
                                                    zero_infinity=zero_infinity), [lp])
        assert_grad_close(got, expected, dtype)
        assert np.isnan(got[:2, 1]).all() != zero_infinity


def test_mean_divides_each_loss_by_its_target_length_then_by_the_batch():
    lp = log_softmax(np.random.default_rng(1).normal(size=(6, 3, 4)))
    targets, il, tl = np.array([[1, 2, 3], [1, 1, 0], [2, 0, 0]]), [6, 6, 5], [3, 2, 0]
    per = lossref.ctc_loss(lp, targets, il, tl, reduction="none")
    mean = lossref.ctc_loss(lp, targets, il, tl)
    np.testing.assert_allclose(mean, np.mean(per / np.maximum(tl, 1)), rtol=1e-12)
    np.testing.assert_allclose(mean, F.ctc_loss(t(lp), t(targets), il, tl).item(), rtol=1e-12)


def test_gradient_is_torchs_convention_not_the_plain_derivative():
    """torch returns y_t(c) - γ_t(c), the logits' gradient through log_softmax; the derivative
    of the loss with respect to log_probs is -γ_t(c). They differ by exp(log_probs)."""
    lp = np.random.default_rng(2).normal(size=(4, 1, 3))       # not normalised
    targets, il, tl = np.array([[1, 2]]), [4], [2]
    f = lambda x: lossref.ctc_loss(x, targets, il, tl, reduction="sum")  # noqa: E731
    ours = lossref.grad.ctc_loss(lp, targets, il, tl, reduction="sum")
    np.testing.assert_allclose(ours, central_difference(f, lp) + np.exp(lp), atol=1e-7)


def test_torch_tensors_lists_unbatched_and_float_targets_are_accepted():
    lp = log_softmax(np.random.default_rng(3).normal(size=(5, 3)))
    expected = F.ctc_loss(t(lp), torch.tensor([1, 2]), [5], [2], reduction="none").item()
    for call in (lambda: lossref.ctc_loss(t(lp), torch.tensor([1, 2]), torch.tensor([5]),
                                          torch.tensor([2]), reduction="none"),
                 lambda: lossref.ctc_loss(lp, [[1, 2]], [5], [2], reduction="none"),
                 lambda: lossref.ctc_loss(lp, np.array([1.0, 2.0]), (5,), (2,),
                                          reduction="none")):
        value = call()
        assert np.shape(value) == ()
        np.testing.assert_allclose(value, expected, rtol=1e-12)
    assert lossref.grad.ctc_loss(lp, [1, 2], [5], [2]).shape == lp.shape


def test_ctc_loss_class_matches_torch_class():
    lp = log_softmax(np.random.default_rng(4).normal(size=(6, 2, 4))).astype(np.float32)
    args = (np.array([[1, 2], [3, 3]]), [6, 5], [2, 2])
    ours = lossref.CTCLoss(blank=0, reduction="sum")(lp, *args)
    theirs = torch.nn.CTCLoss(blank=0, reduction="sum")(t(lp), *(t(a) for a in args))
    np.testing.assert_allclose(ours, theirs.item(), rtol=1e-5)


LP = log_softmax(np.random.default_rng(5).normal(size=(4, 2, 3)))
TG = np.array([[1, 2], [1, 1]])

BAD = [
    ("input length above T", lambda m: m.ctc_loss(LP, TG, [5, 3], [2, 2]),
     ValueError, r"input_lengths to have value at most 4, but got value 5"),
    ("negative input length", lambda m: m.ctc_loss(LP, TG, [-1, 3], [2, 2]),
     ValueError, r"input_lengths to have value at least 0, but got value -1"),
    ("target length beyond the padding", lambda m: m.ctc_loss(LP, TG, [4, 3], [3, 1]),
     ValueError, r"size at least 3 at dimension 1"),
    ("negative target length", lambda m: m.ctc_loss(LP, TG, [4, 3], [-1, 1]),
     ValueError, r"target_lengths to have value at least 0, but got value -1"),
    ("blank out of range", lambda m: m.ctc_loss(LP, TG, [4, 3], [2, 2], blank=3),
     ValueError, r"blank must be in label range"),
    ("lengths not one per sequence", lambda m: m.ctc_loss(LP, TG, [4], [2, 2]),
     ValueError, r"input_lengths must be of size batch_size"),
    ("float lengths", lambda m: m.ctc_loss(LP, TG, np.array([4.0, 3.0]), [2, 2]),
     TypeError, r"input_lengths must be integral, got dtype float64"),
    ("concatenated targets of the wrong total", lambda m: m.ctc_loss(LP, np.array([1, 2, 1]),
                                                                       [4, 3], [2, 2]),
     ValueError, r"sum\(target_lengths\) = 4 labels, got 3"),
    ("targets of 3 dimensions", lambda m: m.ctc_loss(LP, TG[None], [4, 3], [2, 2]),
     ValueError, r"got 3 dimensions"),
    ("log_probs of 4 dimensions", lambda m: m.ctc_loss(LP[None], TG, [4, 3], [2, 2]),
     ValueError, r"\(T, N, C\) or unbatched \(T, C\), got 4 dimensions"),
    ("empty log_probs", lambda m: m.ctc_loss(LP[:, :0], np.zeros((0, 0), np.int64), [], []),
     ValueError, r"must not be empty"),
    ("padded rows not one per sequence", lambda m: m.ctc_loss(LP, np.ones((3, 2), np.int64),
                                                              [4, 3], [2, 2]),
     ValueError, r"one row for each of the 2 sequences"),
    ("unknown reduction", lambda m: m.ctc_loss(LP, TG, [4, 3], [2, 2], reduction="avg"),
     ValueError, r"avg is not a valid value for reduction"),
]


@pytest.mark.parametrize("call, error, pattern", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_ctc_raises_where_torch_raises(call, error, pattern):
    class Torch:                       # torch's F with the arguments as tensors
        @staticmethod
        def ctc_loss(lp, tg, il, tl, **kw):
            return F.ctc_loss(t(lp), t(tg), t(il) if isinstance(il, np.ndarray) else il,
                              tl, **kw)
    with pytest.raises(Exception):
        call(Torch)
    with pytest.raises(error, match=pattern):
        call(lossref)
    with pytest.raises(error, match=pattern):
        call(lossref.grad)


def test_labels_out_of_range_raise_where_torch_reads_past_its_input():
    with pytest.raises(IndexError, match=r"target label 5 is out of bounds: .*\[0, 2\]"):
        lossref.ctc_loss(LP, np.array([[1, 5], [1, 1]]), [4, 3], [2, 2])
    with pytest.raises(TypeError, match=r"non-integral"):
        lossref.ctc_loss(LP, np.array([[1.5, 2.0], [1.0, 1.0]]), [4, 3], [2, 2])
    with pytest.raises(TypeError, match=r"Half"):
        lossref.ctc_loss(LP.astype(np.float16), TG, [4, 3], [2, 2])
    with pytest.raises(ValueError, match=r"grad_output of shape \(3,\)"):
        lossref.grad.ctc_loss(LP, TG, [4, 3], [2, 2], reduction="none", grad_output=np.ones(3))


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_half_dtypes_refused_as_torch_cpu_refuses_them(dtype_name):
    """torch's CPU ctc kernel has no float16/bfloat16 version: lossref's TypeError names the
    dtype, the function and the gradient alike (issue 25)."""
    import ml_dtypes

    np_dtype = np.float16 if dtype_name == "float16" else ml_dtypes.bfloat16
    torch_dtype = getattr(torch, dtype_name)
    with pytest.raises(RuntimeError, match="not implemented"):
        F.ctc_loss(t(LP.astype(np.float32)).to(torch_dtype), t(TG), (4, 3), (2, 2))
    half = LP.astype(np.float32).astype(np_dtype)
    for fn in (lossref.ctc_loss, lossref.grad.ctc_loss):
        with pytest.raises(TypeError, match=dtype_name):
            fn(half, TG, [4, 3], [2, 2])


def test_return_loss_gives_the_loss_and_the_same_gradient():
    """lossref.grad.ctc_loss(..., return_loss=True) is (ctc_loss(...), the gradient)."""
    for reduction in ("none", "mean", "sum"):
        loss, grad = lossref.grad.ctc_loss(LP, TG, [4, 3], [2, 2], reduction=reduction,
                                           return_loss=True)
        np.testing.assert_array_equal(loss, lossref.ctc_loss(LP, TG, [4, 3], [2, 2],
                                                             reduction=reduction))
        np.testing.assert_array_equal(grad, lossref.grad.ctc_loss(LP, TG, [4, 3], [2, 2],
                                                                  reduction=reduction))


# --- issue 29's fast paths against torch
# --- ctc_loss: per-frame steps stacked, end and start frames looked up once ---------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ctc_sequences_ending_at_different_frames(dtype):
    rng = np.random.default_rng(5)
    n_frames, batch, n_classes = 12, 6, 5
    raw = rng.standard_normal((n_frames, batch, n_classes))
    lp = (raw - np.log(np.exp(raw).sum(-1, keepdims=True))).astype(dtype)
    targets = rng.integers(1, n_classes, (batch, 4))
    targets[0, :2] = 2                                   # a repeat: needs a blank between
    il = np.array([12, 1, 0, 7, 7, 3])
    tl = np.array([4, 0, 0, 3, 4, 2])
    for reduction in ("none", "mean", "sum"):
        tx = t(lp).requires_grad_(True)
        out = F.ctc_loss(tx, t(targets), t(il), t(tl), reduction=reduction, zero_infinity=True)
        out.sum().backward()
        kw = {"reduction": reduction, "zero_infinity": True}
        assert_matches_torch(lossref.ctc_loss(lp, targets, il, tl, **kw), out.detach(), dtype)
        loss, grad = lossref.grad.ctc_loss(lp, targets, il, tl, return_loss=True, **kw)
        assert_matches_torch(loss, out.detach(), dtype)
        np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-4, atol=1e-6)
