"""Training goes well, then a batch with a nan feature arrives at step 7 (call 8)."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
criterion = nn.MSELoss()
for step in range(12):
    x, y = torch.randn(32, 8), torch.randn(32, 1)
    if step == 7:
        x[3, 2] = float("nan")                      # one bad sample
    loss = criterion(model(x), y)  # PLANTED nonfinite-loss
    opt.zero_grad()
    loss.backward()
    opt.step()
