"""torch.compile: a compiled model with the loss outside, and a compiled loss function."""

import torch
import torch._dynamo
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = torch.compile(nn.Sequential(nn.Linear(8, 4), nn.Softmax(dim=1)))
x, y = torch.randn(16, 8), torch.randint(0, 4, (16,))


@torch.compile
def compiled_loss(probs, labels):
    return F.cross_entropy(probs, labels)  # inside the compiled region: not watched


for step in range(3):
    probs = model(x)
    outside = F.cross_entropy(probs, y)  # PLANTED softmax-before-cross-entropy
    inside = compiled_loss(probs, y)
    torch.testing.assert_close(inside, outside)
breaks = sum(torch._dynamo.utils.counters["graph_break"].values())
print(f"graph breaks: {breaks}, frames compiled: "
      f"{torch._dynamo.utils.counters['stats']['unique_graphs']}")
