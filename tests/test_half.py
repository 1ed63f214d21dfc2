"""Every loss in float16 and bfloat16 against torch's CPU kernels, live (issue 25's contract).

Each loss runs on the same half-precision values in torch and lossref (bfloat16 arrays are
``ml_dtypes.bfloat16``), at three magnitudes — the last one past float16's overflow edge for
squares and exponentials — and every reduction:

- where torch's CPU kernel refuses the dtype ("not implemented for 'Half'"), lossref raises a
  TypeError naming the dtype;
- otherwise the result has torch's dtype and lies within 2 ulp (of that dtype) of torch's value,
  inf and nan where torch has them; the gradient of every differentiable input lies within 4 ulp.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import HALF_NAMES, Lazy, check_half
from samples import SAMPLES


def _half() -> dict:
    import ml_dtypes  # when a test first needs it, not when pytest collects this file

    return {"float16": (np.dtype(np.float16), torch.float16, 10),
            "bfloat16": (np.dtype(ml_dtypes.bfloat16), torch.bfloat16, 7)}


#: dtype name -> (NumPy dtype, torch dtype, mantissa bits)
HALF = Lazy(HALF_NAMES, _half)
#: which positional arguments ``lossref.grad.NAME`` differentiates (input only, elsewhere)
DIFF = {"gaussian_nll_loss": (0, 2), "cosine_embedding_loss": (0, 1),
        "margin_ranking_loss": (0, 1), "triplet_margin_loss": (0, 1, 2),
        "triplet_margin_with_distance_loss": (0, 1, 2), "linear_cross_entropy": (0, 1)}
SCALES = (1.0, 30.0, 300.0)
#: the arrays scaled by ``scale``: values and scores, not probabilities, targets or ±1 labels
SCALED = {"binary_cross_entropy_with_logits": (0,), "cross_entropy": (0,), "l1_loss": (0, 1),
          "mse_loss": (0, 1), "smooth_l1_loss": (0, 1), "huber_loss": (0, 1),
          "poisson_nll_loss": (0,), "gaussian_nll_loss": (0, 1),
          "hinge_embedding_loss": (0,), "soft_margin_loss": (0,),
          "cosine_embedding_loss": (0, 1), "margin_ranking_loss": (0, 1),
          "triplet_margin_loss": (0, 1, 2), "triplet_margin_with_distance_loss": (0, 1, 2),
          "multi_margin_loss": (0,), "multilabel_margin_loss": (0,),
          "multilabel_soft_margin_loss": (0,), "linear_cross_entropy": (0, 1)}


def ulp(x: np.ndarray, mantissa_bits: int, tiny: float) -> np.ndarray:
    """The spacing of the half dtype at the magnitude of ``x`` (float64 values)."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    exponent = np.floor(np.log2(np.maximum(x, tiny)))
    return np.exp2(exponent - mantissa_bits)


def is_float(a) -> bool:
    """float16/32/64, and ml_dtypes.bfloat16 (which NumPy does not count as np.floating)."""
    dtype = np.asarray(a).dtype
    return np.issubdtype(dtype, np.floating) or dtype == HALF["bfloat16"][0]


def to_torch(a: np.ndarray, dtype: torch.dtype | None) -> torch.Tensor:
    if dtype is None or not is_float(a):
        return torch.from_numpy(np.array(a, copy=True))
    return torch.from_numpy(np.asarray(a, dtype=np.float32).copy()).to(dtype)


def half_arrays(name: str, scale: float, np_dtype) -> list:
    out = []
    for i, a in enumerate(SAMPLES[name]):
        if is_float(a):
            a = a * scale if i in SCALED.get(name, ()) else a
            a = np.asarray(a, dtype=np.float32).astype(np_dtype)
        out.append(a)
    return out


def assert_within_ulp(ours, theirs: torch.Tensor, n_ulp: float, dtype_name: str, what: str):
    np_dtype, torch_dtype, bits = HALF[dtype_name]
    expected = theirs.detach().float().numpy().astype(np.float64)
    ours = np.asarray(ours)
    assert ours.dtype == np_dtype, f"{what}: dtype {ours.dtype}, torch {torch_dtype}"
    assert ours.shape == expected.shape, f"{what}: shape {ours.shape} != {expected.shape}"
    got = ours.astype(np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{what}: nan at other places"
    finite = np.isfinite(expected)
    assert np.array_equal(got[~finite & ~np.isnan(expected)],
                          expected[~finite & ~np.isnan(expected)]), f"{what}: inf differs"
    # below the smallest normal number the spacing stays that of the smallest binade
    import ml_dtypes  # imported by HALF already

    tiny = float(np.finfo(np.float16).smallest_normal) if dtype_name == "float16" \
        else float(ml_dtypes.finfo(ml_dtypes.bfloat16).smallest_normal)
    tol = n_ulp * ulp(np.maximum(np.abs(got), np.abs(expected)), bits, tiny)
    with np.errstate(invalid="ignore"):      # inf - inf where both overflow: judged above
        err = np.abs(got - expected)
    bad = finite & ~(err <= tol)
    assert not bad.any(), (f"{what}: {bad.sum()} of {bad.size} beyond {n_ulp} ulp; worst "
                           f"{got[bad][:3]} vs torch {expected[bad][:3]}")


def cases():
    for name in sorted(SAMPLES):
        for dtype_name in HALF:
            for scale in SCALES:
                for reduction in ("none", "mean", "sum"):
                    yield pytest.param(name, dtype_name, scale, reduction,
                                       id=f"{name}-{dtype_name}-x{scale:g}-{reduction}")


@pytest.mark.parametrize("name, dtype_name, scale, reduction", list(cases()))
def test_half_precision(name, dtype_name, scale, reduction):
    np_dtype = HALF[dtype_name][0]
    check_half(name, half_arrays(name, scale, np_dtype), dtype_name, diff=DIFF.get(name, (0,)),
               reduction=reduction)
