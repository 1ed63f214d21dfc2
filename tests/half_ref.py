"""One loss call in float16/bfloat16 against torch's CPU kernel, live: value within 2 ulp,
gradients within 4 ulp (issue 25's contract, the helpers of test_half.py), for the hypothesis
tests of the family test files."""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

import lossref
from test_half import HALF, assert_within_ulp, to_torch


def check_half(name: str, arrays: list, dtype_name: str, diff=(0,), **options) -> None:
    """``arrays`` (float64) rounded to the half dtype; torch and lossref on the same values."""
    np_dtype, torch_dtype, _ = HALF[dtype_name]
    arrays = [np.asarray(a, dtype=np.float32).astype(np_dtype) for a in arrays]
    tensors = [to_torch(a, torch_dtype) for a in arrays]
    for i in diff:
        tensors[i].requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(F, name)(*tensors, **options)
        ours = getattr(lossref, name)(*arrays, **options)
        assert_within_ulp(ours, theirs, 2, dtype_name, f"{name} value")
        theirs.backward(torch.ones_like(theirs))
        grad_output = None if theirs.ndim == 0 and options.get("reduction") != "none" \
            else np.ones(theirs.shape, np_dtype)
        grads = getattr(lossref.grad, name)(*arrays, **options, grad_output=grad_output)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, g in zip(diff, grads):
        assert_within_ulp(g, tensors[i].grad, 4, dtype_name, f"{name} gradient {i}")
