"""The fast paths of the elementwise losses (issue 29, helper "elem"): the common call — plain
C-contiguous float32/float64 ndarrays of one shape, default-ish options — skips the general
checks. Each fast path must return what the general path returns for the same numbers, bit for
bit (same value, dtype, type, warnings), and match torch live. The general path is forced by
handing the same numbers over as torch tensors, as a list, with ``reduction`` as a NumPy string,
or as a non-contiguous view; sizes cover 0-d, 1 and the edges of the 128 KiB blocks."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracle import assert_matches_torch, t

import lossref
from lossref import _elementwise

#: name -> (options of the fast call, how to draw (input, target) of a size)
#: 0-d, tiny, 2-d, and the edges of the blocks (float64: 16 384 a block, 20 480 the longest;
#: float32: 32 768 and 40 960): a tail shorter than a quarter block joins the last block
SIZES = [(), (1,), (7,), (3, 5), (20480,), (20481,), (40960,), (40961,), (73728,), (73729,)]


def _normal_pair(rng, shape, dtype):
    return (np.array(rng.standard_normal(shape) * 2, dtype),
            np.array(rng.standard_normal(shape) * 2, dtype))


def _signs(rng, shape, dtype):
    """Scores or distances, and ±1 targets with a few 0 (neither: both hinge terms)."""
    x = np.array(rng.standard_normal(shape) * 2, dtype)
    y = np.array(np.where(rng.random(shape) < 0.5, 1.0, -1.0), dtype)
    y[rng.random(shape) < 0.05] = 0.0
    return x, y


def _log_rates(rng, shape, dtype):
    """Log-rates and Poisson counts, as the benchmark draws them."""
    return (np.array(rng.standard_normal(shape) / 2, dtype),
            np.array(rng.poisson(2.0, shape), dtype))


def _log_probabilities(rng, shape, dtype):
    """Log-probabilities and probabilities, a few exactly 0 (xlogy's 0 · log 0 = 0)."""
    y = np.array(rng.random(shape), dtype)
    y[rng.random(shape) < 0.1] = 0.0
    return np.array(np.log(rng.random(shape) + 1e-3), dtype), y


def _logits(rng, shape, dtype):
    """Logits of every size and 0/1 targets with a few soft ones."""
    y = np.array(rng.random(shape) < 0.5, dtype)
    y[rng.random(shape) < 0.1] = 0.3
    return np.array(rng.standard_normal(shape) * 4, dtype), y


LOSSES = {
    "l1_loss": ({}, _normal_pair),
    "mse_loss": ({}, _normal_pair),
    "smooth_l1_loss": ({"beta": 0.3}, _normal_pair),
    "huber_loss": ({"delta": 0.3}, _normal_pair),
    "soft_margin_loss": ({}, _signs),
    "hinge_embedding_loss": ({"margin": 0.7}, _signs),
    "poisson_nll_loss": ({}, _log_rates),
    "kl_div": ({"log_target": False}, _log_probabilities),
    "binary_cross_entropy_with_logits": ({}, _logits),
}
DEFAULTS = {"smooth_l1_loss": {}, "huber_loss": {}, "hinge_embedding_loss": {},
            "kl_div": {"log_target": True}}   # default options take the fast path too


#: kl_div's 'mean' warns (torch's words; see test_kl_fast_path_warns_as_the_general_path)
REDUCTIONS = {"kl_div": ("sum", "batchmean")}


def _same(a, b):
    """Bit for bit: one type, one dtype, one shape, equal values (NaN equal to NaN)."""
    assert type(a) is type(b), (type(a), type(b))
    assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
    np.testing.assert_array_equal(a, b)
    assert np.array_equal(np.signbit(a), np.signbit(b))


def _general_calls(fn, x, y, reduction, kw):
    """The same call through the general path, four ways."""
    yield fn(torch.from_numpy(x), torch.from_numpy(y), reduction=reduction, **kw)
    yield fn(x, y, reduction=np.str_(reduction), **kw)
    if x.size > 30_000:                 # (the slow forms on the short sizes only)
        return
    yield fn(x, y.tolist(), reduction=reduction, **kw)
    if x.ndim == 1 and x.size > 1:      # a strided view of the same numbers
        xs, ys = np.repeat(x, 2)[::2], np.repeat(y, 2)[::2]
        assert not xs.flags.c_contiguous
        ours = fn(xs, ys, reduction=reduction, **kw)
        # the unblocked reduction sums in another order: equal to the last bits
        np.testing.assert_allclose(ours, fn(x, y, reduction=reduction, **kw),
                                   rtol=1e-5 if x.dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_is_the_general_path_and_torchs(name, shape, dtype):
    kw, draw = LOSSES[name]
    x, y = draw(np.random.default_rng(len(shape) and shape[0]), shape, dtype)
    fn, theirs = getattr(lossref, name), getattr(F, name)
    for options in (kw, DEFAULTS.get(name, kw)):
        if name == "kl_div" and options["log_target"]:
            with np.errstate(divide="ignore"):       # log-probabilities (-inf for a 0)
                y = np.asarray(np.log(y))
        for reduction in REDUCTIONS.get(name, ("mean", "sum")):
            ours = fn(x, y, reduction=reduction, **options)
            assert isinstance(ours, np.generic)
            for general in _general_calls(fn, x, y, reduction, options):
                if isinstance(general, np.generic):
                    _same(ours, general)
            assert_matches_torch(ours, theirs(t(x), t(y), reduction=reduction, **options), dtype)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_with_nan_inf_is_quiet_and_torchs(name, dtype):
    kw, _ = LOSSES[name]
    x = np.linspace(-3, 3, 40_001).astype(dtype)
    y = np.zeros_like(x)
    x[5], x[40_000], y[5] = np.inf, -np.inf, np.inf          # inf - inf: nan, silently
    fn, theirs = getattr(lossref, name), getattr(F, name)
    for xs in (x, np.where(np.arange(x.size) == 36_000, np.nan, x).astype(dtype),
               np.where(np.arange(x.size) == 36_000, np.inf, x).astype(dtype)):
        for reduction in REDUCTIONS.get(name, ("mean", "sum")):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                ours = fn(xs, y, reduction=reduction, **kw)
                _same(ours, fn(t(xs), t(y), reduction=reduction, **kw))
            assert_matches_torch(ours, theirs(t(xs), t(y), reduction=reduction, **kw), dtype)


def _outcome(call):
    """(value or exception type, the UserWarning messages) of a call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = call()
        except (ValueError, TypeError, RuntimeError) as error:
            value = type(error)
    return value, sorted(str(w.message) for w in caught if w.category is UserWarning)


@pytest.mark.parametrize("name", list(LOSSES))
def test_unusual_calls_still_take_the_general_path(name):
    """Broadcasting (torch's size warning, or torch's error), an empty input, a list, a
    strided view, 'none', a bad reduction, a legacy option: what the general path answers,
    as torch does."""
    kw, draw = LOSSES[name]
    fn, theirs = getattr(lossref, name), getattr(F, name)
    x, y = draw(np.random.default_rng(5), (4, 6), np.float32)
    empty = np.zeros((0,), np.float32)
    calls = [((x, y[0]), {}), ((x[:, :1], y), {}), ((empty, empty), {}), ((x, y.tolist()), {}),
             ((x[:, ::2], y[:, ::2]), {}), ((x, y), {"reduction": "none"}),
             ((x, y), {"reduction": "average"}), ((x, y), {"reduction": "sum", "reduce": True})]
    for args, options in calls:
        ours, our_warnings = _outcome(lambda: fn(*args, **kw, **options))
        torch_args = [torch.as_tensor(np.asarray(a, np.float32)) for a in args]
        expected, torch_warnings = _outcome(lambda: theirs(*torch_args, **kw, **options))
        if isinstance(expected, type):
            assert isinstance(ours, type), (args, options, ours)
        else:
            assert_matches_torch(ours, expected, np.float32)
        assert our_warnings == torch_warnings
    with pytest.raises(TypeError), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # kl_div's 'mean' warns first
        fn(x.astype(np.int64), y, **kw)


def test_work_buffers_sit_apart_in_a_page_and_per_thread():
    """The three block buffers start at different places in a 4 KiB page (no 4K aliasing
    between them, nor with an array that starts near a page's start), and each thread has its
    own."""
    import threading

    for dtype in (np.dtype(np.float32), np.dtype(np.float64)):
        z, c = _elementwise.work_buffers(dtype)
        k = _elementwise.constant_block(0.5, dtype)
        offsets = sorted(b.ctypes.data % 4096 for b in (z, c, k))
        assert offsets == [1024, 2048, 3072]
        assert z.size * z.itemsize == _elementwise.ELEMENT_BLOCK_BYTES * 5 // 4   # + a tail
        assert (k == dtype.type(0.5)).all()
        assert (_elementwise.constant_block(0.25, dtype) == dtype.type(0.25)).all()
    others = []
    thread = threading.Thread(target=lambda: others.append(
        _elementwise.work_buffers(np.dtype(np.float32))[0]))
    thread.start()
    thread.join()
    assert not np.shares_memory(others[0], _elementwise.work_buffers(np.dtype(np.float32))[0])


def test_threads_share_no_buffer():
    """Several threads summing different arrays at once each get their own total."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(7)
    pairs = [_normal_pair(rng, (70_000,), np.float32) for _ in range(6)]
    expected = [lossref.huber_loss(x, y, delta=0.5) for x, y in pairs]
    with ThreadPoolExecutor(3) as pool:
        for _ in range(5):
            got = list(pool.map(lambda p: lossref.huber_loss(p[0], p[1], delta=0.5), pairs))
            for a, b in zip(got, expected):
                _same(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("margin", [1.0, -0.5, float("inf")])
def test_hinge_selects_by_bits_as_torchs_where(dtype, margin):
    """hinge_embedding_loss's branch-free where: each element bit for bit torch's, with ±inf,
    NaN, ±0 distances and targets 1, -1, 0, 0.5, NaN, broadcast both ways."""
    values = np.array([0.3, 1.0, 2.5, -0.7, 0.0, -0.0, np.inf, -np.inf, np.nan], dtype)
    targets = np.array([1.0, -1.0, 0.0, 0.5, np.nan], dtype)
    x, y = np.meshgrid(values, targets)
    cases = [(x, y), (values, targets[:, None]), (values[:, None], targets)]
    for xs, ys in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = lossref.hinge_embedding_loss(xs, ys, margin=margin, reduction="none")
        theirs = F.hinge_embedding_loss(t(xs), t(ys), margin=margin, reduction="none").numpy()
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
        assert np.array_equal(np.signbit(ours), np.signbit(theirs))
        for reduction in ("mean", "sum"):
            assert_matches_torch(
                lossref.hinge_embedding_loss(xs, ys, margin=margin, reduction=reduction),
                F.hinge_embedding_loss(t(xs), t(ys), margin=margin, reduction=reduction), dtype)


def test_kl_fast_path_warns_as_the_general_path():
    """kl_div's 'mean' warns from the fast path as from the general one, naming the caller."""
    x, y = _log_probabilities(np.random.default_rng(3), (40, 25), np.float32)
    for call in (lambda: lossref.kl_div(x, y), lambda: lossref.kl_div(t(x), t(y))):
        with pytest.warns(UserWarning, match="'batchmean' divides only") as record:
            value = call()
        assert record[0].filename == __file__
        with pytest.warns(UserWarning, match="'batchmean' divides only"):
            assert_matches_torch(value, F.kl_div(t(x), t(y)), np.float32)
    for reduction in ("sum", "batchmean"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _same(lossref.kl_div(x, y, reduction=reduction),
                  lossref.kl_div(t(x), t(y), reduction=reduction))


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kink", [1e-30, 2.0 ** -61, 2.0 ** -59, 1e-12, 1e-3, 1.0, 1e3])
def test_kinked_sum_by_two_dots_keeps_the_small_terms(name, dtype, kink):
    """Σ c·(z - c/2) as dot(c, z) - dot(c, c)/2 (a kink too small for that: Σc²/2 +
    kink·Σ(z-c)): most differences far below the kink and a few far above it, torch's value
    either way."""
    rng = np.random.default_rng(11)
    x = np.array(rng.standard_normal(70_001) * kink * 1e-3, dtype)
    x[::997] = dtype(kink * 50)
    y = np.zeros_like(x)
    option = "beta" if name == "smooth_l1_loss" else "delta"
    for reduction in ("mean", "sum"):
        ours = getattr(lossref, name)(x, y, reduction=reduction, **{option: kink})
        _same(ours, getattr(lossref, name)(t(x), t(y), reduction=reduction, **{option: kink}))
        assert_matches_torch(ours, getattr(F, name)(t(x), t(y), reduction=reduction,
                                                    **{option: kink}), dtype)


GRADS = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"]


@pytest.mark.parametrize("name", GRADS)
@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5), (40961,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_fast_path_is_the_general_path_and_torchs(name, shape, dtype):
    """lossref.grad's fast path (grad_output None, 'mean'/'sum'): the general path's array bit
    for bit (the general path forced by tensors, a list, a NumPy-string reduction, and an
    explicit upstream of ones), with ±inf, NaN and values at the kink, and torch's gradient."""
    kw, draw = LOSSES[name]
    x, y = draw(np.random.default_rng(9), shape, dtype)
    if x.size > 8:
        x.flat[:5] = [np.inf, -np.inf, np.nan, 0.3, -0.3]   # 0.3: at beta/delta
        y.flat[:5] = [0.0, 1.0, 0.0, 0.0, 0.0]
    ours_fn = getattr(lossref.grad, name)
    for options in (kw, DEFAULTS.get(name, kw)):
        for reduction in ("mean", "sum"):
            ours = ours_fn(x, y, reduction=reduction, **options)
            assert type(ours) is np.ndarray and ours.flags.writeable
            for general in (ours_fn(t(x), t(y), reduction=reduction, **options),
                            ours_fn(x, y.tolist(), reduction=reduction, **options),
                            ours_fn(x, y, reduction=np.str_(reduction), **options),
                            ours_fn(x, y, reduction=reduction, grad_output=np.ones((), dtype),
                                    **options)):
                _same(ours, general)
            tx = t(x).requires_grad_(True)
            getattr(F, name)(tx, t(y), reduction=reduction, **options).backward()
            np.testing.assert_allclose(ours, tx.grad.numpy(), equal_nan=True,
                                       rtol=1e-4 if dtype == np.float32 else 1e-8)
