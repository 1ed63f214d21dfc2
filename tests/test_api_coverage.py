"""lossref covers every loss of torch.nn, with torch's parameters, and a gradient for each: the one
signature test (names, kinds and defaults of every function, class and gradient against torch).

Read from the installed torch at test time, so a loss that a later torch adds shows up here.
"""

from __future__ import annotations

import inspect

import pytest
import torch.nn as nn
import torch.nn.functional as F

import lossref

#: a layer with its own parameters, not a loss function (STYLE §3)
NOT_A_LOSS = {"AdaptiveLogSoftmaxWithLoss"}
#: lossref's class takes its linear weight (and bias) as arrays instead of torch's sizes and a
#: randomly initialised layer (issue 13); its loss options are torch's
ARRAYS_NOT_SIZES = {"LinearCrossEntropyLoss"}
TORCH_CLASSES = sorted(n for n in dir(nn) if n.endswith("Loss") and n not in NOT_A_LOSS
                       and isinstance(getattr(nn, n), type))
#: the gradients of torch.nn's losses (lossref.grad also has vocab_parallel_cross_entropy,
#: a loss of lossref's own with no torch.nn.functional counterpart)
FUNCTIONS = sorted(n for n in lossref.grad.__all__ if hasattr(F, n))
OWN = sorted(n for n in lossref.grad.__all__ if not hasattr(F, n))


def params(fn) -> list[tuple]:
    """Each parameter's name, kind (positional, keyword-only, ...) and default."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


GRAD_OUTPUT = ("grad_output", inspect.Parameter.KEYWORD_ONLY, None)
RETURN_LOSS = ("return_loss", inspect.Parameter.KEYWORD_ONLY, False)


def test_every_torch_loss_class_is_in_lossref():
    assert len(TORCH_CLASSES) == 22
    assert [n for n in TORCH_CLASSES if not hasattr(lossref, n)] == []


@pytest.mark.parametrize("name", TORCH_CLASSES)
def test_class_parameters_are_torchs(name):
    """Names, kinds and defaults of ``__init__``, in torch's order."""
    ours, theirs = params(getattr(lossref, name).__init__), params(getattr(nn, name).__init__)
    if name in ARRAYS_NOT_SIZES:
        assert [n for n, _, _ in ours[1:3]] == ["linear_weight", "linear_bias"]
        assert ours[:1] + ours[3:] == [p for p in theirs if p[0] not in
                                       ("in_features", "num_classes", "out_features", "bias",
                                        "device", "dtype")]
    else:
        assert ours == theirs


def test_every_loss_function_has_a_gradient():
    assert len(FUNCTIONS) == 22
    assert OWN == ["vocab_parallel_cross_entropy"]
    functional = {n for n in dir(F) if n.endswith("_loss")} | {
        "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "kl_div",
        "linear_cross_entropy"}
    assert sorted(functional) == FUNCTIONS


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_and_gradient_parameters(name):
    """The function takes torch's parameters (names, kinds, defaults); its gradient the same,
    then a keyword-only ``grad_output=None`` (and ``return_loss=False``: (loss, gradient) in
    one call, where recomputing the forward is what costs)."""
    forward = params(getattr(lossref, name))
    assert forward == params(getattr(F, name))
    assert params(getattr(lossref.grad, name)) in ([*forward, GRAD_OUTPUT],
                                                   [*forward, GRAD_OUTPUT, RETURN_LOSS])
