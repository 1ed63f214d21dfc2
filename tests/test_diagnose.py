"""lossref.diagnose: every finding both ways, checked against torch live.

For each code a call that should produce it, and a corrected call that must not. Torch runs
both: a finding of severity 'error' must be a call torch refuses, every other call (warnings,
notes, corrected calls) one torch accepts. Hypothesis then feeds random *correct* calls
(logits from a normal distribution, valid class indices, ...) that must give no error or
warning, and random garbage that diagnose must survive without raising.
"""

from __future__ import annotations

import functools
import inspect
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from diagnosis_cases import (
    CASES,
    CT,
    IDS,
    IL,
    ISSUE_CODES,
    LP,
    PM,
    SIG,
    SM,
    TL,
    X1,
    X2,
    T,
    W,
    Y,
    Z,
    codes,
    quiet,
    serious,
    torch_call,
    torch_refusal,
)
from hypothesis import given
from hypothesis import strategies as st
from oracle import REDUCTIONS, examples
from torch import nn

import lossref
from lossref.diagnosis import LOSSES, SEVERITIES, Finding, diagnose
from lossref.diagnosis.signatures import resolve as _resolve

SETTINGS = examples(40)


def test_every_issue_code_has_a_case():
    assert ISSUE_CODES <= {case[0] for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_finding_fires_and_matches_torch(case):
    code, severity, bad, _ = case
    found = diagnose(bad[0], *bad[1], **bad[2])
    assert code in codes(found, severity), f"expected {severity} {code}, got {found}"
    # 'error' exactly when torch refuses the call
    refusal = torch_refusal(*bad)
    assert (refusal is not None) == any(f.severity == "error" for f in found), found
    # torch's words quoted in an error message are torch's words for this call
    for f in found:
        if f.severity == "error":
            for quoted in re.findall(r'"([^"]+)"', f.message):
                if "..." not in quoted:
                    assert quoted in refusal, (quoted, refusal)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_corrected_call_is_quiet(case):
    code, severity, _, good = case
    found = diagnose(good[0], *good[1], **good[2])
    assert code not in codes(found)
    assert not serious(found), f"corrected call still gives {found}"
    assert not torch_call(*good)


def test_messages_name_the_numbers():
    found = diagnose("cross_entropy", Z, torch.tensor([0, 7, 1, 2, 1, 0]))
    assert "7" in found[0].message and "[0, 3]" in found[0].message and "7" in found[0].message_zh
    info = diagnose("cross_entropy", Z, Y, weight=W)[0]
    expected = float(W[Y].sum())                          # Σ w[y], computed here
    assert f"{expected:.4g}" in info.message and f"{expected:.4g}" in info.message_zh
    # ... and that denominator is the one torch divides by
    ratio = F.cross_entropy(Z, Y, weight=W, reduction="sum") / F.cross_entropy(Z, Y, weight=W)
    assert ratio.item() == pytest.approx(expected, rel=1e-6)


# --- The same call, however it is spelled -------------------------------------------------

def test_loss_recognised_by_name_in_every_spelling():
    x, y = SM, Y

    def cross_entropy_grad(input, target):             # named like lossref.grad's functions
        return input
    spellings = ["cross_entropy", "CrossEntropyLoss", "torch.nn.functional.cross_entropy",
                 F.cross_entropy, nn.CrossEntropyLoss, nn.CrossEntropyLoss(),
                 lossref.cross_entropy, lossref.CrossEntropyLoss, lossref.CrossEntropyLoss(),
                 cross_entropy_grad, functools.partial(F.cross_entropy, reduction="sum")]
    results = {str(codes(diagnose(s, x, y))) for s in spellings}
    assert results == {"['softmax-before-cross-entropy']"}


def test_options_come_from_the_instance_and_keywords_override():
    for module in (nn, lossref):
        name, opts = _resolve(module.CrossEntropyLoss(weight=W, ignore_index=2,
                                                      label_smoothing=0.1, reduction="sum"), {})
        assert name == "cross_entropy"
        assert opts["ignore_index"] == 2 and opts["label_smoothing"] == 0.1
        assert opts["reduction"] == "sum" and np.array_equal(np.asarray(opts["weight"]), W)
    # the instance's ignore_index decides what is ignored; a keyword overrides it
    targets = torch.full((6,), 2)
    assert "all-targets-ignored" in codes(diagnose(nn.CrossEntropyLoss(ignore_index=2), Z, targets))
    assert not diagnose(nn.CrossEntropyLoss(ignore_index=2), Z, targets, ignore_index=-100)
    name, opts = _resolve(nn.KLDivLoss(reduction="batchmean", log_target=True), {})
    assert (name, opts) == ("kl_div", {"reduction": "batchmean", "log_target": True})


@pytest.mark.parametrize("requires_grad", [False, True])
def test_numpy_lists_and_tensors_give_the_same_findings(requires_grad):
    x = SM.clone().requires_grad_(requires_grad)
    for target in (Y, Y.numpy(), Y.tolist()):
        assert codes(diagnose("cross_entropy", x, target)) == codes(
            diagnose("cross_entropy", x.detach().numpy(), target))
    assert codes(diagnose("nll_loss", Z.tolist(), Y.tolist())) == ["scores-to-nll"]


def test_bfloat16_tensor_is_read():
    assert codes(diagnose("cross_entropy", SM.bfloat16(), Y)) == ["softmax-before-cross-entropy"]


def test_lists_carry_no_dtype():
    # a list of ints is not judged as int64 (torch.tensor would make it a float for floats)
    assert not diagnose("binary_cross_entropy", SIG.tolist(), T.tolist())
    assert codes(diagnose("binary_cross_entropy", SIG, T.numpy().astype(np.int64))) == \
        ["target-dtype-mismatch"]


def test_unknown_loss_and_unreadable_arrays_raise():
    with pytest.raises(ValueError, match="unknown loss 'cross_entropi'"):
        diagnose("cross_entropi", Z, Y)
    with pytest.raises(ValueError, match="unknown loss 'Linear'"):
        diagnose(nn.Linear(2, 2), Z, Y)
    with pytest.raises(TypeError, match="cannot read input"):
        diagnose("cross_entropy", [["a", "b"]], [0])
    with pytest.raises(TypeError, match="cannot read target"):
        diagnose("cross_entropy", Z, [[0], [1, 2]])


def test_losses_table_matches_torch_signatures():
    """The table is read from lossref's signatures: it must be torch's, for all 22 losses."""
    assert len(LOSSES) == 22
    for name, options in LOSSES.items():
        params = list(inspect.signature(getattr(F, name)).parameters)
        assert tuple(params[2:]) == options, name
        assert getattr(F, name).__name__ == name


def test_every_torch_loss_class_is_recognised():
    classes = [c for c in dir(nn) if c.endswith("Loss")
               and c not in ("AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss")]
    for cls in classes:
        name, _ = _resolve(getattr(nn, cls), {})
        init = set(inspect.signature(getattr(nn, cls).__init__).parameters) - {"self"}
        assert init <= set(LOSSES[name]), cls


# --- Finding ------------------------------------------------------------------------------

def test_finding_is_frozen_and_readable():
    f = diagnose("cross_entropy", Z, torch.full((6,), -100))[0]
    with pytest.raises(AttributeError):
        f.code = "other"                                          # type: ignore[misc]
    assert str(f).startswith("warning all-targets-ignored: ")
    assert str(f).endswith("-> en/03_weights_ignore_smoothing.html"
                           "#weights-ignore-smoothing-all-ignored")
    assert f.describe("zh").endswith("-> zh/03_weights_ignore_smoothing.html"
                                     "#weights-ignore-smoothing-all-ignored")
    assert repr(f).startswith("Finding(warning all-targets-ignored: ")
    assert "0x" not in repr(f)
    with pytest.raises(ValueError, match="severity"):
        Finding("x", "fatal", "m", "m", "en/01_loss_cost_objective.html")


def test_findings_sorted_errors_first():
    found = diagnose("cross_entropy", SM, Y.int(), weight=W)
    order = [SEVERITIES.index(f.severity) for f in found]
    assert order == sorted(order) and len(set(order)) == 3


PLANNED = {"01_loss_cost_objective", "02_softmax_cross_entropy", "03_weights_ignore_smoothing",
           "04_nll_loss", "05_binary_cross_entropy", "06_bce_with_logits", "07_reductions_legacy",
           "08_gradients", "09_regression", "10_distributions", "11_margins_rankings",
           "12_multi_margins", "13_ctc", "14_vocabulary_scale", "15_troubleshooting",
           "17_cheat_sheet_glossary"}
# STYLE §7: the variants a Chinese reader must not meet
FORBIDDEN_ZH = ("二分类交叉熵", "类别下标", "小批量", "对数几率", "屏蔽", "得分", "概率标签",
                "种子文章", "滑动平均")


def all_findings():
    for _, _, bad, _ in CASES:
        yield from diagnose(bad[0], *bad[1], **bad[2])


def test_messages_in_both_languages_with_the_book_terms():
    seen = set()
    for f in all_findings():
        seen.add(f.code)
        assert f.message and f.message_zh and f.message != f.message_zh
        assert re.search(r"[\u4e00-\u9fff]", f.message_zh), f.code
        bad = [term for term in FORBIDDEN_ZH if term in f.message_zh]
        assert not bad, f"{f.code}: {bad}"
        assert re.fullmatch(r"en/\d\d_[a-z_]+\.html(#[a-z0-9-]+)?", f.chapter), f.chapter
        assert f.chapter.split("/")[-1].split(".")[0] in PLANNED, f.chapter
    assert len(seen) >= 30


# --- Random correct calls: no error, no warning ----------------------------------------------

DTYPES = [torch.float16, torch.float32, torch.float64]


def seed(draw):
    return torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))


@st.composite
def logits(draw, min_classes=2):
    n, c = draw(st.integers(1, 6)), draw(st.integers(min_classes, 6))
    extra = draw(st.sampled_from([(), (), (3,), (2, 2)]))
    dtype = draw(st.sampled_from(DTYPES))
    scale = draw(st.sampled_from([0.5, 1.0, 3.0, 10.0]))
    g = seed(draw)
    x = (torch.randn((n, c) + extra, generator=g, dtype=torch.float64) * scale).to(dtype)
    y = torch.randint(0, c, (n,) + extra, generator=g)
    return x, y, g, dtype


@given(logits(), st.data())
@SETTINGS
def test_random_cross_entropy_calls_are_quiet(case, data):
    x, y, g, dtype = case
    c = x.shape[1]
    options = {"reduction": data.draw(st.sampled_from(REDUCTIONS))}
    if data.draw(st.booleans()):
        options["weight"] = (torch.rand(c, generator=g, dtype=torch.float64) + 0.5).to(dtype)
    if data.draw(st.booleans()):
        options["label_smoothing"] = data.draw(st.floats(0.0, 0.5))
    if data.draw(st.booleans()):                                   # soft targets
        y = (torch.randn(x.shape, generator=g, dtype=torch.float64) * 2).softmax(1).to(dtype)
    elif y.numel() > 1 and data.draw(st.booleans()):               # some (not all) ignored
        y = y.clone()
        y.view(-1)[1:][torch.rand(y.numel() - 1, generator=g) < 0.3] = -100
    found = diagnose("cross_entropy", x, y, **options)
    assert not serious(found), found
    assert not torch_call("cross_entropy", (x, y), options)


@given(logits(min_classes=1), st.sampled_from(REDUCTIONS))
@SETTINGS
def test_random_nll_calls_are_quiet(case, reduction):
    x, y, _, dtype = case
    found = diagnose(nn.NLLLoss(reduction=reduction), x.log_softmax(1), y)
    assert not serious(found), found


@st.composite
def elementwise(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    dtype = draw(st.sampled_from(DTYPES))
    g = seed(draw)
    scale = draw(st.sampled_from([0.5, 1.0, 3.0, 10.0]))
    x = torch.randn(shape, generator=g, dtype=torch.float64) * scale
    if draw(st.booleans()):
        y = torch.randint(0, 2, shape, generator=g).to(torch.float64)
    else:
        y = torch.rand(shape, generator=g, dtype=torch.float64)
    return x, y, g, dtype


@given(elementwise(), st.sampled_from(REDUCTIONS), st.booleans())
@SETTINGS
def test_random_binary_calls_are_quiet(case, reduction, with_pos_weight):
    x, y, g, dtype = case
    options = {"reduction": reduction}
    if with_pos_weight:
        options["pos_weight"] = (torch.rand(x.shape[-1], generator=g, dtype=torch.float64)
                                 * 3).to(dtype)
    found = diagnose("binary_cross_entropy_with_logits", x.to(dtype), y.to(dtype), **options)
    assert not serious(found), found
    # probabilities from logits clipped where float32 keeps the sigmoid below 1 (float16
    # rounds to exactly 1 from about 8.3: that is the clamp finding, rightly)
    if dtype != torch.float16:
        p = x.clamp(-12, 12).to(dtype).sigmoid()
        found = diagnose(nn.BCELoss(reduction=reduction), p, y.to(dtype))
        assert not serious(found), found
        assert not torch_call(nn.BCELoss(reduction=reduction), (p, y.to(dtype)), {})


@given(elementwise(), st.sampled_from(["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"]),
       st.sampled_from(REDUCTIONS))
@SETTINGS
def test_random_regression_calls_are_quiet(case, name, reduction):
    x, y, _, dtype = case
    args = (x.to(dtype), y.to(dtype))
    found = diagnose(name, *args, reduction=reduction)
    assert quiet(found, name, args, {"reduction": reduction}), found


@given(logits(), st.sampled_from(["batchmean", "sum", "none"]), st.booleans())
@SETTINGS
def test_random_kl_div_calls_are_quiet(case, reduction, log_target):
    x, _, g, dtype = case
    target = torch.randn(x.shape, generator=g, dtype=torch.float64).to(dtype)
    target = target.log_softmax(1) if log_target else target.softmax(1)
    found = diagnose(nn.KLDivLoss(reduction=reduction, log_target=log_target),
                     x.log_softmax(1), target)
    assert not serious(found), found


# --- Garbage in: findings out, never an exception ----------------------------------------------

ARRAY_DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_]
SPECIAL = [0.0, 1.0, -1.0, -100.0, np.nan, np.inf, -np.inf, 0.5, 7.0]


@st.composite
def garbage(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    dtype = draw(st.sampled_from(ARRAY_DTYPES))
    values = draw(st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=8))
    flat = np.resize(np.array(values), int(np.prod(shape)))
    with np.errstate(invalid="ignore", over="ignore"):
        arr = flat.reshape(shape).astype(dtype)
    return torch.from_numpy(arr) if draw(st.booleans()) else arr


@given(st.sampled_from(sorted(LOSSES)), garbage(), garbage(), st.data())
@examples(150)
def test_diagnose_never_raises_on_bad_tensors(name, x, y, data):
    pool = {"weight": garbage(), "pos_weight": garbage(), "var": garbage(),
            "ignore_index": st.sampled_from([-100, -1, 0, 1, 7, 1.5, None]),
            "reduction": st.sampled_from(["none", "mean", "sum", "batchmean", "avg", None]),
            "label_smoothing": st.sampled_from([0.0, 0.2, -0.5, 2.0, None, "x"]),
            "log_target": st.booleans(), "beta": st.sampled_from([1.0, -1.0, None]),
            "delta": st.sampled_from([1.0, 0.0, [1.0]]), "size_average": st.booleans(),
            "margin": st.sampled_from([1.0, "m"]), "p": st.sampled_from([1, 2.5])}
    keys = data.draw(st.lists(st.sampled_from(sorted(pool)), max_size=3, unique=True))
    options = {k: data.draw(pool[k]) for k in keys}
    found = diagnose(name, x, y, **options)
    assert all(isinstance(f, Finding) for f in found)


def test_float16_threshold_in_the_clamp_message():
    """The clamp message says float16's sigmoid rounds to 1 from a logit of about 8.3: check."""
    grid = torch.arange(6.0, 12.0, 2.0 ** -8).half().unique()
    first_one = grid[torch.sigmoid(grid) == 1][0].item()
    found = diagnose("binary_cross_entropy", torch.sigmoid(grid), torch.zeros_like(grid))
    assert codes(found, "warning") == ["bce-log-clamped"]
    assert f"about {first_one:.1f}" in found[0].message and f"{first_one:.1f}" in found[0].message_zh


# --- The losses with more than two tensors, and what the new messages claim ------------------

def test_positional_arguments_follow_torch_order():
    # extra positionals fill the options in torch's order, as F.cross_entropy(x, y, w) does
    assert codes(diagnose(F.cross_entropy, Z, Y, W)) == codes(diagnose(F.cross_entropy, Z, Y,
                                                                        weight=W))
    assert codes(diagnose("ctc_loss", LP, CT, IL, TL, 5)) == ["ctc-blank-range"]
    with pytest.raises(TypeError, match="at most 7 positional"):
        diagnose("margin_ranking_loss", X1, X2, PM, 0.5, None, None, "mean", "extra")
    with pytest.raises(TypeError, match="multiple values for argument 'input_lengths'"):
        diagnose("ctc_loss", LP, CT, IL, TL, input_lengths=IL)


def test_zero_target_terms_are_what_the_messages_say():
    """A target of 0 in the ±1 losses: the term each message names, computed by torch."""
    x, zeros = Z[:, 0], torch.zeros(6)
    torch.testing.assert_close(F.soft_margin_loss(x, zeros, reduction="none"),
                               torch.full((6,), float(np.log(2))))
    torch.testing.assert_close(F.hinge_embedding_loss(x, zeros, margin=1.0, reduction="none"),
                               x + (1.0 - x).clamp_min(0))
    torch.testing.assert_close(F.margin_ranking_loss(X1, X2, zeros, margin=0.3,
                                                     reduction="none"), torch.full((6,), 0.3))
    torch.testing.assert_close(F.cosine_embedding_loss(Z, Z.flip(0), zeros, margin=-0.5,
                                                       reduction="none"), torch.zeros(6))
    for name, args in [("soft_margin_loss", (x, zeros)),
                       ("hinge_embedding_loss", (x.abs(), zeros)),
                       ("margin_ranking_loss", (X1, X2, zeros)),
                       ("cosine_embedding_loss", (Z, Z.flip(0), zeros))]:
        assert codes(diagnose(name, *args)) == ["zero-one-target"], name


def test_ctc_frames_needed_count_the_repeats():
    """'1 2 2' needs 4 frames (a blank between the 2s): inf at 3, finite at 4.

    zero_infinity=True turns the inf into 0."""
    def loss(frames, **options):
        return F.ctc_loss(LP, CT, torch.tensor([frames, 8]), TL, reduction="none", **options)[0]
    assert loss(3).isinf() and loss(4).isfinite()
    assert loss(3, zero_infinity=True) == 0
    found = diagnose("ctc_loss", LP, CT, torch.tensor([3, 8]), TL)
    assert "3 frames for 3 labels, 4 with a blank" in found[0].message
    # unnormalised log_probs: torch returns a number below 0, which no NLL can be
    assert F.ctc_loss(LP.exp(), CT, IL, TL) < 0


def test_multilabel_labels_after_the_first_minus_one_are_ignored():
    padded = torch.tensor([[3, -1, 1, 0]] * 6)
    cut = torch.tensor([[3, -1, -1, -1]] * 6)
    torch.testing.assert_close(F.multilabel_margin_loss(Z, padded, reduction="none"),
                               F.multilabel_margin_loss(Z, cut, reduction="none"))
    found = diagnose("multilabel_margin_loss", Z, padded)
    assert "12 label(s) after it" in found[0].message and "12 个标签" in found[0].message_zh


# --- Random correct calls of the newer losses: no error, no warning -------------------------

@st.composite
def ctc_calls(draw):
    g = seed(draw)
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 6))
    blank = draw(st.integers(0, c - 1))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    labels = [x for x in range(c) if x != blank]
    seqs = [draw(st.lists(st.sampled_from(labels), max_size=5)) for _ in range(n)]
    need = [len(s) + sum(a == b for a, b in zip(s, s[1:])) for s in seqs]
    il = [need[i] + draw(st.integers(0, 3)) for i in range(n)]
    t = max(il + [1]) + draw(st.integers(0, 2))
    scale = draw(st.sampled_from([0.5, 1.0, 5.0]))
    lp = (torch.randn(t, n, c, generator=g, dtype=torch.float64) * scale).log_softmax(2).to(dtype)
    tl = [len(s) for s in seqs]
    if draw(st.booleans()):                                          # padded (N, S)
        width = max(tl + [0]) + draw(st.integers(0, 2))
        targets = torch.tensor([s + [blank] * (width - len(s)) for s in seqs],
                               dtype=torch.long).reshape(n, width)
    else:                                                            # concatenated
        targets = torch.tensor([x for s in seqs for x in s], dtype=torch.long)
    if draw(st.booleans()):                                          # padding frames: zeros
        lp = lp.clone()
        for i, frames in enumerate(il):
            lp[frames:, i] = 0
    return lp, targets, torch.tensor(il), torch.tensor(tl), blank


@given(ctc_calls(), st.sampled_from(REDUCTIONS), st.booleans())
@SETTINGS
def test_random_ctc_calls_are_quiet(case, reduction, zero_infinity):
    lp, targets, il, tl, blank = case
    options = {"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity}
    found = diagnose("ctc_loss", lp, targets, il, tl, **options)
    assert not serious(found), found
    assert not torch_call("ctc_loss", (lp, targets, il, tl), options)


@given(elementwise(), st.sampled_from(REDUCTIONS), st.booleans(),
       st.sampled_from([0.1, 1.0, 10.0, 1000.0]))
@SETTINGS
def test_random_poisson_calls_are_quiet(case, reduction, log_input, scale):
    x, _, g, dtype = case
    rates = (torch.rand(x.shape, generator=g, dtype=torch.float64) + 0.05) * scale
    counts = torch.poisson(rates, generator=g).to(dtype)
    given_input = (rates.log() if log_input else rates).to(dtype)
    if dtype == torch.float16 and not log_input:
        given_input = given_input.clamp_max(60000)
    loss = nn.PoissonNLLLoss(log_input=log_input, reduction=reduction)
    found = diagnose(loss, given_input, counts)
    assert quiet(found, loss, (given_input, counts), {}), found


@given(elementwise(), st.sampled_from(["margin_ranking_loss", "cosine_embedding_loss",
                                       "hinge_embedding_loss", "soft_margin_loss"]),
       st.sampled_from(REDUCTIONS))
@SETTINGS
def test_random_pm_one_calls_are_quiet(case, name, reduction):
    x, y, g, dtype = case
    pm = (2 * (y > 0.5).to(torch.float64) - 1).to(dtype)
    x = x.to(dtype)
    if name == "margin_ranking_loss":
        args = (x.reshape(-1), x.reshape(-1).flip(0), pm.reshape(-1))
    elif name == "cosine_embedding_loss":
        flat = x.reshape(x.shape[0], -1)
        args = (flat, flat.flip(0), pm.reshape(x.shape[0], -1)[:, 0])
    else:
        args = (x.abs() if name == "hinge_embedding_loss" else x, pm)
    found = diagnose(name, *args, reduction=reduction)
    assert quiet(found, name, args, {"reduction": reduction}), found
    assert not torch_call(name, args, {"reduction": reduction})


@given(logits(min_classes=1), st.sampled_from(REDUCTIONS), st.sampled_from([1, 2, 2.0]),
       st.booleans())
@SETTINGS
def test_random_multi_margin_calls_are_quiet(case, reduction, p, multilabel):
    x, y, g, dtype = case
    x = x.float() if dtype == torch.float16 else x       # no float16 kernel on the CPU
    x, y = x.reshape(x.shape[0], x.shape[1], -1)[..., 0], y.reshape(y.shape[0], -1)[:, 0]
    if multilabel:                                   # labels, then -1 to the end of the row
        c = x.shape[1]
        k = torch.randint(0, c + 1, (x.shape[0],), generator=g)
        perm = torch.stack([torch.randperm(c, generator=g) for _ in range(x.shape[0])])
        y = torch.where(torch.arange(c) < k[:, None], perm, -1)
        name, options = "multilabel_margin_loss", {"reduction": reduction}
    else:
        name, options = "multi_margin_loss", {"reduction": reduction, "p": p}
    found = diagnose(name, x, y, **options)
    assert not found, found
    assert not torch_call(name, (x, y), options)


@given(st.sampled_from(["ctc_loss", "margin_ranking_loss", "cosine_embedding_loss",
                        "triplet_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
                        "poisson_nll_loss"]),
       garbage(), garbage(), garbage(), garbage(), st.data())
@SETTINGS
def test_diagnose_never_raises_on_bad_tensors_of_the_newer_losses(name, x, y, third, fourth,
                                                                   data):
    more = (third, fourth) if name == "ctc_loss" else (third,) if name in (
        "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss") else ()
    if name == "ctc_loss" and data.draw(st.booleans()):
        more = tuple(np.asarray(m).tolist() for m in more)         # lists, not tensors
    options = {}
    if name == "ctc_loss":
        options = {"blank": data.draw(st.sampled_from([0, 1, -1, 9])),
                   "zero_infinity": data.draw(st.booleans())}
    elif name == "poisson_nll_loss":
        options = {"log_input": data.draw(st.booleans())}
    elif name == "multi_margin_loss":
        options = {"p": data.draw(st.sampled_from([1, 2, 3, 0.5]))}
    found = diagnose(name, x, y, *more, **options)
    assert all(isinstance(f, Finding) for f in found)


@given(elementwise(), st.sampled_from(REDUCTIONS),
       st.sampled_from(["same", "rows", "one", "float"]))
@SETTINGS
def test_random_gaussian_nll_calls_are_quiet(case, reduction, var_shape):
    x, y, g, dtype = case
    x, y = x.to(dtype), y.to(dtype)
    shape = {"same": x.shape, "rows": x.shape[:-1],
             "one": x.shape[:-1] + (1,)}.get(var_shape)
    var = 0.5 if shape is None else (torch.rand(shape, generator=g, dtype=torch.float64)
                                     + 0.1).to(dtype)
    found = diagnose(nn.GaussianNLLLoss(reduction=reduction), x, y, var)
    assert quiet(found, nn.GaussianNLLLoss(reduction=reduction), (x, y, var), {}), found
    assert not torch_call(nn.GaussianNLLLoss(reduction=reduction), (x, y, var), {})
