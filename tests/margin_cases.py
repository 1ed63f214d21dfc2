"""Shared helpers for the margin-family tests (test_margin, test_ranking, test_multilabel): one
check runs lossref and torch live on the same arrays and compares the value and the gradient of
every differentiable input; the surface checks (signatures, classes, legacy arguments, refused
inputs) run per source module."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import lossref

from gradcheck import assert_grad_close, assert_grads_close, torch_grad
from torch_ref import assert_matches_torch, recorded, t

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SPECIALS = [np.nan, np.inf, -np.inf]


def rng_from(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def grid(rng, shape, scale=2.0) -> np.ndarray:
    """Values on a quarter grid: exact in float32 and float64, so ties at a margin happen."""
    return np.round(rng.uniform(-scale, scale, shape) * 4) / 4


def sprinkle(rng, x: np.ndarray, values, rate=0.1) -> np.ndarray:
    """Replace about ``rate`` of the elements by values drawn from ``values``."""
    x = np.array(x, dtype=np.float64, copy=True)
    if x.size:
        hit = rng.uniform(size=x.shape) < rate
        x[hit] = rng.choice(np.asarray(values, dtype=np.float64), size=int(hit.sum()))
    return x


def shrink(draw, shape) -> tuple:
    """A shape of the same length that broadcasts to ``shape`` (some axes set to 1)."""
    return tuple(1 if draw(st.booleans()) else d for d in shape)


def check(ours, ours_grad, theirs, inputs, dtype, reduction, rng, n_grads=None, term_scale=None):
    """Value and gradients of lossref against torch on the NumPy ``inputs`` (all differentiated).

    ``ours(*inputs)``/``ours_grad(*inputs, grad_output=…)`` are lossref's; ``theirs(*tensors)`` is
    torch's. ``ours_grad`` returns one array or a tuple, one per input. ``term_scale(grad_output)``,
    if given, bounds the terms a gradient is the sum of (for gradients that cancel to 0).
    """
    expected = theirs(*[t(x) for x in inputs])
    value = ours(*inputs)
    assert_matches_torch(value, expected, dtype)
    grad_output = None
    if reduction == "none":
        grad_output = rng.normal(size=tuple(expected.shape)).astype(dtype)
    want = torch_grad(theirs, inputs, grad_output)
    got = ours_grad(*inputs, grad_output=grad_output)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == (n_grads or len(inputs))
    if len(got) == 1 and term_scale is None:
        assert_grad_close(got[0], want[0], dtype)
    else:
        extra = 0.0 if term_scale is None else term_scale(grad_output)
        assert_grads_close(got, want, dtype, extra)
    return value


def torch_raises(fn) -> str:
    """torch's own error message for a call that must fail (the test fails if it does not)."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - any torch error will do, its text is returned
        return str(exc)
    raise AssertionError("torch accepted the input")


# ---- the family's surface: signatures, classes, legacy arguments, the inputs torch refuses ----
# (each family test file runs these checks for the losses of its source module)

CLASSES = {  # function -> class
    "soft_margin_loss": "SoftMarginLoss",
    "multilabel_soft_margin_loss": "MultiLabelSoftMarginLoss",
    "hinge_embedding_loss": "HingeEmbeddingLoss",
    "cosine_embedding_loss": "CosineEmbeddingLoss",
    "margin_ranking_loss": "MarginRankingLoss",
    "multi_margin_loss": "MultiMarginLoss",
    "multilabel_margin_loss": "MultiLabelMarginLoss",
    "triplet_margin_loss": "TripletMarginLoss",
    "triplet_margin_with_distance_loss": "TripletMarginWithDistanceLoss",
}

_rng = np.random.default_rng(0)
X, Y = _rng.normal(size=(3, 4)), _rng.normal(size=(3, 4))
SIGNS = np.array([1.0, -1.0, 1.0])
ARGS = {  # one valid call per loss: (positional arrays)
    "soft_margin_loss": (X, np.sign(Y)),
    "multilabel_soft_margin_loss": (X, (Y > 0).astype(float)),
    "hinge_embedding_loss": (np.abs(X), np.sign(Y)),
    "cosine_embedding_loss": (X, Y, SIGNS),
    "margin_ranking_loss": (X[:, 0], Y[:, 0], SIGNS),
    "multi_margin_loss": (X, np.array([0, 3, 1])),
    "multilabel_margin_loss": (X, np.array([[0, 3, -1, 2], [1, -1, 0, 0], [3, 2, 1, 0]])),
    "triplet_margin_loss": (X, Y, X[::-1].copy()),
    "triplet_margin_with_distance_loss": (X, Y, X[::-1].copy()),
}


def _params(obj):
    return [(p.name, p.kind, p.default) for p in inspect.signature(obj).parameters.values()]



def _params(obj):
    return [(p.name, p.kind, p.default) for p in inspect.signature(obj).parameters.values()]


def check_signatures(name):
    """Function and class take torch's parameters (names, kinds, defaults); a gradient exists."""
    assert _params(getattr(lossref, name)) == _params(getattr(F, name))
    cls = CLASSES[name]
    assert _params(getattr(lossref, cls).__init__) == _params(getattr(torch.nn, cls).__init__)
    assert callable(getattr(lossref.grad, name))


def check_class_call(name, reduction):
    args = ARGS[name]
    ours = getattr(lossref, CLASSES[name])(reduction=reduction)(*args)
    theirs = getattr(torch.nn, CLASSES[name])(reduction=reduction)(*[t(a) for a in args])
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)


LEGACY_PAIRS = [(False, None), (None, False), (True, True)]


def check_legacy(name, size_average, reduce):
    args = ARGS[name]
    ours, ours_w = recorded(
        lambda: getattr(lossref, name)(*args, size_average=size_average, reduce=reduce))
    theirs, theirs_w = recorded(
        lambda: getattr(F, name)(*[t(a) for a in args], size_average=size_average, reduce=reduce))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
    assert [message for _, message in ours_w] == [message for _, message in theirs_w]


def check_unknown_reduction(name):
    args = ARGS[name]
    torch_raises(lambda: getattr(F, name)(*[t(a) for a in args], reduction="avg"))
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        getattr(lossref, name)(*args, reduction="avg")
    with pytest.raises(ValueError, match="avg"):
        getattr(lossref.grad, name)(*args, reduction="avg")


x23, i2 = np.zeros((2, 3)), np.zeros(2, dtype=np.int64)
BAD = [  # (name, args, kwargs, exception, words in lossref's message)
    ("multi_margin_loss", (x23, i2), dict(p=3), ValueError, "p == 1 and p == 2"),
    ("multi_margin_loss", (x23, np.array([0, 3])), {}, IndexError, "target 3"),
    ("multi_margin_loss", (x23, np.array([-1, 0])), {}, IndexError, "target -1"),
    ("multi_margin_loss", (x23, np.zeros(2)), {}, TypeError, "integer"),
    ("multi_margin_loss", (x23, np.zeros(3, np.int64)), {}, ValueError, "expected 2 targets"),
    ("multi_margin_loss", (x23, np.zeros((2, 1), np.int64)), {}, ValueError, "shape (2, 1)"),
    ("multi_margin_loss", (np.zeros((2, 3, 4)), i2), {}, ValueError, "(2, 3, 4)"),
    ("multi_margin_loss", (np.zeros((2, 0)), i2), {}, ValueError, "(2, 0)"),
    ("multi_margin_loss", (x23, i2), dict(weight=np.ones(2)), ValueError, "shape (2,)"),
    ("multi_margin_loss", (x23, i2), dict(weight=np.ones((1, 3))), ValueError, "(1, 3)"),
    ("multi_margin_loss", (x23.astype(np.int64), i2), {}, TypeError, "floating"),
    ("multilabel_margin_loss", (x23, np.array([[0, -2, 1], [0, 1, 2]])), {}, IndexError, "-2"),
    ("multilabel_margin_loss", (x23, np.array([[0, -1, 3], [0, 1, 2]])), {}, IndexError, "3"),
    ("multilabel_margin_loss", (x23, np.zeros((2, 2), np.int64)), {}, ValueError, "(2, 2)"),
    ("multilabel_margin_loss", (np.zeros(3), np.zeros((1, 3), np.int64)), {}, ValueError,
     "(1, 3)"),
    ("multilabel_margin_loss", (np.zeros((2, 3, 4)), np.zeros((2, 3, 4), np.int64)), {},
     ValueError, "(2, 3, 4)"),
    ("multilabel_margin_loss", (x23, np.zeros((2, 3))), {}, TypeError, "integer"),
    ("cosine_embedding_loss", (x23, x23, np.ones((2, 1))), {}, ValueError, "0-D or 1-D"),
    ("cosine_embedding_loss", (np.zeros(3), np.zeros(3), np.ones(1)), {}, ValueError, "2-D"),
    ("cosine_embedding_loss", (np.zeros((2, 3, 4)),) * 2 + (np.ones(2),), {}, ValueError,
     "(2, 3, 4)"),
    ("cosine_embedding_loss", (x23, x23, np.ones(3)), {}, ValueError, "broadcast"),
    ("margin_ranking_loss", (x23, np.zeros(3), np.ones((2, 1))), {}, ValueError,
     "number of dimensions"),
    ("margin_ranking_loss", (x23, np.zeros((3, 3)), np.ones((2, 3))), {}, ValueError,
     "broadcast"),
    ("hinge_embedding_loss", (x23, np.ones(2)), {}, ValueError, "broadcast"),
    ("soft_margin_loss", (np.zeros(3), np.ones((2, 3))), {}, ValueError, "(2, 3)"),
    ("multilabel_soft_margin_loss", (np.zeros(()), np.zeros(())), {}, ValueError, "0-D"),
    ("multilabel_soft_margin_loss", (x23, np.zeros((2, 2))), {}, ValueError, "broadcast"),
    ("triplet_margin_loss", (x23, x23, x23), dict(margin=0.0), ValueError, "margin"),
    ("triplet_margin_loss", (x23, np.zeros(3), x23), {}, ValueError, "anchor 2D, positive 1D"),
    ("triplet_margin_loss", (x23, np.zeros((3, 3)), x23), {}, ValueError, "broadcast"),
    ("triplet_margin_loss", (np.zeros((2, 0)),) * 3, dict(p=np.inf), ValueError, "empty"),
    ("triplet_margin_loss", (np.zeros((2, 0)),) * 3, dict(p=-1.0), ValueError, "empty"),
    ("triplet_margin_with_distance_loss", (x23, x23, x23), dict(margin=-1.0), ValueError,
     "margin"),
    ("triplet_margin_with_distance_loss", (x23, x23, np.zeros(3)), {}, ValueError,
     "negative 1D"),
]




def bad_cases(names) -> list:
    """The rows of BAD for ``names``, with their ids (``name-row``)."""
    return [pytest.param(*b, id=f"{b[0]}-{i}") for i, b in enumerate(BAD) if b[0] in names]


def check_bad_input(name, args, kwargs, exc, words):
    as_torch = [t(a) for a in args]
    message = torch_raises(lambda: getattr(F, name)(*as_torch, **kwargs))
    assert message
    for fn in (getattr(lossref, name), getattr(lossref.grad, name)):
        with pytest.raises(exc) as info:
            fn(*args, **kwargs)
        assert words in str(info.value), str(info.value)
        assert name in str(info.value) or "p == 1" in str(info.value)


# ---- half precision: float16/bfloat16 against torch's CPU kernels (issue 25) ------------------
HALF_SETTINGS = settings(max_examples=25, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])
HALF_NAMES = ["float16", "bfloat16"]


def check_half(name: str, arrays: list, dtype_name: str, diff=(0,), **options) -> None:
    """The float ``arrays`` rounded to the half dtype (integer ones kept); torch and lossref on
    the same values: the value within 2 ulp, each gradient within 4 ulp (test_half's contract),
    or, where torch's CPU kernel refuses the dtype, a TypeError naming it."""
    import warnings

    from test_half import HALF, assert_within_ulp, to_torch

    np_dtype, torch_dtype, _ = HALF[dtype_name]
    with np.errstate(over="ignore"):   # a value past the dtype's range is inf for both sides
        arrays = [a if np.issubdtype(np.asarray(a).dtype, np.integer)
                  else np.asarray(a, dtype=np.float32).astype(np_dtype) for a in arrays]
    tensors = [to_torch(a, torch_dtype) for a in arrays]
    for i in diff:
        tensors[i].requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = getattr(F, name)(*tensors, **options)
        except RuntimeError as exc:
            assert "not implemented" in str(exc)
            for fn in (getattr(lossref, name), getattr(lossref.grad, name)):
                with pytest.raises(TypeError, match=dtype_name):
                    fn(*arrays, **options)
            return
        ours = getattr(lossref, name)(*arrays, **options)
        assert_within_ulp(ours, theirs, 2, dtype_name, f"{name} value")
        theirs.backward(torch.ones_like(theirs))
        grad_output = np.ones(theirs.shape, np_dtype) if options.get("reduction") == "none" \
            else None
        grads = getattr(lossref.grad, name)(*arrays, **options, grad_output=grad_output)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert len(grads) == len(diff)
    for i, g in zip(diff, grads):
        assert_within_ulp(g, tensors[i].grad, 4, dtype_name, f"{name} gradient {i}")
