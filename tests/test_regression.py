"""regression.py against torch, live: l1_loss and mse_loss — values, gradients, warnings and
errors on hypothesis-generated shapes (broadcasting and empty ones), options and values (NaN, ±inf
and exact ties included). smooth_l1_loss and huber_loss: test_huber.py; the shared cases:
regression_cases.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracle import (
    DTYPES,
    assert_matches_torch,
    check_refused,
    recorded,
    t,
)
from regression_cases import (
    LEGACY,
    WEIGHTED,
    check_class,
    check_kinks,
    check_legacy,
    check_n1_against_n,
    family_tests,
)

import lossref

NAMES = ["l1_loss", "mse_loss"]
(test_values_gradients_and_warnings_match_torch, test_half_precision_near_overflow_matches_torch,
 test_empty_inputs) = family_tests(NAMES)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kinks_take_torch_side(dtype):
    """x - y exactly 0: sign(0) = 0 for L1, as torch's backward."""
    check_kinks([("l1_loss", {}), ("mse_loss", {})], dtype)
    x, y = np.zeros(1, dtype), np.zeros(1, dtype)
    np.testing.assert_array_equal(lossref.grad.l1_loss(x, y), [0.0])   # sign(0) = 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_means_differ(dtype):
    """l1/mse: Σ w·e / Σ w (huber's mean(w·e): test_huber), as torch computes it."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(4, 3)).astype(dtype)
    w = rng.uniform(0, 3, (4, 3)).astype(dtype)
    e = np.abs(x - y)
    np.testing.assert_allclose(lossref.l1_loss(x, y, weight=w), (w * e).sum() / w.sum(), rtol=1e-5)
    for name in sorted(WEIGHTED & set(NAMES)):
        assert_matches_torch(getattr(lossref, name)(x, y, weight=w),
                             getattr(F, name)(t(x), t(y), weight=t(w)), dtype)


def test_n1_against_n_warns_and_broadcasts():
    """The (N, 1) vs (N,) trap: same warning text, same (N, N) table, same wrong number."""
    for name in NAMES:
        check_n1_against_n(name)
    rng = np.random.default_rng(1)
    pred, y = rng.normal(size=(5, 1)).astype(np.float32), rng.normal(size=5).astype(np.float32)
    with pytest.warns(UserWarning, match="different to the input size"):
        wrong = lossref.mse_loss(pred, y)
    assert not np.isclose(wrong, lossref.mse_loss(pred[:, 0], y))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("legacy", LEGACY)
def test_legacy_arguments(name, legacy):
    check_legacy(name, legacy)


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
    ("integer input", lambda: lossref.l1_loss(np.array([1, 2]), np.array([1, 2])),
     lambda: F.l1_loss(torch.tensor([1, 2]), torch.tensor([1, 2])), TypeError,
     r"input must be a floating-point array, got dtype int64"),
]


@pytest.mark.parametrize("ours, theirs, error, pattern", [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_bad_input_raises_like_torch(ours, theirs, error, pattern):
    check_refused(ours, theirs, error, pattern)


def test_grad_output_shape_is_checked():
    with pytest.raises(ValueError, match=r"grad_output of shape \(2,\)"):
        lossref.grad.mse_loss(A, A, grad_output=np.ones(2))


CLASSES = [("L1Loss", {}), ("MSELoss", {"reduction": "sum"})]


@pytest.mark.parametrize("cls, options", CLASSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_classes_match_torch(cls, options, dtype):
    check_class(cls, options, dtype)


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

