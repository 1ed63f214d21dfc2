"""Which loss, and what it takes: the option table read from lossref's own signatures.

lossref's loss functions carry torch's names, parameters and order (a test checks them
against ``torch.nn.functional``), so the table diagnose needs is read from them with
:func:`inspect.signature` rather than copied by hand.
"""

from __future__ import annotations

import functools
import inspect
import operator
from typing import Any

import numpy as np

from .. import (
    binary,
    classification,
    distributions,
    huber,
    margin,
    multilabel,
    multilabel_margin,
    ranking,
    regression,
    sequence,
    vocabulary,
)
from .._reduction import legacy_reduction
from ._common import Report

__all__ = [
    "CLASSES",
    "LOSSES",
    "POSITIONAL",
    "REQUIRED",
    "TENSORS",
    "check_options",
    "positional",
    "resolve",
]

_FAMILIES = (binary, classification, regression, huber, distributions, margin, multilabel,
             multilabel_margin, ranking, sequence, vocabulary)
_FUNCTIONS = {name: getattr(module, name) for module in _FAMILIES for name in module.__all__
              if not name.endswith("_grad") and callable(getattr(module, name))}


def _signature(fn) -> list[inspect.Parameter]:
    return list(inspect.signature(fn).parameters.values())


def _tensors(params: list[inspect.Parameter]) -> int:
    """How many leading parameters are the tensors the caller passes positionally.

    Two (input, target) for most losses; three where the third is a required tensor of the
    same batch (margin_ranking, cosine_embedding, the triplets, linear_cross_entropy).
    """
    required = [p.name for p in params if p.default is inspect.Parameter.empty
                and p.kind is p.POSITIONAL_OR_KEYWORD]
    return 3 if len(required) == 3 and required[2] in ("target", "negative") else 2


LOSSES: dict[str, tuple[str, ...]] = {}
"""Every loss ``diagnose`` knows, with the parameters after its first two tensors."""
TENSORS: dict[str, int] = {}
"""How many tensors each loss takes before its options (2 or 3)."""
REQUIRED: dict[str, tuple[str, ...]] = {}
"""Parameters after the first two without a default: torch raises TypeError without them."""
POSITIONAL: dict[str, tuple[str, ...]] = {}
"""The parameters after the first two that may be passed positionally, in order."""

for _name, _fn in sorted(_FUNCTIONS.items()):
    _params = _signature(_fn)
    if len(_params) < 2 or _params[0].name not in ("input", "log_probs", "input1", "anchor"):
        continue
    _rest = _params[2:]
    LOSSES[_name] = tuple(p.name for p in _rest)
    TENSORS[_name] = _tensors(_params)
    REQUIRED[_name] = tuple(p.name for p in _rest if p.default is inspect.Parameter.empty)
    POSITIONAL[_name] = tuple(p.name for p in _rest if p.kind is p.POSITIONAL_OR_KEYWORD)

LEGACY = ("size_average", "reduce")

# torch.nn's class names for the functions (the names are torch's; the test checks that every
# class of torch.nn and of lossref.modules is here)
CLASSES = {
    "BCELoss": "binary_cross_entropy", "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
    "CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss", "KLDivLoss": "kl_div",
    "MSELoss": "mse_loss", "L1Loss": "l1_loss", "SmoothL1Loss": "smooth_l1_loss",
    "HuberLoss": "huber_loss", "PoissonNLLLoss": "poisson_nll_loss",
    "GaussianNLLLoss": "gaussian_nll_loss", "MarginRankingLoss": "margin_ranking_loss",
    "HingeEmbeddingLoss": "hinge_embedding_loss", "SoftMarginLoss": "soft_margin_loss",
    "MultiLabelMarginLoss": "multilabel_margin_loss",
    "MultiLabelSoftMarginLoss": "multilabel_soft_margin_loss",
    "MultiMarginLoss": "multi_margin_loss", "CosineEmbeddingLoss": "cosine_embedding_loss",
    "TripletMarginLoss": "triplet_margin_loss",
    "TripletMarginWithDistanceLoss": "triplet_margin_with_distance_loss", "CTCLoss": "ctc_loss",
    "LinearCrossEntropyLoss": "linear_cross_entropy",
}


def _loss_name(name: str) -> str:
    short = name.rsplit(".", 1)[-1]
    if short.endswith("_grad") and short[:-5] in LOSSES:     # lossref.grad.cross_entropy
        short = short[:-5]
    if short in LOSSES:
        return short
    if short in CLASSES:
        return CLASSES[short]
    raise ValueError(f"diagnose: unknown loss {name!r}; expected a torch.nn.functional loss "
                     f"name such as 'cross_entropy', or a loss class name such as "
                     f"'CrossEntropyLoss'")


def _linear_layer(loss: Any) -> dict:
    """A LinearCrossEntropyLoss instance's layer: lossref keeps it, torch holds an nn.Linear."""
    layer = getattr(loss, "linear", None)
    if layer is not None:
        return {"linear_weight": layer.weight, "linear_bias": getattr(layer, "bias", None)}
    return {"linear_weight": getattr(loss, "linear_weight", None),
            "linear_bias": getattr(loss, "linear_bias", None)}


def resolve(loss: Any, options: dict) -> tuple[str, dict]:
    """The loss's functional name and the options of the call (explicit ones win)."""
    if isinstance(loss, str):
        return _loss_name(loss), dict(options)
    if isinstance(loss, functools.partial):
        name, _ = resolve(loss.func, {})
        return name, {**loss.keywords, **options}
    if isinstance(loss, type):
        return _loss_name(loss.__name__), dict(options)
    if callable(loss) and hasattr(loss, "__name__"):
        return _loss_name(loss.__name__), dict(options)
    name = _loss_name(type(loss).__name__)            # a module instance: options from it
    taken = {}
    for option in LOSSES[name]:
        if option not in LEGACY and option not in REQUIRED[name]:
            try:
                taken[option] = getattr(loss, option)
            except AttributeError:
                pass
    if name == "linear_cross_entropy":
        taken.update({k: v for k, v in _linear_layer(loss).items() if v is not None})
    return name, {**taken, **options}


def positional(name: str, more: tuple, options: dict) -> dict:
    """Positional arguments after ``input, target`` as keywords, in torch's order."""
    if not more:
        return options
    slots = POSITIONAL[name]
    if len(more) > len(slots):
        raise TypeError(f"diagnose: {name} takes at most {2 + len(slots)} positional "
                        f"arguments after the loss ({len(more) + 2} given)")
    out = dict(options)
    for slot, value in zip(slots, more):
        if slot in options:
            raise TypeError(f"diagnose: {name} got multiple values for argument '{slot}'")
        out[slot] = value
    return out


# p is a float: triplet_margin_loss takes any norm degree, multi_margin_loss accepts 2.0
_SCALAR_OPTIONS = {"ignore_index": int, "blank": int, "p": float, "label_smoothing": float,
                   "beta": float, "delta": float, "margin": float, "eps": float}


def _as_scalar(value: Any, kind: type) -> int | float | None:
    """``value`` as an int (``operator.index``) or a float, or None when it is not one.

    Booleans, strings and arrays with dimensions are not scalars; a 0-d tensor is.
    """
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return None
    try:
        if np.ndim(value) != 0:
            return None
        return operator.index(value) if kind is int else float(value)
    except (TypeError, ValueError):
        return None


def check_options(r: Report, name: str, options: dict) -> str:
    """Unknown options, the reduction (legacy arguments resolved); returns the reduction."""
    allowed = LOSSES[name]
    for option in options:
        if option not in allowed:
            r.add("unknown-option", "error",
                  f"{name}() got an unexpected keyword argument '{option}' (torch raises "
                  f"TypeError); it takes {', '.join(allowed)}.",
                  f"{name}() 没有参数 '{option}'（torch 会抛出 TypeError）；它的参数是 "
                  f"{', '.join(allowed)}。")
    for option, kind in _SCALAR_OPTIONS.items():
        if option not in options or option not in allowed:
            continue
        if option == "ignore_index" and name == "linear_cross_entropy" \
                and options[option] is None:
            continue                                    # its default: -100 for indices
        scalar = _as_scalar(options[option], kind)
        if scalar is not None:
            options[option] = scalar
        else:
            value = options.pop(option)                 # later checks use the default
            r.add("option-type", "error",
                  f"{option}={value!r} is not {'an int' if kind is int else 'a number'} "
                  f"(torch raises TypeError).",
                  f"{option}={value!r} 不是{'整数' if kind is int else '数值'}"
                  f"（torch 会抛出 TypeError）。")
    reduction = options.get("reduction", "mean")
    size_average, reduce = options.get("size_average"), options.get("reduce")
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, emit_warning=False)
        r.add("legacy-reduction-arguments", "info",
              f"size_average={size_average!r}, reduce={reduce!r} override reduction: they "
              f"mean reduction='{reduction}' (torch warns that they are deprecated).",
              f"size_average={size_average!r}、reduce={reduce!r} 会覆盖 reduction，"
              f"相当于 reduction='{reduction}'（torch 会警告它们已被弃用）。")
    valid = ("none", "mean", "sum", "batchmean") if name == "kl_div" else ("none", "mean", "sum")
    if reduction == "elementwise_mean":
        r.add("deprecated-reduction", "warning",
              "reduction='elementwise_mean' is deprecated; torch warns and uses 'mean'.",
              "reduction='elementwise_mean' 已被弃用；torch 会发出警告并按 'mean' 计算。")
        return "mean"
    if reduction not in valid:
        r.add("invalid-reduction", "error",
              f"{reduction} is not a valid value for reduction (torch raises ValueError); "
              f"use one of {', '.join(repr(v) for v in valid)}.",
              f"{reduction} 不是 reduction 的合法取值（torch 会抛出 ValueError）；"
              f"可选 {', '.join(repr(v) for v in valid)}。")
        return "mean"
    return reduction
