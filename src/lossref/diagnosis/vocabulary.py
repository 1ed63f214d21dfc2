"""linear_cross_entropy: the projection's shape, then cross-entropy's checks on its logits.

``diagnose("linear_cross_entropy", input, linear_weight, target, ...)`` follows torch's
positional order. The logits ``input @ linear_weight.T (+ linear_bias)`` are built only when
they are small (at most 4 million entries); beyond that, the target is not inspected.
"""

from __future__ import annotations

import numpy as np

from . import classification
from ._common import Arr, Report, option_array, read

__all__ = ["CHECKS"]

_MAX_LOGITS = 4_000_000


def _linear_cross_entropy(r: Report, name: str, x: Arr, w: Arr, options: dict,
                          reduction: str) -> None:
    a, weight = x.a, w.a
    features = a.shape[-1] if a.ndim in (1, 2) else None
    if features is None or weight.ndim < 2 or weight.shape[-1] != features:
        transposed = (features is not None and weight.ndim == 2
                      and weight.shape[0] == features)
        hint_en = (" It looks transposed, (in_features, C): pass linear_weight.T (an "
                   "nn.Linear's weight is already (C, in_features))." if transposed else "")
        hint_zh = ("它看起来是转置的 (in_features, C)：请传 linear_weight.T（nn.Linear 的 weight "
                   "本来就是 (C, in_features)）。" if transposed else "")
        r.add("linear-weight-shape", "error",
              f"input shape {a.shape} with linear_weight shape {weight.shape}: "
              f"linear_cross_entropy needs input (N, in_features) or (in_features,) and "
              f"linear_weight (C, in_features) or (C, d1, ..., dK, in_features), with the same "
              f"in_features (torch refuses).{hint_en}",
              f"input 形状为 {a.shape}，linear_weight 形状为 {weight.shape}：linear_cross_entropy "
              f"需要 input 为 (N, in_features) 或 (in_features,)，linear_weight 为 "
              f"(C, in_features) 或 (C, d1, ..., dK, in_features)，且 in_features 相同"
              f"（torch 会拒绝）。{hint_zh}")
        return
    target = read(options["target"], "target")
    n = a.shape[0] if a.ndim == 2 else 1
    if n * weight.size > _MAX_LOGITS or not weight.size or not features \
            or not np.issubdtype(a.dtype, np.floating):
        return
    flat = weight.reshape(-1, features).astype(np.float64)
    with np.errstate(all="ignore"):
        logits = a.astype(np.float64).reshape(n, features) @ flat.T
    logits = logits.reshape((n,) + weight.shape[:-1])
    bias = option_array(options, "linear_bias")
    if bias is not None and bias.a.shape == weight.shape[:-1]:
        logits = logits + bias.a.astype(np.float64)
    if a.ndim == 1:
        logits = logits[0]
    rest = {k: v for k, v in options.items()
            if k in ("weight", "ignore_index", "label_smoothing") and v is not None}
    z = Arr(logits, x.dtype, False, x.eps, x.half)        # dtypes were judged on input
    classification.check(r, name, z, target, rest, reduction, scores=False)


CHECKS = {"linear_cross_entropy": _linear_cross_entropy}
