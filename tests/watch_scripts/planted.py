"""Three planted mistakes in one training run, each on a line marked PLANTED:
a module loss on softmax outputs, a functional loss in a helper, and a nan batch at step 7.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def compute_loss(scores, labels):
    return F.nll_loss(scores, labels)  # PLANTED scores-to-nll


torch.manual_seed(0)
classifier = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4), nn.Softmax(dim=1))
regressor = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
params = [*classifier.parameters(), *regressor.parameters()]
opt = torch.optim.SGD(params, lr=0.01)
criterion, mse = nn.CrossEntropyLoss(), nn.MSELoss()
for step in range(10):
    x, y, z = torch.randn(32, 8), torch.randint(0, 4, (32,)), torch.randn(32, 1)
    loss = criterion(classifier(x), y)  # PLANTED softmax-before-cross-entropy
    loss = loss + compute_loss(classifier[:3](x), y)
    if step == 7:
        x = x.clone()
        x[3, 2] = float("nan")  # one bad sample
    loss = loss + mse(regressor(x), z)  # PLANTED nonfinite-loss
    opt.zero_grad()
    loss.backward()
    opt.step()
