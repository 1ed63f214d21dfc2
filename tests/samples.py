"""A small valid positional call of each of the 22 losses, shared by the walks over every loss
(options, half precision): float64 arrays for values, int64 arrays for class indices and lengths.
"""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(21)


def _samples() -> dict[str, tuple]:
    """A small valid positional call of each loss (float64 arrays, int64 indices)."""
    r = RNG
    x = r.standard_normal((4, 3))
    p = 1 / (1 + np.exp(-x))
    y01 = (r.random((4, 3)) > 0.5).astype(np.float64)
    cls = np.array([0, 2, 1, 2])
    pm1 = np.array([1.0, -1.0, 1.0, -1.0])
    logp = np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True))
    ml_target = np.array([[0, 2, -1], [1, -1, 0], [2, 1, 0], [-1, 0, 0]])
    ctc_lp = r.standard_normal((6, 2, 4))
    ctc_lp = ctc_lp - np.log(np.exp(ctc_lp).sum(-1, keepdims=True))
    return {
        "binary_cross_entropy": (p, y01),
        "binary_cross_entropy_with_logits": (x, y01),
        "cross_entropy": (x, cls),
        "nll_loss": (logp, cls),
        "l1_loss": (x, y01),
        "mse_loss": (x, y01),
        "smooth_l1_loss": (x, y01),
        "huber_loss": (x, y01),
        "kl_div": (logp, p / p.sum(1, keepdims=True)),
        "poisson_nll_loss": (x, np.abs(x.round())),
        "gaussian_nll_loss": (x, y01, np.abs(x) + 0.5),
        "hinge_embedding_loss": (np.abs(x), np.where(y01 > 0, 1.0, -1.0)),
        "soft_margin_loss": (x, np.where(y01 > 0, 1.0, -1.0)),
        "cosine_embedding_loss": (x, r.standard_normal((4, 3)), pm1),
        "margin_ranking_loss": (x[:, 0], x[:, 1], pm1),
        "triplet_margin_loss": (x, r.standard_normal((4, 3)), r.standard_normal((4, 3))),
        "triplet_margin_with_distance_loss": (x, r.standard_normal((4, 3)),
                                              r.standard_normal((4, 3))),
        "multi_margin_loss": (x, cls),
        "multilabel_margin_loss": (x, ml_target),
        "multilabel_soft_margin_loss": (x, y01),
        "ctc_loss": (ctc_lp, np.array([[1, 2, 3], [2, 2, 0]]), np.array([6, 5]),
                     np.array([3, 2])),
        "linear_cross_entropy": (r.standard_normal((4, 5)), r.standard_normal((3, 5)), cls),
    }


SAMPLES = _samples()
