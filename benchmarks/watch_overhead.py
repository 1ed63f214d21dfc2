"""What ``lossref.watch`` costs a training step: a small CPU MLP, one thread, watch on vs off.

Run with ``.venv/bin/python benchmarks/watch_overhead.py`` (``make bench`` runs it too); about
half a minute. The step (forward of a 64-128-10 MLP on a batch of 64, ``nn.CrossEntropyLoss``,
backward, SGD) takes ~0.5 ms on one thread. Measured, interleaved round by round so that the
machine's load hits every variant alike:

* ``off``: no watch;
* ``watch``: ``lossref.watch()`` running, after the first calls of the site (which go through
  ``lossref.diagnose`` once and are not timed): the steady state a training run spends its
  time in;
* ``TorchFunctionMode``: an empty ``TorchFunctionMode`` that only forwards every torch call, the
  other way to intercept losses, for comparison.

Each round times ``off, watch, TorchFunctionMode, watch, off`` back to back, ``--steps`` steps
each; a variant's time per step is the median over rounds, the overhead the median of the
per-round ratios. It
also prints the cost of one loss call alone, with and without the watch (best of 5 rounds).

Times are the CPU time of the training thread (``time.thread_time``; torch runs on that one
thread): on a shared machine the wall clock mostly measures the other processes (with a load of
10 on two cores, the same step read 1.0 ms of wall clock and 0.5 ms of CPU time).
``--clock wall`` uses ``time.perf_counter`` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.overrides import TorchFunctionMode  # noqa: E402

import lossref  # noqa: E402


class Forward(TorchFunctionMode):
    """Intercepts every torch function and forwards it (the least such a mode can cost)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def make_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    x, y = torch.randn(64, 64), torch.randint(0, 10, (64,))

    def step():
        loss = criterion(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


clock = time.thread_time


def time_steps(step, n: int) -> float:
    start = clock()
    for _ in range(n):
        step()
    return (clock() - start) / n


def watched_steps(step, n: int) -> float:
    with lossref.watch():
        for _ in range(5):                                      # the diagnosed first calls
            step()
        return time_steps(step, n)


def measure(rounds: int, steps: int) -> dict:
    step = make_step()
    for _ in range(200):                                        # warm-up
        step()
    times = {"off": [], "watch": [], "TorchFunctionMode": []}
    ratios = {"watch": [], "TorchFunctionMode": []}
    for _ in range(rounds):
        # off, watch, mode, watch, off: each variant sits on both sides of the round
        first = time_steps(step, steps)
        watched = watched_steps(step, steps)
        with Forward():
            mode = time_steps(step, steps)
        watched = (watched + watched_steps(step, steps)) / 2
        off = (first + time_steps(step, steps)) / 2
        for name, value in (("off", off), ("watch", watched), ("TorchFunctionMode", mode)):
            times[name].append(value)
        ratios["watch"].append(watched / off)
        ratios["TorchFunctionMode"].append(mode / off)
    return {
        "step_seconds": {k: statistics.median(v) for k, v in times.items()},
        "overhead_percent": {k: 100 * (statistics.median(v) - 1) for k, v in ratios.items()},
    }


def per_call(n: int = 20000) -> dict:
    import torch.nn.functional as F

    logits, labels = torch.randn(64, 10), torch.randint(0, 10, (64,))

    def calls():
        start = clock()
        for _ in range(n):
            F.cross_entropy(logits, labels)
        return (clock() - start) / n

    best_off = best_on = float("inf")
    for _ in range(5):
        best_off = min(best_off, calls())
        with lossref.watch():
            for _ in range(5):
                F.cross_entropy(logits, labels)
            best_on = min(best_on, calls())
    return {"off_us": best_off * 1e6, "watch_us": best_on * 1e6,
            "added_us": (best_on - best_off) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="the training thread's CPU time (default) or the wall clock")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    global clock
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(1)
    result = measure(args.rounds, args.steps)
    result["one_loss_call"] = per_call()
    result["torch"] = torch.__version__
    result["threads"] = torch.get_num_threads()
    result["cpus"] = os.cpu_count()
    result["clock"] = args.clock
    s, o, c = result["step_seconds"], result["overhead_percent"], result["one_loss_call"]
    print(f"lossref.watch overhead on a CPU MLP training step (torch {torch.__version__}, "
          f"1 thread, {'CPU time' if args.clock == 'cpu' else 'wall clock'}, "
          f"median of {args.rounds} rounds x {args.steps} steps)")
    print(f"  step, no watch            {s['off'] * 1e3:7.3f} ms")
    print(f"  step, lossref.watch       {s['watch'] * 1e3:7.3f} ms   {o['watch']:+6.1f} %")
    print(f"  step, TorchFunctionMode   {s['TorchFunctionMode'] * 1e3:7.3f} ms   "
          f"{o['TorchFunctionMode']:+6.1f} %   (for comparison)")
    print(f"  one F.cross_entropy call  {c['off_us']:7.1f} us off, {c['watch_us']:.1f} us "
          f"watched (+{c['added_us']:.1f} us)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
