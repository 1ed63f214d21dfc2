"""Gradients of lossref's losses, under the forwards' names: ``lossref.grad.cross_entropy``.

Every function here takes the same arguments as the loss of the same name, plus a keyword
``grad_output`` (default ``None``, meaning ones, as ``loss.backward()``), and returns

    d( Σ grad_output · loss(input, ...) ) / d input

with the input's shape and dtype — exactly what ``torch.autograd.grad(loss, input,
grad_output)`` returns. Where a loss has several differentiable inputs the result is a
tuple in argument order (its first element is always the gradient of the first argument);
each function's docstring says which. Gradients with respect to targets are not computed.

Each gradient is written right below its forward in the family module, so the formula and its
derivative read together; this module only gathers them. They agree with torch's autograd
within rtol 1e-8 in float64 and 1e-4 in float32, not bitwise: the operation order of torch's
backward kernels differs. At a kink or clamp they take torch's side (sign(0) = 0 for L1, BCE's
backward divides by max(x(1 - x), 1e-12), ...).
"""

# One block per family module, each imported under the forward's name, e.g.
#     from .binary import binary_cross_entropy_grad as binary_cross_entropy

# binary.py
from .binary import binary_cross_entropy_grad as binary_cross_entropy
from .binary import binary_cross_entropy_with_logits_grad as binary_cross_entropy_with_logits

# classification.py
from .classification import cross_entropy_grad as cross_entropy
from .classification import nll_loss_grad as nll_loss

# regression.py, huber.py
from .huber import huber_loss_grad as huber_loss
from .huber import smooth_l1_loss_grad as smooth_l1_loss
from .regression import l1_loss_grad as l1_loss
from .regression import mse_loss_grad as mse_loss

# distributions.py
from .distributions import gaussian_nll_loss_grad as gaussian_nll_loss
from .distributions import kl_div_grad as kl_div
from .distributions import poisson_nll_loss_grad as poisson_nll_loss

# margin.py and its companions
from .margin import cosine_embedding_loss_grad as cosine_embedding_loss
from .margin import hinge_embedding_loss_grad as hinge_embedding_loss
from .margin import soft_margin_loss_grad as soft_margin_loss
from .multilabel import multi_margin_loss_grad as multi_margin_loss
from .multilabel_margin import multilabel_margin_loss_grad as multilabel_margin_loss
from .multilabel import multilabel_soft_margin_loss_grad as multilabel_soft_margin_loss
from .ranking import margin_ranking_loss_grad as margin_ranking_loss
from .ranking import triplet_margin_loss_grad as triplet_margin_loss
from .ranking import (triplet_margin_with_distance_loss_grad as
                      triplet_margin_with_distance_loss)

# sequence.py / vocabulary-scale cross-entropy
from .sequence import ctc_loss_grad as ctc_loss
from .vocabulary import linear_cross_entropy_grad as linear_cross_entropy

# parallel.py: the vocabulary split over ranks (this rank's slice of the gradient)
from .parallel import vocab_parallel_cross_entropy_grad as vocab_parallel_cross_entropy

__all__ = sorted(name for name in dir() if not name.startswith("_"))
