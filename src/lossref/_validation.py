"""Checks shared by every loss, with error messages that name the bad value.

Where PyTorch raises, lossref raises too, with the Python exception a reader
expects: ``TypeError`` for a wrong dtype, ``IndexError`` for a class index out
of range, ``ValueError`` for everything else (shapes, ranges, options).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["asarray", "as_float", "as_like", "as_class_index", "check_same_shape", "check_broadcast",
           "check_class_weight", "check_label_smoothing", "check_unit_interval",
           "check_class_range", "broadcast_shape", "float_pair", "check_option", "HALF_DTYPES",
           "is_float_dtype", "is_bfloat16", "refuse_half", "check_triplet_margin"]


def asarray(x) -> np.ndarray:
    """Any array-like as a NumPy array; a CPU torch tensor too, without importing torch.

    A tensor is recognised by duck typing (it has ``detach`` and ``numpy``), so one that
    requires grad converts as well: ``x.detach().cpu().numpy()``. Every loss reads its
    array arguments through this function (directly or via the checks below).
    """
    if type(x) is np.ndarray:   # the common call, without the two attribute probes
        return x
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def is_bfloat16(dtype) -> bool:
    """``ml_dtypes.bfloat16``, recognised by name: lossref does not import ml_dtypes (0.7 s, a third
    of a notebook's start-up), because an array can only be bfloat16 if its maker imported it."""
    dtype = np.dtype(dtype)  # kind and size first: .name costs ~6 µs, a third of a small loss
    return dtype.kind == "V" and dtype.itemsize == 2 and dtype.name == "bfloat16"


class _HalfDtypes:
    """``dtype in HALF_DTYPES``: float16 or ``ml_dtypes.bfloat16``, the two half-precision dtypes
    (NumPy does not count bfloat16 among ``np.floating``, so every float check goes through
    ``is_float_dtype``)."""

    def __contains__(self, dtype) -> bool:
        dtype = np.dtype(dtype)
        return dtype.itemsize == 2 and (dtype.kind == "f" or is_bfloat16(dtype))

    def __repr__(self) -> str:
        return "HALF_DTYPES(float16, bfloat16)"


#: float16 and bfloat16 (``dtype in HALF_DTYPES``), without importing ml_dtypes.
HALF_DTYPES = _HalfDtypes()


def is_float_dtype(dtype) -> bool:
    """float16/32/64 and ml_dtypes.bfloat16.

    Kind ``'f'`` is exactly NumPy's ``np.floating`` (float16 … longdouble), read without
    ``np.issubdtype`` (1.7 µs a call, on every loss call).
    """
    dtype = np.dtype(dtype)
    return dtype.kind == "f" or is_bfloat16(dtype)


def refuse_half(x: np.ndarray, kernel: str, fn: str) -> None:
    """float16/bfloat16 refused as torch refuses them where its CPU ``kernel`` has no
    instantiation for the dtype (the margin kernels, CTC): a TypeError naming the dtype."""
    if x.dtype in HALF_DTYPES:
        torch_name = "Half" if x.dtype == np.float16 else "BFloat16"
        raise TypeError(f"{fn}: {x.dtype} input is not supported (PyTorch: \"{kernel}\" not "
                        f"implemented for '{torch_name}'); use float32 or float64")


def as_float(x, name: str, fn: str) -> np.ndarray:
    """``x`` as a floating-point array (float16/bfloat16/32/64 kept as they are).

    PyTorch's losses are not implemented for integer or boolean inputs; lossref
    refuses them too rather than guessing a float dtype.
    """
    arr = asarray(x)
    if not is_float_dtype(arr.dtype):
        raise TypeError(f"{fn}: {name} must be a floating-point array, got dtype {arr.dtype} "
                        f"(convert it first, e.g. np.asarray({name}, dtype=np.float32))")
    return arr


def as_like(x, like: np.ndarray, name: str, fn: str) -> np.ndarray:
    """A target/weight array cast to the dtype of ``like`` (the input).

    PyTorch insists the dtypes already match; NumPy turns Python lists into float64
    or int64, so lossref casts real-valued arrays to the input's dtype instead.
    """
    arr = asarray(x)
    if arr.dtype == like.dtype:   # already the input's (floating) dtype: nothing to check
        return arr
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
            or is_float_dtype(arr.dtype)) or np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{fn}: {name} must be a real-valued array, got dtype {arr.dtype}")
    return arr.astype(like.dtype, copy=False)


def as_class_index(target, fn: str) -> np.ndarray:
    """An integer class-index target as a NumPy integer array."""
    arr = asarray(target)
    if arr.dtype.kind in "iu":    # signed/unsigned integers (bool is kind 'b')
        return arr
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{fn}: target must hold integer class indices, got dtype {arr.dtype} "
                        f"(use target.astype(np.int64); a float target of the input's shape "
                        f"is read as class probabilities)")
    return arr


def check_same_shape(input: np.ndarray, target: np.ndarray, fn: str) -> None:
    if input.shape != target.shape:
        raise ValueError(f"{fn}: target shape {target.shape} must be the same as "
                         f"input shape {input.shape}")


def check_broadcast(arr: np.ndarray, shape: tuple, name: str, fn: str) -> None:
    """``arr`` must broadcast to ``shape`` without growing it (PyTorch multiplies in place)."""
    try:
        grown = np.broadcast_shapes(arr.shape, shape)
    except ValueError:
        grown = None
    if grown != tuple(shape):
        raise ValueError(f"{fn}: {name} of shape {arr.shape} cannot be broadcast to the "
                         f"input shape {tuple(shape)}")


def check_unit_interval(arr: np.ndarray, name: str, fn: str) -> None:
    """Every element in [0, 1] (NaN fails, as in PyTorch's BCE kernel).

    ``min`` and ``max`` settle it in two passes (a NaN makes both comparisons false); the
    offending element is looked for only when they fail.
    """
    if arr.size == 0 or (arr.min() >= 0 and arr.max() <= 1):
        return
    bad = ~((arr >= 0) & (arr <= 1))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        value = arr[where] if arr.ndim else arr[()]
        hint = " (apply a sigmoid first, or use binary_cross_entropy_with_logits)" \
            if name == "input" else ""
        raise ValueError(f"{fn}: all elements of {name} should be between 0 and 1, "
                         f"got {value!r} at index {where}{hint}")


def check_class_weight(weight, n_classes: int, like: np.ndarray, fn: str) -> np.ndarray | None:
    """A per-class weight: ``None`` or a 1-D array of length C, cast to the input's dtype."""
    if weight is None:
        return None
    w = as_like(weight, like, "weight", fn)
    if w.ndim != 1 or w.shape[0] != n_classes:
        raise ValueError(f"{fn}: weight should be a 1-D array with one entry for each of the "
                         f"{n_classes} classes, got shape {w.shape}")
    return w


def check_label_smoothing(label_smoothing: float, fn: str) -> float:
    """``label_smoothing`` in [0, 1].

    PyTorch raises above 1 and silently ignores negative values; lossref raises for both,
    because a negative smoothing is always a mistake.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be between 0.0 and 1.0, "
                         f"got {label_smoothing!r}")
    return float(label_smoothing)


def check_class_range(target: np.ndarray, n_classes: int, ignore_index: int, fn: str) -> None:
    """Every target is a class in [0, C) or equals ``ignore_index``.

    Two reductions settle the usual case (every target a class); the offending value is
    looked for only when they do not.
    """
    if target.size == 0 or (target.min() >= 0 and target.max() < n_classes):
        return
    bad = ((target < 0) | (target >= n_classes)) & (target != ignore_index)
    if bad.any():
        value = int(target[bad].flat[0])
        raise IndexError(f"{fn}: Target {value} is out of bounds: class indices must be in "
                         f"[0, {n_classes - 1}] or equal ignore_index={ignore_index}")


def broadcast_shape(fn: str, **arrays: np.ndarray) -> tuple:
    """The shape the named arrays broadcast to (NumPy/PyTorch rules), or a ValueError naming them.

    For losses that broadcast input and target (and var) freely, as torch's elementwise
    arithmetic does: ``broadcast_shape("mse_loss", input=x, target=y)``.
    """
    shapes = [a.shape for a in arrays.values()]
    if shapes.count(shapes[0]) == len(shapes):   # equal shapes (the usual call): no broadcast
        return shapes[0]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        shapes = ", ".join(f"{name} shape {a.shape}" for name, a in arrays.items())
        raise ValueError(f"{fn}: {shapes} cannot be broadcast together (each dimension must "
                         f"match or be 1, aligned from the right)") from None


def float_pair(input, target, fn: str) -> tuple[np.ndarray, np.ndarray, tuple]:
    """A floating-point input, its target cast to the input's dtype, and their broadcast shape."""
    x = as_float(input, "input", fn)
    y = as_like(target, x, "target", fn)
    return x, y, broadcast_shape(fn, input=x, target=y)


# --- option types, checked as torch's argument parser checks them -----------------------------
#: what each kind of scalar option accepts: torch's C++ signatures take ``float`` (bool, int and
#: float, not complex), ``Number`` (complex too), ``int`` (not bool, not float) and ``bool``
#: (not int); ``int?`` is an int or None.
_OPTION_KINDS = {
    "float": lambda v: isinstance(v, numbers.Real),
    "Number": lambda v: isinstance(v, numbers.Number),
    "int": lambda v: isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)),
    "int?": lambda v: v is None or (isinstance(v, numbers.Integral)
                                    and not isinstance(v, (bool, np.bool_))),
    "bool": lambda v: isinstance(v, bool),      # not numpy.bool: torch refuses it
}


def check_option(value, name: str, fn: str, kind: str):
    """``value`` unchanged if torch's parser takes it for an option of ``kind``; else TypeError.

    The message has torch's shape, ``fn(): argument 'name' must be float, not str``, and is
    built only when the check fails.
    """
    if not _OPTION_KINDS[kind](value):
        expected = {"int?": "int or None"}.get(kind, kind)
        kind_of = type(value)
        got = kind_of.__name__ if kind_of.__module__ == "builtins" else \
            f"{kind_of.__module__}.{kind_of.__name__}"
        raise TypeError(f"{fn}(): argument '{name}' must be {expected}, not {got}")
    return value


def check_triplet_margin(margin, fn: str) -> None:
    """``margin > 0``, compared in Python as torch's ``F.triplet_margin_*`` and classes do.

    A value that cannot be compared with 0 (a string, None, a complex, a list) raises the
    TypeError of that comparison, here with a message that names the option.
    """
    try:
        positive = not margin <= 0
    except TypeError:
        raise TypeError(f"{fn}: margin must be a real number, got {type(margin).__name__} "
                        f"({margin!r})") from None
    if not positive:
        raise ValueError(f"{fn}: margin must be greater than 0, got {margin}")
