"""A correct little training run: lossref.watch must print nothing for it."""

import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(32, 8), torch.randint(0, 4, (32,))
target = torch.rand(32, 4)
for step in range(20):
    logits = model(x)
    loss = criterion(logits, y) + 0.1 * F.mse_loss(logits.sigmoid(), target)
    loss = loss + F.binary_cross_entropy_with_logits(logits, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"done {' '.join(sys.argv[1:])}")
