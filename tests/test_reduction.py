"""_reduction.py against torch, live: the legacy size_average/reduce table, its warnings and how
it overrides ``reduction``, the deprecated 'elementwise_mean', and the gradient's check of
``grad_output``'s shape (reduce_grad)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracle import assert_matches_torch, recorded, t
from torch.nn import _reduction as torch_reduction

import lossref


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


def test_legacy_arguments_warn_as_the_forward_does():
    x, y = np.array([0.3, 0.6]), np.array([0.0, 1.0])
    with pytest.warns(UserWarning, match=r"please use reduction='sum' instead"):
        ours = lossref.grad.binary_cross_entropy(x, y, size_average=False)
    np.testing.assert_allclose(ours, lossref.grad.binary_cross_entropy(x, y, reduction="sum"))


def test_grad_output_of_the_wrong_shape_is_refused():
    x = np.array([[1.0, 2.0], [1.0, 3.0]])
    with pytest.raises(ValueError, match=r"grad_output of shape \(3,\) must have the shape of "
                                         r"the loss output, \(2,\)"):
        lossref.grad.cross_entropy(x, np.array([0, 1]), reduction="none", grad_output=np.ones(3))
    with pytest.raises(ValueError, match=r"grad_output of shape \(2,\) .* \(\) "):
        lossref.grad.binary_cross_entropy_with_logits(x, x, grad_output=np.ones(2))
