"""±inf and nan inputs for each of the four losses, against torch live: the same values (nan, inf
or finite) with no NumPy RuntimeWarning (pytest turns one into an error), or the same refusal
where torch raises (BCE on probabilities checks its range, and nan is outside it)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch.nn.functional as F

import lossref
from torch_ref import assert_matches_torch, t

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
INF, NAN = np.inf, np.nan
SPECIAL = [INF, -INF, NAN, 0.0, 3.0]


def logit_pairs(dtype):
    """Every pair of {inf, -inf, nan, 0, 3} as a row: 25 rows of 2 logits."""
    return np.array(list(itertools.product(SPECIAL, SPECIAL)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weights", [False, True])
def test_bce_with_logits_nonfinite_logits(dtype, reduction, with_weights):
    x = logit_pairs(dtype)
    y = np.tile(np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.0, 0.0]], dtype),
                (5, 1))
    w = np.array([1.0, 0.0], dtype) if with_weights else None
    p = np.array([2.0, 0.5], dtype) if with_weights else None
    ours = lossref.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction,
                                                     pos_weight=p)
    theirs = F.binary_cross_entropy_with_logits(t(x), t(y), weight=t(w), reduction=reduction,
                                                pos_weight=t(p))
    assert_matches_torch(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [INF, -INF, NAN])
def test_bce_with_logits_nonfinite_targets(dtype, value):
    x = np.array([0.0, 2.0, -1.0], dtype)
    y = np.array([value, 1.0, 0.0], dtype)
    for reduction in REDUCTIONS:
        assert_matches_torch(
            lossref.binary_cross_entropy_with_logits(x, y, reduction=reduction),
            F.binary_cross_entropy_with_logits(t(x), t(y), reduction=reduction), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [INF, -INF, NAN])
@pytest.mark.parametrize("where", ["input", "target"])
def test_bce_refuses_nonfinite_like_torch(dtype, value, where):
    good = np.array([0.5, 0.25], dtype)
    bad = np.array([value, 0.25], dtype)
    x, y = (bad, good) if where == "input" else (good, bad)
    with pytest.raises(RuntimeError, match=f"all elements of {where} should be between 0 and 1"):
        F.binary_cross_entropy(t(x), t(y))
    with pytest.raises(ValueError, match=f"all elements of {where} should be between 0 and 1, "
                                         r"got .*(inf|nan).* at index \(0,\)"):
        lossref.binary_cross_entropy(x, y)


CE_OPTIONS = [{}, {"label_smoothing": 0.3}, {"label_smoothing": 1.0},
              {"weight": [1.0, 2.0]}, {"ignore_index": 0},
              {"weight": [1.0, 2.0], "label_smoothing": 0.2, "ignore_index": 1}]


def _options(options, dtype, tensors):
    out = dict(options)
    if "weight" in out:
        w = np.array(out["weight"], dtype)
        out["weight"] = t(w) if tensors else w
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_cross_entropy_and_nll_nonfinite_logits(dtype, reduction, options):
    x = logit_pairs(dtype)
    labels = np.arange(len(x)) % 2
    ours = lossref.cross_entropy(x, labels, reduction=reduction, **_options(options, dtype, False))
    theirs = F.cross_entropy(t(x), t(labels), reduction=reduction,
                             **_options(options, dtype, True))
    assert_matches_torch(ours, theirs, dtype)
    if "label_smoothing" not in options:
        assert_matches_torch(
            lossref.nll_loss(x, labels, reduction=reduction, **_options(options, dtype, False)),
            F.nll_loss(t(x), t(labels), reduction=reduction, **_options(options, dtype, True)),
            dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probabilities_nonfinite(dtype, reduction, smoothing):
    x = logit_pairs(dtype)
    soft = np.tile(np.array([[0.25, 0.75], [1.0, 0.0], [NAN, 0.5], [INF, 0.0], [0.5, 0.5]],
                            dtype), (5, 1))
    for logits, target in [(x, np.full_like(x, 0.5)), (np.zeros_like(x), soft), (x, soft)]:
        assert_matches_torch(
            lossref.cross_entropy(logits, target, reduction=reduction, label_smoothing=smoothing),
            F.cross_entropy(t(logits), t(target), reduction=reduction, label_smoothing=smoothing),
            dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nonfinite_spatial_and_unbatched(dtype):
    image = np.array([[[INF, 0.0], [1.0, NAN], [-INF, 2.0]]], dtype)    # (N=1, C=3, d1=2)
    labels = np.array([[0, 1]])
    for reduction in REDUCTIONS:
        assert_matches_torch(lossref.cross_entropy(image, labels, reduction=reduction),
                             F.cross_entropy(t(image), t(labels), reduction=reduction), dtype)
        assert_matches_torch(lossref.nll_loss(image, labels, reduction=reduction),
                             F.nll_loss(t(image), t(labels), reduction=reduction), dtype)
    single = np.array([INF, 1.0, -INF], dtype)
    for label in [0, 1, 2]:
        assert_matches_torch(lossref.cross_entropy(single, np.array(label), reduction="none"),
                             F.cross_entropy(t(single), t(np.array(label)), reduction="none"),
                             dtype)
