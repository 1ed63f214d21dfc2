"""The diagnose test cases: one table of (code, severity, call that gives it, corrected call).

Shared by tests/test_diagnose.py (the cases of the first versions, and the random calls) and
tests/test_diagnosis_misuses.py (the misuses of issue 22); tests/test_diagnosis_catalogue.py
checks that every code of ``lossref.diagnosis.CODES`` has a case here, and only those.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

rng = np.random.default_rng(14)
Z = torch.from_numpy(rng.normal(size=(6, 4)).astype(np.float32))      # logits, 6 samples, 4 classes
Y = torch.tensor([0, 3, 1, 2, 1, 0])                                  # class indices
T = torch.tensor(rng.integers(0, 2, (6, 4)), dtype=torch.float32)     # multi-label 0/1 targets
W = torch.tensor([1.0, 2.0, 0.5, 3.0])                                # class weights
SM, LSM, SIG = Z.softmax(1), Z.log_softmax(1), Z.sigmoid()
P1, T1 = SIG[:, :1], T[:, 0]                                          # (N, 1) and (N,)
INF = float("inf")
# CTC: 8 frames, 2 sequences, 5 classes (blank 0); "1 2 2" needs 4 frames, "3 4" needs 2
RAW = torch.from_numpy(rng.normal(size=(8, 2, 5)).astype(np.float32))
LP = RAW.log_softmax(2)
CT, IL, TL = torch.tensor([[1, 2, 2], [3, 4, 0]]), torch.tensor([8, 8]), torch.tensor([3, 2])
LP_PADDED, IL_SHORT = LP.clone(), torch.tensor([8, 6])
LP_PADDED[6:, 1] = 0.0                                  # frames past sequence 1's length
# pairs with ±1 targets, and the same targets as 0/1
X1, X2 = Z[:, 0], Z[:, 1]
PM = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
ZO = (PM + 1) / 2
# Poisson: rates between 5 and 15, counts drawn from them
RATES = torch.from_numpy(rng.uniform(5, 15, size=(6, 4)).astype(np.float32))
COUNTS = torch.from_numpy(rng.poisson(RATES.numpy()).astype(np.float32))


def call(loss, *args, **options):
    """A loss call as (loss, positional tensors in torch's order, options)."""
    return (loss, args, options)


# code, severity, a call that gives it, a corrected call that must not give it
CASES = [
    ("softmax-before-cross-entropy", "warning",
     call("cross_entropy", SM, Y), call("cross_entropy", Z, Y)),
    ("softmax-wrong-dim", "warning",
     call("cross_entropy", Z.softmax(0), Y), call("cross_entropy", Z, Y)),
    ("log-softmax-before-cross-entropy", "info",
     call("cross_entropy", LSM, Y), call("cross_entropy", Z, Y)),
    ("probabilities-to-bce-with-logits", "warning",
     call(nn.BCEWithLogitsLoss(), SIG, T), call(nn.BCEWithLogitsLoss(), Z, T)),
    ("scores-to-nll", "warning", call("nll_loss", Z, Y), call("nll_loss", LSM, Y)),
    ("scores-to-nll", "warning",                       # negative scores whose exp does not sum to 1
     call("nll_loss", Z - 5, Y), call("nll_loss", (Z - 5).log_softmax(1), Y)),
    ("softmax-to-nll", "warning", call(F.nll_loss, SM, Y), call(F.nll_loss, LSM, Y)),
    ("log-softmax-wrong-dim", "warning",
     call("nll_loss", Z.log_softmax(0), Y), call("nll_loss", LSM, Y)),
    ("bce-log-clamped", "warning",
     call("binary_cross_entropy", torch.tensor([0.0, 1.0, 0.5]), torch.tensor([1.0, 0.0, 1.0])),
     call("binary_cross_entropy", torch.tensor([0.0, 1.0, 0.5]), torch.tensor([0.0, 1.0, 1.0]))),
    ("bce-log-clamped", "warning",                     # float16: the sigmoid of 10 is exactly 1
     call("binary_cross_entropy", torch.tensor([10.0, -2.0]).half().sigmoid(),
          torch.tensor([0.0, 0.0]).half()),
     call("binary_cross_entropy_with_logits", torch.tensor([10.0, -2.0]).half(),
          torch.tensor([0.0, 0.0]).half())),
    ("all-targets-ignored", "warning",
     call("cross_entropy", Z, torch.full((6,), -100)),
     call("cross_entropy", Z, torch.tensor([0, -100, 1, -100, -100, 2]))),
    ("all-targets-ignored", "warning",
     call(nn.NLLLoss(ignore_index=0), LSM, torch.zeros(6, dtype=torch.long)),
     call(nn.NLLLoss(ignore_index=0), LSM, Y)),
    ("empty-batch", "warning",
     call("cross_entropy", Z[:0], Y[:0]), call("cross_entropy", Z[:0], Y[:0], reduction="sum")),
    ("target-shape-mismatch", "error",
     call(nn.BCELoss(), P1, T1), call(nn.BCELoss(), P1.squeeze(-1), T1)),
    ("target-shape-mismatch", "error",
     call(nn.BCEWithLogitsLoss(), Z[:, :1], T1), call(nn.BCEWithLogitsLoss(), Z[:, 0], T1)),
    ("target-shape-mismatch", "warning",
     call(nn.MSELoss(), P1, T1), call(nn.MSELoss(), P1.squeeze(-1), T1)),
    ("target-shape-mismatch", "warning",
     call("l1_loss", P1, T1), call("l1_loss", P1, T1[:, None])),
    ("target-shape-mismatch", "error",
     call("mse_loss", Z, T1), call("mse_loss", Z, T)),
    ("float-class-indices", "error",
     call("cross_entropy", Z, Y.float()), call("cross_entropy", Z, Y)),
    ("regression-target", "error",
     call("nll_loss", LSM, Y.float() + 0.5), call("nll_loss", LSM, Y)),
    ("non-long-class-indices", "error",
     call("cross_entropy", Z, Y.int()), call("cross_entropy", Z, Y.to(torch.uint8))),
    ("one-hot-index-target", "error",
     call("cross_entropy", Z, F.one_hot(Y, 4)), call("cross_entropy", Z, F.one_hot(Y, 4).float())),
    ("one-hot-index-target", "error",
     call("nll_loss", LSM, F.one_hot(Y, 4)), call("nll_loss", LSM, Y)),
    ("index-target-shape", "error",
     call("cross_entropy", Z, Y[:, None]), call("cross_entropy", Z, Y)),
    ("index-target-shape", "error",
     call("cross_entropy", Z, Y[:5]), call("cross_entropy", Z[:5], Y[:5])),
    ("index-target-shape", "error",
     call("nll_loss", LSM, F.one_hot(Y, 4).float()), call("nll_loss", LSM, Y)),
    ("index-target-shape", "error",
     call("cross_entropy", Z.reshape(2, 3, 4), Y.reshape(2, 1, 3)),
     call("cross_entropy", Z.reshape(2, 3, 4), torch.tensor([[0, 1, 2, 0], [2, 2, 1, 0]]))),
    ("one-hot-index-target", "error",
     call("cross_entropy", Z, F.one_hot(Y, 4).int()),
     call("cross_entropy", Z, F.one_hot(Y, 4).int().argmax(dim=1))),
    ("one-hot-index-target", "error",
     call("nll_loss", Z.reshape(2, 3, 4), torch.ones(2, 3, 4, dtype=torch.long)),
     call("nll_loss", Z.reshape(2, 3, 4).log_softmax(1), torch.ones(2, 4, dtype=torch.long))),
    ("input-shape", "error",
     call("cross_entropy", torch.tensor(1.5), torch.tensor(0)),
     call("cross_entropy", torch.tensor([1.5, 0.0]), torch.tensor(0))),
    ("single-class-cross-entropy", "warning",
     call(nn.CrossEntropyLoss(), Z[:, :1], torch.zeros(6, dtype=torch.long)),
     call(nn.BCEWithLogitsLoss(), Z[:, 0], T1)),
    ("weighted-mean-denominator", "info",
     call(nn.CrossEntropyLoss(weight=W), Z, Y),
     call(nn.CrossEntropyLoss(weight=W, reduction="sum"), Z, Y)),
    ("weighted-mean-denominator", "info",
     call("nll_loss", LSM, Y, weight=W), call("nll_loss", LSM, Y, weight=torch.ones(4))),
    ("class-index-out-of-range", "error",
     call("cross_entropy", Z, torch.tensor([0, 4, 1, 2, 1, 0])),
     call("cross_entropy", Z, torch.tensor([0, 3, 1, 2, 1, 0]))),
    ("class-index-out-of-range", "error",
     call("nll_loss", LSM, torch.tensor([0, -1, 1, 2, 1, 0])),
     call("nll_loss", LSM, torch.tensor([0, -1, 1, 2, 1, 0]), ignore_index=-1)),
    ("nonfinite-input", "warning",
     call("cross_entropy", torch.tensor([[-INF, 0.0, 1.0], [0.0, 1.0, 2.0]]), torch.tensor([0, 1])),
     call("cross_entropy", torch.tensor([[-INF, 0.0, 1.0], [0.0, 1.0, 2.0]]), torch.tensor([2, 1]))),
    ("nonfinite-input", "warning",
     call("cross_entropy", torch.tensor([[-INF, -INF], [0.0, 1.0]]), torch.tensor([0, 1])),
     call("cross_entropy", torch.tensor([[-3.4e38, -3.4e38], [0.0, 1.0]]), torch.tensor([0, 1]))),
    ("nonfinite-input", "warning",
     call("cross_entropy", torch.tensor([[-INF, 0.0, 1.0], [0.0, 1.0, 2.0]]), torch.tensor([2, 1]),
          label_smoothing=0.1),
     call("cross_entropy", torch.tensor([[-30.0, 0.0, 1.0], [0.0, 1.0, 2.0]]), torch.tensor([2, 1]),
          label_smoothing=0.1)),
    ("nonfinite-input", "warning",
     call("cross_entropy", torch.tensor([[-INF, 0.0, 1.0]]), torch.tensor([[0.0, 0.5, 0.5]])),
     call("cross_entropy", torch.tensor([[-30.0, 0.0, 1.0]]), torch.tensor([[0.0, 0.5, 0.5]]))),
    ("nonfinite-input", "warning",
     call("nll_loss", torch.tensor([[0.0, 1.0], [0.5, 0.5]]).log(), torch.tensor([0, 1])),
     call("nll_loss", torch.tensor([[0.0, 1.0], [0.5, 0.5]]).log(), torch.tensor([1, 1]))),
    ("nonfinite-input", "warning",
     call("binary_cross_entropy_with_logits", torch.tensor([INF, 1.0]), torch.tensor([1.0, 0.0])),
     call("binary_cross_entropy_with_logits", torch.tensor([1e4, 1.0]), torch.tensor([1.0, 0.0]))),
    ("target-dtype-mismatch", "error",
     call("binary_cross_entropy", SIG, T.long()), call("binary_cross_entropy", SIG, T)),
    ("target-dtype-mismatch", "error",
     call("binary_cross_entropy", SIG, T.double()), call("binary_cross_entropy", SIG, T)),
    ("target-dtype-mismatch", "error",
     call("binary_cross_entropy_with_logits", Z, T.long()),
     call("binary_cross_entropy_with_logits", Z, T.double())),
    ("target-dtype-mismatch", "error",
     call("binary_cross_entropy_with_logits", Z.double(), T.int()),
     call("binary_cross_entropy_with_logits", Z.double(), T.double())),
    ("target-dtype-mismatch", "error",
     call("binary_cross_entropy_with_logits", Z, T.bool()),
     call("binary_cross_entropy_with_logits", Z, T.bool().float())),
    ("float-class-indices", "error",
     call("cross_entropy", Z, Y.double()), call("cross_entropy", Z, Y.double().long())),
    ("target-dtype-mismatch", "error",
     call("kl_div", LSM, T.long(), reduction="batchmean"),
     call("kl_div", LSM, SM, reduction="batchmean")),
    ("bce-input-range", "error",
     call("binary_cross_entropy", Z, T), call("binary_cross_entropy", SIG, T)),
    ("bce-input-range", "error",
     call("binary_cross_entropy", torch.tensor([float("nan")]), torch.tensor([1.0])),
     call("binary_cross_entropy", torch.tensor([0.5]), torch.tensor([1.0]))),
    ("bce-target-range", "error",
     call("binary_cross_entropy", SIG, 2 * T), call("binary_cross_entropy", SIG, T)),
    ("bce-target-range", "warning",
     call("binary_cross_entropy_with_logits", Z, 2 * T - 1),
     call("binary_cross_entropy_with_logits", Z, T)),
    ("bce-target-range", "warning",
     call("multilabel_soft_margin_loss", Z, 2 * T - 1), call("multilabel_soft_margin_loss", Z, T)),
    ("pos-weight-shape", "error",
     call(nn.BCEWithLogitsLoss(pos_weight=torch.ones(6)), Z, T),
     call(nn.BCEWithLogitsLoss(pos_weight=torch.ones(4)), Z, T)),
    ("weight-shape", "error",
     call("binary_cross_entropy", SIG, T, weight=torch.ones(6)),
     call("binary_cross_entropy", SIG, T, weight=torch.ones(6, 1))),
    ("weight-shape", "error",
     call("cross_entropy", Z, Y, weight=torch.ones(3)), call("cross_entropy", Z, Y, weight=W)),
    ("weight-dtype", "error",
     call("cross_entropy", Z, Y, weight=W.double()), call("cross_entropy", Z, Y, weight=W)),
    ("label-smoothing-range", "error",
     call("cross_entropy", Z, Y, label_smoothing=1.5),
     call("cross_entropy", Z, Y, label_smoothing=0.1)),
    ("label-smoothing-range", "warning",
     call("cross_entropy", Z, Y, label_smoothing=-0.1),
     call("cross_entropy", Z, Y, label_smoothing=0.0)),
    ("ignore-index-with-probabilities", "error",
     call("cross_entropy", Z, SM, ignore_index=0), call("cross_entropy", Z, SM)),
    ("probability-target-not-normalised", "warning",
     call("cross_entropy", Z, T), call("binary_cross_entropy_with_logits", Z, T)),
    ("integer-input", "error",
     call("cross_entropy", Z.long(), Y), call("cross_entropy", Z.round(), Y)),
    ("integer-input", "error",
     call("mse_loss", Y, Y), call("mse_loss", Y.float(), Y)),
    ("option-type", "error",
     call("cross_entropy", Z, Y, ignore_index=1.5), call("cross_entropy", Z, Y, ignore_index=1)),
    ("option-type", "error",
     call("cross_entropy", Z, Y, label_smoothing=None),
     call("cross_entropy", Z, Y, label_smoothing=0)),
    ("option-type", "error",
     call("smooth_l1_loss", Z, T, beta="1"), call("smooth_l1_loss", Z, T, beta=1)),
    ("unknown-option", "error",
     call("binary_cross_entropy", SIG, T, pos_weight=torch.ones(4)),
     call("binary_cross_entropy_with_logits", Z, T, pos_weight=torch.ones(4))),
    ("invalid-reduction", "error",
     call("cross_entropy", Z, Y, reduction="avg"), call("cross_entropy", Z, Y, reduction="mean")),
    ("invalid-reduction", "error",
     call("cross_entropy", Z, Y, reduction="batchmean"),
     call("kl_div", LSM, SM, reduction="batchmean")),
    ("deprecated-reduction", "warning",
     call("cross_entropy", Z, Y, reduction="elementwise_mean"),
     call("cross_entropy", Z, Y, reduction="mean")),
    ("legacy-reduction-arguments", "info",
     call("cross_entropy", Z, Y, size_average=False), call("cross_entropy", Z, Y, reduction="sum")),
    ("kl-div-mean", "warning",
     call(nn.KLDivLoss(), LSM, SM), call(nn.KLDivLoss(reduction="batchmean"), LSM, SM)),
    ("probabilities-to-kl-div", "warning",
     call("kl_div", SM, SM, reduction="batchmean"), call("kl_div", LSM, SM, reduction="batchmean")),
    ("scores-to-kl-div", "warning",
     call("kl_div", Z + 3, SM, reduction="sum"), call("kl_div", LSM, SM, reduction="sum")),
    ("kl-div-log-target", "warning",
     call("kl_div", LSM, LSM, reduction="batchmean"),
     call("kl_div", LSM, LSM, reduction="batchmean", log_target=True)),
    ("kl-div-log-target", "warning",
     call("kl_div", LSM, SM, reduction="batchmean", log_target=True),
     call("kl_div", LSM, SM, reduction="batchmean")),
    ("zero-one-target", "warning",
     call(nn.SoftMarginLoss(), Z, T), call(nn.SoftMarginLoss(), Z, 2 * T - 1)),
    ("zero-one-target", "warning",
     call("hinge_embedding_loss", Z.abs(), T), call("hinge_embedding_loss", Z.abs(), 2 * T - 1)),
    ("multi-hot-to-multilabel-margin", "warning",
     call(nn.MultiLabelMarginLoss(), Z, T.long()),
     call(nn.MultiLabelMarginLoss(), Z, torch.tensor([[3, 0, -1, 0]] * 6))),
    ("negative-beta", "error",
     call("smooth_l1_loss", Z, T, beta=-1.0), call("smooth_l1_loss", Z, T, beta=0.5)),
    ("non-positive-delta", "error",
     call("huber_loss", Z, T, delta=0.0), call("huber_loss", Z, T, delta=0.5)),
    ("negative-variance", "error",
     call("gaussian_nll_loss", Z, T, var=-torch.ones(6, 4)),
     call("gaussian_nll_loss", Z, T, var=torch.ones(6, 4))),
    # --- the losses added after the first version: CTC, Poisson, ±1 targets, multi-margin ---
    ("ctc-not-log-softmax", "warning",
     call("ctc_loss", LP.exp(), CT, IL, TL), call("ctc_loss", LP, CT, IL, TL)),
    ("ctc-not-log-softmax", "warning",                 # raw scores into the module
     call(nn.CTCLoss(), RAW, CT, IL, TL), call(nn.CTCLoss(), RAW.log_softmax(2), CT, IL, TL)),
    ("ctc-not-log-softmax", "warning",                 # zero-padded frames inside input_lengths
     call("ctc_loss", LP_PADDED, CT, IL, TL), call("ctc_loss", LP_PADDED, CT, IL_SHORT, TL)),
    ("ctc-input-too-short", "warning",                 # 1 2 2 needs 4 frames: 1 2 _ 2
     call("ctc_loss", LP, CT, torch.tensor([3, 8]), TL),
     call("ctc_loss", LP, CT, torch.tensor([4, 8]), TL)),
    ("ctc-input-too-short", "info",
     call(nn.CTCLoss(zero_infinity=True), LP, CT, torch.tensor([3, 8]), TL),
     call(nn.CTCLoss(zero_infinity=True), LP, CT, torch.tensor([4, 8]), TL)),
    ("ctc-blank-in-targets", "warning",
     call("ctc_loss", LP, torch.tensor([[1, 0, 2], [3, 4, 0]]), IL, TL),
     call("ctc_loss", LP, torch.tensor([[1, 3, 2], [3, 4, 0]]), IL, TL)),
    ("ctc-blank-in-targets", "warning",
     call("ctc_loss", LP, CT, IL, TL, blank=4), call("ctc_loss", LP, CT - 1, IL, TL, blank=4)),
    ("ctc-label-out-of-range", "warning",
     call("ctc_loss", LP, torch.tensor([[1, 7, 2], [3, 4, 0]]), IL, TL),
     call("ctc_loss", LP, torch.tensor([[1, 3, 2], [3, 4, 7]]), IL, TL)),
    ("ctc-lengths", "error",
     call("ctc_loss", LP, CT, torch.tensor([9, 8]), TL), call("ctc_loss", LP, CT, IL, TL)),
    ("ctc-targets-shape", "error",
     call("ctc_loss", LP, CT, IL, torch.tensor([4, 2])), call("ctc_loss", LP, CT, IL, TL)),
    ("ctc-lengths", "error",
     call("ctc_loss", LP, CT, IL, torch.tensor([-1, 2])), call("ctc_loss", LP, CT, IL, TL)),
    ("ctc-batch-first", "error",                       # batch-first log_probs (N, T, C)
     call("ctc_loss", LP.transpose(0, 1), CT, IL, TL), call("ctc_loss", LP, CT, IL, TL)),
    ("ctc-lengths", "error",
     call("ctc_loss", LP, CT, IL.float(), TL), call("ctc_loss", LP, CT, IL.tolist(), TL.tolist())),
    ("ctc-lengths", "error",                           # a list and a tensor: torch refuses
     call("ctc_loss", LP, CT, IL.tolist(), TL), call("ctc_loss", LP, CT, IL, TL)),
    ("ctc-targets-shape", "error",                     # concatenated targets: one label short
     call("ctc_loss", LP, torch.tensor([1, 2, 2, 3]), IL, TL),
     call("ctc_loss", LP, torch.tensor([1, 2, 2, 3, 4]), IL, TL)),
    ("ctc-blank-range", "error",
     call("ctc_loss", LP, CT, IL, TL, blank=5), call("ctc_loss", LP, CT, IL, TL, blank=0)),
    ("half-not-implemented", "error",
     call("ctc_loss", LP.half(), CT, IL, TL), call("ctc_loss", LP.double(), CT, IL, TL)),
    ("half-not-implemented", "error",
     call("multi_margin_loss", Z.half(), Y), call("multi_margin_loss", Z, Y)),
    ("half-not-implemented", "error",
     call("multilabel_margin_loss", Z.half(), torch.tensor([[3, 0, -1, -1]] * 6)),
     call("multilabel_margin_loss", Z, torch.tensor([[3, 0, -1, -1]] * 6))),
    ("missing-argument", "error",
     call("ctc_loss", LP, CT), call("ctc_loss", LP, CT, IL, TL)),
    ("missing-argument", "error",
     call(nn.MarginRankingLoss(), X1, X2), call(nn.MarginRankingLoss(), X1, X2, PM)),
    ("zero-one-target", "warning",
     call(F.margin_ranking_loss, X1, X2, ZO), call(F.margin_ranking_loss, X1, X2, PM)),
    ("zero-one-target", "warning",
     call(nn.CosineEmbeddingLoss(margin=0.2), Z, Z.flip(0), ZO),
     call(nn.CosineEmbeddingLoss(margin=0.2), Z, Z.flip(0), PM)),
    ("poisson-rates-with-log-input", "warning",
     call("poisson_nll_loss", RATES, COUNTS), call("poisson_nll_loss", RATES, COUNTS,
                                                   log_input=False)),
    ("poisson-rates-with-log-input", "warning",
     call(nn.PoissonNLLLoss(), RATES, COUNTS), call(nn.PoissonNLLLoss(), RATES.log(), COUNTS)),
    ("poisson-negative-rates", "warning",
     call("poisson_nll_loss", RATES.log() - 2, COUNTS, log_input=False),
     call("poisson_nll_loss", RATES.log() - 2, COUNTS)),
    ("multi-margin-p", "error",
     call("multi_margin_loss", Z, Y, p=3), call("multi_margin_loss", Z, Y, p=2)),
    ("class-index-out-of-range", "error",
     call(nn.MultiMarginLoss(), Z, torch.tensor([0, 4, 1, 2, 1, 0])),
     call(nn.MultiMarginLoss(), Z, torch.tensor([0, 3, 1, 2, 1, 0]))),
    ("non-long-class-indices", "error",
     call("multi_margin_loss", Z, Y.int()), call("multi_margin_loss", Z, Y)),
    ("class-index-out-of-range", "error",
     call(nn.MultiLabelMarginLoss(), Z, torch.tensor([[3, 0, -1, 4]] * 6)),
     call(nn.MultiLabelMarginLoss(), Z, torch.tensor([[3, 0, -1, -1]] * 6))),
    ("non-positive-margin", "error",
     call("triplet_margin_loss", Z, Z.flip(0), Z.roll(1, 0), margin=0.0),
     call("triplet_margin_loss", Z, Z.flip(0), Z.roll(1, 0), margin=0.5)),
    ("non-positive-margin", "error",
     call(F.triplet_margin_with_distance_loss, Z, Z.flip(0), Z.roll(1, 0), margin=-1.0),
     call(F.triplet_margin_with_distance_loss, Z, Z.flip(0), Z.roll(1, 0))),
    ("missing-argument", "error",
     call("gaussian_nll_loss", Z, T), call("gaussian_nll_loss", Z, T, torch.ones(6))),
    ("var-shape", "error",
     call(nn.GaussianNLLLoss(), Z, T, torch.ones(4)), call(nn.GaussianNLLLoss(), Z, T,
                                                          torch.ones(1, 4))),
    ("var-shape", "error",
     call("gaussian_nll_loss", Z, T, var=torch.ones(6, 4, 1)),
     call("gaussian_nll_loss", Z, T, var=1.0)),
    ("multilabel-margin-padding", "info",
     call(nn.MultiLabelMarginLoss(), Z, torch.tensor([[3, -1, 1, 0]] * 6)),
     call(nn.MultiLabelMarginLoss(), Z, torch.tensor([[3, -1, -1, -1]] * 6))),
]
IDS = [f"{i}-{case[0]}" for i, case in enumerate(CASES)]
ISSUE_CODES = {"softmax-before-cross-entropy", "probabilities-to-bce-with-logits", "scores-to-nll",
               "softmax-to-nll", "bce-log-clamped", "all-targets-ignored", "target-shape-mismatch",
               "float-class-indices", "one-hot-index-target", "single-class-cross-entropy",
               "weighted-mean-denominator", "class-index-out-of-range"}


def torch_call(loss, args, options):
    """Run the call in torch; True when torch refuses it (its warnings are swallowed)."""
    return torch_refusal(loss, args, options) is not None


def torch_refusal(loss, args, options):
    """torch's error message for the call, or None when torch accepts it."""
    if isinstance(loss, str):
        fn = functools.partial(getattr(F, loss), **options)
    elif isinstance(loss, nn.Module):
        fn = loss
    else:
        fn = functools.partial(loss, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(*args)
        except Exception as error:                     # noqa: BLE001 - any refusal counts
            return str(error)
    return None


def codes(findings, severity=None):
    return [f.code for f in findings if severity is None or f.severity == severity]


def serious(findings):
    return [f for f in findings if f.severity in ("error", "warning")]


def quiet(findings, loss, args, options):
    """No error or warning, but for a half-precision overflow torch really shows.

    A random call in float16 can overflow (exp(12) > 65504): then torch's value must be
    inf or nan, or off from float64's by more than 5 %, for 'half-overflow' to be right.
    """
    rest = [f for f in serious(findings) if f.code != "half-overflow"]
    if rest:
        return False
    if len(rest) < len(serious(findings)):
        fn = loss if isinstance(loss, nn.Module) else functools.partial(
            getattr(F, loss) if isinstance(loss, str) else loss, **options)
        if not torch.is_tensor(args[-1]):
            args = (*args[:-1], torch.tensor(args[-1]))
        low = fn(*args).double()
        high = fn(*[a.double() if a.is_floating_point() else a for a in args])
        off = (~torch.isfinite(low)) | ((low - high).abs() > 0.05 * high.abs() + 1e-2)
        return bool(off.any())
    return True




# --- issue 22: the misuses real users hit, each from at least two shapes or settings --------
K3 = torch.from_numpy(rng.normal(size=(2, 3, 4)).astype(np.float32))   # (N, T, C): classes last
K3_T = torch.tensor([[0, 3, 1], [2, 2, 0]])                            # (N, T)
K4 = torch.from_numpy(rng.normal(size=(2, 2, 2, 5)).astype(np.float32))   # (N, H, W, C)
K4_T = torch.tensor([[[0, 4], [1, 2]], [[3, 3], [0, 1]]])
FMIN = torch.finfo(torch.float32).min
MASKED = torch.tensor([[-INF, -INF, -INF], [0.0, 1.0, 2.0]])
MASKED_K = torch.tensor([[[-INF, 0.5], [-INF, 1.0], [-INF, -1.0]]])    # (1, C=3, 2): position 0 masked
H = torch.from_numpy(rng.normal(size=(6, 3)).astype(np.float32))       # hidden vectors
LW = torch.from_numpy(rng.normal(size=(4, 3)).astype(np.float32))      # linear weight (C, in)
COS_D = 1 - F.cosine_similarity(Z, Z.roll(1, 0))                        # distances in [0, 2]
BIG = torch.tensor([[200.0, 10.0, 5.0], [150.0, -40.0, 3.0]])

NEW_CASES = [
    ("class-axis-last", "error",
     call("cross_entropy", K3, K3_T), call("cross_entropy", K3.transpose(1, 2), K3_T)),
    ("class-axis-last", "error",
     call(nn.NLLLoss(), K4.log_softmax(-1), K4_T),
     call(nn.NLLLoss(), K4.log_softmax(-1).movedim(-1, 1), K4_T)),
    ("sigmoid-before-cross-entropy", "warning",
     call("cross_entropy", SIG, Y), call("cross_entropy", Z, Y)),
    ("sigmoid-before-cross-entropy", "warning",
     call(nn.CrossEntropyLoss(), K3.transpose(1, 2).sigmoid(), K3_T),
     call(nn.CrossEntropyLoss(), K3.transpose(1, 2), K3_T)),
    ("signed-input-to-hinge-embedding", "warning",
     call("hinge_embedding_loss", Z, 2 * T - 1), call("hinge_embedding_loss", Z.abs(), 2 * T - 1)),
    ("signed-input-to-hinge-embedding", "warning",
     call(nn.HingeEmbeddingLoss(margin=0.5), X1, PM),
     call(nn.HingeEmbeddingLoss(margin=0.5), COS_D, PM)),
    ("constant-logits", "warning",
     call("cross_entropy", torch.zeros(6, 4), Y), call("cross_entropy", Z, Y)),
    ("constant-logits", "warning",
     call("nll_loss", LSM[:1].expand(6, 4), Y), call("nll_loss", LSM, Y)),
    ("constant-logits", "warning",
     call("cross_entropy", torch.zeros(2, 4, 3), K3_T), call("cross_entropy", K3.transpose(1, 2),
                                                             K3_T)),
    ("masked-row-nan-gradient", "warning",
     call("cross_entropy", MASKED, torch.tensor([-100, 1])),
     call("cross_entropy", MASKED.clamp_min(FMIN), torch.tensor([-100, 1]))),
    ("masked-row-nan-gradient", "warning",
     call("cross_entropy", MASKED_K, torch.tensor([[-100, 2]]), label_smoothing=0.1),
     call("cross_entropy", MASKED_K.clamp_min(FMIN), torch.tensor([[-100, 2]]),
          label_smoothing=0.1)),
    ("regression-target", "warning",
     call("cross_entropy", Z, 5 * T - 1), call("mse_loss", Z, 5 * T - 1)),
    ("regression-target", "warning",
     call("cross_entropy", Z[:, :2], torch.stack([T1 * 3.5, T1 - 2.0], 1)),
     call("huber_loss", Z[:, :2], torch.stack([T1 * 3.5, T1 - 2.0], 1))),
    ("regression-target", "error",
     call("cross_entropy", Z[:, :1], torch.tensor([2.5, 0.3, 1.7, 4.2, 3.3, 0.9])),
     call("mse_loss", Z[:, 0], torch.tensor([2.5, 0.3, 1.7, 4.2, 3.3, 0.9]))),
    ("ignore-index-is-a-class", "info",
     call("cross_entropy", Z, Y, ignore_index=0), call("cross_entropy", Z, Y)),
    ("ignore-index-is-a-class", "info",
     call(nn.NLLLoss(ignore_index=2), K4.log_softmax(-1).movedim(-1, 1), K4_T),
     call(nn.NLLLoss(ignore_index=-1), K4.log_softmax(-1).movedim(-1, 1), K4_T)),
    ("label-smoothing-floor", "info",
     call("cross_entropy", Z, Y, label_smoothing=0.1), call("cross_entropy", Z, Y)),
    ("label-smoothing-floor", "info",
     call(nn.CrossEntropyLoss(label_smoothing=0.2), K3.transpose(1, 2), K3_T),
     call(nn.CrossEntropyLoss(label_smoothing=0.2), K3.transpose(1, 2),
          K3.transpose(1, 2).softmax(1))),
    ("ctc-mean-per-target-length", "info",
     call("ctc_loss", LP, CT, IL, TL), call("ctc_loss", LP, CT, IL, TL, reduction="sum")),
    ("ctc-mean-per-target-length", "info",
     call(nn.CTCLoss(), LP, torch.tensor([1, 2, 2, 3, 4]), IL, TL),
     call(nn.CTCLoss(reduction="none"), LP, torch.tensor([1, 2, 2, 3, 4]), IL, TL)),
    ("negative-nll", "info",
     call("gaussian_nll_loss", Z, Z + 0.01, torch.full((6, 4), 0.01)),
     call("gaussian_nll_loss", Z, Z + 0.01, torch.ones(6, 4))),
    ("negative-nll", "info",
     call(nn.PoissonNLLLoss(), RATES.log(), COUNTS),
     call(nn.PoissonNLLLoss(full=True), RATES.log(), COUNTS)),
    ("linear-weight-shape", "error",
     call("linear_cross_entropy", H, LW.T, Y.clamp_max(3)),
     call("linear_cross_entropy", H, LW, Y.clamp_max(3))),
    ("linear-weight-shape", "error",
     call(F.linear_cross_entropy, H[0], torch.ones(5, 4), torch.tensor(1)),
     call(F.linear_cross_entropy, H[0], torch.ones(5, 3), torch.tensor(1))),
    ("class-index-out-of-range", "error",                # linear_cross_entropy's logits
     call("linear_cross_entropy", H, LW, torch.tensor([0, 4, 1, 2, 1, 0])),
     call("linear_cross_entropy", H, LW, torch.tensor([0, 3, 1, 2, 1, 0]))),
    ("all-targets-ignored", "warning",
     call("linear_cross_entropy", H, LW, torch.full((6,), -100)),
     call("linear_cross_entropy", H, LW, torch.tensor([0, -100, 1, -100, 3, -100]))),
    ("ctc-log-probs-shape", "error",
     call("ctc_loss", LP[None], CT, IL, TL), call("ctc_loss", LP, CT, IL, TL)),
    ("ctc-log-probs-shape", "error",
     call("ctc_loss", LP[:, 0, 0], CT[0], IL[:1], TL[:1]),
     call("ctc_loss", LP[:, 0], CT[0], IL[0], TL[0])),
    ("ctc-batch-first", "error",
     call("ctc_loss", LP[:, :1].transpose(0, 1), CT[:1], IL[:1], TL[:1]),
     call("ctc_loss", LP[:, :1], CT[:1], IL[:1], TL[:1])),
    ("non-long-class-indices", "error",                  # uint8 passes for (N, C) only
     call("cross_entropy", K3.transpose(1, 2), K3_T.to(torch.uint8)),
     call("cross_entropy", K3.transpose(1, 2), K3_T)),
    ("non-long-class-indices", "error",
     call("nll_loss", K4.movedim(-1, 1).log_softmax(1), K4_T.to(torch.uint8)),
     call("nll_loss", K4.movedim(-1, 1).log_softmax(1).flatten(2), K4_T.flatten(1))),
    ("integer-input", "error",                           # argmax output: pass the logits
     call("cross_entropy", Z.argmax(1), Y), call("cross_entropy", Z, Y)),
    ("integer-input", "error",
     call("binary_cross_entropy_with_logits", (Z > 0).long(), T),
     call("binary_cross_entropy_with_logits", Z, T)),
    ("one-hot-index-target", "error",                    # a one-hot vector for a 1-D input
     call("cross_entropy", Z[0], F.one_hot(Y[0], 4)),
     call("cross_entropy", Z[0], F.one_hot(Y[0], 4).argmax())),
    ("target-shape-mismatch", "info",                    # same values, other shapes
     call("mse_loss", Z[:1, 0], T[0, 0]), call("mse_loss", Z[0, 0], T[0, 0])),
    ("target-shape-mismatch", "info",
     call("l1_loss", Z[0], T[:1]), call("l1_loss", Z[:1], T[:1])),
    ("half-not-implemented", "error",
     call("ctc_loss", LP.bfloat16(), CT, IL, TL), call("ctc_loss", LP, CT, IL, TL)),
    ("half-overflow", "warning",                         # exp(12) > 65504
     call("poisson_nll_loss", torch.tensor([12.0, 1.0]).half(), torch.tensor([3.0, 1.0]).half()),
     call("poisson_nll_loss", torch.tensor([12.0, 1.0]), torch.tensor([3.0, 1.0]))),
    ("half-overflow", "warning",                         # squared norms multiply past 65504
     call("cosine_embedding_loss", BIG.half(), (BIG * 0.9 + 1).half(), torch.ones(2).half()),
     call("cosine_embedding_loss", BIG, BIG * 0.9 + 1, torch.ones(2))),
    ("half-overflow", "warning",
     call("soft_margin_loss", torch.tensor([-12.0, 1.0]).half(), torch.ones(2).half()),
     call("soft_margin_loss", torch.tensor([-12.0, 1.0]).bfloat16(), torch.ones(2).bfloat16())),
    ("half-overflow", "warning",
     call("mse_loss", torch.full((2000,), 10.0).half(), torch.zeros(2000).half(),
          reduction="sum"),
     call("mse_loss", torch.full((2000,), 10.0).half(), torch.zeros(2000).half())),
    ("half-loss-step", "info",
     call("cross_entropy", torch.zeros(64, 1000).normal_(generator=torch.Generator().manual_seed(0))
          .bfloat16(), torch.arange(64)),
     call("cross_entropy", torch.zeros(64, 1000).normal_(generator=torch.Generator().manual_seed(0)),
          torch.arange(64))),
    ("half-loss-step", "info",
     call("mse_loss", torch.full((40,), 2.0).half(), torch.zeros(40).half(), reduction="sum"),
     call("mse_loss", torch.full((40,), 2.0).half(), torch.zeros(40).half())),
]
# found by a sweep of target dtypes against torch: a bool target is subtracted
NEW_CASES += [
    ("target-dtype-mismatch", "error",
     call("l1_loss", SIG, T.bool()), call("l1_loss", SIG, T.bool().float())),
    ("target-dtype-mismatch", "error",
     call("multilabel_soft_margin_loss", Z, T.bool()),
     call("multilabel_soft_margin_loss", Z, T.bool().float())),
    ("class-index-out-of-range", "error",                # 1-based labels
     call("cross_entropy", Z, Y + 1), call("cross_entropy", Z, Y + 1 - 1)),
]
# found by sweeping shapes against torch
NEW_CASES += [
    ("class-indices-to-regression", "warning",           # MSE for a classification
     call("mse_loss", Z, Y), call("cross_entropy", Z, Y)),
    ("class-indices-to-regression", "warning",
     call(nn.L1Loss(), Z, Y.float()), call(nn.L1Loss(), Z, F.one_hot(Y, 4).float())),
    ("class-index-out-of-range", "error",                # -1 padding, default ignore_index
     call("cross_entropy", Z, torch.tensor([0, -1, 1, -1, 3, 2])),
     call("cross_entropy", Z, torch.tensor([0, -1, 1, -1, 3, 2]), ignore_index=-1)),
    ("ctc-targets-shape", "error",                       # unbatched: 1-D targets are concatenated
     call("ctc_loss", LP[:, 0], torch.tensor([1, 2, 2, 3]), IL[:1], TL[:1]),
     call("ctc_loss", LP[:, 0], torch.tensor([1, 2, 2]), IL[:1], TL[:1])),
    ("ctc-lengths", "error",                             # a Python int is no length tensor
     call("ctc_loss", LP[:, 0], CT[0], 8, 3), call("ctc_loss", LP[:, 0], CT[0], (8,), (3,))),
    ("inputs-shape-mismatch", "error",                   # one dimension short
     call("margin_ranking_loss", X1, X2[:, None], PM), call("margin_ranking_loss", X1, X2, PM)),
    ("inputs-shape-mismatch", "error",
     call("cosine_embedding_loss", Z, Z.flip(0), PM[:, None]),
     call("cosine_embedding_loss", Z, Z.flip(0), PM)),
    ("inputs-shape-mismatch", "error",
     call("triplet_margin_loss", Z, Z.flip(0), Z[0]),
     call("triplet_margin_loss", Z, Z.flip(0), Z[:1])),
    ("target-shape-mismatch", "error",                   # soft_margin writes into the input
     call("soft_margin_loss", Z[:, 0], PM[:, None]), call("soft_margin_loss", Z[:, :1], PM[:, None])),
    ("target-shape-mismatch", "warning",
     call("hinge_embedding_loss", Z[:, :1].abs(), PM), call("hinge_embedding_loss", Z[:, 0].abs(), PM)),
    ("index-target-shape", "error",
     call("multi_margin_loss", Z, Y[:, None]), call("multi_margin_loss", Z, Y)),
    ("index-target-shape", "error",
     call(nn.MultiLabelMarginLoss(), Z, torch.tensor([[3, 0, -1, -1]] * 5)),
     call(nn.MultiLabelMarginLoss(), Z[:5], torch.tensor([[3, 0, -1, -1]] * 5))),
    ("input-shape", "error",
     call("multilabel_soft_margin_loss", Z[0, 0], T[0, 0]),
     call("multilabel_soft_margin_loss", Z[0], T[0])),
    ("input-shape", "error",
     call("multi_margin_loss", Z[:, :0], Y), call("multi_margin_loss", Z[:0], Y[:0])),
]
NEW_IDS = [f"{i}-{case[0]}" for i, case in enumerate(NEW_CASES)]
