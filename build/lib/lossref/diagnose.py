"""``lossref.diagnose``: name the misuse behind a surprising loss, on the reader's own tensors.

``diagnose(loss, input, target, **options)`` looks at a loss call before (or instead of)
running it and returns a list of :class:`Finding`: errors for calls PyTorch refuses (with
PyTorch's reason), warnings for calls PyTorch accepts that give a misleading number, and
notes ("info") for behaviour worth knowing. A correct call gives no error or warning.

Decisions, documented once:

- ``loss`` is recognised by name only (torch is never imported): a string
  (``"cross_entropy"``, ``"CrossEntropyLoss"``, ``"torch.nn.functional.cross_entropy"``), a
  function (its ``__name__``), a class (its ``__name__``), an instance (its class's name,
  with its options read from its attributes), or a ``functools.partial`` of a function.
  An unknown name raises ``ValueError``.
- The tensors go in torch's positional order: ``diagnose(loss, input, target)``, and for the
  losses that take more, ``diagnose("margin_ranking_loss", input1, input2, target)``,
  ``diagnose("triplet_margin_loss", anchor, positive, negative)``,
  ``diagnose("ctc_loss", log_probs, targets, input_lengths, target_lengths)``. Further
  positional arguments fill the loss's options in the torch function's order (as torch
  itself would); too many, or one given twice, raise ``TypeError`` like any Python call.
  A tensor the loss needs and the call leaves out is a ``missing-argument`` error.
- ``input`` and ``target`` are read through ``lossref._validation.asarray`` (CPU or GPU torch
  tensors with or without ``requires_grad``, NumPy arrays, lists). Something that is not a
  numeric array (strings, ragged lists, objects) raises ``TypeError``. Every other problem,
  however bad the tensors, is a finding; ``diagnose`` does not raise for it.
- dtypes are judged as ``torch.as_tensor`` would carry them: only when the argument has a
  ``dtype`` (a tensor or NumPy array). Plain lists are judged by their values alone.
- ``Finding.chapter`` is the Jupyter Book page that explains the finding, as the English
  page's path without suffix (``"book/en/03_weights_ignore_smoothing"``, also the
  notebook's path without ``.ipynb``); ``Finding.chapter_zh`` is its Chinese twin.
- Findings come back errors first, then warnings, then notes, each group in the order the
  checks ran. Heuristics that could in principle match a correct call by chance (rows that
  happen to look like probabilities) report ``'info'`` instead of ``'warning'`` when fewer
  than a handful of values make the case.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._reduction import legacy_reduction
from ._validation import asarray

__all__ = ["Finding", "diagnose", "LOSSES"]

SEVERITIES = ("error", "warning", "info")

# Book pages (English docname; the Chinese twin is the same name under book/zh).
_SOFTMAX = "book/en/02_softmax_cross_entropy"
_WEIGHTS = "book/en/03_weights_ignore_smoothing"
_NLL = "book/en/04_nll_loss"
_BCE = "book/en/05_binary_cross_entropy"
_BCEL = "book/en/06_bce_with_logits"
_REDUCTIONS = "book/en/07_reductions_legacy"
_REGRESSION = "book/en/09_regression"
_DISTRIBUTIONS = "book/en/10_distributions"
_MARGINS = "book/en/11_margins_rankings"
_MULTI_MARGINS = "book/en/12_multi_margins"
_CTC = "book/en/13_ctc"
_TROUBLE = "book/en/15_troubleshooting"


@dataclass(frozen=True)
class Finding:
    """One thing ``diagnose`` noticed about a loss call.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``'softmax-before-cross-entropy'`` (part of the API).
    severity : {'error', 'warning', 'info'}
        ``'error'``: PyTorch refuses the call (the message gives its reason).
        ``'warning'``: PyTorch accepts it, and the number is not what was meant.
        ``'info'``: correct, but worth knowing (or too little data to be sure).
    message, message_zh : str
        The explanation in English and in Chinese.
    chapter : str
        The English book page that explains it, e.g. ``'book/en/02_softmax_cross_entropy'``.

    Examples
    --------
    >>> f = Finding("all-targets-ignored", "warning", "Every target is ignored.",
    ...             "所有目标都被忽略。", "book/en/03_weights_ignore_smoothing")
    >>> print(f)
    warning all-targets-ignored: Every target is ignored.
      -> book/en/03_weights_ignore_smoothing
    >>> f.chapter_zh
    'book/zh/03_weights_ignore_smoothing'
    """

    code: str
    severity: str
    message: str
    message_zh: str
    chapter: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    @property
    def chapter_zh(self) -> str:
        """The Chinese twin of :attr:`chapter`."""
        return self.chapter.replace("book/en/", "book/zh/", 1)

    def describe(self, lang: str = "en") -> str:
        """``severity code: message`` and the chapter, in English ``'en'`` or Chinese ``'zh'``."""
        if lang == "zh":
            return f"{self.severity} {self.code}: {self.message_zh}\n  -> {self.chapter_zh}"
        return f"{self.severity} {self.code}: {self.message}\n  -> {self.chapter}"

    def __str__(self) -> str:
        return self.describe("en")

    def __repr__(self) -> str:
        return f"Finding({self.severity} {self.code}: {self.message} [{self.chapter}])"


# ---------------------------------------------------------------------------------------
# Which loss: names, the classes' names, and the options each one takes (torch 2.13's).

_LEGACY = ("size_average", "reduce")
LOSSES: dict[str, tuple[str, ...]] = {
    "binary_cross_entropy": ("weight", "size_average", "reduce", "reduction"),
    "binary_cross_entropy_with_logits": ("weight", "size_average", "reduce", "reduction",
                                         "pos_weight"),
    "cross_entropy": ("weight", "size_average", "ignore_index", "reduce", "reduction",
                      "label_smoothing"),
    "nll_loss": ("weight", "size_average", "ignore_index", "reduce", "reduction"),
    "kl_div": ("size_average", "reduce", "reduction", "log_target"),
    "mse_loss": ("size_average", "reduce", "reduction", "weight"),
    "l1_loss": ("size_average", "reduce", "reduction", "weight"),
    "smooth_l1_loss": ("size_average", "reduce", "reduction", "beta"),
    "huber_loss": ("reduction", "delta", "weight"),
    "poisson_nll_loss": ("log_input", "full", "size_average", "eps", "reduce", "reduction"),
    "gaussian_nll_loss": ("var", "full", "eps", "reduction"),
    "margin_ranking_loss": ("margin", "size_average", "reduce", "reduction"),
    "hinge_embedding_loss": ("margin", "size_average", "reduce", "reduction"),
    "soft_margin_loss": ("size_average", "reduce", "reduction"),
    "multilabel_margin_loss": ("size_average", "reduce", "reduction"),
    "multilabel_soft_margin_loss": ("weight", "size_average", "reduce", "reduction"),
    "multi_margin_loss": ("p", "margin", "weight", "size_average", "reduce", "reduction"),
    "cosine_embedding_loss": ("margin", "size_average", "reduce", "reduction"),
    "triplet_margin_loss": ("margin", "p", "eps", "swap", "size_average", "reduce",
                            "reduction"),
    "triplet_margin_with_distance_loss": ("distance_function", "margin", "swap", "reduction"),
    "ctc_loss": ("input_lengths", "target_lengths", "blank", "reduction", "zero_infinity"),
}
"""Every loss ``diagnose`` knows, with the keyword options its torch function takes."""

_CLASSES = {
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
}


_THIRD = {"margin_ranking_loss": "target", "cosine_embedding_loss": "target",
          "triplet_margin_loss": "negative", "triplet_margin_with_distance_loss": "negative"}
"""Losses whose torch function takes three tensors, and the name of the third."""

_REQUIRED = {"ctc_loss": ("input_lengths", "target_lengths"), "gaussian_nll_loss": ("var",)}
"""Options without a default: torch raises TypeError without them."""


def _loss_name(name: str) -> str:
    short = name.rsplit(".", 1)[-1]
    if short.endswith("_grad") and short[:-5] in LOSSES:     # lossref.grad.cross_entropy
        short = short[:-5]
    if short in LOSSES:
        return short
    if short in _CLASSES:
        return _CLASSES[short]
    raise ValueError(f"diagnose: unknown loss {name!r}; expected a torch.nn.functional loss "
                     f"name such as 'cross_entropy', or a loss class name such as "
                     f"'CrossEntropyLoss'")


def _resolve(loss: Any, options: dict) -> tuple[str, dict]:
    """The loss's functional name and the options of the call (explicit ones win)."""
    if isinstance(loss, str):
        return _loss_name(loss), dict(options)
    if isinstance(loss, functools.partial):
        name, _ = _resolve(loss.func, {})
        return name, {**loss.keywords, **options}
    if isinstance(loss, type):
        return _loss_name(loss.__name__), dict(options)
    if callable(loss) and hasattr(loss, "__name__"):
        return _loss_name(loss.__name__), dict(options)
    name = _loss_name(type(loss).__name__)            # a module instance: options from it
    taken = {}
    for option in LOSSES[name]:
        if option not in _LEGACY:
            try:
                taken[option] = getattr(loss, option)
            except AttributeError:
                pass
    return name, {**taken, **options}


# ---------------------------------------------------------------------------------------
# Reading arrays, and small helpers.

@dataclass(frozen=True)
class _Arr:
    a: np.ndarray          # the values
    dtype: str             # the dtype as the caller's object names it ("torch.int32", "int64")
    typed: bool            # the caller's object carries a dtype (tensor, ndarray)
    eps: float             # the rounding unit of the caller's dtype (0 for integers)


def _read(x: Any, name: str) -> _Arr:
    typed = hasattr(x, "dtype")
    label = str(x.dtype) if typed else ""
    try:
        a = asarray(x)
    except (TypeError, RuntimeError):          # e.g. a bfloat16 tensor: NumPy has no bfloat16
        a = np.asarray(x.detach().cpu().float().numpy())
    except ValueError as exc:                  # ragged lists
        raise TypeError(f"diagnose: cannot read {name} as a numeric array ({exc})") from None
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) \
            or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"diagnose: cannot read {name} as a real numeric array "
                        f"(got dtype {a.dtype})")
    eps = 2.0 ** -7 if label.endswith("bfloat16") else _eps(a)
    return _Arr(a, label or str(a.dtype), typed, eps)


_TORCH_TYPES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool", "float16": "Half", "float32": "Float",
                "float64": "Double"}


def _torch_type(a: np.ndarray) -> str:
    """The scalar type torch names in its messages (``Long`` for int64 ...)."""
    return _TORCH_TYPES.get(str(a.dtype), str(a.dtype))


def _is_float(arr: _Arr) -> bool:
    return np.issubdtype(arr.a.dtype, np.floating)


def _eps(a: np.ndarray) -> float:
    return float(np.finfo(a.dtype).eps) if np.issubdtype(a.dtype, np.floating) else 0.0


def _fmt(v: Any) -> str:
    return f"{float(v):.4g}"


def _rows(a: np.ndarray, axis: int) -> np.ndarray:
    """``a`` as float64 rows along ``axis``: shape (everything else, a.shape[axis])."""
    moved = np.moveaxis(a, axis, -1)
    return moved.reshape(int(np.prod(moved.shape[:-1])), moved.shape[-1]).astype(np.float64)


def _logsumexp_rows(r: np.ndarray) -> np.ndarray:
    """log Σ exp over the last axis of a float64 array, -inf for rows of -inf."""
    m = np.max(r, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return (np.log(np.sum(np.exp(r - m), axis=-1)) + m[..., 0])


class _Report:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(self, code: str, severity: str, chapter: str, en: str, zh: str) -> None:
        self.items.append(Finding(code, severity, en, zh, chapter))

    def findings(self) -> list[Finding]:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self.items, key=lambda f: order[f.severity])   # stable within a group


# ---------------------------------------------------------------------------------------
# The entry point.

def diagnose(loss: Any, input: Any, target: Any, *more: Any, **options: Any) -> list[Finding]:
    """Name the misuse behind a surprising loss value, without running the loss.

    Parameters
    ----------
    loss : str, function, class or instance
        Which loss: ``"cross_entropy"``, ``lossref.cross_entropy``, ``F.cross_entropy``,
        ``nn.CrossEntropyLoss`` or ``nn.CrossEntropyLoss(weight=w)`` (then its options are
        read from the instance), recognised by name; torch is never imported.
    input, target : array_like
        What the loss would get: NumPy arrays, lists, or torch tensors (with or without
        ``requires_grad``).
    *more : array_like
        The rest of torch's positional arguments, in torch's order: the third tensor of
        ``margin_ranking_loss``, ``cosine_embedding_loss`` (``target``) and the triplet
        losses (``negative``); ``input_lengths, target_lengths`` of ``ctc_loss``; then the
        options, as torch's signature orders them.
    **options
        The loss's own keyword arguments (``weight``, ``ignore_index``, ``reduction``,
        ``pos_weight``, ``label_smoothing``, ``log_target``, ...); they override an
        instance's.

    Returns
    -------
    list of Finding
        Errors (calls torch refuses), then warnings (misleading numbers), then notes. Empty,
        or notes only, for a correct call.

    Raises
    ------
    ValueError
        ``loss`` is not a loss ``diagnose`` knows (``from lossref.diagnose import LOSSES``).
    TypeError
        ``input``, ``target`` or an array option cannot be read as a numeric array; more
        positional arguments than the loss takes; an option given twice.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 1.2, 0.3]], dtype=np.float32)
    >>> diagnose("cross_entropy", logits, np.array([0, 1]))
    []
    >>> probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    >>> [f.code for f in diagnose("CrossEntropyLoss", probs, np.array([0, 1]))]
    ['softmax-before-cross-entropy']
    >>> [f.code for f in diagnose("nll_loss", logits, np.array([0, 1]))]
    ['scores-to-nll']
    >>> [f.code for f in diagnose("margin_ranking_loss", [0.5, 2.0], [1.0, 0.3], [0.0, 1.0])]
    ['zero-one-target']
    """
    name, options = _resolve(loss, options)
    options = _positional(name, more, options)
    x, y = _read(input, "input"), _read(target, "target")
    report = _Report()
    reduction = _check_options(report, name, options)
    for needed in _REQUIRED.get(name, ()) + ((_THIRD[name],) if name in _THIRD else ()):
        if options.get(needed) is None:
            report.add("missing-argument", "error", _TROUBLE,
                       f"{name} needs {needed}, and the call does not give it (torch raises "
                       f"TypeError).",
                       f"{name} 需要 {needed}，而这次调用没有传（torch 会抛出 TypeError）。")
            return report.findings()
    if not _is_float(x):
        _integer_input(report, name, x)
    else:
        _CHECKS.get(name, _no_checks)(report, name, x, y, options, reduction)
    return report.findings()


def _positional(name: str, more: tuple, options: dict) -> dict:
    """Positional arguments after ``input, target`` as keywords, in torch's order."""
    if not more:
        return options
    slots = ((_THIRD[name],) if name in _THIRD else ()) + LOSSES[name]
    if len(more) > len(slots):
        raise TypeError(f"diagnose: {name} takes at most {2 + len(slots)} positional "
                        f"arguments after the loss ({len(more) + 2} given)")
    out = dict(options)
    for slot, value in zip(slots, more):
        if slot in options:
            raise TypeError(f"diagnose: {name} got multiple values for argument '{slot}'")
        out[slot] = value
    return out


def _check_options(r: _Report, name: str, options: dict) -> str:
    """Unknown options, the reduction (legacy arguments resolved); returns the reduction."""
    allowed = LOSSES[name]
    for option in options:
        if option not in allowed and option != _THIRD.get(name):
            r.add("unknown-option", "error", _TROUBLE,
                  f"{name}() got an unexpected keyword argument '{option}' (torch raises "
                  f"TypeError); it takes {', '.join(allowed)}.",
                  f"{name}() 没有参数 '{option}'（torch 会抛出 TypeError）；它的参数是 "
                  f"{', '.join(allowed)}。")
    for option, kind in _SCALAR_OPTIONS.items():
        if option not in options or option not in allowed:
            continue
        scalar = _as_scalar(options[option], kind)
        if scalar is not None:
            options[option] = scalar
        else:
            value = options.pop(option)                 # later checks use the default
            r.add("option-type", "error", _TROUBLE,
                  f"{option}={value!r} is not {'an int' if kind is int else 'a number'} "
                  f"(torch raises TypeError).",
                  f"{option}={value!r} 不是{'整数' if kind is int else '数值'}"
                  f"（torch 会抛出 TypeError）。")
    reduction = options.get("reduction", "mean")
    size_average, reduce = options.get("size_average"), options.get("reduce")
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, emit_warning=False)
        r.add("legacy-reduction-arguments", "info", _REDUCTIONS,
              f"size_average={size_average!r}, reduce={reduce!r} override reduction: they "
              f"mean reduction='{reduction}' (torch warns that they are deprecated).",
              f"size_average={size_average!r}、reduce={reduce!r} 会覆盖 reduction，"
              f"相当于 reduction='{reduction}'（torch 会警告它们已被弃用）。")
    valid = ("none", "mean", "sum", "batchmean") if name == "kl_div" else ("none", "mean", "sum")
    if reduction == "elementwise_mean":
        r.add("deprecated-reduction", "warning", _REDUCTIONS,
              "reduction='elementwise_mean' is deprecated; torch warns and uses 'mean'.",
              "reduction='elementwise_mean' 已被弃用；torch 会发出警告并按 'mean' 计算。")
        return "mean"
    if reduction not in valid:
        r.add("invalid-reduction", "error", _REDUCTIONS,
              f"{reduction} is not a valid value for reduction (torch raises ValueError); "
              f"use one of {', '.join(repr(v) for v in valid)}.",
              f"{reduction} 不是 reduction 的合法取值（torch 会抛出 ValueError）；"
              f"可选 {', '.join(repr(v) for v in valid)}。")
        return "mean"
    return reduction


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


def _integer_input(r: _Report, name: str, x: _Arr) -> None:
    r.add("integer-input", "error", _TROUBLE,
          f"input has dtype {x.dtype}: {name} is not implemented for integer or boolean "
          f"input (torch raises); the input holds scores or probabilities, so make it "
          f"floating point, e.g. input.float().",
          f"input 的 dtype 是 {x.dtype}：{name} 不支持整数或布尔型的输入（torch 会报错）；"
          f"输入应是分数或概率，先转成浮点数，例如 input.float()。")


def _no_checks(*_: Any) -> None:
    """Losses known by name whose values diagnose does not inspect (yet)."""


def _option_array(options: dict, key: str) -> _Arr | None:
    value = options.get(key)
    return None if value is None else _read(value, key)


# ---------------------------------------------------------------------------------------
# Multi-class: cross_entropy, nll_loss.

def _classification(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                    reduction: str) -> None:
    ce = name == "cross_entropy"
    a = x.a
    if a.ndim == 0:
        r.add("input-shape", "error", _SOFTMAX,
              f"input is a 0-d array: {name} needs (C,), (N, C) or (N, C, d1, ...).",
              f"input 是 0 维数组：{name} 需要形状 (C,)、(N, C) 或 (N, C, d1, ...)。")
        return
    axis = 0 if a.ndim == 1 else 1
    n_classes = a.shape[axis]
    rows = _rows(a, axis)

    weight = _class_weight(r, name, x, options, n_classes)
    smoothing = _label_smoothing(r, options) if ce else 0.0
    ignore_index = options.get("ignore_index", -100)

    if y.a.shape == a.shape and (ce or not _is_float(y)):
        if not _is_float(y):
            if ce:
                reason = ("Expected floating point type for target with class probabilities, "
                          f"got {_torch_type(y.a)}")
            elif a.ndim == 2:
                reason = "0D or 1D target tensor expected, multi-target not supported"
            else:
                reason = None                       # torch's words depend on the kernel
            said_en = f" (\"{reason}\")" if reason else ""
            said_zh = f"（\"{reason}\"）" if reason else ""
            fix_en = "or probabilities, target.float()" if ce else "as nll_loss takes nothing else"
            fix_zh = "或传概率 target.float()" if ce else "nll_loss 只接受类别索引"
            r.add("one-hot-index-target", "error", _TROUBLE,
                  f"target has the input's shape {a.shape} and dtype {y.dtype}: a one-hot "
                  f"matrix of integers, and torch refuses it{said_en}. Pass class "
                  f"indices, target.argmax(dim=1), {fix_en}.",
                  f"target 与 input 同形状 {a.shape}，dtype 是 {y.dtype}：这是整数的独热编码 "
                  f"(one-hot) 矩阵，torch 会拒绝{said_zh}。请传类别索引 "
                  f"target.argmax(dim=1)，{fix_zh}。")
        else:
            _probability_target(r, x, y, rows, ignore_index, n_classes)
        _class_input(r, name, x, rows, n_classes)
        return

    expected = () if a.ndim == 1 else (a.shape[0],) + a.shape[2:]
    shape_ok = y.a.shape == expected or (a.ndim == 1 and y.a.shape == (1,))
    if not shape_ok:
        _index_target_shape(r, name, a, y, expected)
    else:
        t = _index_target_dtype(r, name, y)
        if t is not None:
            t = t.reshape(-1)
            _index_values(r, name, t, n_classes, ignore_index, weight, reduction)
            _nonfinite_classification(r, name, rows, t, ignore_index, smoothing, n_classes)
    _class_input(r, name, x, rows, n_classes)


def _class_weight(r: _Report, name: str, x: _Arr, options: dict, n_classes: int):
    w = _option_array(options, "weight")
    if w is None:
        return None
    if w.a.shape != (n_classes,):
        r.add("weight-shape", "error", _WEIGHTS,
              f"weight has shape {w.a.shape}; {name} needs one weight per class, shape "
              f"({n_classes},) (torch: \"weight tensor should be defined either for all "
              f"{n_classes} classes or no classes\").",
              f"weight 的形状是 {w.a.shape}；{name} 需要每个类别一个权重，即形状 "
              f"({n_classes},)（torch 报错 \"weight tensor should be defined either for all "
              f"{n_classes} classes or no classes\"）。")
        return None
    if w.typed and x.typed and w.a.dtype != x.a.dtype:
        r.add("weight-dtype", "error", _WEIGHTS,
              f"weight has dtype {w.dtype} but input has dtype {x.dtype}: torch refuses "
              f"(\"expected scalar type ... but found ...\"); convert with "
              f"weight.to(input.dtype).",
              f"weight 的 dtype 是 {w.dtype}，input 的却是 {x.dtype}：torch 会拒绝"
              f"（\"expected scalar type ... but found ...\"）；用 weight.to(input.dtype) "
              f"转换。")
    return w.a.astype(np.float64)


def _label_smoothing(r: _Report, options: dict) -> float:
    eps = options.get("label_smoothing", 0.0)
    if eps > 1.0:
        r.add("label-smoothing-range", "error", _WEIGHTS,
              f"label_smoothing={eps!r}: torch raises \"label_smoothing must be between 0.0 "
              f"and 1.0\".",
              f"label_smoothing={eps!r}：torch 报错 \"label_smoothing must be between 0.0 "
              f"and 1.0\"。")
        return 0.0
    if eps < 0.0:
        r.add("label-smoothing-range", "warning", _WEIGHTS,
              f"label_smoothing={eps!r} is negative: torch silently ignores it and computes "
              f"the plain cross-entropy.",
              f"label_smoothing={eps!r} 是负数：torch 不报错，直接忽略它，算的是不带平滑的"
              f"交叉熵。")
        return 0.0
    return float(eps)


def _index_target_shape(r: _Report, name: str, a: np.ndarray, y: _Arr, expected: tuple):
    t = y.a
    # torch's own words where its message does not depend on the kernel that runs
    multi = "0D or 1D target tensor expected, multi-target not supported"
    reason = multi if a.ndim <= 2 and t.ndim >= 2 else None
    extra = next((i for i in range(t.ndim) if t.shape[i] == 1
                  and t.shape[:i] + t.shape[i + 1:] == expected), None)
    if a.ndim >= 2 and t.ndim >= 1 and t.shape[0] != a.shape[0]:
        reason = (f"Expected input batch_size ({a.shape[0]}) to match target batch_size "
                  f"({t.shape[0]}).")
        hint_en = "input and target hold different numbers of samples."
        hint_zh = "input 和 target 的样本数不同。"
    elif extra is not None:
        hint_en = f"the target has an extra axis {extra} of size 1: use target.squeeze({extra})."
        hint_zh = f"target 多了一个长度为 1 的第 {extra} 维：用 target.squeeze({extra}) 去掉。"
    elif t.shape == a.shape:
        hint_en = (f"{name} takes class indices; for one-hot or probability rows use "
                   f"target.argmax(dim=1), or cross_entropy, which accepts probabilities.")
        hint_zh = (f"{name} 只接受类别索引；独热编码或概率行请先 target.argmax(dim=1)，"
                   f"或改用接受概率目标的 cross_entropy。")
    else:
        hint_en = f"class indices need shape {expected}."
        hint_zh = f"类别索引的形状应为 {expected}。"
    said_en = f" (\"{reason}\")" if reason else ""
    said_zh = f"（\"{reason}\"）" if reason else ""
    r.add("index-target-shape", "error", _WEIGHTS,
          f"target shape {t.shape} for input shape {a.shape}: torch refuses{said_en}; {hint_en}",
          f"input 形状为 {a.shape}，target 形状却是 {t.shape}：torch 会拒绝{said_zh}；{hint_zh}")


def _index_target_dtype(r: _Report, name: str, y: _Arr) -> np.ndarray | None:
    """The class indices as int64, or None when they are not indices at all."""
    t = y.a
    if _is_float(y):
        finite = np.isfinite(t).all()
        whole = bool(finite and np.all(t == np.round(t)))
        if whole:
            r.add("float-class-indices", "error", _NLL,
                  f"target holds whole numbers with dtype {y.dtype}: class indices must be "
                  f"int64 (torch: \"expected target dtype to be Long or Byte, but got "
                  f"{_torch_type(t)}\"). Use target.long().",
                  f"target 存的是整数值，dtype 却是 {y.dtype}：类别索引必须是 int64"
                  f"（torch 报错 \"expected target dtype to be Long or Byte, but got "
                  f"{_torch_type(t)}\"）。用 target.long() 转换。")
            return t.astype(np.int64)
        r.add("float-class-indices", "error", _NLL,
              f"target has the shape of class indices but holds fractions (dtype {y.dtype}): "
              f"torch refuses a floating-point index target. Class probabilities need the "
              f"input's shape.",
              f"target 的形状是类别索引的形状，却存着小数（dtype {y.dtype}）：torch 不接受"
              f"浮点数的类别索引。概率目标的形状必须与 input 相同。")
        return None
    if y.typed and y.a.dtype not in (np.int64, np.uint8):
        r.add("non-long-class-indices", "error", _TROUBLE,
              f"target has dtype {y.dtype}: torch takes class indices as int64 (or uint8) "
              f"only (\"expected target dtype to be Long or Byte\"). Use target.long().",
              f"target 的 dtype 是 {y.dtype}：torch 的类别索引只接受 int64（或 uint8）"
              f"（\"expected target dtype to be Long or Byte\"）。用 target.long() 转换。")
    return t.astype(np.int64)


def _index_values(r: _Report, name: str, t: np.ndarray, n_classes: int, ignore_index: int,
                  weight, reduction: str) -> None:
    ignored = t == ignore_index
    bad = ((t < 0) | (t >= n_classes)) & ~ignored
    if bad.any():
        value = int(t[bad][0])
        r.add("class-index-out-of-range", "error", _NLL,
              f"target {value} is outside [0, {n_classes - 1}] and is not "
              f"ignore_index={ignore_index}: torch raises \"Target {value} is out of "
              f"bounds.\" ({int(bad.sum())} such target(s)).",
              f"目标 {value} 不在 [0, {n_classes - 1}] 内，也不等于 ignore_index="
              f"{ignore_index}：torch 报错 \"Target {value} is out of bounds.\""
              f"（共 {int(bad.sum())} 个这样的目标）。")
        return
    if t.size == 0:
        if reduction == "mean":
            r.add("empty-batch", "warning", _REDUCTIONS,
                  "the batch is empty: the 'mean' of no targets is 0/0 = nan.",
                  "批次是空的：没有目标时 'mean' 是 0/0 = nan。")
        return
    if ignored.all():
        severity = "warning" if reduction == "mean" else "info"
        r.add("all-targets-ignored", severity, _WEIGHTS,
              f"every target equals ignore_index={ignore_index}: nothing is left to average, "
              f"so 'mean' is 0/0 = nan ('sum' is 0, 'none' all zeros).",
              f"所有目标都等于 ignore_index={ignore_index}：没有剩下任何目标，"
              f"'mean' 是 0/0 = nan（'sum' 是 0，'none' 全是 0）。")
        return
    if weight is not None and reduction == "mean":
        w_t = weight[t[~ignored]]
        if not np.all(w_t == 1.0):
            kept = int((~ignored).sum())
            r.add("weighted-mean-denominator", "info", _WEIGHTS,
                  f"with class weights, 'mean' divides the weighted sum by the weights of the "
                  f"targets, Σ w[y] = {_fmt(w_t.sum())}, not by the {kept} target(s): it is "
                  f"not the mean of reduction='none'.",
                  f"有类别权重时，'mean' 用目标的权重之和 Σ w[y] = {_fmt(w_t.sum())} 去除加权和，"
                  f"而不是除以目标个数 {kept}：它不等于 reduction='none' 结果的均值。")


def _nonfinite_classification(r: _Report, name: str, rows: np.ndarray, t: np.ndarray,
                              ignore_index: int, smoothing: float, n_classes: int) -> None:
    """nan/inf per non-ignored sample, from the input's non-finite entries."""
    if rows.size == 0 or np.isfinite(rows).all() or t.size != rows.shape[0]:
        return
    kept = (t != ignore_index) & (t >= 0) & (t < n_classes)
    safe = np.where(kept, t, 0)
    at_target = rows[np.arange(rows.shape[0]), safe]
    if name == "nll_loss":
        nan = kept & np.isnan(at_target)
        inf = kept & np.isinf(at_target)
        why_en = "nll_loss picks the target's entry: -inf there is log 0, so the loss is inf"
        why_zh = "nll_loss 取目标位置的值：那里的 -inf 就是 log 0，损失为 inf"
    else:
        row_nan = np.isnan(rows).any(axis=1) | np.isposinf(rows).any(axis=1) \
            | np.isneginf(rows).all(axis=1)
        nan = kept & row_nan
        inf = kept & ~row_nan & (np.isneginf(at_target)
                                 | (smoothing > 0) & np.isneginf(rows).any(axis=1))
        why_en = ("a row with nan, +inf or only -inf gives nan; -inf at the target class gives "
                  "inf" + ("; with label_smoothing any -inf in the row gives inf"
                           if smoothing > 0 else ""))
        why_zh = ("某行含 nan、+inf 或全是 -inf 时结果为 nan；目标类别的 logit 为 -inf 时结果为 "
                  "inf" + ("；使用 label_smoothing 时，一行中任何一个 -inf 都会得到 inf"
                           if smoothing > 0 else ""))
    if nan.any() or inf.any():
        r.add("nonfinite-input", "warning", _SOFTMAX if name == "cross_entropy" else _NLL,
              f"{_counts_en(nan.sum(), inf.sum())} from non-finite input: {why_en}.",
              f"输入中的非有限值使 {_counts_zh(nan.sum(), inf.sum())}：{why_zh}。")


def _counts_en(n_nan, n_inf) -> str:
    """'2 samples give nan and 1 sample gives inf', leaving out a count of 0."""
    def part(n, what):
        n = int(n)
        return f"{n} sample gives {what}" if n == 1 else f"{n} samples give {what}"
    return " and ".join(part(n, w) for n, w in ((n_nan, "nan"), (n_inf, "inf")) if n)


def _counts_zh(n_nan, n_inf) -> str:
    """'2 个样本的损失为 nan，1 个样本的损失为 inf'，略去为 0 的计数。"""
    return "，".join(f"{int(n)} 个样本的损失为 {w}" for n, w in ((n_nan, "nan"), (n_inf, "inf"))
                    if n)


def _probability_target(r: _Report, x: _Arr, y: _Arr, rows: np.ndarray, ignore_index: int,
                        n_classes: int) -> None:
    if ignore_index >= 0:
        r.add("ignore-index-with-probabilities", "error", _WEIGHTS,
              f"ignore_index={ignore_index} with a probability target (the input's shape): "
              f"torch raises \"ignore_index is not supported for floating point target\".",
              f"概率目标（与 input 同形状）配上 ignore_index={ignore_index}：torch 报错 "
              f"\"ignore_index is not supported for floating point target\"。")
    p = _rows(y.a, 0 if y.a.ndim == 1 else 1)
    if p.size:
        with np.errstate(all="ignore"):
            sums = p.sum(axis=1)
        tol = 4 * (n_classes + 4) * max(y.eps, x.eps)
        if (p < 0).any() or not np.all(np.abs(sums - 1) <= tol):
            worst = sums[np.argmax(np.abs(sums - 1))] if np.isfinite(sums).all() else np.nan
            r.add("probability-target-not-normalised", "warning", _WEIGHTS,
                  f"the target has the input's shape, so it is read as class probabilities, "
                  f"but its rows are not distributions (a row sums to {_fmt(worst)}, or an "
                  f"entry is negative). For several labels per sample use "
                  f"binary_cross_entropy_with_logits.",
                  f"target 与 input 同形状，因此被当作概率目标，但它的行不是概率分布"
                  f"（有一行之和为 {_fmt(worst)}，或有负数）。每个样本有多个标签时请用 "
                  f"binary_cross_entropy_with_logits。")
    if np.isfinite(rows).all() or p.shape != rows.shape:
        return
    with np.errstate(all="ignore"):
        bad_nan = np.isnan(rows) | np.isposinf(rows) | (np.isneginf(rows) & (p == 0))
        bad_inf = np.isneginf(rows) & (p != 0)
    n_nan, n_inf = int(bad_nan.any(axis=1).sum()), int((bad_inf.any(axis=1)
                                                         & ~bad_nan.any(axis=1)).sum())
    if n_nan or n_inf:
        r.add("nonfinite-input", "warning", _WEIGHTS,
              f"{_counts_en(n_nan, n_inf)}: with probability targets every class counts, "
              f"and a -inf logit times a target of 0 is 0 · (-inf) = nan.",
              f"{_counts_zh(n_nan, n_inf)}：概率目标会用到每个类别，"
              f"-inf 的 logit 乘以为 0 的目标就是 0 · (-inf) = nan。")


def _looks_like_probabilities(rows: np.ndarray, dtype_eps: float) -> bool:
    """Every row in [0, 1] with some entry > 0, summing to 1 within rounding."""
    if rows.size == 0 or not np.isfinite(rows).all():
        return False
    if rows.min() < 0 or rows.max() > 1 or not (rows > 0).any(axis=-1).all():
        return False
    tol = (rows.shape[-1] + 4) * dtype_eps
    return bool(np.all(np.abs(rows.sum(axis=-1) - 1) <= tol))


def _log_probability_rows(rows: np.ndarray, dtype_eps: float) -> np.ndarray:
    """Per row: all entries <= 0 and Σ exp = 1 within rounding (rows with nan: False)."""
    with np.errstate(all="ignore"):
        lse = _logsumexp_rows(rows)
        finite_max = np.max(np.where(np.isfinite(rows), np.abs(rows), 0.0), axis=-1)
    tol = dtype_eps * (rows.shape[-1] + 4 + 4 * finite_max)
    ok = (rows <= 0).all(axis=-1) & (np.abs(lse) <= tol)
    return ok & ~np.isnan(rows).any(axis=-1)


def _class_input(r: _Report, name: str, x: _Arr, rows: np.ndarray, n_classes: int) -> None:
    """Heuristics on the input alone: what kind of numbers are these?"""
    a, eps = x.a, x.eps
    if rows.size == 0:
        return
    # A single float16 row can sum to 1 within float16's rounding by chance: a note only.
    strong = rows.shape[0] >= 2 or eps < 1e-6
    batched = a.ndim >= 2 and a.shape[0] >= 2
    cols = _rows(a, 0) if batched else None
    if name == "cross_entropy":
        if n_classes == 1:
            r.add("single-class-cross-entropy", "warning", _SOFTMAX,
                  "the input has one class (one output column): the softmax of one logit is "
                  "1, so the loss is exactly 0 whatever the model outputs, and no gradient "
                  "flows. For one yes/no output use binary_cross_entropy_with_logits; for C "
                  "classes give the model C outputs.",
                  "input 只有一个类别（输出只有一列）：一个 logit 的 softmax 恒为 1，所以损失"
                  "恒为 0，也没有梯度。只有一个是/否输出时请用 "
                  "binary_cross_entropy_with_logits；C 个类别就让模型输出 C 列。")
            return
        if _looks_like_probabilities(rows, eps):
            r.add("softmax-before-cross-entropy", "warning" if strong else "info", _SOFTMAX,
                  "every input row lies in [0, 1] and sums to 1: these look like softmax "
                  "probabilities, but cross_entropy applies log_softmax itself. Softmax twice "
                  f"squashes the loss towards log C = {_fmt(np.log(n_classes))} and shrinks "
                  "the gradients. Pass the raw logits.",
                  "input 的每一行都在 [0, 1] 内且和为 1：看起来是 softmax 之后的概率，而 "
                  "cross_entropy 自己会做 log_softmax。两次 softmax 会把损失压向 "
                  f"log C = {_fmt(np.log(n_classes))}，梯度也变小。请直接传 logits"
                  "（未归一化的分数）。")
        elif batched and _looks_like_probabilities(cols, eps):
            r.add("softmax-wrong-dim", "warning", _SOFTMAX,
                  "the input sums to 1 over dim 0 (the batch), not over the classes: a "
                  "softmax over the wrong dimension went in. cross_entropy needs raw logits "
                  "anyway; drop the softmax.",
                  "input 沿 dim 0（批次维）求和为 1，而不是沿类别维：softmax 用错了维度。"
                  "而且 cross_entropy 本来就要 logits（未归一化的分数）；去掉这个 softmax。")
        elif _log_probability_rows(rows, eps).all():
            r.add("log-softmax-before-cross-entropy", "info", _SOFTMAX,
                  "the input rows are log-probabilities (log_softmax output). Harmless: "
                  "log_softmax of log-probabilities changes nothing, so the loss is the same "
                  "as from the logits; the extra log_softmax is redundant.",
                  "input 的每一行都是对数概率（log_softmax 的输出）。这无害：对对数概率再做 "
                  "log_softmax 不会改变任何值，损失与直接用 logits 相同，只是多算了一步。")
        return
    # nll_loss: the input must be log-probabilities.
    if _looks_like_probabilities(rows, eps):
        r.add("softmax-to-nll", "warning" if strong else "info", _NLL,
              "every input row lies in [0, 1] and sums to 1: softmax probabilities, not "
              "log-probabilities. nll_loss just picks and negates, so the loss is -p of the "
              "target class, between -1 and 0. Use log_softmax (or cross_entropy on logits).",
              "input 的每一行都在 [0, 1] 内且和为 1：这是 softmax 概率，而不是对数概率。"
              "nll_loss 只是取出目标位置的值再取负，所以损失是 -p，落在 -1 到 0 之间。"
              "请用 log_softmax（或对 logits 直接用 cross_entropy）。")
        return
    finite_rows = np.isfinite(rows).any(axis=-1) & ~np.isnan(rows).any(axis=-1)
    not_log = finite_rows & ~_log_probability_rows(rows, eps)
    if not not_log.any():
        return
    if batched and _log_probability_rows(cols, eps).all():
        r.add("log-softmax-wrong-dim", "warning", _NLL,
              "the input's exp sums to 1 over dim 0 (the batch), not over the classes: "
              "log_softmax ran over the wrong dimension. Use log_softmax(x, dim=1).",
              "input 取 exp 后沿 dim 0（批次维）求和为 1，而不是沿类别维：log_softmax 用错了"
              "维度。请用 log_softmax(x, dim=1)。")
        return
    positive = int((rows > 0).sum())
    r.add("scores-to-nll", "warning", _NLL,
          f"{int(not_log.sum())} of {rows.shape[0]} input row(s) are not log-probabilities "
          f"({positive} positive entries; a row's exp should sum to 1). nll_loss does not "
          f"normalise: it negates the raw score, so the loss can be negative. Apply "
          f"log_softmax first, or use cross_entropy on the scores.",
          f"input 中有 {int(not_log.sum())}/{rows.shape[0]} 行不是对数概率（有 {positive} 个"
          f"正数；每行取 exp 后应和为 1）。nll_loss 不做归一化，只是把原始分数取负，"
          f"所以损失可以是负数。请先做 log_softmax，或对这些分数直接用 cross_entropy。")


# ---------------------------------------------------------------------------------------
# Element-wise losses: shapes and target dtypes.

def _same_shape(r: _Report, name: str, x: _Arr, y: _Arr, refuses: bool, chapter: str) -> bool:
    """Input and target shapes; False when they differ (an error or a broadcast warning)."""
    xs, ys = x.a.shape, y.a.shape
    if xs == ys:
        return True
    try:
        grown = np.broadcast_shapes(xs, ys)
    except ValueError:
        grown = None
    hint_en = hint_zh = ""
    if len(xs) == len(ys) + 1 and xs[-1] == 1 and xs[:-1] == ys:
        hint_en, hint_zh = " Use input.squeeze(-1).", "用 input.squeeze(-1) 对齐。"
    elif len(ys) == len(xs) + 1 and ys[-1] == 1 and ys[:-1] == xs:
        hint_en, hint_zh = " Use target.squeeze(-1).", "用 target.squeeze(-1) 对齐。"
    if refuses or grown is None:
        r.add("target-shape-mismatch", "error", chapter,
              f"target shape {ys} differs from input shape {xs}: {name} refuses it "
              f"(torch raises).{hint_en}",
              f"target 的形状 {ys} 与 input 的形状 {xs} 不同：{name} 会拒绝"
              f"（torch 报错）。{hint_zh}")
    else:
        r.add("target-shape-mismatch", "warning", chapter,
              f"target shape {ys} differs from input shape {xs}: {name} broadcasts them to "
              f"{grown} and averages {int(np.prod(grown))} pairs instead of "
              f"{max(x.a.size, y.a.size)}; the number is meaningless.{hint_en}",
              f"target 的形状 {ys} 与 input 的形状 {xs} 不同：{name} 会把它们广播成 "
              f"{grown}，对 {int(np.prod(grown))} 对数值求均值，而不是 "
              f"{max(x.a.size, y.a.size)} 对；得到的数没有意义。{hint_zh}")
    return False


def _elementwise_weight(r: _Report, name: str, options: dict, key: str, shape: tuple,
                        chapter: str, code: str) -> None:
    w = _option_array(options, key)
    if w is None:
        return
    try:
        ok = np.broadcast_shapes(w.a.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        extra_en = extra_zh = ""
        if key == "pos_weight":
            extra_en = (" pos_weight broadcasts from the last dimension: one weight per "
                        "class, shape (C,), not one per sample.")
            extra_zh = "pos_weight 从最后一维开始广播：每个类别一个权重，形状 (C,)，而不是每个样本一个。"
        r.add(code, "error", chapter,
              f"{key} of shape {w.a.shape} does not broadcast to the input shape {shape} "
              f"(torch raises).{extra_en}",
              f"{key} 的形状 {w.a.shape} 无法广播到 input 的形状 {shape}（torch 报错）。"
              f"{extra_zh}")


def _bce(r: _Report, name: str, x: _Arr, y: _Arr, options: dict, reduction: str) -> None:
    a = x.a
    _elementwise_weight(r, name, options, "weight", a.shape, _BCE, "weight-shape")
    if y.typed and x.typed and y.a.dtype != a.dtype:
        r.add("target-dtype-mismatch", "error", _TROUBLE,
              f"target has dtype {y.dtype}, input {x.dtype}: binary_cross_entropy needs the "
              f"same floating dtype (torch: \"Found dtype ... but expected ...\"). Use "
              f"target.to(input.dtype), e.g. target.float().",
              f"target 的 dtype 是 {y.dtype}，input 的是 {x.dtype}：binary_cross_entropy 要求"
              f"两者是同一种浮点类型（torch 报错 \"Found dtype ... but expected ...\"）。"
              f"用 target.to(input.dtype) 转换，例如 target.float()。")
    bad = ~((a >= 0) & (a <= 1))
    if bad.any():
        value = a[bad].flat[0]
        r.add("bce-input-range", "error", _BCE,
              f"{int(bad.sum())} input value(s) outside [0, 1] or nan (e.g. {_fmt(value)}): "
              f"torch raises \"all elements of input should be between 0 and 1\". Logits "
              f"go to binary_cross_entropy_with_logits.",
              f"有 {int(bad.sum())} 个输入值不在 [0, 1] 内或是 nan（例如 {_fmt(value)}）："
              f"torch 报错 \"all elements of input should be between 0 and 1\"。logits 请交给 "
              f"binary_cross_entropy_with_logits。")
    t = y.a.astype(np.float64)
    bad_t = ~((t >= 0) & (t <= 1))
    if bad_t.any():
        r.add("bce-target-range", "error", _BCE,
              f"{int(bad_t.sum())} target value(s) outside [0, 1] (e.g. "
              f"{_fmt(t[bad_t].flat[0])}): torch raises \"all elements of target should be "
              f"between 0 and 1\".",
              f"有 {int(bad_t.sum())} 个目标值不在 [0, 1] 内（例如 {_fmt(t[bad_t].flat[0])}）："
              f"torch 报错 \"all elements of target should be between 0 and 1\"。")
    if not _same_shape(r, name, x, y, refuses=True, chapter=_TROUBLE):
        return
    clamped = ((a == 0) & (t > 0)) | ((a == 1) & (t < 1))
    if clamped.any():
        half = a.dtype == np.float16
        r.add("bce-log-clamped", "warning", _BCE,
              f"{int(clamped.sum())} input value(s) are exactly 0 or 1 on the wrong side of "
              f"their target: log 0 is clamped to -100, so each such term is 100 (times the "
              f"target's weight), and its gradient is useless. Compute the loss from logits "
              f"with binary_cross_entropy_with_logits"
              + (" (in float16 the sigmoid already rounds to exactly 1 above a logit of "
                 "about 8.3)." if half else "."),
              f"有 {int(clamped.sum())} 个输入值恰好是 0 或 1，且站在目标的另一侧：log 0 被截断为 "
              f"-100，所以每一项都是 100（再乘以目标的权重），梯度也没有用处。请用 "
              f"binary_cross_entropy_with_logits 直接从 logits 计算"
              + ("（在 float16 中，logit 大约超过 8.3 时 sigmoid 就已经舍入成 1）。"
                 if half else "。"))


def _bce_with_logits(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                     reduction: str) -> None:
    a = x.a
    _elementwise_weight(r, name, options, "weight", a.shape, _BCEL, "weight-shape")
    _elementwise_weight(r, name, options, "pos_weight", a.shape, _BCEL, "pos-weight-shape")
    if not _is_float(y) and y.typed:
        said = "Subtraction, the `-` operator, with two bool tensors is not supported" \
            if y.a.dtype == np.bool_ else \
            f"result type {_torch_type(a)} can't be cast to the desired output type " \
            f"{_torch_type(y.a)}"
        r.add("target-dtype-mismatch", "error", _TROUBLE,
              f"target has dtype {y.dtype}: binary_cross_entropy_with_logits needs floating "
              f"targets (torch: \"{said}\"). Use target.float().",
              f"target 的 dtype 是 {y.dtype}：binary_cross_entropy_with_logits 需要浮点数目标"
              f"（torch 报错 \"{said}\"）。用 target.float() 转换。")
    if a.size and np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1:
        strong = a.size >= 16
        r.add("probabilities-to-bce-with-logits", "warning" if strong else "info", _BCEL,
              f"all {a.size} input values lie in [0, 1]: they look like sigmoid outputs, but "
              f"binary_cross_entropy_with_logits applies the sigmoid itself. A sigmoid twice "
              f"keeps the loss above softplus(-1) = 0.3133 for target 1 and log 2 = 0.6931 "
              f"for target 0. Pass the logits."
              + ("" if strong else " (Few values: this may be a coincidence.)"),
              f"全部 {a.size} 个输入值都在 [0, 1] 内：看起来是 sigmoid 的输出，而 "
              f"binary_cross_entropy_with_logits 自己会做 sigmoid。两次 sigmoid 让目标为 1 "
              f"的损失始终高于 softplus(-1) = 0.3133，目标为 0 的始终高于 log 2 = 0.6931。"
              f"请直接传 logits。" + ("" if strong else "（数值太少，也可能只是巧合。）"))
    if not _is_float(y) and y.typed:
        return
    t = y.a.astype(np.float64)
    bad_t = ~((t >= 0) & (t <= 1))
    if bad_t.any():
        r.add("bce-target-range", "warning", _BCEL,
              f"{int(bad_t.sum())} target value(s) outside [0, 1] (e.g. "
              f"{_fmt(t[bad_t].flat[0])}): torch does not check, and the loss can go negative "
              f"or unbounded. Binary targets are 0 and 1 (map -1/1 labels with (t + 1) / 2).",
              f"有 {int(bad_t.sum())} 个目标值不在 [0, 1] 内（例如 {_fmt(t[bad_t].flat[0])}）："
              f"torch 不检查，损失可能变成负数或无界。二元目标是 0 和 1"
              f"（-1/1 标签用 (t + 1) / 2 转换）。")
    if _same_shape(r, name, x, y, refuses=True, chapter=_TROUBLE) and not np.isfinite(a).all():
        n = int((~np.isfinite(a)).sum())
        r.add("nonfinite-input", "warning", _BCEL,
              f"{n} input value(s) are nan or ±inf: each such term is nan.",
              f"有 {n} 个输入值是 nan 或 ±inf：对应的每一项都是 nan。")


def _regression(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                reduction: str) -> None:
    _same_shape(r, name, x, y, refuses=False, chapter=_TROUBLE)
    if name == "smooth_l1_loss" and options.get("beta", 1.0) < 0:
        r.add("negative-beta", "error", _REGRESSION,
              "beta is negative: torch raises \"smooth_l1_loss does not support negative "
              "values for beta.\"",
              "beta 是负数：torch 报错 \"smooth_l1_loss does not support negative values for "
              "beta.\"")
    if name == "huber_loss" and options.get("delta", 1.0) <= 0:
        r.add("non-positive-delta", "error", _REGRESSION,
              "delta is not positive: torch raises \"huber_loss does not support non-positive "
              "values for delta.\"",
              "delta 不是正数：torch 报错 \"huber_loss does not support non-positive values "
              "for delta.\"")


def _kl_div(r: _Report, name: str, x: _Arr, y: _Arr, options: dict, reduction: str) -> None:
    a = x.a
    log_target = bool(options.get("log_target", False))
    if reduction == "mean":
        r.add("kl-div-mean", "warning", _DISTRIBUTIONS,
              f"reduction='mean' divides by every element ({a.size}), batch and classes "
              f"together, so the value is not the KL divergence; torch warns too. Use "
              f"reduction='batchmean' (divides by the batch size).",
              f"reduction='mean' 除以全部元素个数（{a.size}），把批次和类别混在一起，得到的"
              f"不是 KL 散度；torch 也会警告。请用 reduction='batchmean'（只除以批大小）。")
    if not _is_float(y) and y.typed:
        r.add("target-dtype-mismatch", "error", _DISTRIBUTIONS,
              f"target has dtype {y.dtype}: torch raises \"kl_div: Integral inputs not "
              f"supported.\"",
              f"target 的 dtype 是 {y.dtype}：torch 报错 \"kl_div: Integral inputs not "
              f"supported.\"")
    finite = a[np.isfinite(a)]
    if finite.size and finite.max() > 0:
        if finite.max() <= 1 and finite.min() >= 0:
            r.add("probabilities-to-kl-div", "warning", _DISTRIBUTIONS,
                  "the input lies in [0, 1]: probabilities, but kl_div expects "
                  "log-probabilities as input (log_softmax output); the result is not a "
                  "divergence and can be negative.",
                  "input 在 [0, 1] 内：这是概率，而 kl_div 的 input 应是对数概率"
                  "（log_softmax 的输出）；这样算出的不是散度，还可能是负数。")
        else:
            r.add("scores-to-kl-div", "warning", _DISTRIBUTIONS,
                  "the input has positive entries: these are scores, not log-probabilities "
                  "(which are <= 0). Apply log_softmax to the scores first.",
                  "input 中有正数：这是分数，不是对数概率（对数概率都 <= 0）。"
                  "请先对分数做 log_softmax。")
    t = y.a.astype(np.float64)
    t = t[np.isfinite(t)]
    if t.size and not log_target and t.min() < 0:
        r.add("kl-div-log-target", "warning", _DISTRIBUTIONS,
              "the target has negative entries: probabilities cannot be negative. If it holds "
              "log-probabilities, pass log_target=True.",
              "target 中有负数：概率不可能是负的。如果它存的是对数概率，请传 log_target=True。")
    elif t.size and log_target and t.max() > 0:
        r.add("kl-div-log-target", "warning", _DISTRIBUTIONS,
              "log_target=True but the target has positive entries: log-probabilities are "
              "<= 0. For a target of probabilities leave log_target=False.",
              "log_target=True，但 target 中有正数：对数概率都 <= 0。target 是概率时请保持 "
              "log_target=False。")
    _same_shape(r, name, x, y, refuses=False, chapter=_DISTRIBUTIONS)


def _signed_target(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                   reduction: str) -> None:
    """hinge_embedding_loss, soft_margin_loss: targets are 1 or -1."""
    _zero_one_target(r, name, y)
    _same_shape(r, name, x, y, refuses=name != "hinge_embedding_loss", chapter=_MARGINS)


# What a target of 0 does in each ±1 loss (checked against torch in the tests).
_ZERO_TERM = {
    "soft_margin_loss": ("its term is log 2 whatever the input, with no gradient",
                         "这一项不论输入是什么都等于 log 2，没有梯度"),
    "hinge_embedding_loss": ("it gets both terms, x + max(0, margin - x)",
                             "它同时得到两项：x + max(0, margin - x)"),
    "margin_ranking_loss": ("its term is max(0, margin) whatever the inputs, with no gradient",
                            "这一项不论输入是什么都等于 max(0, margin)，没有梯度"),
    "cosine_embedding_loss": ("its term is 0 whatever the inputs: that pair is not trained",
                              "这一项不论输入是什么都是 0：这一对不参与训练"),
}


def _zero_one_target(r: _Report, name: str, y: _Arr) -> None:
    """Targets of 0 and 1 where the loss expects 1 and -1: torch accepts them silently."""
    t = y.a
    if t.size and np.isin(t, (0, 1)).all() and (t == 0).any():
        en, zh = _ZERO_TERM[name]
        r.add("zero-one-target", "warning", _MARGINS,
              f"the target holds 0 and 1, but {name} expects 1 and -1: torch accepts a 0 "
              f"without complaint, and {en}. Map with 2 * target - 1.",
              f"target 是 0 和 1，而 {name} 要求 1 和 -1：torch 照样接受 0，而{zh}。"
              f"用 2 * target - 1 转换。")


def _pair_target(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                 reduction: str) -> None:
    """margin_ranking_loss, cosine_embedding_loss: the third tensor holds 1 or -1."""
    _zero_one_target(r, name, _read(options["target"], "target"))


def _multilabel_margin(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                       reduction: str) -> None:
    if _float16(r, name, x):
        return
    t = y.a
    n_classes = x.a.shape[-1] if x.a.ndim else 0
    if t.shape == x.a.shape and n_classes >= 3 and t.size and np.isin(t, (0, 1)).all():
        r.add("multi-hot-to-multilabel-margin", "warning", _MULTI_MARGINS,
              "the target is a 0/1 matrix (multi-hot), but multilabel_margin_loss reads each "
              "row as class indices ended by -1: [0, 1, 1] means classes 0 and 1, not labels "
              "1 and 2. Use multilabel_soft_margin_loss for 0/1 targets, or write the "
              "indices padded with -1.",
              "target 是 0/1 矩阵（多热编码），而 multilabel_margin_loss 把每一行读作以 -1 "
              "结尾的类别索引：[0, 1, 1] 表示类别 0 和 1，而不是标签 1 和 2。0/1 目标请用 "
              "multilabel_soft_margin_loss，或改写成以 -1 补齐的索引。")
        return
    _multilabel_padding(r, x, y)


def _multilabel_soft_margin(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                            reduction: str) -> None:
    t = y.a.astype(np.float64)
    bad = ~((t >= 0) & (t <= 1))
    if bad.any():
        r.add("bce-target-range", "warning", _MULTI_MARGINS,
              f"{int(bad.sum())} target value(s) outside [0, 1] (e.g. {_fmt(t[bad].flat[0])}): "
              f"multilabel_soft_margin_loss is a sigmoid cross-entropy and wants 0/1 targets.",
              f"有 {int(bad.sum())} 个目标值不在 [0, 1] 内（例如 {_fmt(t[bad].flat[0])}）："
              f"multilabel_soft_margin_loss 是基于 sigmoid 的交叉熵，目标应为 0/1。")
    _same_shape(r, name, x, y, refuses=True, chapter=_MULTI_MARGINS)


def _gaussian_nll(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                  reduction: str) -> None:
    var = _option_array(options, "var")
    if var is not None and (var.a < 0).any():
        r.add("negative-variance", "error", _DISTRIBUTIONS,
              "var has negative entries: torch raises \"var has negative entry/entries\".",
              "var 中有负数：torch 报错 \"var has negative entry/entries\"。")
    elif var is not None and not isinstance(options["var"], (int, float)):
        xs, vs = x.a.shape, var.a.shape
        if not (vs == xs or vs == xs[:-1] or (len(vs) == len(xs) and sum(
                b for a, b in zip(xs, vs) if a != b) == 1)):
            r.add("var-shape", "error", _DISTRIBUTIONS,
                  f"var has shape {vs} for input shape {xs}: torch raises \"var is of "
                  f"incorrect size\". It takes the input's shape, input.shape[:-1] (one "
                  f"variance per sample), or the input's shape with one dimension of size 1.",
                  f"var 的形状是 {vs}，input 的形状是 {xs}：torch 报错 \"var is of incorrect "
                  f"size\"。var 的形状应与 input 相同，或是 input.shape[:-1]（每个样本一个方差），"
                  f"或是把 input 的某一维换成 1 的形状。")
    _same_shape(r, name, x, y, refuses=False, chapter=_DISTRIBUTIONS)


def _poisson_nll(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                 reduction: str) -> None:
    a = x.a.astype(np.float64)
    t = y.a.astype(np.float64)
    finite = a[np.isfinite(a)]
    counts = t[np.isfinite(t)]
    log_input = bool(options.get("log_input", True))
    if log_input and finite.size >= 4 and counts.size and finite.min() >= 0:
        # exp(input) would be rates ≥ e³ ≈ 20 times the largest count: no fitted log-rate
        # is that far off, a rate passed as its own logarithm is.
        ceiling = np.log(max(counts.max(), 0.0) + 1.0) + 3.0
        if finite.max() > ceiling:
            r.add("poisson-rates-with-log-input", "warning", _DISTRIBUTIONS,
                  f"log_input=True (the default) reads the input as log-rates, but it is >= 0 "
                  f"everywhere and reaches {_fmt(finite.max())}: exp of that is a rate of "
                  f"{_fmt(np.exp(min(finite.max(), 700.0)))} against counts of at most "
                  f"{_fmt(counts.max())}. These look like rates: pass log_input=False, or "
                  f"give the log of the rates.",
                  f"log_input=True（默认值）把 input 当作对数速率，但它处处 >= 0，最大到 "
                  f"{_fmt(finite.max())}：取 exp 后速率是 {_fmt(np.exp(min(finite.max(), 700.0)))}，"
                  f"而计数最多只有 {_fmt(counts.max())}。它们看起来是速率本身：请传 "
                  f"log_input=False，或改传速率的对数。")
    elif not log_input and (finite < 0).any():
        n = int((finite < 0).sum())
        r.add("poisson-negative-rates", "warning", _DISTRIBUTIONS,
              f"log_input=False reads the input as rates, but {n} value(s) are negative: "
              f"log(input + eps) of a negative rate is nan. If these are log-rates, pass "
              f"log_input=True (the default).",
              f"log_input=False 把 input 当作速率，但有 {n} 个值是负数：负速率的 "
              f"log(input + eps) 是 nan。如果它们是对数速率，请传 log_input=True（默认值）。")
    _same_shape(r, name, x, y, refuses=False, chapter=_DISTRIBUTIONS)


def _float16(r: _Report, name: str, x: _Arr) -> bool:
    """ctc_loss, multi_margin_loss, multilabel_margin_loss: no float16 kernel on the CPU."""
    if x.a.dtype != np.float16:
        return False
    r.add("float16-not-supported", "error", _TROUBLE,
          f"input is float16: torch's CPU kernel for {name} refuses it (\"not implemented for "
          f"'Half'\"). Compute this loss in float32: input.float().",
          f"input 是 float16：torch 在 CPU 上的 {name} 实现不支持它（\"not implemented for "
          f"'Half'\"）。请在 float32 中计算这个损失：input.float()。")
    return True


def _multi_margin(r: _Report, name: str, x: _Arr, y: _Arr, options: dict,
                  reduction: str) -> None:
    half = _float16(r, name, x)
    p = options.get("p", 1)
    if p not in (1, 2):
        r.add("multi-margin-p", "error", _MULTI_MARGINS,
              f"p={p!r}: torch raises \"only p == 1 and p == 2 supported\" (p is the power "
              f"of each hinge term, not a norm).",
              f"p={p!r}：torch 报错 \"only p == 1 and p == 2 supported\"（p 是每个铰链项的"
              f"幂次，不是范数）。")
    a, t = x.a, y.a
    if half or a.ndim not in (1, 2) or a.size == 0:
        return
    n_classes = a.shape[-1]
    expected = (a.shape[0],) if a.ndim == 2 else ((), (1,))
    if (a.ndim == 2 and t.shape != expected) or (a.ndim == 1 and t.shape not in expected):
        return                                   # torch's shape message; lossref names it
    if _is_float(y) or (y.typed and y.a.dtype != np.int64):
        if y.typed:
            r.add("non-long-class-indices", "error", _MULTI_MARGINS,
                  f"target has dtype {y.dtype}: multi_margin_loss takes class indices as "
                  f"int64 only (torch: \"expected scalar type Long but found "
                  f"{_torch_type(t)}\"). Use target.long().",
                  f"target 的 dtype 是 {y.dtype}：multi_margin_loss 的类别索引只接受 int64"
                  f"（torch 报错 \"expected scalar type Long but found {_torch_type(t)}\"）。"
                  f"用 target.long() 转换。")
            return
        if not (np.isfinite(t).all() and np.all(t == np.round(t))):
            return
    idx = t.astype(np.int64).reshape(-1)
    bad = (idx < 0) | (idx >= n_classes)
    if bad.any():
        value = int(idx[bad][0])
        r.add("class-index-out-of-range", "error", _MULTI_MARGINS,
              f"target {value} is outside [0, {n_classes - 1}]: torch raises \"target out of "
              f"range\" ({int(bad.sum())} such target(s)).",
              f"目标 {value} 不在 [0, {n_classes - 1}] 内：torch 报错 \"target out of range\""
              f"（共 {int(bad.sum())} 个这样的目标）。")


def _multilabel_padding(r: _Report, x: _Arr, y: _Arr) -> None:
    """multilabel_margin_loss: labels out of range, and labels after the first -1."""
    a, t = x.a, y.a
    if a.ndim not in (1, 2) or t.shape != a.shape or not t.size or _is_float(y) \
            or not np.issubdtype(t.dtype, np.integer):
        return
    n_classes = a.shape[-1]
    bad = (t < -1) | (t >= n_classes)
    if bad.any():
        value = int(t[bad][0])
        r.add("class-index-out-of-range", "error", _MULTI_MARGINS,
              f"target label {value} is outside [0, {n_classes - 1}] (and is not the -1 that "
              f"ends a row): torch raises \"argument #2 'target' is out of range\".",
              f"目标标签 {value} 不在 [0, {n_classes - 1}] 内（也不是结束一行的 -1）："
              f"torch 报错 \"argument #2 'target' is out of range\"。")
        return
    rows = t.reshape(-1, n_classes)
    ended = np.cumsum(rows == -1, axis=1) > 0
    after = ended & (rows != -1)
    if after.any():
        n_rows = int(after.any(axis=1).sum())
        r.add("multilabel-margin-padding", "info", _MULTI_MARGINS,
              f"{n_rows} target row(s) hold labels after the first -1: the first -1 ends the "
              f"row's labels, and the {int(after.sum())} label(s) after it are ignored.",
              f"有 {n_rows} 行目标在第一个 -1 之后还有标签：第一个 -1 就结束了这一行的标签，"
              f"其后的 {int(after.sum())} 个标签都被忽略。")


def _ctc(r: _Report, name: str, x: _Arr, y: _Arr, options: dict, reduction: str) -> None:
    lp = x.a
    if _float16(r, name, x):
        return
    if lp.ndim not in (2, 3) or lp.size == 0:
        r.add("ctc-lengths", "error", _CTC,
              f"log_probs of shape {lp.shape}: ctc_loss needs a non-empty (T, N, C) array, or "
              f"(T, C) for one sequence (torch raises).",
              f"log_probs 的形状是 {lp.shape}：ctc_loss 需要非空的 (T, N, C) 数组，单个序列时"
              f"是 (T, C)（torch 报错）。")
        return
    batched = lp.ndim == 3
    lp3 = lp if batched else lp[:, None, :]
    n_frames, batch, n_classes = lp3.shape
    blank = options.get("blank", 0)
    if not 0 <= blank < n_classes:
        r.add("ctc-blank-range", "error", _CTC,
              f"blank={blank} with {n_classes} classes: torch raises \"blank must be in label "
              f"range\" [0, {n_classes - 1}].",
              f"blank={blank}，而类别数是 {n_classes}：torch 报错 \"blank must be in label "
              f"range\"，应在 [0, {n_classes - 1}] 内。")
        return
    lengths = _ctc_lengths(r, lp3, y, options, batched)
    if lengths is None:
        return
    il, tl, labels = lengths
    zero_infinity = bool(options.get("zero_infinity", False))
    out = [n for n, seq in enumerate(labels) if ((seq < 0) | (seq >= n_classes)).any()]
    if out:
        seq = labels[out[0]]
        value = int(seq[(seq < 0) | (seq >= n_classes)][0])
        r.add("ctc-label-out-of-range", "warning", _CTC,
              f"target label {value} (sequence {out[0]}) is outside [0, {n_classes - 1}]: "
              f"torch does not check, reads memory outside log_probs and returns a "
              f"meaningless number ({len(out)} sequence(s) affected).",
              f"目标标签 {value}（第 {out[0]} 个序列）不在 [0, {n_classes - 1}] 内：torch 不"
              f"检查，会读到 log_probs 之外的内存，返回一个没有意义的数（共 {len(out)} 个序列）。")
        return
    with_blank = [n for n, seq in enumerate(labels) if (seq == blank).any()]
    if with_blank:
        r.add("ctc-blank-in-targets", "warning", _CTC,
              f"{len(with_blank)} target sequence(s) contain the blank label {blank} (e.g. "
              f"sequence {with_blank[0]}): the blank means \"no label\" and must not appear "
              f"in targets. torch's CPU kernel does not check and returns a number, but it is "
              f"the loss of no label sequence (collapsing removes every blank). Shift the "
              f"labels so that the blank has a class of its own.",
              f"有 {len(with_blank)} 个目标序列含有空白符 {blank}（例如第 {with_blank[0]} "
              f"个序列）：空白符表示“没有标签”，不能出现在目标里。torch 的 CPU 实现不检查，"
              f"照样返回一个数，但它不是任何标签序列的损失（折叠时所有空白符都会被删掉）。"
              f"请平移标签，让空白符单独占一个类别。")
    else:
        need = np.array([seq.size + int((seq[1:] == seq[:-1]).sum()) for seq in labels],
                        dtype=np.int64)
        short = il < need
        if short.any():
            n = int(np.argmax(short))
            if zero_infinity:
                r.add("ctc-input-too-short", "info", _CTC,
                      f"{int(short.sum())} sequence(s) have fewer frames than their target "
                      f"needs (sequence {n}: {int(il[n])} frames for {int(tl[n])} labels, "
                      f"{int(need[n])} with a blank between repeats). zero_infinity=True "
                      f"turns their infinite loss into 0: they add nothing and get no "
                      f"gradient.",
                      f"有 {int(short.sum())} 个序列的帧数少于目标所需（第 {n} 个序列：{int(il[n])} "
                      f"帧对 {int(tl[n])} 个标签，重复标签之间要插入空白符，共需 {int(need[n])} 帧）。"
                      f"zero_infinity=True 把它们的无穷大损失变成 0：这些序列不贡献损失，也没有"
                      f"梯度。")
            else:
                r.add("ctc-input-too-short", "warning", _CTC,
                      f"{int(short.sum())} sequence(s) have fewer frames than their target "
                      f"needs (sequence {n}: {int(il[n])} frames for {int(tl[n])} labels, "
                      f"{int(need[n])} with a blank between repeats): no alignment exists, "
                      f"their loss is inf" + ("" if reduction == "none" else
                                              f", and so is the '{reduction}'")
                      + ". Check the lengths, or pass zero_infinity=True to drop them.",
                      f"有 {int(short.sum())} 个序列的帧数少于目标所需（第 {n} 个序列：{int(il[n])} "
                      f"帧对 {int(tl[n])} 个标签，重复标签之间要插入空白符，共需 {int(need[n])} 帧）："
                      f"不存在任何对齐，它们的损失是 inf"
                      + ("" if reduction == "none" else f"，'{reduction}' 归约后也是 inf")
                      + "。请检查长度，或传 zero_infinity=True 丢弃这些序列。")
    _ctc_log_probs(r, lp3, il, x.eps)


def _ctc_lengths(r: _Report, lp3: np.ndarray, y: _Arr, options: dict, batched: bool):
    """(input_lengths, target_lengths, label sequences), or None after an error finding."""
    n_frames, batch, _ = lp3.shape
    listed = [isinstance(options[k], (list, tuple)) for k in ("input_lengths", "target_lengths")]
    if listed[0] != listed[1]:
        _ctc_error(r, "one of input_lengths and target_lengths is a list, the other an array",
                   "input_lengths 和 target_lengths 一个是列表，另一个是张量",
                   None, " torch takes both as tensors or both as tuples of ints.",
                   "torch 要求两者都是张量，或都是整数元组。")
        return None
    read = {}
    for key in ("input_lengths", "target_lengths"):
        arr = _read(options[key], key)
        if not np.issubdtype(arr.a.dtype, np.integer) and arr.typed:
            _ctc_error(r, f"{key} has dtype {arr.dtype}", f"{key} 的 dtype 是 {arr.dtype}",
                       f"{key} must be integral")
            return None
        values = arr.a.reshape(-1)
        if values.size != batch:
            hint_en = hint_zh = ""
            if batched and key == "input_lengths" and values.size == n_frames:
                hint_en = (" It has one length per entry of dim 0: log_probs look batch-first "
                           "(N, T, C); ctc_loss wants (T, N, C), log_probs.transpose(0, 1).")
                hint_zh = ("它的长度个数等于 dim 0 的大小：log_probs 看起来是批次维在前的 "
                           "(N, T, C)；ctc_loss 要的是 (T, N, C)，用 log_probs.transpose(0, 1)。")
            _ctc_error(r, f"{key} holds {values.size} length(s) for a batch of {batch}",
                       f"{key} 有 {values.size} 个长度，批大小却是 {batch}",
                       f"{key} must be of size batch_size", hint_en, hint_zh)
            return None
        if not (np.isfinite(values).all() and np.all(values == np.round(values))):
            _ctc_error(r, f"{key} holds fractions", f"{key} 中有小数",
                       f"{key} must be integral")
            return None
        values = values.astype(np.int64)
        if values.size and values.min() < 0:
            _ctc_error(r, f"{key} holds {int(values.min())}", f"{key} 中有 {int(values.min())}",
                       f"Expected {key} to have value at least 0, but got value "
                       f"{int(values.min())}")
            return None
        if key == "input_lengths" and values.size and values.max() > n_frames:
            _ctc_error(r, f"input_lengths holds {int(values.max())} for {n_frames} frames",
                       f"input_lengths 中有 {int(values.max())}，而只有 {n_frames} 帧",
                       f"Expected input_lengths to have value at most {n_frames}, but got "
                       f"value {int(values.max())}")
            return None
        read[key] = values
    il, tl = read["input_lengths"], read["target_lengths"]
    tg = y.a
    if not batched and tg.ndim == 1:
        tg = tg[None, :]
    if tg.ndim == 2:
        longest = int(tl.max()) if tl.size else 0
        if tg.shape[0] != batch or tg.shape[1] < longest:
            _ctc_error(r, f"padded targets of shape {tg.shape} for {batch} sequence(s) of "
                       f"up to {longest} labels",
                       f"补齐的 targets 形状是 {tg.shape}，而有 {batch} 个序列、最长 {longest} "
                       f"个标签", None)
            return None
        labels = [tg[n, :tl[n]] for n in range(batch)]
    elif tg.ndim == 1:
        if tg.size != int(tl.sum()):
            _ctc_error(r, f"concatenated targets hold {tg.size} labels, target_lengths add up "
                       f"to {int(tl.sum())}",
                       f"拼接的 targets 有 {tg.size} 个标签，target_lengths 之和却是 "
                       f"{int(tl.sum())}", None)
            return None
        labels = np.split(tg, np.cumsum(tl)[:-1])
    else:
        _ctc_error(r, f"targets have {tg.ndim} dimensions", f"targets 有 {tg.ndim} 维", None)
        return None
    with np.errstate(invalid="ignore"):
        labels = [np.asarray(seq, dtype=np.float64) for seq in labels]
    if any(not np.isfinite(seq).all() for seq in labels):
        return None
    return il, tl, [seq.astype(np.int64) for seq in labels]


def _ctc_error(r: _Report, what_en: str, what_zh: str, said: str | None,
               hint_en: str = "", hint_zh: str = "") -> None:
    quote_en = f" (\"{said}\")" if said else ""
    quote_zh = f"（\"{said}\"）" if said else ""
    r.add("ctc-lengths", "error", _CTC,
          f"{what_en}: torch refuses the call{quote_en}.{hint_en}",
          f"{what_zh}：torch 会拒绝这次调用{quote_zh}。{hint_zh}")


def _ctc_log_probs(r: _Report, lp3: np.ndarray, il: np.ndarray, eps: float) -> None:
    """The frames within each input length must be log-probabilities (log_softmax output)."""
    used = np.arange(lp3.shape[0])[:, None] < il[None, :]           # (T, N)
    rows = lp3[used].astype(np.float64)                              # (frames, C)
    if rows.size == 0:
        return
    # a float32 log_softmax cast to float64 is correct: judge at no finer than float16's
    # rounding (raw scores and probabilities miss 1 by far more)
    bad = ~_log_probability_rows(rows, max(eps, 2.0 ** -10)) & np.isfinite(rows).any(axis=-1)
    if bad.any():
        with np.errstate(all="ignore"):
            sums = np.exp(_logsumexp_rows(rows[bad]))
        r.add("ctc-not-log-softmax", "warning", _CTC,
              f"{int(bad.sum())} of {rows.shape[0]} frame(s) are not log-probabilities (their "
              f"exp sums to {_fmt(sums[0])} over the classes, not 1). ctc_loss does not "
              f"normalise: the number it returns is no negative log-likelihood (it can be "
              f"negative), and torch's backward assumes a log_softmax, so its gradient is not "
              f"even the gradient of that number. Apply log_softmax over the classes (dim=-1).",
              f"有 {int(bad.sum())}/{rows.shape[0]} 帧不是对数概率（取 exp 后沿类别求和为 "
              f"{_fmt(sums[0])}，而不是 1）。ctc_loss 不做归一化：它返回的数不是负对数似然"
              f"（可以是负数），而且 torch 的反向传播假定输入经过了 log_softmax，所以它给出的"
              f"梯度甚至不是这个数的梯度。请沿类别维（dim=-1）做 log_softmax。")


def _triplet(r: _Report, name: str, x: _Arr, y: _Arr, options: dict, reduction: str) -> None:
    margin = options.get("margin", 1.0)
    if margin <= 0:
        r.add("non-positive-margin", "error", _MARGINS,
              f"margin={margin!r}: torch raises \"margin must be greater than 0\" for {name}.",
              f"margin={margin!r}：{name} 的间隔必须是正数，torch 报错 \"margin must be greater "
              f"than 0\"。")


_CHECKS = {
    "cross_entropy": _classification,
    "nll_loss": _classification,
    "binary_cross_entropy": _bce,
    "binary_cross_entropy_with_logits": _bce_with_logits,
    "mse_loss": _regression, "l1_loss": _regression, "smooth_l1_loss": _regression,
    "huber_loss": _regression,
    "kl_div": _kl_div,
    "hinge_embedding_loss": _signed_target, "soft_margin_loss": _signed_target,
    "multilabel_margin_loss": _multilabel_margin,
    "multilabel_soft_margin_loss": _multilabel_soft_margin,
    "gaussian_nll_loss": _gaussian_nll,
    "poisson_nll_loss": _poisson_nll,
    "margin_ranking_loss": _pair_target, "cosine_embedding_loss": _pair_target,
    "multi_margin_loss": _multi_margin,
    "ctc_loss": _ctc,
    "triplet_margin_loss": _triplet, "triplet_margin_with_distance_loss": _triplet,
}
