"""smooth_l1_loss and huber_loss against torch, live (huber.py; through the public ``lossref.``
names, wherever the functions live): values, gradients, warnings and errors on
hypothesis-generated shapes (broadcasting and empty ones), beta/delta and values (NaN, ±inf and
exact ties included), the kinks at ±beta/±delta, beta = 0 as L1. Shared cases:
regression_cases.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracle import (
    DTYPES,
    assert_matches_torch,
    assert_matches_torch_or_half,
    check_refused,
    t,
)
from regression_cases import (
    LEGACY,
    check_class,
    check_kinks,
    check_legacy,
    check_n1_against_n,
    family_tests,
)

import lossref

NAMES = ["smooth_l1_loss", "huber_loss"]
(test_values_gradients_and_warnings_match_torch, test_half_precision_near_overflow_matches_torch,
 test_empty_inputs) = family_tests(NAMES)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kinks_take_torch_side(dtype):
    """x - y exactly 0, ±beta and ±delta: the gradient torch's backward picks at each kink."""
    check_kinks([("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
                 ("huber_loss", {"delta": 1.0}), ("huber_loss", {"delta": 0.5})], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_beta_delta_relation_and_beta_zero(dtype):
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 2, 50).astype(dtype), rng.normal(0, 2, 50).astype(dtype)
    for d in (0.25, 1.0, 3.0):
        np.testing.assert_allclose(lossref.huber_loss(x, y, reduction="none", delta=d),
                                   d * lossref.smooth_l1_loss(x, y, reduction="none", beta=d),
                                   rtol=1e-6)
    np.testing.assert_array_equal(lossref.smooth_l1_loss(x, y, beta=0.0), lossref.l1_loss(x, y))


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_mean_is_the_mean_of_weighted_losses(dtype):
    """huber: mean(w·e), not Σ w·e / Σ w as l1/mse — as torch computes it."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(4, 3)).astype(dtype)
    w = rng.uniform(0, 3, (4, 3)).astype(dtype)
    huber = lossref.huber_loss(x, y, reduction="none")
    np.testing.assert_allclose(lossref.huber_loss(x, y, weight=w), (w * huber).mean(), rtol=1e-5)
    assert_matches_torch(lossref.huber_loss(x, y, weight=w),
                         F.huber_loss(t(x), t(y), weight=t(w)), dtype)


def test_n1_against_n_warns_and_broadcasts():
    for name in NAMES:
        check_n1_against_n(name)


@pytest.mark.parametrize("name", ["smooth_l1_loss"])  # huber has no legacy pair
@pytest.mark.parametrize("legacy", LEGACY)
def test_legacy_arguments(name, legacy):
    check_legacy(name, legacy)


f32 = np.float32
A = np.array([1.0, 2.0, 3.0], f32)
BAD = [
    # id, lossref call, torch call, exception, pattern the message must contain
    ("negative beta", lambda: lossref.smooth_l1_loss(A, A, beta=-1.0),
     lambda: F.smooth_l1_loss(t(A), t(A), beta=-1.0), ValueError, r"beta=-1\.0"),
    ("nan beta", lambda: lossref.smooth_l1_loss(A, A, beta=float("nan")),
     lambda: F.smooth_l1_loss(t(A), t(A), beta=float("nan")), ValueError, r"beta=nan"),
    ("zero delta", lambda: lossref.huber_loss(A, A, delta=0.0),
     lambda: F.huber_loss(t(A), t(A), delta=0.0), ValueError,
     r"non-positive values for delta, got delta=0\.0"),
    ("negative delta, weighted", lambda: lossref.huber_loss(A, A, delta=-2, weight=A),
     lambda: F.huber_loss(t(A), t(A), delta=-2, weight=t(A)), ValueError, r"delta=-2\.0"),
    ("beta a string", lambda: lossref.smooth_l1_loss(A, A, beta="0.5"),
     lambda: F.smooth_l1_loss(t(A), t(A), beta="0.5"), TypeError,
     r"argument 'beta' must be float, not str"),
    ("delta None, weighted", lambda: lossref.huber_loss(A, A, delta=None, weight=A),
     lambda: F.huber_loss(t(A), t(A), delta=None, weight=t(A)), TypeError,
     r"argument 'delta' must be float, not NoneType"),
    ("HuberLoss delta complex", lambda: lossref.HuberLoss(delta=1 + 0j),
     lambda: torch.nn.HuberLoss(delta=1 + 0j), TypeError,
     r"delta must be a float or int, got: <class 'complex'>"),
]


@pytest.mark.parametrize("ours, theirs, error, pattern", [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_bad_input_raises_like_torch(ours, theirs, error, pattern):
    check_refused(ours, theirs, error, pattern)


@pytest.mark.parametrize("beta", [0j, False, 0])
def test_a_beta_equal_to_zero_is_l1_before_any_type_check(beta):
    """torch compares ``beta == 0.0`` in Python first: 0j (which its parser refuses) is L1."""
    x, y = A, A[::-1].copy()
    assert_matches_torch(lossref.smooth_l1_loss(x, y, beta=beta),
                         F.smooth_l1_loss(t(x), t(y), beta=beta), np.float32)
    np.testing.assert_array_equal(lossref.grad.smooth_l1_loss(x, y, beta=beta),
                                  lossref.grad.l1_loss(x, y))


CLASSES = [("SmoothL1Loss", {"beta": 0.3, "reduction": "none"}), ("HuberLoss", {"delta": 0.4})]


@pytest.mark.parametrize("cls, options", CLASSES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_classes_match_torch(cls, options, dtype):
    check_class(cls, options, dtype)


# --- issue 29's fast paths against torch
# --- smooth_l1_loss / huber_loss: the blockwise Σ with reused buffers and a block of kinks ------
@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("size", [1, 7, 65536, 65537, 200_003])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kinked_sums_over_blocks(name, size, dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(size) * 2).astype(dtype)
    y = (rng.standard_normal(size) * 2).astype(dtype)
    kw = {"beta": 0.3} if name == "smooth_l1_loss" else {"delta": 0.3}
    for reduction in ("mean", "sum"):
        assert_matches_torch(getattr(lossref, name)(x, y, reduction=reduction, **kw),
                             getattr(F, name)(t(x), t(y), reduction=reduction, **kw), dtype)


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
def test_kinked_sums_with_nan_inf_and_a_kink_below_float32s_step(name):
    x = np.linspace(-3, 3, 70_001).astype(np.float32)
    y = np.zeros_like(x)
    x[5], x[70_000] = np.inf, -np.inf
    kw = {"beta": 1e-30} if name == "smooth_l1_loss" else {"delta": 1e-30}
    for xs in (x, np.where(np.arange(x.size) == 66_000, np.nan, x).astype(np.float32)):
        assert_matches_torch(getattr(lossref, name)(xs, y, **kw),
                             getattr(F, name)(t(xs), t(y), **kw), np.float32)




@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_gradients_clipped_in_one_pass(name, dtype):
    # at and around the kink (±0.5), far out, ±inf, nan, ±0
    x = np.array([0.5, -0.5, 0.49, -0.51, 3.0, -3.0, np.inf, -np.inf, np.nan, 0.0, -0.0], dtype)
    y = np.zeros_like(x)
    kw = {"beta": 0.5} if name == "smooth_l1_loss" else {"delta": 0.5}
    for reduction in ("none", "sum", "mean"):
        tx = t(x).requires_grad_(True)
        getattr(F, name)(tx, t(y), reduction=reduction, **kw).sum().backward()
        assert_matches_torch_or_half(getattr(lossref.grad, name)(x, y, reduction=reduction, **kw), tx.grad, dtype)
