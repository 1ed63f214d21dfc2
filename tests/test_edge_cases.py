"""Edge cases of the exactness contract, each against torch computed live."""

from __future__ import annotations

import itertools
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn import _reduction as torch_reduction

import lossref
from torch_ref import assert_matches_torch, recorded, t

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_clamps_log_at_minus_100(dtype):
    x, y = np.array([0.0, 1.0, 0.0, 1.0], dtype), np.array([1.0, 0.0, 0.0, 1.0], dtype)
    ours = lossref.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(ours, [100.0, 100.0, 0.0, 0.0])
    assert_matches_torch(ours, F.binary_cross_entropy(t(x), t(y), reduction="none"), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huge_logits_are_finite_and_exact(dtype, reduction):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], dtype)
    y = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 1.0]], dtype)
    ours = lossref.binary_cross_entropy_with_logits(x, y, reduction=reduction,
                                                     pos_weight=np.array([2.0, 1.0, 0.5], dtype))
    assert np.all(np.isfinite(ours))
    assert_matches_torch(ours, F.binary_cross_entropy_with_logits(
        t(x), t(y), reduction=reduction, pos_weight=t(np.array([2.0, 1.0, 0.5], dtype))), dtype)
    labels = np.array([1, 0])
    ce = lossref.cross_entropy(x, labels, reduction=reduction, label_smoothing=0.1)
    assert np.all(np.isfinite(ce))
    assert_matches_torch(ce, F.cross_entropy(t(x), t(labels), reduction=reduction,
                                             label_smoothing=0.1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nan_propagates_like_torch(dtype, reduction):
    x = np.array([[np.nan, 1.0], [0.5, 2.0]], dtype)
    y = np.array([[1.0, 0.0], [0.0, 1.0]], dtype)
    assert_matches_torch(lossref.binary_cross_entropy_with_logits(x, y, reduction=reduction),
                         F.binary_cross_entropy_with_logits(t(x), t(y), reduction=reduction), dtype)
    labels = np.array([0, 1])
    assert_matches_torch(lossref.cross_entropy(x, labels, reduction=reduction),
                         F.cross_entropy(t(x), t(labels), reduction=reduction), dtype)
    assert_matches_torch(lossref.nll_loss(x, labels, reduction=reduction),
                         F.nll_loss(t(x), t(labels), reduction=reduction), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_batch_mean_is_nan_sum_is_zero(dtype):
    empty, labels = np.zeros((0, 3), dtype), np.zeros(0, np.int64)
    for reduction in REDUCTIONS:
        calls = [
            (lossref.binary_cross_entropy(empty, empty, reduction=reduction),
             F.binary_cross_entropy(t(empty), t(empty), reduction=reduction)),
            (lossref.binary_cross_entropy_with_logits(empty, empty, reduction=reduction),
             F.binary_cross_entropy_with_logits(t(empty), t(empty), reduction=reduction)),
            (lossref.cross_entropy(empty, labels, reduction=reduction),
             F.cross_entropy(t(empty), t(labels), reduction=reduction)),
            (lossref.cross_entropy(empty, empty, reduction=reduction),
             F.cross_entropy(t(empty), t(empty), reduction=reduction)),
            (lossref.nll_loss(empty, labels, reduction=reduction),
             F.nll_loss(t(empty), t(labels), reduction=reduction)),
        ]
        for ours, theirs in calls:
            assert_matches_torch(ours, theirs, dtype)
            if reduction == "mean":
                assert np.isnan(ours)
            if reduction == "sum":
                assert ours == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 0.5]])
def test_all_targets_ignored_gives_nan_mean(dtype, smoothing, weight):
    x = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]], dtype)
    labels = np.array([-100, -100])
    w = None if weight is None else np.array(weight, dtype)
    ours = lossref.cross_entropy(x, labels, weight=w, label_smoothing=smoothing)
    assert np.isnan(ours)
    assert_matches_torch(ours, F.cross_entropy(t(x), t(labels), weight=t(w),
                                               label_smoothing=smoothing), dtype)


def test_ignored_class_still_in_softmax_denominator():
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    ignored = lossref.cross_entropy(x, np.array([0]), ignore_index=2, reduction="none")
    dropped = lossref.cross_entropy(x[:, :2], np.array([0]), reduction="none")
    assert ignored[0] > dropped[0]
    assert_matches_torch(ignored, F.cross_entropy(t(x), torch.tensor([0]), ignore_index=2,
                                                  reduction="none"), np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_result_dtype_follows_input(dtype):
    x = np.array([[0.2, 0.7]], dtype)
    for value in (lossref.binary_cross_entropy(x, x), lossref.binary_cross_entropy_with_logits(x, x),
                  lossref.cross_entropy(x, np.array([1])), lossref.nll_loss(x, np.array([1])),
                  lossref.cross_entropy(x, x, reduction="none")):
        assert np.asarray(value).dtype == dtype


def test_lists_and_float64_targets_are_accepted():
    # NumPy turns lists into float64/int64; lossref casts targets to the input's dtype
    x = np.array([0.5, 0.2], np.float32)
    assert lossref.binary_cross_entropy(x, [1, 0]).dtype == np.float32
    assert lossref.binary_cross_entropy([0.5, 0.2], [1.0, 0.0]).dtype == np.float64
    assert lossref.cross_entropy([[1.0, 2.0]], [1], weight=[1, 2]).dtype == np.float64


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_and_k_dimensional_inputs(reduction):
    rng = np.random.default_rng(3)
    for shape, target in [((4,), np.array(2)), ((4,), np.array([2])),
                          ((2, 4, 3), rng.integers(0, 4, (2, 3))),
                          ((2, 4, 2, 3), rng.integers(0, 4, (2, 2, 3))),
                          ((2, 4, 1, 2, 2), rng.integers(0, 4, (2, 1, 2, 2)))]:
        x = rng.normal(size=shape).astype(np.float64)
        w = np.array([1.0, 0.5, 2.0, 1.5])
        # torch itself fails on a (C,) input with a (1,) target once smoothing is on
        smoothing = 0.0 if target.shape == (1,) else 0.3
        assert_matches_torch(
            lossref.cross_entropy(x, target, weight=w, reduction=reduction,
                                  label_smoothing=smoothing),
            F.cross_entropy(t(x), t(target), weight=t(w), reduction=reduction,
                            label_smoothing=smoothing),
            np.float64)
        assert_matches_torch(lossref.nll_loss(x, target, weight=w, reduction=reduction),
                             F.nll_loss(t(x), t(target), weight=t(w), reduction=reduction),
                             np.float64)


def test_weighted_mean_divides_by_sum_of_target_weights():
    x = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]])
    labels, w = np.array([0, 1, 1]), np.array([1.0, 2.0])
    per_sample = lossref.cross_entropy(x, labels, weight=w, reduction="none")
    mean = lossref.cross_entropy(x, labels, weight=w)
    assert mean == pytest.approx(per_sample.sum() / (1 + 2 + 2), rel=1e-15)
    assert mean != pytest.approx(per_sample.sum() / 3)


def test_no_numpy_warning_reaches_the_reader():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lossref.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
        lossref.binary_cross_entropy_with_logits(np.array([1e4, -1e4]), np.array([0.0, 1.0]))
        lossref.cross_entropy(np.array([[-np.inf, 0.0]]), np.array([1]))
        lossref.cross_entropy(np.zeros((0, 2)), np.zeros(0, np.int64))
        lossref.cross_entropy(np.zeros((0, 2)), np.zeros((0, 2)))
        lossref.nll_loss(np.zeros((2, 2)), np.array([-100, -100]))
        lossref.sigmoid(np.array([-1e4, 1e4]))
        lossref.softmax(np.array([1000.0, 0.0]), 0)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_builds_no_one_hot(smoothing):
    """Peak extra memory stays near one input-sized buffer; an (N, C) one-hot would double it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4096)).astype(np.float32)
    labels = rng.integers(0, 4096, 256)
    w = rng.uniform(0.5, 2, 4096).astype(np.float32)
    tracemalloc.start()
    lossref.cross_entropy(x, labels, weight=w, label_smoothing=smoothing)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1.5 * x.nbytes, f"peak {peak} bytes for an input of {x.nbytes} bytes"


def test_legacy_reduction_table_matches_torch():
    options = [None, True, False]
    for size_average, reduce in itertools.product(options, options):
        ours = lossref.legacy_reduction(size_average, reduce, emit_warning=False)
        assert ours == torch_reduction.legacy_get_string(size_average, reduce, emit_warning=False)


@pytest.mark.parametrize("size_average, reduce", [(False, None), (True, False), (None, True)])
def test_legacy_arguments_warn_and_override_like_torch(size_average, reduce):
    x, y = np.array([0.5, 0.2], np.float32), np.array([1.0, 0.0], np.float32)
    ours, our_warnings = recorded(lambda: lossref.binary_cross_entropy(
        x, y, size_average=size_average, reduce=reduce, reduction="sum"))
    theirs, their_warnings = recorded(lambda: F.binary_cross_entropy(
        t(x), t(y), size_average=size_average, reduce=reduce, reduction="sum"))
    assert_matches_torch(ours, theirs, np.float32)
    assert our_warnings == their_warnings and len(our_warnings) == 1
    assert our_warnings[0][0] is UserWarning
    module, module_warnings = recorded(lambda: lossref.NLLLoss(size_average=size_average,
                                                              reduce=reduce))
    torch_module, torch_warnings = recorded(lambda: torch.nn.NLLLoss(size_average=size_average,
                                                                    reduce=reduce))
    assert module.reduction == torch_module.reduction
    assert module_warnings == torch_warnings


def test_elementwise_mean_is_deprecated_alias_like_torch():
    x = np.array([0.5, 0.2], np.float32)
    ours, our_warnings = recorded(lambda: lossref.binary_cross_entropy(x, x, reduction="elementwise_mean"))
    theirs, their_warnings = recorded(lambda: F.binary_cross_entropy(t(x), t(x), reduction="elementwise_mean"))
    assert_matches_torch(ours, theirs, np.float32)
    assert our_warnings == their_warnings


def test_confident_rows_give_torchs_exact_loss_and_gradient():
    """A row led by its target's logit: torch's float32 loss reaches exactly 0 (from a lead of
    about 17) and its gradient for the target exactly 0; lossref's shift by the row max gives
    the same numbers: within 2 ulp, exactly 0 where torch's is (a shortcut without the shift
    gave -1.2e-7 and +1.2e-7 there, and 4.530e-05 for torch's 4.542e-05 at a lead of 10)."""
    import torch
    import torch.nn.functional as F

    import lossref

    leads = np.arange(1, 41, dtype=np.float32)
    x = np.stack([leads, np.zeros_like(leads)], axis=1)
    y = np.zeros(len(leads), dtype=np.int64)
    tx = torch.from_numpy(x).requires_grad_(True)
    theirs = F.cross_entropy(tx, torch.from_numpy(y), reduction="none")
    theirs.sum().backward()
    ours = lossref.cross_entropy(x, y, reduction="none")
    expected = theirs.detach().numpy()
    np.testing.assert_allclose(ours, expected, rtol=2.4e-7, atol=0)     # 2 ulp of float32
    assert (ours >= 0).all() and (ours[expected == 0] == 0).all()
    grad = lossref.grad.cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-6, atol=0)
