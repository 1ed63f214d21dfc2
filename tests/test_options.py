"""Every scalar option of every loss, function and class, refused as torch refuses it (issue 21).

For each of the 22 losses, each option that is not an array (``margin``, ``eps``, ``reduction``,
``log_target``, ``ignore_index``, ``blank``, ``swap``, the legacy ``size_average``/``reduce`` …)
is given wrong-typed values — a string, a complex number, a list, ``None``, a float where torch
takes an int, an int or a NumPy bool where it takes a bool, and NumPy scalars where it takes a
number — and torch and lossref are run live on the same
small, valid inputs:

- torch raises TypeError → lossref raises TypeError, and its message names the option;
- torch raises anything else → lossref raises ValueError, TypeError or IndexError;
- torch computes → lossref computes the same value (nan where torch gives nan).

The same holds for the classes (``nn.MarginRankingLoss(margin='0.5')(x1, x2, y)``): an option
refused at construction or at the call counts the same.
"""

from __future__ import annotations

import inspect
import warnings

import book_toc  # noqa: F401  (puts book/_tools on sys.path)
import link_api  # book/_tools/link_api.py
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from samples import SAMPLES

import lossref

FUNCTIONS = sorted(SAMPLES)
assert FUNCTIONS == sorted(n for n in lossref.grad.__all__ if hasattr(F, n))
#: array-valued keyword arguments (tensors, a distance callable, LinearCrossEntropy's options)
ARRAYS = {"weight", "pos_weight", "linear_bias", "distance_function", "options"}
#: a loss's class (LinearCrossEntropyLoss takes its layer's arrays: tested on its own below);
#: the table is book/_tools/link_api.py's, the one the chapters' API links are made from
CLASS_OF = {name: cls for name, cls in link_api.CLASS_OF.items() if name != "linear_cross_entropy"}


def _options(fn) -> dict[str, object]:
    """The non-array keyword options of a function or class, with their defaults."""
    return {p.name: p.default for p in inspect.signature(fn).parameters.values()
            if p.default is not inspect.Parameter.empty and p.name not in ARRAYS
            and p.name not in ("in_features", "num_classes", "out_features", "bias", "device",
                               "dtype")}


def _bad_values(default) -> list:
    """Wrong-typed values for an option whose default is ``default``."""
    values = ["0.5", 1 + 0j, [1.0], None]
    if isinstance(default, bool):
        values += [1, np.True_]                   # torch's parser takes neither for a bool
    elif isinstance(default, int) or default is None:
        values += [1.5, np.int64(2)]              # NumPy's integers pass as ints
    else:
        values += [np.float32(0.5)]               # and NumPy's floats as floats
    return values


def _cases(kind: str):
    for name in FUNCTIONS:
        if kind == "class" and name not in CLASS_OF:
            continue
        fn = getattr(F, name) if kind == "function" else getattr(nn, CLASS_OF[name])
        for option, default in _options(fn).items():
            for value in _bad_values(default):
                yield pytest.param(name, option, value, id=f"{name}-{option}-{value!r}")


def _outcome(call):
    """("ok", value) or ("raise", exception) for ``call()``, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = call()
        except Exception as exc:  # the comparison below judges the exception
            return "raise", exc
    return "ok", out


def _tensors(arrays):
    return [torch.from_numpy(np.array(a, copy=True)) for a in arrays]


def _compare(name, option, value, theirs, ours):
    t_kind, t_out = theirs
    o_kind, o_out = ours
    where = f"{name}({option}={value!r})"
    if t_kind == "raise":
        assert o_kind == "raise", (
            f"{where}: torch raises {type(t_out).__name__} ({t_out}); lossref computes {o_out}")
        if isinstance(t_out, TypeError):
            assert isinstance(o_out, TypeError), (
                f"{where}: torch raises TypeError; lossref {type(o_out).__name__}: {o_out}")
            assert option in str(o_out), f"{where}: the message does not name {option!r}: {o_out}"
        else:
            assert isinstance(o_out, (ValueError, TypeError, IndexError)), (
                f"{where}: torch raises {type(t_out).__name__}; lossref "
                f"{type(o_out).__name__}: {o_out}")
    else:
        assert o_kind == "ok", (
            f"{where}: torch computes {t_out}; lossref raises {type(o_out).__name__}: {o_out}")
        np.testing.assert_allclose(np.asarray(o_out, dtype=np.float64),
                                   t_out.detach().numpy().astype(np.float64),
                                   rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=where)


@pytest.mark.parametrize("name, option, value", list(_cases("function")))
def test_function_option(name, option, value):
    arrays = SAMPLES[name]
    theirs = _outcome(lambda: getattr(F, name)(*_tensors(arrays), **{option: value}))
    ours = _outcome(lambda: getattr(lossref, name)(*arrays, **{option: value}))
    _compare(name, option, value, theirs, ours)


@pytest.mark.parametrize("name, option, value", list(_cases("class")))
def test_class_option(name, option, value):
    arrays, cls = SAMPLES[name], CLASS_OF[name]
    theirs = _outcome(lambda: getattr(nn, cls)(**{option: value})(*_tensors(arrays)))
    ours = _outcome(lambda: getattr(lossref, cls)(**{option: value})(*arrays))
    _compare(name, option, value, theirs, ours)


def _lce_class_cases():
    torch_opts = _options(nn.LinearCrossEntropyLoss)
    for option, default in torch_opts.items():
        for value in _bad_values(default):
            yield pytest.param(option, value, id=f"LinearCrossEntropyLoss-{option}-{value!r}")


@pytest.mark.parametrize("option, value", list(_lce_class_cases()))
def test_linear_cross_entropy_class_option(option, value):
    """torch's class takes sizes and makes its own layer; lossref's takes the layer's arrays."""
    x, w, target = SAMPLES["linear_cross_entropy"]

    def torch_call():
        module = nn.LinearCrossEntropyLoss(w.shape[1], w.shape[0], dtype=torch.float64,
                                           **{option: value})
        with torch.no_grad():
            module.linear.weight.copy_(torch.from_numpy(w))
        return module(*_tensors([x, target]))

    theirs = _outcome(torch_call)
    ours = _outcome(lambda: lossref.LinearCrossEntropyLoss(w, **{option: value})(x, target))
    _compare("LinearCrossEntropyLoss", option, value, theirs, ours)


def test_the_walk_covers_every_loss_and_option():
    """The parametrisation above is not empty: 22 losses, each with its options."""
    fn_cases = list(_cases("function"))
    assert {c.values[0] for c in fn_cases} == set(FUNCTIONS)
    assert set(CLASS_OF) == set(FUNCTIONS) - {"linear_cross_entropy"}
    assert len(fn_cases) > 300


@pytest.mark.parametrize("value", ["elementwise_mean", "avg", "MEAN", ""])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_reduction_spellings(name, value):
    """torch's legacy 'elementwise_mean' is accepted by some losses only; other spellings never."""
    arrays = SAMPLES[name]
    theirs = _outcome(lambda: getattr(F, name)(*_tensors(arrays), reduction=value))
    ours = _outcome(lambda: getattr(lossref, name)(*arrays, reduction=value))
    _compare(name, "reduction", value, theirs, ours)
