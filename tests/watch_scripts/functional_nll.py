"""A functional loss called from a helper: scores-to-nll at the helper's line."""

import torch
import torch.nn.functional as F


def compute_loss(scores, labels):
    return F.nll_loss(scores, labels)  # PLANTED scores-to-nll


torch.manual_seed(0)
weight = torch.randn(8, 5, requires_grad=True)
x, y = torch.randn(64, 8), torch.randint(0, 5, (64,))
for step in range(5):
    loss = compute_loss(x @ weight, y)
    loss.backward()
    with torch.no_grad():
        weight -= 0.01 * weight.grad
        weight.grad = None
