"""Run a function on a few torch.distributed ranks on this machine (gloo, CPU, 127.0.0.1).

The Part IV chapters and ``tests/test_parallel.py`` launch their ranks with :func:`launch`; the
workers they run live here too, because a spawned process imports its function by name (a
function defined in a notebook cell cannot be spawned). Nothing here is imported by
``import lossref``, and torch is imported only inside the functions: lossref itself stays
torch-free, and its distributed algorithms take the collective as an argument
(:func:`torch_all_reduce` is the one these workers pass).

Every launch joins its processes with a time-out and kills what is left, and every rank calls
``destroy_process_group``, so a failing rank cannot hang a notebook or a test run.
"""

from __future__ import annotations

import queue as queue_module
import socket
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "data_parallel_worker",
    "free_port",
    "launch",
    "torch_all_reduce",
    "vocab_parallel_worker",
]


#: "forkserver": one clean server process imports torch once, then forks every rank from it
#: (a rank started by "spawn" imports torch itself, seconds per rank on a busy machine; a
#: rank forked from the caller inherits its OpenMP threads, which "fork" does not survive).
START_METHOD = "forkserver"

#: What a worker's ranks import beyond torch.distributed, by the worker's name: the forkserver
#: imports it once, before it forks the ranks (if this launch starts the server; a process starts
#: one). DistributedDataParallel imports torch._dynamo when it is constructed: 1.7 core-s that
#: every rank paid.
PRELOAD = {"data_parallel_worker": ["torch._dynamo"]}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_rank(rank: int, world_size: int, port: int, worker: Callable, args: tuple,
              results) -> None:
    """One process: join the group, run ``worker(rank, world_size, *args)``, report, leave."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)            # the ranks share the machine's cores
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size)
    try:
        results.put((rank, "ok", worker(rank, world_size, *args)))
    except BaseException:  # noqa: BLE001 - reported to the launcher, which raises
        results.put((rank, "error", traceback.format_exc()))
    finally:
        dist.destroy_process_group()


def launch(worker: Callable, world_size: int, *args: Any, timeout: float = 60.0) -> list:
    """Run ``worker(rank, world_size, *args)`` on ``world_size`` spawned gloo ranks.

    Returns the workers' return values, indexed by rank. Raises ``RuntimeError`` with the
    rank's traceback if a worker raises, and ``TimeoutError`` if the ranks have not all
    answered within ``timeout`` seconds; in every case no process is left running.
    """
    import torch.multiprocessing as mp

    ctx = mp.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        ctx.set_forkserver_preload(["torch.distributed", "lossref.ranks",
                                    *PRELOAD.get(getattr(worker, "__name__", ""), [])])
    results = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=_run_rank, args=(r, world_size, port, worker, args, results),
                         daemon=True) for r in range(world_size)]
    for p in procs:
        p.start()
    answers: dict[int, Any] = {}
    try:
        while len(answers) < world_size:
            try:
                rank, status, value = results.get(timeout=timeout)
            except queue_module.Empty:
                raise TimeoutError(f"{world_size - len(answers)} rank(s) did not answer within "
                                   f"{timeout} s") from None
            if status == "error":
                raise RuntimeError(f"rank {rank} failed:\n{value}")
            answers[rank] = value
        for p in procs:
            p.join(timeout)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(5)
        results.close()
        results.join_thread()
    return [answers[r] for r in range(world_size)]


def torch_all_reduce(array: np.ndarray, op: str) -> np.ndarray:
    """``all_reduce(array, op)`` for lossref's distributed functions, on torch.distributed.

    ``op`` is ``'max'`` or ``'sum'``; returns the group's reduction as a new NumPy array of
    the input's dtype (the input is not changed).
    """
    import torch
    import torch.distributed as dist

    ops = {"max": dist.ReduceOp.MAX, "sum": dist.ReduceOp.SUM}
    tensor = torch.from_numpy(np.array(array, copy=True))
    dist.all_reduce(tensor, op=ops[op])
    return tensor.numpy()


def vocab_parallel_worker(rank: int, world_size: int, logits: np.ndarray, target: np.ndarray,
                          cuts: list[int], options: list[dict]) -> list:
    """Each rank takes columns ``cuts[rank]:cuts[rank + 1]`` of ``logits`` (the whole
    ``(N, V)`` array is passed to every rank only to keep the demo short) and computes
    ``lossref.vocab_parallel_cross_entropy`` and its gradient with every dict of keyword
    ``options``. Returns ``[(value, gradient slice), ...]``, one pair per options dict."""
    import lossref

    start, stop = cuts[rank], cuts[rank + 1]
    local = np.ascontiguousarray(logits[:, start:stop])
    out = []
    for kw in options:
        value = lossref.vocab_parallel_cross_entropy(
            local, target, vocab_start=start, all_reduce=torch_all_reduce, **kw)
        grad = lossref.grad.vocab_parallel_cross_entropy(
            local, target, vocab_start=start, all_reduce=torch_all_reduce, **kw)
        out.append((value, grad))
    return out


def data_parallel_worker(rank: int, world_size: int, features: np.ndarray,
                         target: np.ndarray, bounds: list[int], weight: np.ndarray) -> dict:
    """A linear model ``logits = features @ weight.T`` wrapped in DistributedDataParallel;
    rank ``r`` takes the rows ``bounds[r]:bounds[r + 1]``. Two backward passes from the same
    weight: ``'per-rank mean'`` (each rank's ``cross_entropy`` with ``reduction='mean'``) and
    ``'global count'`` (``reduction='sum'`` divided by the all-reduced count of non-ignored
    targets, times ``world_size`` because DDP averages the ranks' gradients). Returns, for
    each, this rank's loss, its count of non-ignored targets and the weight's gradient after
    DDP's all-reduce."""
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    x = torch.from_numpy(features[bounds[rank]:bounds[rank + 1]])
    t = torch.from_numpy(target[bounds[rank]:bounds[rank + 1]])
    local_count = (t != -100).sum()
    out = {}
    for recipe in ("per-rank mean", "global count"):
        model = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False,
                                dtype=torch.from_numpy(weight).dtype)
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(weight))
        ddp = DistributedDataParallel(model)
        logits = ddp(x)
        if recipe == "per-rank mean":
            loss = F.cross_entropy(logits, t)
        else:
            count = local_count.clone()
            dist.all_reduce(count)                       # the global count of targets
            loss = F.cross_entropy(logits, t, reduction="sum") * world_size / count
        loss.backward()                                  # DDP all-reduces, then / world_size
        out[recipe] = {"loss": loss.item(), "count": int(local_count),
                       "grad": model.weight.grad.numpy().copy()}
    return out
