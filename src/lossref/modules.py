"""``nn.Module``-like loss objects: configure once, call as ``loss(input, target)``.

They hold their options and call the function of the same family; nothing else.
As in PyTorch, passing the legacy ``size_average``/``reduce`` to a constructor
resolves (and warns) once, at construction.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from ._reduction import Reduction, legacy_reduction
from ._validation import asarray as _asarray
from ._validation import check_triplet_margin
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits
from .classification import cross_entropy, nll_loss
from .distributions import gaussian_nll_loss, kl_div, poisson_nll_loss
from .huber import huber_loss, smooth_l1_loss
from .margin import cosine_embedding_loss, hinge_embedding_loss, soft_margin_loss
from .multilabel import multi_margin_loss, multilabel_soft_margin_loss
from .multilabel_margin import multilabel_margin_loss
from .ranking import (
    margin_ranking_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .regression import l1_loss, mse_loss
from .sequence import ctc_loss
from .vocabulary import linear_cross_entropy

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]


class _Loss:
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        if size_average is not None or reduce is not None:
            reduction = legacy_reduction(size_average, reduce)
        self.reduction = reduction

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                            if k == "reduction" or v is not None)
        return f"{type(self).__name__}({options})"


class BCELoss(_Loss):
    """Callable form of :func:`lossref.binary_cross_entropy`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = BCELoss(reduction="sum")
    >>> print(f"{loss(np.array([0.5, 0.2]), np.array([1.0, 0.0])):.4f}")
    0.9163
    """

    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: Reduction = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Callable form of :func:`lossref.binary_cross_entropy_with_logits`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = BCEWithLogitsLoss(pos_weight=np.array([3.0]))
    >>> print(f"{loss(np.array([0.0, 0.0]), np.array([1.0, 0.0])):.4f}")
    1.3863
    """

    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: Reduction = "mean",
                 pos_weight: ArrayLike | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight
        self.pos_weight = pos_weight

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Callable form of :func:`lossref.cross_entropy`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = CrossEntropyLoss(weight=np.array([1.0, 2.0]), reduction="sum")
    >>> print(f"{loss(np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]]), np.array([0, 1, 1])):.4f}")
    1.8210
    """

    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: Reduction = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Callable form of :func:`lossref.nll_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = NLLLoss(reduction="sum")
    >>> print(loss(np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0]]), np.array([0, 1, 1])))
    -7.0
    """

    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: Reduction = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight
        self.ignore_index = ignore_index

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


# ---- regression.py -------------------------------------------------------------------------

__all__ += ["HuberLoss", "L1Loss", "MSELoss", "SmoothL1Loss"]


class L1Loss(_Loss):
    """Callable form of :func:`lossref.l1_loss` (no ``weight``: only the functional has one).

    Examples
    --------
    >>> import numpy as np
    >>> print(f"{L1Loss()(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0])):.4f}")
    1.1667
    """

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Callable form of :func:`lossref.mse_loss` (no ``weight``: only the functional has one).

    Examples
    --------
    >>> import numpy as np
    >>> loss = MSELoss(reduction="sum")
    >>> print(f"{loss(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0])):.4f}")
    9.2500
    """

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Callable form of :func:`lossref.smooth_l1_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = SmoothL1Loss(beta=0.5)
    >>> print(f"{loss(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0])):.4f}")
    1.0000
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Callable form of :func:`lossref.huber_loss` (no ``weight``: only the functional has one).

    Examples
    --------
    >>> import numpy as np
    >>> loss = HuberLoss(delta=0.5)
    >>> print(f"{loss(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0])):.4f}")
    0.5000
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        if not isinstance(delta, (float, int)):  # torch's own check, at construction
            raise TypeError(f"delta must be a float or int, got: {type(delta)}")
        super().__init__(reduction=reduction)
        self.delta = delta

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


# ---- distributions.py ----------------------------------------------------------------------

__all__ += ["GaussianNLLLoss", "KLDivLoss", "PoissonNLLLoss"]


class KLDivLoss(_Loss):
    """Callable form of :func:`lossref.kl_div` (``'mean'`` warns at each call, as in PyTorch).

    Examples
    --------
    >>> import numpy as np
    >>> loss = KLDivLoss(reduction="batchmean", log_target=True)
    >>> print(f"{loss(np.log([[0.25, 0.75]]), np.log([[0.5, 0.5]])):.4f}")
    0.1438
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Callable form of :func:`lossref.poisson_nll_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = PoissonNLLLoss(full=True, reduction="sum")
    >>> print(f"{loss(np.log([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 5.0])):.4f}")
    4.5433
    """

    def __init__(self, log_input: bool = True, full: bool = False,
                 size_average: bool | None = None, eps: float = 1e-8,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return poisson_nll_loss(input, target, log_input=self.log_input, full=self.full,
                                eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Callable form of :func:`lossref.gaussian_nll_loss`: ``loss(input, target, var)``.

    Examples
    --------
    >>> import numpy as np
    >>> loss = GaussianNLLLoss(reduction="sum")
    >>> print(f"{loss(np.array([0.0, 1.0]), np.array([0.0, 0.0]), np.array([1.0, 2.0])):.4f}")
    0.5966
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps

    def __call__(self, input: ArrayLike, target: ArrayLike, var: ArrayLike | float):
        return gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                 reduction=self.reduction)


# ---- margin.py and its companions ----------------------------------------------------------
__all__ += ["CosineEmbeddingLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
            "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
            "SoftMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss"]


class SoftMarginLoss(_Loss):
    """Callable form of :func:`lossref.soft_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> print(f"{SoftMarginLoss()(np.array([2.0, -1.0]), np.array([1.0, 1.0])):.4f}")
    0.7201
    """

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """Callable form of :func:`lossref.multilabel_soft_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = MultiLabelSoftMarginLoss(weight=np.array([1.0, 3.0]))
    >>> print(f"{loss(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])):.4f}")
    1.3863
    """

    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return multilabel_soft_margin_loss(input, target, weight=self.weight,
                                           reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Callable form of :func:`lossref.hinge_embedding_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> print(HingeEmbeddingLoss(margin=2.0)(np.array([0.5, 0.5]), np.array([1, -1])))
    1.0
    """

    def __init__(self, margin: float = 1.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """Callable form of :func:`lossref.cosine_embedding_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = CosineEmbeddingLoss(margin=0.5, reduction="sum")
    >>> print(f"{loss(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]), np.array([-1])):.4f}")
    0.2071
    """

    def __init__(self, margin: float = 0.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def __call__(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike):
        return cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """Callable form of :func:`lossref.margin_ranking_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = MarginRankingLoss(margin=0.5)
    >>> print(loss(np.array([1.0, 1.0]), np.array([0.0, 0.75]), np.array([1, 1])))
    0.125
    """

    def __init__(self, margin: float = 0.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def __call__(self, input1: ArrayLike, input2: ArrayLike, target: ArrayLike):
        return margin_ranking_loss(input1, input2, target, margin=self.margin,
                                   reduction=self.reduction)


class MultiMarginLoss(_Loss):
    """Callable form of :func:`lossref.multi_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = MultiMarginLoss(p=2, margin=0.5)
    >>> print(f"{loss(np.array([[0.1, 0.2, 0.4, 0.8]]), np.array([3])):.4f}")
    0.0025
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: ArrayLike | None = None,
                 size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"only p == 1 and p == 2 supported, got p={p!r}")
        self.p = p
        self.margin = margin
        self.weight = weight

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                 reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Callable form of :func:`lossref.multilabel_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = MultiLabelMarginLoss(reduction="none")
    >>> print(loss(np.array([[0.1, 0.2, 0.4, 0.8]]), np.array([[3, 0, -1, 1]])))
    [0.85]
    """

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Callable form of :func:`lossref.triplet_margin_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = TripletMarginLoss(margin=1.0, p=1.0, eps=0.0)
    >>> print(loss(np.array([[0.0, 0.0]]), np.array([[1.0, 1.0]]), np.array([[0.0, 2.5]])))
    0.5
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        check_triplet_margin(margin, "TripletMarginLoss")  # at construction, as torch
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def __call__(self, anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike):
        return triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                   eps=self.eps, swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Callable form of :func:`lossref.triplet_margin_with_distance_loss`.

    ``distance_function`` takes two NumPy arrays (``None``: the pairwise distance).

    Examples
    --------
    >>> import numpy as np
    >>> l1 = lambda u, v: np.abs(u - v).sum(-1)
    >>> loss = TripletMarginWithDistanceLoss(distance_function=l1)
    >>> print(loss(np.array([[0.0, 0.0]]), np.array([[1.0, 1.0]]), np.array([[0.0, 2.5]])))
    0.5
    """

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        check_triplet_margin(margin, "TripletMarginWithDistanceLoss")  # as torch, here
        self.distance_function = distance_function
        self.margin = margin
        self.swap = swap

    def __call__(self, anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike):
        return triplet_margin_with_distance_loss(anchor, positive, negative,
                                                 distance_function=self.distance_function,
                                                 margin=self.margin, swap=self.swap,
                                                 reduction=self.reduction)


# ---- sequence.py / vocabulary-scale cross-entropy ------------------------------------------
__all__ += ["CTCLoss", "LinearCrossEntropyLoss"]


class CTCLoss(_Loss):
    """Callable form of :func:`lossref.ctc_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> loss = CTCLoss(reduction="sum")
    >>> print(f"{loss(np.log(np.full((3, 1, 2), 0.5)), np.array([[1]]), [3], [1]):.4f}")
    0.2877
    """

    def __init__(self, blank: int = 0, reduction: Reduction = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def __call__(self, log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike,
                 target_lengths: ArrayLike):
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                        reduction=self.reduction, zero_infinity=self.zero_infinity)


class LinearCrossEntropyLoss(_Loss):
    """Callable form of :func:`lossref.linear_cross_entropy`, holding its linear layer.

    PyTorch's constructor ``LinearCrossEntropyLoss(in_features, num_classes, *, out_features=(),
    bias=False, device=None, dtype=None, reduction='mean', weight=None, ignore_index=None,
    label_smoothing=0.0, options=None)`` creates a randomly initialised ``nn.Linear``; lossref
    has no parameters to initialise, so it takes the linear weight (and bias) themselves, of
    shape (C, d1, ..., dK, in_features) (and (C, d1, ..., dK)). ``in_features``, ``num_classes``
    and ``out_features`` are read from the weight's shape; the other options are PyTorch's.

    Examples
    --------
    >>> import numpy as np
    >>> loss = LinearCrossEntropyLoss(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    >>> loss.in_features, loss.num_classes, loss.out_features
    (2, 3, ())
    >>> print(f"{loss(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0, 1, 2])):.4f}")
    0.7105
    """

    def __init__(self, linear_weight: ArrayLike, *, linear_bias: ArrayLike | None = None,
                 reduction: Reduction = "mean", weight: ArrayLike | None = None,
                 ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options=None) -> None:
        super().__init__(reduction=reduction)
        shape = _asarray(linear_weight).shape
        if len(shape) < 2:
            raise ValueError("LinearCrossEntropyLoss: linear_weight must have shape "
                             f"(C, d1, ..., dK, in_features), got shape {shape}")
        self.in_features, self.num_classes, self.out_features = shape[-1], shape[0], shape[1:-1]
        self.linear_weight = linear_weight
        self.linear_bias = linear_bias
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.options = options

    def __repr__(self) -> str:
        return (f"LinearCrossEntropyLoss(in_features={self.in_features}, "
                f"num_classes={self.num_classes}, out_features={self.out_features}, "
                f"bias={self.linear_bias is not None}, reduction={self.reduction!r})")

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return linear_cross_entropy(input, self.linear_weight, target,
                                    linear_bias=self.linear_bias, weight=self.weight,
                                    reduction=self.reduction, ignore_index=self.ignore_index,
                                    label_smoothing=self.label_smoothing, options=self.options)
