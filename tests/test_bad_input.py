"""Bad input: where torch raises, lossref raises a ValueError, TypeError or IndexError whose
message names the bad value and what was expected. Torch is called live to prove it raises too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lossref
from torch_ref import t

f32 = np.float32
X2 = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]], f32)
Y2 = np.array([0, 1, 1])
P = np.array([0.5, 0.2], f32)

CASES = [
    # id, lossref call, torch call, exception, pattern the message must contain
    ("bce input above 1",
     lambda: lossref.binary_cross_entropy(np.array([1.2, 0.5], f32), P),
     lambda: F.binary_cross_entropy(t(np.array([1.2, 0.5], f32)), t(P)),
     ValueError, r"input should be between 0 and 1, got .*1\.2"),
    ("bce input nan",
     lambda: lossref.binary_cross_entropy(np.array([np.nan, 0.5], f32), P),
     lambda: F.binary_cross_entropy(t(np.array([np.nan, 0.5], f32)), t(P)),
     ValueError, r"input should be between 0 and 1, got .*nan"),
    ("bce target above 1",
     lambda: lossref.binary_cross_entropy(P, np.array([2.0, 0.0], f32)),
     lambda: F.binary_cross_entropy(t(P), t(np.array([2.0, 0.0], f32))),
     ValueError, r"target should be between 0 and 1, got .*2\.0"),
    ("bce shape mismatch",
     lambda: lossref.binary_cross_entropy(P, np.array([1.0], f32)),
     lambda: F.binary_cross_entropy(t(P), t(np.array([1.0], f32))),
     ValueError, r"target shape \(1,\) must be the same as input shape \(2,\)"),
    ("bce weight does not broadcast",
     lambda: lossref.binary_cross_entropy(P, P, weight=np.ones(3, f32)),
     lambda: F.binary_cross_entropy(t(P), t(P), weight=torch.ones(3)),
     ValueError, r"weight of shape \(3,\) cannot be broadcast to the input shape \(2,\)"),
    ("bce integer input",
     lambda: lossref.binary_cross_entropy(np.array([1, 0]), np.array([1, 0])),
     lambda: F.binary_cross_entropy(torch.tensor([1, 0]), torch.tensor([1, 0])),
     TypeError, r"input must be a floating-point array, got dtype int64"),
    ("bce unknown reduction",
     lambda: lossref.binary_cross_entropy(P, P, reduction="avg"),
     lambda: F.binary_cross_entropy(t(P), t(P), reduction="avg"),
     ValueError, r"avg is not a valid value for reduction"),
    ("logits shape mismatch",
     lambda: lossref.binary_cross_entropy_with_logits(P, np.array([1.0], f32)),
     lambda: F.binary_cross_entropy_with_logits(t(P), t(np.array([1.0], f32))),
     ValueError, r"target shape \(1,\) must be the same as input shape \(2,\)"),
    ("pos_weight wrong length",
     lambda: lossref.binary_cross_entropy_with_logits(X2, X2, pos_weight=np.ones(3, f32)),
     lambda: F.binary_cross_entropy_with_logits(t(X2), t(X2), pos_weight=torch.ones(3)),
     ValueError, r"pos_weight of shape \(3,\) cannot be broadcast to the input shape \(3, 2\)"),
    ("pos_weight grows the input",
     lambda: lossref.binary_cross_entropy_with_logits(P, P, pos_weight=np.ones((2, 2), f32)),
     lambda: F.binary_cross_entropy_with_logits(t(P), t(P), pos_weight=torch.ones(2, 2)),
     ValueError, r"pos_weight of shape \(2, 2\) cannot be broadcast"),
    ("logits unknown reduction",
     lambda: lossref.binary_cross_entropy_with_logits(P, P, reduction="elementwise"),
     lambda: F.binary_cross_entropy_with_logits(t(P), t(P), reduction="elementwise"),
     ValueError, r"elementwise is not a valid value for reduction"),
    ("ce batch mismatch",
     lambda: lossref.cross_entropy(X2, np.array([0, 1])),
     lambda: F.cross_entropy(t(X2), torch.tensor([0, 1])),
     ValueError, r"Expected input batch_size \(3\) to match target batch_size \(2\)"),
    ("ce spatial target mismatch",
     lambda: lossref.cross_entropy(np.zeros((2, 3, 4), f32), np.zeros((2, 5), np.int64)),
     lambda: F.cross_entropy(torch.zeros(2, 3, 4), torch.zeros(2, 5, dtype=torch.long)),
     ValueError, r"Expected target shape \(2, 4\) .* got \(2, 5\)"),
    ("ce class index out of range",
     lambda: lossref.cross_entropy(X2, np.array([0, 5, 1])),
     lambda: F.cross_entropy(t(X2), torch.tensor([0, 5, 1])),
     IndexError, r"Target 5 is out of bounds: class indices must be in \[0, 1\]"),
    ("ce negative class index",
     lambda: lossref.cross_entropy(X2, np.array([0, -1, 1]), reduction="none"),
     lambda: F.cross_entropy(t(X2), torch.tensor([0, -1, 1]), reduction="none"),
     IndexError, r"Target -1 is out of bounds"),
    ("ce weight wrong length",
     lambda: lossref.cross_entropy(X2, Y2, weight=np.ones(3, f32)),
     lambda: F.cross_entropy(t(X2), t(Y2), weight=torch.ones(3)),
     ValueError, r"one entry for each of the 2 classes, got shape \(3,\)"),
    ("ce weight 2-d",
     lambda: lossref.cross_entropy(X2, Y2, weight=np.ones((1, 2), f32), label_smoothing=0.1),
     lambda: F.cross_entropy(t(X2), t(Y2), weight=torch.ones(1, 2), label_smoothing=0.1),
     ValueError, r"got shape \(1, 2\)"),
    ("ce label_smoothing above 1",
     lambda: lossref.cross_entropy(X2, Y2, label_smoothing=1.5),
     lambda: F.cross_entropy(t(X2), t(Y2), label_smoothing=1.5),
     ValueError, r"label_smoothing must be between 0.0 and 1.0, got 1.5"),
    ("ce ignore_index with probabilities",
     lambda: lossref.cross_entropy(X2, np.full((3, 2), 0.5, f32), ignore_index=1),
     lambda: F.cross_entropy(t(X2), torch.full((3, 2), 0.5), ignore_index=1),
     ValueError, r"ignore_index=1 is not supported with class-probability targets"),
    ("ce integer probabilities",
     lambda: lossref.cross_entropy(X2, np.ones((3, 2), np.int64)),
     lambda: F.cross_entropy(t(X2), torch.ones(3, 2, dtype=torch.long)),
     TypeError, r"must be floating point, got dtype int64"),
    ("ce float class indices",
     lambda: lossref.cross_entropy(X2, np.array([0.0, 1.0, 1.0], f32)),
     lambda: F.cross_entropy(t(X2), torch.tensor([0.0, 1.0, 1.0])),
     TypeError, r"target must hold integer class indices, got dtype float32"),
    ("ce bool class indices",
     lambda: lossref.cross_entropy(X2, np.array([True, False, True])),
     lambda: F.cross_entropy(t(X2), torch.tensor([True, False, True])),
     TypeError, r"got dtype bool"),
    ("ce unknown reduction",
     lambda: lossref.cross_entropy(X2, Y2, reduction="average"),
     lambda: F.cross_entropy(t(X2), t(Y2), reduction="average"),
     ValueError, r"average is not a valid value for reduction"),
    ("ce 2-d target for 2-d input",
     lambda: lossref.cross_entropy(np.zeros((2, 3), f32), np.zeros((2, 4), np.int64)),
     lambda: F.cross_entropy(torch.zeros(2, 3), torch.zeros(2, 4, dtype=torch.long)),
     ValueError, r"Expected target shape \(2,\)"),
    ("nll class index out of range",
     lambda: lossref.nll_loss(X2, np.array([2, 0, 0])),
     lambda: F.nll_loss(t(X2), torch.tensor([2, 0, 0])),
     IndexError, r"Target 2 is out of bounds"),
    ("nll weight wrong length",
     lambda: lossref.nll_loss(X2, Y2, weight=np.ones(5, f32)),
     lambda: F.nll_loss(t(X2), t(Y2), weight=torch.ones(5)),
     ValueError, r"each of the 2 classes, got shape \(5,\)"),
    ("nll float target",
     lambda: lossref.nll_loss(X2, np.array([0.0, 1.0, 1.0])),
     lambda: F.nll_loss(t(X2), torch.tensor([0.0, 1.0, 1.0])),
     TypeError, r"integer class indices, got dtype float64"),
    ("nll 0-d input",
     lambda: lossref.nll_loss(np.float32(1.0), np.array(0)),
     lambda: F.nll_loss(torch.tensor(1.0), torch.tensor(0)),
     ValueError, r"at least 1 dimension"),
]


@pytest.mark.parametrize("ours, theirs, error, pattern",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lossref_raises_where_torch_raises(ours, theirs, error, pattern):
    with pytest.raises(Exception):
        theirs()
    with pytest.raises(error, match=pattern):
        ours()


def test_negative_label_smoothing_is_refused():
    # torch silently ignores a negative label_smoothing; lossref refuses it (documented)
    assert float(F.cross_entropy(t(X2), t(Y2), label_smoothing=-0.1)) == \
        pytest.approx(float(F.cross_entropy(t(X2), t(Y2))))
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0.0 and 1.0, got -0.1"):
        lossref.cross_entropy(X2, Y2, label_smoothing=-0.1)


def test_module_reports_bad_reduction_when_called():
    loss = lossref.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        loss(X2, Y2)
