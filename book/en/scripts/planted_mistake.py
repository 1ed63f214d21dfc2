"""A small training run with a planted mistake, for chapter 15 (lossref.watch).

    python -m lossref.watch scripts/planted_mistake.py           # the mistake
    python -m lossref.watch scripts/planted_mistake.py --fixed   # the fix: prints nothing
"""

import sys

import torch
from torch import nn

torch.manual_seed(0)
torch.set_num_threads(1)
fixed = "--fixed" in sys.argv[1:]

# 256 samples, 10 features, 4 classes: the class is the largest of the first 4 features
x = torch.randn(256, 10)
y = x[:, :4].argmax(dim=1)

layers = [nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4)]
if not fixed:
    layers.append(nn.Softmax(dim=1))  # the planted mistake: the model outputs probabilities
model = nn.Sequential(*layers)
criterion = nn.CrossEntropyLoss()
lr = 0.5  # the learning rate of plain SGD

for epoch in range(1, 201):
    loss = criterion(model(x), y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    if epoch % 50 == 0:
        print(f"epoch {epoch:3}: loss {loss.item():.3f}")
