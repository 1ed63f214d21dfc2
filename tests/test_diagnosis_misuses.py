"""lossref.diagnose, round two (issue 22): the misuses of the public threads, both ways.

Every case: the call gives the code with its severity, and 'error' exactly when torch refuses;
the corrected call gives no error or warning, and torch accepts it. Then the numbers the new
messages print, each computed by torch.
"""

from __future__ import annotations

import functools
import itertools
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from diagnosis_cases import (
    CT,
    IL,
    K3,
    K3_T,
    LP,
    LW,
    NEW_CASES,
    NEW_IDS,
    SIG,
    SM,
    TL,
    H,
    T,
    Y,
    Z,
    codes,
    serious,
    torch_call,
    torch_refusal,
)
from hypothesis import given
from hypothesis import strategies as st
from oracle import examples

from lossref import diagnose


@pytest.mark.parametrize("case", NEW_CASES, ids=NEW_IDS)
def test_finding_fires_and_matches_torch(case):
    code, severity, bad, _ = case
    found = diagnose(bad[0], *bad[1], **bad[2])
    assert code in codes(found, severity), f"expected {severity} {code}, got {found}"
    refusal = torch_refusal(*bad)
    assert (refusal is not None) == any(f.severity == "error" for f in found), (refusal, found)
    for f in found:
        if f.severity == "error":
            for quoted in re.findall(r'"([^"]+)"', f.message):
                if "..." not in quoted:
                    assert quoted in refusal, (quoted, refusal)


@pytest.mark.parametrize("case", NEW_CASES, ids=NEW_IDS)
def test_corrected_call_is_quiet(case):
    code, _, _, good = case
    found = diagnose(good[0], *good[1], **good[2])
    assert code not in codes(found)
    assert not serious(found), f"corrected call still gives {found}"
    assert not torch_call(*good)


# --- What the messages claim, computed by torch ------------------------------------------------

def test_shape_mismatch_counts_are_what_torch_averages():
    p1, t1 = SIG[:, :1], T[:, 0]                                  # (6, 1) against (6,)
    found = diagnose("mse_loss", p1, t1)
    assert codes(found) == ["target-shape-mismatch"] and found[0].severity == "warning"
    assert "averages 36 differences" in found[0].message and "instead of 6 pairs" in found[0].message
    with pytest.warns(UserWarning):
        value = F.mse_loss(p1, t1)
    torch.testing.assert_close(value, ((p1 - t1[None, :]) ** 2).mean())        # 36 terms
    # the same values in other shapes: torch's number is right, and the finding says so
    found = diagnose("mse_loss", Z[:1, 0], T[0, 0])
    assert found[0].severity == "info" and "the value is right" in found[0].message
    with pytest.warns(UserWarning):
        torch.testing.assert_close(F.mse_loss(Z[:1, 0], T[0, 0]), F.mse_loss(Z[0, 0], T[0, 0]))


def test_bce_clamp_message_counts_only_the_clamped_terms():
    x = torch.tensor([0.0, 1.0, 0.0, 0.3, 1.0])
    y = torch.tensor([1.0, 0.0, 0.5, 1.0, 1.0])                   # two terms of 100, one of 50
    found = diagnose("binary_cross_entropy", x, y)
    terms = F.binary_cross_entropy(x, y, reduction="none")
    clamped = terms[:3]
    assert clamped.tolist() == [100.0, 100.0, 50.0]
    f = found[0]
    assert f.code == "bce-log-clamped"
    assert "3 of the 5" in f.message and "(2 of them exactly 100)" in f.message
    assert f"add {clamped.sum().item():.4g} to the sum" in f.message
    assert f"{clamped.sum().item() / 5:.4g} to the mean" in f.message


def test_label_smoothing_floor_is_torchs_minimum():
    eps, c = 0.1, 4
    q = torch.full((c,), eps / c)
    q[2] += 1 - eps
    floor = F.cross_entropy(q.log()[None], torch.tensor([2]), label_smoothing=eps)
    # nudging the logits away from log q only raises it
    assert F.cross_entropy(q.log()[None] + torch.tensor([[0.0, 0.0, 0.1, 0.0]]),
                           torch.tensor([2]), label_smoothing=eps) > floor
    found = diagnose("cross_entropy", Z, Y, label_smoothing=eps)
    assert f"cannot go below {floor.item():.4g}" in found[0].message


def test_sigmoid_floor_is_torchs_minimum():
    best = F.cross_entropy(torch.tensor([[1.0, 0.0, 0.0, 0.0]]), torch.tensor([0]))
    found = diagnose("cross_entropy", SIG, Y)
    assert f"= {best.item():.4g} for C = 4" in found[0].message
    grid = torch.rand(2000, 4, generator=torch.Generator().manual_seed(1))
    assert F.cross_entropy(grid, torch.zeros(2000, dtype=torch.long), reduction="none").min() \
        >= best


def test_constant_logits_give_log_c_and_no_signal():
    found = diagnose("cross_entropy", torch.zeros(6, 4), Y)
    assert F.cross_entropy(torch.zeros(6, 4), Y).item() == pytest.approx(np.log(4))
    assert f"log C = {np.log(4):.4g}" in found[0].message


def test_masked_row_gradient_is_nan_and_the_fill_fixes_it():
    for fill in (-float("inf"), torch.finfo(torch.float32).min):
        z = torch.tensor([[fill] * 3, [0.0, 1.0, 2.0]], requires_grad=True)
        loss = F.cross_entropy(z, torch.tensor([-100, 1]))
        loss.backward()
        assert loss.isfinite()
        assert z.grad.isnan().any() == (fill == -float("inf"))


def test_class_axis_last_fix_is_the_loss_meant():
    flat = F.cross_entropy(K3.reshape(-1, 4), K3_T.reshape(-1))
    torch.testing.assert_close(F.cross_entropy(K3.transpose(1, 2), K3_T), flat)
    found = diagnose("cross_entropy", K3, K3_T)
    assert "input.transpose(1, 2)" in found[0].message and "input.transpose(1, 2)" in \
        found[0].message_zh


def test_ignore_index_class_count():
    found = diagnose("cross_entropy", Z, Y, ignore_index=0)
    assert f"{int((Y == 0).sum())} of the 6 targets are 0" in found[0].message
    # those targets are skipped: the same as dropping them
    torch.testing.assert_close(F.cross_entropy(Z, Y, ignore_index=0),
                               F.cross_entropy(Z[Y != 0], Y[Y != 0]))


def test_ctc_mean_divides_by_clamped_target_lengths():
    tl = torch.tensor([3, 0])
    targets = torch.tensor([1, 2, 2])
    none = F.ctc_loss(LP, targets, IL, tl, reduction="none")
    torch.testing.assert_close(F.ctc_loss(LP, targets, IL, tl),
                               (none / tl.clamp_min(1)).mean())
    found = diagnose("ctc_loss", LP, CT, IL, TL)
    assert "(3, 2)" in found[-1].message and found[-1].code == "ctc-mean-per-target-length"


def test_negative_nll_value_is_torchs():
    var = torch.full((6, 4), 0.01)
    found = diagnose("gaussian_nll_loss", Z, Z + 0.01, var)
    value = F.gaussian_nll_loss(Z, Z + 0.01, var)
    assert value < 0 and f"({value.item():.4g})" in found[0].message


def test_half_loss_step_is_the_dtypes_spacing():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 1000).normal_(generator=g)
    y = torch.arange(64)
    found = diagnose("cross_entropy", x.bfloat16(), y)
    f = next(f for f in found if f.code == "half-loss-step")
    value = torch.tensor(F.cross_entropy(x.double(), y).item(), dtype=torch.bfloat16)
    step = (torch.nextafter(value, torch.tensor(float("inf"), dtype=torch.bfloat16))
            - value).item()
    assert f"steps of {step:g}" in f.message
    # torch's bfloat16 loss is a multiple of that step
    assert (F.cross_entropy(x.bfloat16(), y).item() / step).is_integer()


def test_half_overflow_is_what_torch_shows():
    """Each half-overflow case: torch's half result is inf or far from float32's."""
    for code, _, bad, good in NEW_CASES:
        if code != "half-overflow":
            continue
        fn = getattr(F, bad[0])
        low = fn(*bad[1], **bad[2]).double()
        high = fn(*[a.double() for a in bad[1]], **bad[2])
        assert not low.isfinite() or abs(low - high) > 0.05 * abs(high), bad[0]


# --- Random correct calls of what is new: no error, no warning ---------------------------------

SETTINGS = examples(30)


@given(st.integers(1, 6), st.integers(1, 5), st.integers(2, 7), st.integers(0, 2**31 - 1),
       st.sampled_from(["mean", "sum", "none"]), st.booleans(), st.booleans())
@SETTINGS
def test_random_linear_cross_entropy_calls_are_quiet(n, d, c, seed, reduction, bias, ignore):
    g = torch.Generator().manual_seed(seed)
    hidden, weight = torch.randn(n, d, generator=g), torch.randn(c, d, generator=g)
    target = torch.randint(0, c, (n,), generator=g)
    options = {"reduction": reduction}
    if bias:
        options["linear_bias"] = torch.randn(c, generator=g)
    if ignore and n > 1:
        target[0] = -100
    found = diagnose("linear_cross_entropy", hidden, weight, target, **options)
    assert not serious(found), found
    assert not torch_call("linear_cross_entropy", (hidden, weight, target), options)


@given(st.integers(1, 4), st.integers(2, 6), st.sampled_from([(3,), (2, 3)]),
       st.integers(0, 2**31 - 1), st.sampled_from([torch.float32, torch.float64]))
@SETTINGS
def test_random_channels_first_calls_are_quiet(n, c, extra, seed, dtype):
    """Segmentation-like (N, C, d1, ...) logits in the right layout never read as class-last."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn((n, c) + extra, generator=g, dtype=dtype)
    target = torch.randint(0, c, (n,) + extra, generator=g)
    for name, x in (("cross_entropy", logits), ("nll_loss", logits.log_softmax(1))):
        found = diagnose(name, x, target)
        assert not serious(found), found
        assert not torch_call(name, (x, target), {})


@given(st.integers(2, 8), st.integers(1, 6), st.integers(0, 2**31 - 1),
       st.sampled_from([0.5, 1.0, 2.0]))
@SETTINGS
def test_random_hinge_embedding_distances_are_quiet(n, d, seed, margin):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
    labels = torch.randint(0, 2, (n,), generator=g) * 2 - 1
    for distance in (F.pairwise_distance(a, b), 1 - F.cosine_similarity(a, b)):
        found = diagnose("hinge_embedding_loss", distance, labels.float(), margin=margin)
        assert not serious(found), found


def test_one_based_labels_are_named():
    found = diagnose("cross_entropy", Z, Y + 1)
    assert "pass target - 1" in found[0].message and "target - 1" in found[0].message_zh


def test_half_precision_arrays_are_no_error():
    """float16 and ml_dtypes.bfloat16 arrays are read; only the dtype's real trouble is named."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    logits, labels = Z.numpy(), Y.numpy()
    for dtype in (np.float16, ml_dtypes.bfloat16):
        assert not serious(diagnose("cross_entropy", logits.astype(dtype), labels))
        assert not serious(diagnose("mse_loss", logits.astype(dtype), logits.astype(dtype)))
        probs = SIG.numpy()
        found = diagnose("binary_cross_entropy", probs.astype(dtype), T.numpy().astype(dtype))
        assert not serious(found), found
    found = diagnose("cross_entropy", SM.numpy().astype(ml_dtypes.bfloat16), labels)
    assert codes(found) == ["softmax-before-cross-entropy"]
    found = diagnose("multi_margin_loss", logits.astype(ml_dtypes.bfloat16), labels)
    assert codes(found) == ["half-not-implemented"] and "BFloat16" in found[0].message
    found = diagnose("poisson_nll_loss", np.array([12.0, 1.0], ml_dtypes.bfloat16),
                     np.array([3.0, 1.0], ml_dtypes.bfloat16))
    assert "half-overflow" not in codes(found)        # exp(12) is far below bfloat16's max


# --- Sweeps: 'error' exactly when torch refuses, over shapes and target dtypes ------------------

SWEEP_SHAPES = [(3,), (3, 1), (1, 3), (2, 3), (), (0,)]
ELEMENTWISE = ["mse_loss", "l1_loss", "huber_loss", "soft_margin_loss", "hinge_embedding_loss",
               "multilabel_soft_margin_loss", "kl_div", "poisson_nll_loss",
               "binary_cross_entropy", "binary_cross_entropy_with_logits", "multi_margin_loss",
               "multilabel_margin_loss"]


def refused(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(*args)
        except Exception:                                   # noqa: BLE001 - any refusal
            return True
    return False


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_shape_sweep_errors_exactly_where_torch_refuses(name):
    g = torch.Generator().manual_seed(0)
    for xs, ts in itertools.product(SWEEP_SHAPES, SWEEP_SHAPES):
        x = torch.rand(xs, generator=g) * 0.8 + 0.1
        if name in ("multi_margin_loss", "multilabel_margin_loss"):
            t = torch.zeros(ts, dtype=torch.long)
        elif name in ("soft_margin_loss", "hinge_embedding_loss"):
            t = torch.randint(0, 2, ts, generator=g).float() * 2 - 1
        else:
            t = torch.rand(ts, generator=g)
        errors = [f for f in diagnose(name, x, t) if f.severity == "error"]
        assert bool(errors) == refused(getattr(F, name), x, t), (xs, ts, errors)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_index_sweep_errors_exactly_where_torch_refuses(name):
    g = torch.Generator().manual_seed(0)
    inputs = [(4,), (3, 4), (3, 4, 2), (3, 2, 4), (2, 4, 2, 2)]
    targets = [(), (3,), (3, 2), (3, 1), (3, 4), (4,), (3, 2, 4), (2, 2, 2), (2, 1, 2, 2)]
    dtypes = [torch.int64, torch.uint8, torch.float32]
    for xs, ts, dtype in itertools.product(inputs, targets, dtypes):
        x = torch.randn(xs, generator=g)
        x = x.log_softmax(1 if x.ndim > 1 else 0) if name == "nll_loss" else x
        t = torch.rand(ts, generator=g) if dtype == torch.float32 else \
            torch.randint(0, 2, ts, generator=g).to(dtype)
        errors = [f for f in diagnose(name, x, t) if f.severity == "error"]
        assert bool(errors) == refused(getattr(F, name), x, t), (xs, ts, dtype, errors)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "soft_margin_loss",
                                  "multilabel_soft_margin_loss", "kl_div",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_target_dtype_sweep_errors_exactly_where_torch_refuses(name):
    x = torch.rand(4, 3) * 0.8 + 0.1
    for t in (torch.randint(0, 2, (4, 3)), torch.rand(4, 3).double(), torch.rand(4, 3) > 0.5,
              torch.randint(0, 2, (4, 3), dtype=torch.int32), torch.rand(4, 3).half()):
        errors = [f for f in diagnose(name, x, t) if f.severity == "error"]
        assert bool(errors) == refused(getattr(F, name), x, t), (t.dtype, errors)


@pytest.mark.parametrize("name", ["margin_ranking_loss", "cosine_embedding_loss",
                                  "triplet_margin_loss", "triplet_margin_with_distance_loss"])
def test_three_tensor_shape_sweep_errors_exactly_where_torch_refuses(name):
    g = torch.Generator().manual_seed(0)
    shapes = [(3,), (3, 1), (2, 3), (), (0,)]
    pm = name in ("margin_ranking_loss", "cosine_embedding_loss")
    for s1, s2, s3 in itertools.product(shapes, shapes, [(3,), (3, 1), (), (2,)] if pm
                                        else shapes):
        a, b = torch.randn(s1, generator=g), torch.randn(s2, generator=g)
        c = (torch.randint(0, 2, s3, generator=g) * 2 - 1).float() if pm else \
            torch.randn(s3, generator=g)
        for options in ({}, {"swap": True}) if not pm else ({},):
            errors = [f for f in diagnose(name, a, b, c, **options) if f.severity == "error"]
            assert bool(errors) == refused(functools.partial(getattr(F, name), **options),
                                           a, b, c), (s1, s2, s3, options, errors)


def test_ctc_sweep_errors_exactly_where_torch_refuses():
    g = torch.Generator().manual_seed(0)
    log_probs = [torch.randn(6, 2, 5, generator=g).log_softmax(2),
                 torch.randn(6, 5, generator=g).log_softmax(1),
                 torch.randn(2, 6, 5, generator=g).log_softmax(2)]
    targets = [torch.tensor([[1, 2], [3, 4]]), torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2]),
               torch.tensor([[1, 2]]).float(), torch.tensor([[1, 9], [3, 4]])]
    input_lengths = [torch.tensor([6, 6]), torch.tensor(6), [6, 6], torch.tensor([7, 6]), 6, (6,)]
    target_lengths = [torch.tensor([2, 2]), torch.tensor(2), [2, 2], torch.tensor([3, 2]), 2,
                      (2,)]
    for lp, t, il, tl in itertools.product(log_probs, targets, input_lengths, target_lengths):
        errors = [f for f in diagnose("ctc_loss", lp, t, il, tl) if f.severity == "error"]
        assert bool(errors) == refused(F.ctc_loss, lp, t, il, tl), (lp.shape, t, il, tl, errors)


def test_linear_cross_entropy_modules_read_their_layer():
    import lossref
    torch_module = torch.nn.LinearCrossEntropyLoss(3, 4)
    lossref_module = lossref.LinearCrossEntropyLoss(LW)
    for module in (torch_module, lossref_module):
        assert not serious(diagnose(module, H, Y.clamp_max(3)))
        found = diagnose(module, H, torch.tensor([0, 4, 1, 2, 1, 0]))
        assert codes(found) == ["class-index-out-of-range"]
        assert codes(diagnose(module, H[:, :2], Y.clamp_max(3))) == ["linear-weight-shape"]
    with pytest.raises(Exception, match="Target 4 is out of bounds"):
        torch_module(H, torch.tensor([0, 4, 1, 2, 1, 0]))


HALF_LOSSES = ["cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "kl_div",
               "mse_loss", "l1_loss", "huber_loss", "poisson_nll_loss", "soft_margin_loss",
               "cosine_embedding_loss", "margin_ranking_loss"]


def half_args(name, scale, g, n=64, c=8):
    x = torch.randn(n, c, generator=g) * scale
    pm = (torch.randint(0, 2, (n,), generator=g) * 2 - 1).float()
    return {
        "cross_entropy": (x, torch.randint(0, c, (n,), generator=g)),
        "nll_loss": (x.log_softmax(1), torch.randint(0, c, (n,), generator=g)),
        "binary_cross_entropy_with_logits": (x, torch.randint(0, 2, (n, c), generator=g).float()),
        "kl_div": (x.log_softmax(1), (torch.randn(n, c, generator=g) * scale).softmax(1)),
        "poisson_nll_loss": (x, torch.poisson(torch.rand(n, c, generator=g) * 5)),
        "soft_margin_loss": (x, pm[:, None].expand(n, c)),
        "cosine_embedding_loss": (x, torch.randn(n, c, generator=g) * scale, pm),
        "margin_ranking_loss": (x[:, 0], x[:, 1], pm),
    }.get(name, (x, torch.randn(n, c, generator=g) * scale))


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("name", HALF_LOSSES)
def test_half_overflow_exactly_where_torchs_half_result_breaks(name):
    """float16 and bfloat16, moderate to huge values: 'half-overflow' when, and only when,
    torch's half-precision result is inf or nan, or some term is off by more than 5 %."""
    g = torch.Generator().manual_seed(0)
    for scale, dtype, reduction in itertools.product([1, 1000],
                                                     [torch.float16, torch.bfloat16],
                                                     ["mean", "sum"]):
        args = half_args(name, scale, g)
        low = [a.to(dtype) if a.is_floating_point() else a for a in args]
        high = [a.to(dtype).double() if a.is_floating_point() else a for a in args]
        fn = getattr(F, name)
        value, exact = fn(*low, reduction=reduction).double(), fn(*high, reduction=reduction)
        terms = fn(*low, reduction="none").double() if name != "kl_div" else None
        exact_terms = fn(*high, reduction="none") if name != "kl_div" else None
        broken = not value.isfinite() or (terms is not None and bool(
            ((terms - exact_terms).abs() > 0.05 * exact_terms.abs() + 0.05).any()))
        flagged = "half-overflow" in codes(diagnose(name, *low, reduction=reduction))
        assert flagged == broken, (scale, dtype, reduction, value.item(), exact.item())
