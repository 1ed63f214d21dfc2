"""float16/bfloat16 nll_loss, cross_entropy and linear_cross_entropy reduced as torch's CPU
nll_loss kernels reduce them: a cascade sum in the half dtype (every ``+=`` rounded), the
mean divided by the kept count rounded to the dtype (or the cascade sum of the weights), and
the backward divided by that same total. Compared with torch live, bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import HALF_NAMES, Lazy

import lossref


def _dtypes() -> dict:
    import ml_dtypes  # when a test first needs it, not when pytest collects this file

    return {"float16": (np.float16, torch.float16),
            "bfloat16": (ml_dtypes.bfloat16, torch.bfloat16)}


DTYPES = Lazy(HALF_NAMES, _dtypes)
BATCHES = (1, 15, 16, 17, 255, 256, 257, 4097)
C = 5


def bits(a) -> np.ndarray:
    """Values as float32 (every half value is one), NaNs made equal: for exact comparison."""
    a = np.asarray(a.detach().float().numpy() if isinstance(a, torch.Tensor) else a,
                   dtype=np.float32)
    return np.where(np.isnan(a), np.float32(np.nan), a).view(np.uint32)


def assert_exact(ours, theirs, what: str) -> None:
    ours_bits, theirs_bits = bits(ours), bits(theirs)
    assert ours_bits.shape == theirs_bits.shape, what
    wrong = np.flatnonzero(ours_bits.ravel() != theirs_bits.ravel())
    assert wrong.size == 0, (f"{what}: {wrong.size} of {ours_bits.size} differ, e.g. "
                             f"{np.ravel(ours)[wrong[:3]]} vs "
                             f"{np.ravel(theirs.detach().float().numpy())[wrong[:3]]}")


def targets(rng, shape, ignore: str) -> np.ndarray:
    """Class indices with ``-100`` nowhere, at every 16th place, at random, or everywhere."""
    t = rng.integers(0, C, shape)
    flat = t.reshape(-1)
    if ignore == "every 16th":
        flat[::16] = -100
    elif ignore == "random":
        flat[rng.random(flat.size) < 0.3] = -100
    elif ignore == "all":
        flat[:] = -100
    return t


def compare(name, x, t, dtype_name, weight=None, grad=True, grad_scale=1.0, **options):
    """lossref against torch on the same half values: value bit for bit, and the gradient
    (``grad``: True for exact, a number for a bound in ulps)."""
    np_dtype, torch_dtype = DTYPES[dtype_name]
    xh = np.asarray(x, np.float32).astype(np_dtype)
    wh = None if weight is None else np.asarray(weight, np.float32).astype(np_dtype)
    tx = torch.from_numpy(xh.astype(np.float32)).to(torch_dtype).requires_grad_(True)
    tw = None if wh is None else torch.from_numpy(wh.astype(np.float32)).to(torch_dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(F, name)(tx, torch.from_numpy(t), weight=tw, **options)
        ours = getattr(lossref, name)(xh, t, weight=wh, **options)
    assert np.asarray(ours).dtype == np_dtype
    assert_exact(ours, theirs, f"{name} value")
    if grad is False:
        return ours, theirs
    theirs.backward(torch.full_like(theirs, grad_scale))
    go = np.full(theirs.shape, grad_scale, np.float32).astype(np_dtype)
    got = getattr(lossref.grad, name)(xh, t, weight=wh, grad_output=go, **options)
    if grad is True:
        assert_exact(got, tx.grad, f"{name} gradient")
    else:        # log_softmax backward: issue 25 bound (its float32 exp is not torch's SIMD exp)
        g = tx.grad.float().numpy()
        ulp = np.spacing(np.abs(g).astype(np_dtype)).astype(np.float32)
        assert np.all(np.abs(got.astype(np.float32) - g) <= grad * ulp), f"{name} gradient"
    return ours, theirs


def test_the_readers_example_agrees_bit_for_bit():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32).astype(np.float16)
    y = np.array([0, 3, 1, 4])
    ours, theirs = compare("cross_entropy", x, y, "float16", grad=1)
    assert float(ours) == theirs.item() == 1.5458984375
    ours, theirs = compare("nll_loss", x, y, "float16")
    assert float(ours) == theirs.item()
    # a float32 sum rounded once is what lossref did before, and it is one step off here
    picked = x[np.arange(4), y].astype(np.float32)
    assert np.float16(-picked.sum() / 4) != ours


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", ["none", "every 16th", "random", "all"])
def test_nll_loss_and_cross_entropy_around_the_cascade_boundaries(dtype_name, n, reduction,
                                                                  weighted, ignore):
    rng = np.random.default_rng([n, weighted, len(ignore)])
    x = rng.standard_normal((n, C)) * 3
    t = targets(rng, (n,), ignore)
    weight = rng.random(C) * 2 if weighted else None
    compare("nll_loss", x, t, dtype_name, weight, reduction=reduction, grad_scale=0.75)
    compare("cross_entropy", x, t, dtype_name, weight, grad=4, reduction=reduction,
            grad_scale=0.75)


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("kept", [2049, 3001, 4097])
def test_the_kept_count_is_rounded_to_the_dtype(dtype_name, kept):
    """Without weight, the mean's denominator is the kept count rounded to the dtype: 2049
    is 2048 in float16, 256 + 1 is 256 in bfloat16; the gradient divides by it too."""
    rng = np.random.default_rng(kept)
    x = -rng.random((kept + 40, C)) * 4              # log-probability-like, all below 0
    t = targets(rng, (kept + 40,), "none")
    t[rng.choice(kept + 40, 40, replace=False)] = -100
    np_dtype = DTYPES[dtype_name][0]
    assert float(np_dtype(kept)) != kept              # the count is not representable
    compare("nll_loss", x, t, dtype_name, reduction="mean")
    compare("cross_entropy", x, t, dtype_name, reduction="mean", grad=4)


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
def test_a_batch_past_float16s_largest_count(dtype_name, reduction, weighted):
    """70 001 targets: flushes at 16, 256, 4096 and 65536; in float16 the kept count (about
    49 000 of them) stays finite, the weighted total and sums may not: all as torch."""
    rng = np.random.default_rng([7, weighted])
    x = -rng.random((70_001, C)) * 8
    t = targets(rng, (70_001,), "random")
    weight = rng.random(C) * 4 if weighted else None
    compare("nll_loss", x, t, dtype_name, weight, reduction=reduction)
    compare("cross_entropy", x, t, dtype_name, weight, grad=False, reduction=reduction)
    t[:] = rng.integers(0, C, t.shape)                  # 70 001 kept: inf in float16
    compare("nll_loss", x, t, dtype_name, weight, reduction=reduction)


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("shape", [(2, C, 7), (3, C, 4, 5), (2, C, 16, 16), (4, C, 17, 15),
                                   (1, C, 2, 3, 43)])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("ignore", ["none", "every 16th", "random"])
def test_k_dimensional_inputs_go_through_nll_loss2d(dtype_name, shape, reduction, ignore):
    """(N, C, d1, …): nll_loss2d's cascade runs over the N·d1·…·dK targets in C order.
    (cross_entropy's gradient there is left to test_half.py: its inner-axis log_softmax
    backward, not this reduction, can be several ulps off where it cancels.)"""
    rng = np.random.default_rng([len(shape), shape[-1], len(ignore)])
    x = rng.standard_normal(shape) * 3
    t = targets(rng, shape[:1] + shape[2:], ignore)
    weight = rng.random(C) * 2
    compare("nll_loss", x, t, dtype_name, reduction=reduction)
    compare("nll_loss", x, t, dtype_name, weight, reduction=reduction)
    compare("cross_entropy", x, t, dtype_name, weight, grad=False, reduction=reduction)
    compare("cross_entropy", x, t, dtype_name, weight, grad=False, reduction=reduction,
            label_smoothing=0.2)


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("n", [17, 257])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_label_smoothing_nll_part_goes_through_the_same_kernel(dtype_name, n, weighted,
                                                               reduction):
    rng = np.random.default_rng([n, weighted])
    x = rng.standard_normal((n, C)) * 3
    t = targets(rng, (n,), "random")
    weight = rng.random(C) * 2 if weighted else None
    compare("cross_entropy", x, t, dtype_name, weight, grad=4, reduction=reduction,
            label_smoothing=0.1)


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_probability_targets_are_plain_tensor_ops(dtype_name, reduction, weighted, smoothing):
    """Class probabilities never reach nll_loss: ``-(log_p * y * w).sum()`` (/ N·D), tensor
    ops whose sum accumulates in float32; lossref agreed before and still does."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((257, C)) * 3
    y = rng.random((257, C))
    y = (y / y.sum(axis=1, keepdims=True)).astype(np.float32).astype(DTYPES[dtype_name][0])
    np_dtype, torch_dtype = DTYPES[dtype_name]
    xh = x.astype(np.float32).astype(np_dtype)
    w = (rng.random(C) * 2).astype(np.float32).astype(np_dtype) if weighted else None
    tw = None if w is None else torch.from_numpy(w.astype(np.float32)).to(torch_dtype)
    theirs = F.cross_entropy(torch.from_numpy(xh.astype(np.float32)).to(torch_dtype),
                             torch.from_numpy(y.astype(np.float32)).to(torch_dtype),
                             weight=tw, reduction=reduction, label_smoothing=smoothing)
    ours = lossref.cross_entropy(xh, y, weight=w, reduction=reduction,
                                 label_smoothing=smoothing)
    assert_exact(ours, theirs, "probabilities")


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_linear_cross_entropy_reduces_as_cross_entropy(dtype_name, reduction):
    np_dtype, torch_dtype = DTYPES[dtype_name]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 8)).astype(np.float32).astype(np_dtype)
    w_lin = rng.standard_normal((C, 8)).astype(np.float32).astype(np_dtype)
    t = targets(rng, (300,), "random")

    def tt(a):
        return torch.from_numpy(a.astype(np.float32)).to(torch_dtype)

    theirs = F.linear_cross_entropy(tt(x), tt(w_lin), torch.from_numpy(t), reduction=reduction)
    ours = lossref.linear_cross_entropy(x, w_lin, t, reduction=reduction)
    assert_exact(ours, theirs, "linear_cross_entropy")


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_unbatched_input(dtype_name):
    x = np.random.default_rng(5).standard_normal(C) * 3
    for reduction in ("sum", "mean"):
        compare("nll_loss", x, np.array(2), dtype_name, reduction=reduction)
        compare("nll_loss", x, np.array(-100), dtype_name, reduction=reduction)


def test_float16_sum_overflows_inside_the_cascade():
    """Partial sums live in float16: past 65504 they are inf, as torch's are."""
    x = np.full((40, C), -2000.0)
    ours, _ = compare("nll_loss", x, np.zeros(40, np.int64), "float16", reduction="sum")
    assert np.isinf(ours)
    compare("nll_loss", x, np.zeros(40, np.int64), "float16", reduction="mean")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(list(DTYPES)),
       st.lists(st.integers(1, 40), min_size=1, max_size=3),
       st.sampled_from(["sum", "mean"]), st.booleans(), st.floats(0.0, 0.5),
       st.integers(0, 2**32 - 1))
def test_hypothesis_shapes(dtype_name, dims, reduction, weighted, p_ignore, seed):
    rng = np.random.default_rng(seed)
    shape = (dims[0], C, *dims[1:])
    x = rng.standard_normal(shape) * 4
    t = rng.integers(0, C, shape[:1] + shape[2:])
    t[rng.random(t.shape) < p_ignore] = -100
    weight = rng.random(C) * 3 if weighted else None
    compare("nll_loss", x, t, dtype_name, weight, reduction=reduction)
    compare("cross_entropy", x, t, dtype_name, weight, reduction=reduction,
            grad=4 if len(dims) == 1 else False)
