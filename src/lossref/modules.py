"""``nn.Module``-like loss objects: configure once, call as ``loss(input, target)``.

They hold their options and call the function of the same family; nothing else.
As in PyTorch, passing the legacy ``size_average``/``reduce`` to a constructor
resolves (and warns) once, at construction.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from .binary import binary_cross_entropy, binary_cross_entropy_with_logits
from .classification import cross_entropy, nll_loss
from ._reduction import legacy_reduction

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
                 reduce: bool | None = None, reduction: str = "mean") -> None:
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
                 reduce: bool | None = None, reduction: str = "mean",
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
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
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
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight
        self.ignore_index = ignore_index

    def __call__(self, input: ArrayLike, target: ArrayLike):
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


# ---- regression.py -------------------------------------------------------------------------


# ---- distributions.py ----------------------------------------------------------------------


# ---- margin.py and its companions ----------------------------------------------------------


# ---- sequence.py / vocabulary-scale cross-entropy ------------------------------------------
