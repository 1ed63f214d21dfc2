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
