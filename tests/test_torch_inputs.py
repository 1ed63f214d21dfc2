"""lossref's losses accept CPU torch tensors (duck-typed, torch never imported by lossref).

Each of the four losses, as a function and as a class, gets the same data as NumPy arrays and
as torch tensors, with and without ``requires_grad`` (options such as ``weight`` and
``pos_weight`` as tensors too), and must return the identical NumPy result: same type, dtype,
shape and bits. Hypothesis draws the shapes, values and options.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lossref

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]


def as_tensor(a, requires_grad):
    """A tensor of the array's values; floating ones may require grad."""
    if a is None:
        return None
    tensor = torch.from_numpy(np.array(a, copy=True))
    return tensor.requires_grad_(True) if requires_grad and tensor.is_floating_point() else tensor


def assert_same_numpy(from_tensors, from_arrays):
    assert not isinstance(from_tensors, torch.Tensor)
    assert type(from_tensors) is type(from_arrays)                 # numpy scalar or ndarray
    assert from_tensors.dtype == from_arrays.dtype
    assert np.shape(from_tensors) == np.shape(from_arrays)
    np.testing.assert_array_equal(from_tensors, from_arrays)       # bit for bit (nan == nan)


def check(fn, arrays: dict, options: dict):
    """fn(**arrays, **options) on arrays vs on tensors, without and with requires_grad."""
    expected = fn(**arrays, **options)
    for requires_grad in (False, True):
        tensors = {k: as_tensor(v, requires_grad) for k, v in arrays.items()}
        assert_same_numpy(fn(**tensors, **options), expected)
    return expected


@st.composite
def case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    reduction = draw(st.sampled_from(REDUCTIONS))
    weighted = draw(st.booleans())
    return dtype, n, c, rng, reduction, weighted


@given(case())
@SETTINGS
def test_cross_entropy_and_nll_loss_accept_tensors(args):
    dtype, n, c, rng, reduction, weighted = args
    x = rng.normal(size=(n, c)).astype(dtype)
    y = rng.integers(0, c, n)
    w = rng.uniform(0.5, 2, c).astype(dtype) if weighted else None
    log_p = (x - np.log(np.exp(x).sum(axis=1, keepdims=True))).astype(dtype)
    check(lambda input, target, weight: lossref.cross_entropy(input, target, weight,
                                                              reduction=reduction),
          dict(input=x, target=y, weight=w), {})
    check(lambda input, target, weight: lossref.CrossEntropyLoss(weight, reduction=reduction,
                                                                 label_smoothing=0.1)(input,
                                                                                      target),
          dict(input=x, target=y, weight=w), {})
    soft = rng.dirichlet(np.ones(c), n).astype(dtype)
    check(lossref.cross_entropy, dict(input=x, target=soft), dict(reduction=reduction))
    check(lambda input, target, weight: lossref.nll_loss(input, target, weight,
                                                         reduction=reduction),
          dict(input=log_p, target=y, weight=w), {})
    check(lambda input, target: lossref.NLLLoss(reduction=reduction)(input, target),
          dict(input=log_p, target=y), {})


@given(case())
@SETTINGS
def test_binary_losses_accept_tensors(args):
    dtype, n, c, rng, reduction, weighted = args
    z = rng.normal(0, 3, (n, c)).astype(dtype)
    p = (1 / (1 + np.exp(-z))).astype(dtype)
    y = rng.integers(0, 2, (n, c)).astype(dtype)
    w = rng.uniform(0.5, 2, (n, c)).astype(dtype) if weighted else None
    pos = rng.uniform(0.5, 4, c).astype(dtype)
    check(lambda input, target, weight: lossref.binary_cross_entropy(input, target, weight,
                                                                     reduction=reduction),
          dict(input=p, target=y, weight=w), {})
    check(lambda input, target: lossref.BCELoss(reduction=reduction)(input, target),
          dict(input=p, target=y), {})
    check(lambda input, target, weight, pos_weight: lossref.binary_cross_entropy_with_logits(
              input, target, weight, reduction=reduction, pos_weight=pos_weight),
          dict(input=z, target=y, weight=w, pos_weight=pos), {})
    check(lambda input, target, pos_weight: lossref.BCEWithLogitsLoss(
              reduction=reduction, pos_weight=pos_weight)(input, target),
          dict(input=z, target=y, pos_weight=pos), {})


def test_results_stay_numpy_and_agree_with_torch():
    x = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]], requires_grad=True)
    y = torch.tensor([0, 1, 1])
    ours = lossref.cross_entropy(x, y)
    assert isinstance(ours, np.float32)
    assert x.grad is None and x.requires_grad                     # the tensor is untouched
    torch_value = torch.nn.functional.cross_entropy(x, y).item()
    np.testing.assert_allclose(ours, torch_value, rtol=2e-5)
