"""A sequence model's logits with the class axis last: torch refuses the call."""

import torch
import torch.nn as nn

torch.manual_seed(0)
logits = torch.randn(4, 7, 10, requires_grad=True)     # (N, T, C), torch wants (N, C, T)
tokens = torch.randint(0, 10, (4, 7))
loss = nn.CrossEntropyLoss()(logits, tokens)  # PLANTED raises
loss.backward()
