"""The margin family's surface against torch: classes and their signatures, the legacy
size_average/reduce pair, and the inputs torch refuses (lossref refuses them too, with an
error that names the bad value)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lossref
from margin_cases import torch_raises
from torch_ref import recorded, t

NAMES = {
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

rng = np.random.default_rng(0)
X, Y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
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


@pytest.mark.parametrize("name", NAMES)
def test_function_and_class_signatures_match_torch(name):
    assert _params(getattr(lossref, name)) == _params(getattr(F, name))
    cls = NAMES[name]
    assert _params(getattr(lossref, cls).__init__) == _params(getattr(torch.nn, cls).__init__)
    assert callable(getattr(lossref.grad, name))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_classes_call_their_function(name, reduction):
    args = ARGS[name]
    ours = getattr(lossref, NAMES[name])(reduction=reduction)(*args)
    theirs = getattr(torch.nn, NAMES[name])(reduction=reduction)(*[t(a) for a in args])
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)


LEGACY = [n for n in NAMES if n != "triplet_margin_with_distance_loss"]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("size_average, reduce", [(False, None), (None, False), (True, True)])
def test_legacy_size_average_reduce(name, size_average, reduce):
    args = ARGS[name]
    ours, ours_w = recorded(
        lambda: getattr(lossref, name)(*args, size_average=size_average, reduce=reduce))
    theirs, theirs_w = recorded(
        lambda: getattr(F, name)(*[t(a) for a in args], size_average=size_average, reduce=reduce))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
    assert [message for _, message in ours_w] == [message for _, message in theirs_w]


@pytest.mark.parametrize("name", NAMES)
def test_unknown_reduction(name):
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


@pytest.mark.parametrize("name, args, kwargs, exc, words", BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs_raise_where_torch_raises(name, args, kwargs, exc, words):
    as_torch = [t(a) for a in args]
    message = torch_raises(lambda: getattr(F, name)(*as_torch, **kwargs))
    assert message
    for fn in (getattr(lossref, name), getattr(lossref.grad, name)):
        with pytest.raises(exc) as info:
            fn(*args, **kwargs)
        assert words in str(info.value), str(info.value)
        assert name in str(info.value) or "p == 1" in str(info.value)


def test_torch_tensors_are_accepted():
    a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[2.0, 1.0]])
    ours = lossref.cosine_embedding_loss(a, b, torch.tensor([1.0]))
    np.testing.assert_allclose(ours, F.cosine_embedding_loss(a, b, torch.tensor([1.0])).numpy(),
                               rtol=1e-6)
