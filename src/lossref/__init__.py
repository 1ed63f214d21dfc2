"""lossref: the loss functions of deep learning in pure NumPy, exact to ``torch.nn.functional``.

>>> import numpy as np, lossref
>>> logits = np.array([[1, 2], [1, 3], [1, 3]], dtype=np.float32)
>>> print(f"{lossref.cross_entropy(logits, np.array([0, 1, 1])):.4f}")
0.5224
"""

from . import grad
from ._reduction import legacy_reduction
from .activations import log_softmax, logsigmoid, sigmoid, softmax
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits
from .classification import cross_entropy, nll_loss
from .huber import huber_loss, smooth_l1_loss
from .regression import l1_loss, mse_loss
from .distributions import gaussian_nll_loss, kl_div, poisson_nll_loss
from .margin import cosine_embedding_loss, hinge_embedding_loss, soft_margin_loss
from .multilabel import multi_margin_loss, multilabel_soft_margin_loss
from .multilabel_margin import multilabel_margin_loss
from .ranking import margin_ranking_loss, triplet_margin_loss, triplet_margin_with_distance_loss
from .sequence import ctc_loss
from .vocabulary import linear_cross_entropy
from .parallel import vocab_parallel_cross_entropy
from .modules import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, CTCLoss,
                      GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                      LinearCrossEntropyLoss, MarginRankingLoss, MSELoss, MultiLabelMarginLoss,
                      MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss, PoissonNLLLoss,
                      SmoothL1Loss, SoftMarginLoss, TripletMarginLoss,
                      TripletMarginWithDistanceLoss)
from .diagnosis import Finding, diagnose

__version__ = "0.2.0"

__all__ = [
    "grad", "legacy_reduction", "log_softmax", "logsigmoid", "sigmoid", "softmax",
    # binary.py, classification.py
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    # regression.py, huber.py
    "huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss",
    # distributions.py
    "gaussian_nll_loss", "kl_div", "poisson_nll_loss",
    # margin.py, multilabel.py, multilabel_margin.py, ranking.py
    "cosine_embedding_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
    "margin_ranking_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    # sequence.py, vocabulary.py
    "ctc_loss", "linear_cross_entropy",
    # parallel.py: not a torch.nn loss; the vocabulary split over ranks (Megatron-LM)
    "vocab_parallel_cross_entropy",
    # modules.py: the classes
    "BCELoss", "BCEWithLogitsLoss", "CosineEmbeddingLoss", "CrossEntropyLoss", "CTCLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss",
    "LinearCrossEntropyLoss", "MarginRankingLoss", "MSELoss", "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss", "PoissonNLLLoss", "SmoothL1Loss",
    "SoftMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
    # diagnose.py
    "Finding", "diagnose",
    # watch/: imported on first use (it imports torch when a watch starts)
    "watch",
]


def __getattr__(name: str):
    # `lossref.watch` is loaded lazily, so that `python -m lossref.watch` does not find it
    # already imported (runpy would warn) and `import lossref` stays light.
    if name == "watch":
        import importlib

        return importlib.import_module(".watch", __name__)
    raise AttributeError(f"module 'lossref' has no attribute {name!r}")
