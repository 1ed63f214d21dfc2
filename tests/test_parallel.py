"""lossref.vocab_parallel_cross_entropy and its gradient (parallel.py) against F.cross_entropy
on the whole logits, live.

Two harnesses. In process: the ranks are threads and the all-reduce is NumPy's (fast, so
hypothesis can draw slices, reductions, ignore_index, smoothing and dtypes freely). On
torch.distributed: real gloo groups of 2 and 3 processes on 127.0.0.1, launched by
``lossref.ranks.launch`` (joins with a time-out and kills what is left, so a failure cannot
hang the run), several cases per group because starting the processes is what costs.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from oracle import DTYPES, TOL, assert_matches_torch, examples, t

import lossref
from lossref.ranks import launch, vocab_parallel_worker

SETTINGS = examples(60)


def run_ranks(fn, slices, *args, **kwargs) -> list:
    """``fn(slice, *args, vocab_start=…, all_reduce=…, **kwargs)`` on one thread per slice,
    with an all-reduce over the threads; the results, by rank."""
    n = len(slices)
    barrier = threading.Barrier(n, timeout=10)
    posted: list[dict] = [{} for _ in range(n)]      # posted[rank][call number] = array
    out: list = [None] * n
    errors: list = []

    def all_reduce_for(rank):
        calls = [0]

        def all_reduce(array, op):
            k = calls[0]
            calls[0] += 1
            posted[rank][k] = np.array(array, copy=True)
            barrier.wait()
            arrays = [posted[r][k] for r in range(n)]
            reduced = np.maximum.reduce(arrays) if op == "max" else np.sum(arrays, axis=0)
            barrier.wait()
            return reduced.astype(arrays[0].dtype)
        return all_reduce

    starts = np.cumsum([0] + [s.shape[1] for s in slices])[:-1]

    def work(rank):
        try:
            out[rank] = fn(slices[rank], *args, vocab_start=int(starts[rank]),
                           all_reduce=all_reduce_for(rank), **kwargs)
        except BaseException as exc:        # noqa: BLE001 - re-raised below, in the test
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(r,)) for r in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real or errors:
        raise (real or errors)[0]
    return out


def torch_reference(logits, target, grad_output, **kw):
    """F.cross_entropy on the whole logits, and d(Σ grad_output · loss)/d logits."""
    x = t(logits).requires_grad_()
    loss = F.cross_entropy(x, t(target), **kw)
    (loss * t(grad_output)).sum().backward()
    return loss, x.grad


def split(logits, cuts):
    return [np.ascontiguousarray(logits[:, a:b]) for a, b in itertools.pairwise(cuts)]


@st.composite
def cases(draw):
    dtype = draw(st.sampled_from(DTYPES))
    n = draw(st.integers(0, 6))                    # 0: the empty batch (mean nan, sum 0)
    classes = draw(st.integers(1, 12))
    world = draw(st.integers(1, 4))
    inner = sorted(draw(st.lists(st.integers(0, classes), min_size=world - 1,
                                 max_size=world - 1)))
    cuts = [0, *inner, classes]                      # uneven, possibly empty slices
    scale = draw(st.sampled_from([0.5, 3.0, 30.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, classes)) * scale).astype(dtype)
    ignore_index = draw(st.sampled_from([-100, 0, classes - 1]))
    target = rng.integers(0, classes, n)
    target[rng.random(n) < 0.3] = ignore_index
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    smoothing = draw(st.sampled_from([0.0, 0.1, 1.0, float(rng.random())]))
    grad_output = (rng.standard_normal(n) if reduction == "none"
                   else rng.standard_normal(())).astype(dtype)
    options = {"ignore_index": ignore_index, "reduction": reduction, "label_smoothing": smoothing}
    return logits, target, cuts, options, grad_output


@SETTINGS
@given(cases())
def test_threads_match_cross_entropy_on_the_whole_logits(case):
    logits, target, cuts, options, grad_output = case
    slices = split(logits, cuts)
    loss, grad = torch_reference(logits, target, grad_output, **options)
    values = run_ranks(lossref.vocab_parallel_cross_entropy, slices, target, **options)
    for value in values:                              # every rank gets the whole loss
        assert_matches_torch(value, loss, logits.dtype)
    grads = run_ranks(lossref.grad.vocab_parallel_cross_entropy, slices, target,
                      grad_output=grad_output, **options)
    for g, s in zip(grads, slices):
        assert g.shape == s.shape and g.dtype == s.dtype
    assert_matches_torch(np.concatenate(grads, axis=1), grad, logits.dtype)


def test_every_target_ignored_gives_nan_mean_and_zero_sum():
    logits = np.arange(12.0).reshape(3, 4)
    target = np.full(3, -100)
    for reduction in ("mean", "sum"):
        expected = F.cross_entropy(t(logits), t(target), reduction=reduction)
        values = run_ranks(lossref.vocab_parallel_cross_entropy, split(logits, [0, 1, 4]),
                           target, reduction=reduction)
        for value in values:
            assert_matches_torch(value, expected, np.float64)


def test_large_logits_stay_finite():
    # the global max is subtracted on every rank before exp: 1e4 does not overflow
    logits = np.array([[1e4, 0.0, -1e4, 5e3], [-1e4, 1e4, 1e4, 0.0]], dtype=np.float32)
    target = np.array([3, 0])
    loss, grad = torch_reference(logits, target, np.float32(1.0))
    values = run_ranks(lossref.vocab_parallel_cross_entropy, split(logits, [0, 3, 4]), target)
    assert np.isfinite(values[0])
    assert_matches_torch(values[0], loss, np.float32)
    grads = run_ranks(lossref.grad.vocab_parallel_cross_entropy, split(logits, [0, 3, 4]),
                      target)
    assert_matches_torch(np.concatenate(grads, axis=1), grad, np.float32)


def single(array, op):
    return array        # a group of one rank


@pytest.mark.parametrize("call, error, words", [
    ({"reduction": "avg"}, ValueError, "avg is not a valid value for reduction"),
    ({"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    ({"label_smoothing": -0.1}, ValueError, "label_smoothing"),
    ({"target": np.array([0, 4])}, IndexError, "4"),
    ({"target": np.array([0, -3])}, IndexError, "-3"),
    ({"target": np.array([0])}, ValueError, "target"),
    ({"target": np.array([0.0, 1.0])}, TypeError, ""),
    ({"local_logits": np.zeros((2, 4), dtype=np.int64)}, TypeError, ""),
    ({"local_logits": np.zeros((2, 4, 1))}, ValueError, "local_logits"),
    ({"vocab_start": -1}, ValueError, "vocab_start"),
    ({"vocab_start": 1.5}, TypeError, "vocab_start"),
    ({"all_reduce": None}, TypeError, "all_reduce"),
    ({"ignore_index": 1.5}, TypeError, "ignore_index"),
])
def test_bad_input_is_refused(call, error, words):
    args = {"local_logits": np.zeros((2, 4)), "target": np.array([0, 3]), "vocab_start": 0,
                "all_reduce": single} | call
    for fn in (lossref.vocab_parallel_cross_entropy, lossref.grad.vocab_parallel_cross_entropy):
        with pytest.raises(error) as info:
            fn(**args)
        assert words in str(info.value)


def test_reduction_error_is_torchs():
    with pytest.raises(ValueError) as ours:
        lossref.vocab_parallel_cross_entropy(np.zeros((1, 2)), np.array([0]), vocab_start=0,
                                             all_reduce=single, reduction="avg")
    with pytest.raises(ValueError) as theirs:
        F.cross_entropy(torch.zeros(1, 2), torch.tensor([0]), reduction="avg")
    assert str(ours.value).startswith(str(theirs.value))   # lossref adds the valid values


# --- real gloo groups ---------------------------------------------------------------------

GLOO_OPTIONS = [{"reduction": r, "label_smoothing": s}
                for r in ("mean", "sum", "none") for s in (0.0, 0.2)]


@pytest.mark.parametrize("cuts", [[0, 2, 9], [0, 1, 5, 9]], ids=["2 ranks", "3 ranks"])
def test_gloo_group_matches_cross_entropy_on_the_whole_logits(cuts):
    rng = np.random.default_rng(len(cuts))
    base = rng.standard_normal((7, 9)) * 4
    target = rng.integers(0, 9, 7)
    target[[1, 4]] = -100
    for dtype in (np.float32, np.float64):
        logits = base.astype(dtype)
        ranks = launch(vocab_parallel_worker, len(cuts) - 1, logits, target, cuts,
                       GLOO_OPTIONS, timeout=120)
        for k, options in enumerate(GLOO_OPTIONS):
            loss = F.cross_entropy(t(logits), t(target), **options)
            x = t(logits).requires_grad_()
            F.cross_entropy(x, t(target), **options).sum().backward()
            for rank in ranks:
                assert_matches_torch(rank[k][0], loss, dtype)
            grad = np.concatenate([rank[k][1] for rank in ranks], axis=1)
            assert grad.dtype == dtype
            np.testing.assert_allclose(grad, x.grad.numpy(), **TOL[dtype])


def failing_worker(rank, world_size):
    if rank == 1:
        raise ArithmeticError("rank 1 gives up")
    return rank


def test_a_failing_rank_raises_and_leaves_no_process():
    import multiprocessing

    before = set(multiprocessing.active_children())
    with pytest.raises(RuntimeError, match="rank 1 gives up"):
        launch(failing_worker, 2, timeout=120)
    left = [p for p in multiprocessing.active_children() if p not in before]
    assert not left, f"processes still running: {left}"


def hanging_worker(rank, world_size):
    if rank == 1:
        import time
        time.sleep(600)
    return rank


def test_a_hanging_rank_times_out_and_is_killed():
    import multiprocessing

    before = set(multiprocessing.active_children())
    with pytest.raises(TimeoutError, match="did not answer"):
        launch(hanging_worker, 2, timeout=3)
    left = [p for p in multiprocessing.active_children() if p not in before]
    assert not left, f"processes still running: {left}"
