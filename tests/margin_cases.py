"""Shared cases for the margin-family tests (test_margin, test_ranking, test_multilabel): values
on a grid where ties happen, and the surface checks (classes, legacy arguments, refused inputs)
that each family test file runs for the losses of its source module through ``surface_tests``.
Value and gradient against torch: ``oracle.check_value_and_grad``; signatures: test_api_coverage.
"""

from __future__ import annotations

import book_toc  # noqa: F401  (puts book/_tools on sys.path)
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import strategies as st
from link_api import CLASS_OF  # the one function -> class table
from oracle import REDUCTIONS, recorded, t, torch_raises

import lossref


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


# ---- the family's surface: signatures, classes, legacy arguments, the inputs torch refuses ----
# (each family test file runs these checks for the losses of its source module)

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


def check_class_call(name, reduction):
    args = ARGS[name]
    ours = getattr(lossref, CLASS_OF[name])(reduction=reduction)(*args)
    theirs = getattr(torch.nn, CLASS_OF[name])(reduction=reduction)(*[t(a) for a in args])
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


def surface_tests(module: tuple):
    """The surface tests of one source module's losses, for its test file to bind to test names:
    each class calls its function, the legacy size_average/reduce pair, an unknown reduction,
    and the inputs torch refuses (the signatures are test_api_coverage's)."""

    @pytest.mark.parametrize("name", module)
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_classes_call_their_function(name, reduction):
        check_class_call(name, reduction)

    @pytest.mark.parametrize("name", [n for n in module
                                      if n != "triplet_margin_with_distance_loss"])
    @pytest.mark.parametrize("size_average, reduce", LEGACY_PAIRS)
    def test_legacy_size_average_reduce(name, size_average, reduce):
        check_legacy(name, size_average, reduce)

    @pytest.mark.parametrize("name", module)
    def test_unknown_reduction(name):
        check_unknown_reduction(name)

    @pytest.mark.parametrize("name, args, kwargs, exc, words", bad_cases(module))
    def test_bad_inputs_raise_where_torch_raises(name, args, kwargs, exc, words):
        check_bad_input(name, args, kwargs, exc, words)

    return (test_classes_call_their_function, test_legacy_size_average_reduce,
            test_unknown_reduction, test_bad_inputs_raise_where_torch_raises)
