"""DistributedDataParallel on a 2-process gloo group (RANK/WORLD_SIZE/MASTER_* from the launcher).

Each rank trains on its own shard; the planted mistake is a (N, 1) output against an (N,) target.
"""

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(rank)
model = DistributedDataParallel(nn.Linear(4, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(16, 4), torch.randn(16)
for step in range(4):
    loss = F.mse_loss(model(x), y)  # PLANTED target-shape-mismatch
    opt.zero_grad()
    loss.backward()
    opt.step()
dist.destroy_process_group()
