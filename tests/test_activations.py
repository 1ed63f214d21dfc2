"""activations.py against torch, live: sigmoid, logsigmoid, softmax and log_softmax on
hypothesis-generated shapes and values (magnitudes up to ~±100, where exp overflows float32)."""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from oracle import DTYPES, assert_matches_torch, examples, shapes, t

import lossref


@given(st.sampled_from(DTYPES), shapes(min_dims=1), st.integers(0, 2**32 - 1))
@examples(150)
def test_activations(dtype, shape, seed):
    x = np.random.default_rng(seed).normal(0, 20, shape).astype(dtype)
    dim = len(shape) - 1
    assert_matches_torch(lossref.sigmoid(x), torch.sigmoid(t(x)), dtype)
    assert_matches_torch(lossref.logsigmoid(x), F.logsigmoid(t(x)), dtype)
    assert_matches_torch(lossref.softmax(x, dim), F.softmax(t(x), dim), dtype)
    assert_matches_torch(lossref.log_softmax(x, dim), F.log_softmax(t(x), dim), dtype)


def test_no_numpy_warning_reaches_the_reader():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lossref.sigmoid(np.array([-1e4, 1e4]))
        lossref.softmax(np.array([1000.0, 0.0]), 0)
