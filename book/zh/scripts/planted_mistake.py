"""第 15 章（lossref.watch）用的小训练脚本，里面埋了一个错误。

    python -m lossref.watch scripts/planted_mistake.py           # 有错误的版本
    python -m lossref.watch scripts/planted_mistake.py --fixed   # 修正后：什么也不打印
"""

import sys

import torch
from torch import nn

torch.manual_seed(0)
torch.set_num_threads(1)
fixed = "--fixed" in sys.argv[1:]

# 256 个样本、10 个特征、4 个类别：类别就是前 4 个特征里最大的那一个
x = torch.randn(256, 10)
y = x[:, :4].argmax(dim=1)

layers = [nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4)]
if not fixed:
    layers.append(nn.Softmax(dim=1))  # 埋下的错误：模型输出的是概率
model = nn.Sequential(*layers)
criterion = nn.CrossEntropyLoss()
lr = 0.5  # 普通 SGD 的学习率

for epoch in range(1, 201):
    loss = criterion(model(x), y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    if epoch % 50 == 0:
        print(f"第 {epoch:3} 轮：损失 {loss.item():.3f}")
