"""A module loss on softmax outputs: softmax-before-cross-entropy at the planted line."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4), nn.Softmax(dim=1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(32, 8), torch.randint(0, 4, (32,))
for step in range(10):
    loss = criterion(model(x), y)  # PLANTED softmax-before-cross-entropy
    opt.zero_grad()
    loss.backward()
    opt.step()
