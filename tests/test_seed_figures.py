"""Every figure the seed posts print, reproduced by lossref and by torch (live).

Each case states the seed's inputs and the figure as the seed prints it (4 decimals);
lossref must round to that figure and agree with torch computed now.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from oracle import assert_matches_torch, t

import lossref

f32 = np.float32

SEED000_X = np.array([[0.5, 0.4, 0.3], [0.3, 0.2, 0.5]], f32)
SEED000_Y = np.array([[0, 1, 0], [1, 0, 0]], f32)
SEED001_LOGITS = np.array([[-0.4089, -1.2471, 0.5907], [-0.4897, -0.8267, -0.7349],
                           [0.5241, -0.1246, -0.4751]], f32)
SEED001_Y = np.array([[0, 1, 1], [0, 0, 1], [1, 0, 1]], f32)
SEED003_CE_X = np.array([[-0.6722, 0.0933, -0.7828, -0.5380, -0.3814],
                         [-1.0644, -0.0649, 0.6899, -0.5077, -0.4502],
                         [-1.7857, -0.0663, 0.4620, 0.8843, -0.4773]], f32)
SEED003_CE_Y = np.array([1, 0, 1])
SEED003_BCE_X = np.array([0.2211, 0.8756, 2.4896], f32)
SEED003_LOGITS = np.array([0.5454, 0.9473, -0.5845], f32)
SEED003_LOGITS_Y = np.array([1, 0, 0], f32)
SEED004_CE_X = np.array([[1, 2], [1, 3], [1, 3]], f32)
SEED004_CE_Y = np.array([0, 1, 1])
SEED004_BCE_X = np.array([[1, 2], [2, 2], [3, 4], [4, 5]], f32)
SEED004_BCE_Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], f32)


def check(ours, theirs, printed):
    """lossref agrees with torch, and both print as the seed printed."""
    assert_matches_torch(ours, theirs, f32)
    np.testing.assert_array_equal(np.round(np.asarray(ours, dtype=np.float64), 4), printed)


@pytest.mark.parametrize("reduction, printed", [
    ("none", [[0.6931, 0.9163, 0.3567], [1.2040, 0.2231, 0.6931]]),
    ("sum", 4.0864),
    ("mean", 0.6811),
])
def test_seed000_bce(reduction, printed):
    check(lossref.binary_cross_entropy(SEED000_X, SEED000_Y, reduction=reduction),
          F.binary_cross_entropy(t(SEED000_X), t(SEED000_Y), reduction=reduction), printed)


def test_seed001_sigmoid_matrix():
    printed = [[0.3992, 0.2232, 0.6435], [0.3800, 0.3043, 0.3241], [0.6281, 0.4689, 0.3834]]
    import torch
    check(lossref.sigmoid(SEED001_LOGITS), torch.sigmoid(t(SEED001_LOGITS)), printed)


def test_seed001_bce_three_ways():
    probs = lossref.sigmoid(SEED001_LOGITS)
    check(lossref.binary_cross_entropy(probs, SEED001_Y),
          F.binary_cross_entropy(t(probs), t(SEED001_Y)), 0.7193)
    check(lossref.binary_cross_entropy_with_logits(SEED001_LOGITS, SEED001_Y),
          F.binary_cross_entropy_with_logits(t(SEED001_LOGITS), t(SEED001_Y)), 0.7193)
    # The seed's hand chain: probabilities rounded to 4 decimals (with its typo 0.3044 for
    # 0.3043), each term rounded, row means rounded: 0.8167, 0.6559, 0.6855 -> 0.7194.
    rounded = np.round(probs.astype(np.float64), 4)
    assert rounded[1, 1] == 0.3043
    rounded[1, 1] = 0.3044
    y = SEED001_Y.astype(np.float64)
    terms = np.round(-(y * np.log(rounded) + (1 - y) * np.log(1 - rounded)), 4)
    row_means = np.round(terms.mean(axis=1), 4)
    np.testing.assert_array_equal(row_means, [0.8167, 0.6559, 0.6855])
    assert round(float(row_means.mean()), 4) == 0.7194


@pytest.mark.parametrize("reduction, printed", [
    ("none", [1.3133, 0.1269, 0.1269]), ("sum", 1.5671), ("mean", 0.5224)])
def test_seed004_cross_entropy(reduction, printed):
    check(lossref.cross_entropy(SEED004_CE_X, SEED004_CE_Y, reduction=reduction),
          F.cross_entropy(t(SEED004_CE_X), t(SEED004_CE_Y), reduction=reduction), printed)


@pytest.mark.parametrize("reduction, printed", [
    ("none", [1.3133, 0.2539, 0.2539]), ("sum", 1.8210), ("mean", 0.3642)])
def test_seed004_weighted_cross_entropy(reduction, printed):
    w = np.array([1, 2], f32)
    check(lossref.cross_entropy(SEED004_CE_X, SEED004_CE_Y, weight=w, reduction=reduction),
          F.cross_entropy(t(SEED004_CE_X), t(SEED004_CE_Y), weight=t(w), reduction=reduction),
          printed)


def test_seed004_hand_first_sample():
    # the seed prints its float32 hand value for sample 0 as 1.3132617 (shortest repr)
    x = SEED004_CE_X[0]
    hand = -x[0] + np.log(np.sum([np.exp(v) for v in x]))  # scalar exps, as the seed sums them
    assert str(hand) == "1.3132617"
    ours = lossref.cross_entropy(SEED004_CE_X, SEED004_CE_Y, reduction="none")[0]
    np.testing.assert_array_max_ulp(ours, hand, maxulp=2)


@pytest.mark.parametrize("reduction, printed", [
    ("none", [-1, -3, -3]), ("sum", -7.0), ("mean", -2.3333)])
def test_seed004_nll_on_raw_scores(reduction, printed):
    w = np.array([1, 1], f32)
    check(lossref.nll_loss(SEED004_CE_X, SEED004_CE_Y, weight=w, reduction=reduction),
          F.nll_loss(t(SEED004_CE_X), t(SEED004_CE_Y), weight=t(w), reduction=reduction), printed)


SEED004_NONE = [[0.3133, 2.1269], [0.1269, 2.1269], [3.0486, 0.0181], [4.0181, 0.0067]]


@pytest.mark.parametrize("reduction, printed", [
    ("none", SEED004_NONE), ("sum", 11.7856), ("mean", 1.4732)])
def test_seed004_bce_on_sigmoid_and_logits(reduction, printed):
    w = np.array([1, 1], f32)
    probs = lossref.sigmoid(SEED004_BCE_X)
    check(probs, t(SEED004_BCE_X).sigmoid(),
          [[0.7311, 0.8808], [0.8808, 0.8808], [0.9526, 0.9820], [0.9820, 0.9933]])
    check(lossref.binary_cross_entropy(probs, SEED004_BCE_Y, weight=w, reduction=reduction),
          F.binary_cross_entropy(t(probs), t(SEED004_BCE_Y), weight=t(w), reduction=reduction),
          printed)
    check(lossref.binary_cross_entropy_with_logits(SEED004_BCE_X, SEED004_BCE_Y, weight=w,
                                                   reduction=reduction),
          F.binary_cross_entropy_with_logits(t(SEED004_BCE_X), t(SEED004_BCE_Y), weight=t(w),
                                             reduction=reduction), printed)


def test_seed004_bce_hand_first_element():
    # 0.31326166 from the float32 sigmoid; 0.313205… from the seed's rounded 0.7311
    p = lossref.sigmoid(SEED004_BCE_X)[0, 0]
    assert str(-np.log(p)) == "0.31326166"
    assert str(-np.log(0.7311)) == "0.31320502968286684"


@pytest.mark.parametrize("reduction, printed", [
    ("none", [[0.9398, 2.1269], [0.3808, 2.1269], [3.0486, 0.0544], [4.0181, 0.0201]]),
    ("sum", 12.7158), ("mean", 1.5895)])
def test_seed004_pos_weight(reduction, printed):
    w, pw = np.array([1], f32), np.array([3], f32)
    check(lossref.binary_cross_entropy_with_logits(SEED004_BCE_X, SEED004_BCE_Y, weight=w,
                                                   reduction=reduction, pos_weight=pw),
          F.binary_cross_entropy_with_logits(t(SEED004_BCE_X), t(SEED004_BCE_Y), weight=t(w),
                                             reduction=reduction, pos_weight=t(pw)), printed)


def test_seed003_cross_entropy_from_printed_inputs():
    # Torch printed 1.8316 for the unrounded random inputs; the 4-decimal inputs give 1.8315,
    # while the mean of the three printed per-sample losses rounds to 1.8316.
    check(lossref.cross_entropy(SEED003_CE_X, SEED003_CE_Y, reduction="none"),
          F.cross_entropy(t(SEED003_CE_X), t(SEED003_CE_Y), reduction="none"),
          [1.1104, 2.5718, 1.8125])
    check(lossref.cross_entropy(SEED003_CE_X, SEED003_CE_Y),
          F.cross_entropy(t(SEED003_CE_X), t(SEED003_CE_Y)), 1.8315)
    assert round((1.1104 + 2.5718 + 1.8125) / 3, 4) == 1.8316
    # printed softmax row 3 has 0.1632; from the rounded inputs it is 0.1633
    check(lossref.softmax(SEED003_CE_X, 1), F.softmax(t(SEED003_CE_X), 1),
          [[0.1532, 0.3294, 0.1372, 0.1752, 0.2049], [0.0764, 0.2076, 0.4415, 0.1333, 0.1412],
           [0.0293, 0.1633, 0.2769, 0.4224, 0.1082]])
    check(-np.log(lossref.softmax(SEED003_CE_X, 1))[0, 1], -F.softmax(t(SEED003_CE_X), 1).log()[0, 1],
          1.1104)


def test_seed003_bce_from_printed_inputs():
    zeros = np.zeros(3, f32)
    probs = lossref.sigmoid(SEED003_BCE_X)
    check(probs, t(SEED003_BCE_X).sigmoid(), [0.5551, 0.7059, 0.9234])
    check(-np.log(probs), -t(probs).log(), [0.5887, 0.3483, 0.0797])
    # printed [0.8098, 1.2238, 2.5693]: the middle one is 1.2239 from the rounded input 0.8756
    check(lossref.binary_cross_entropy(probs, zeros, reduction="none"),
          F.binary_cross_entropy(t(probs), t(zeros), reduction="none"), [0.8098, 1.2239, 2.5693])
    check(lossref.binary_cross_entropy(probs, zeros), F.binary_cross_entropy(t(probs), t(zeros)),
          1.5343)


@pytest.mark.parametrize("reduction, printed", [
    ("none", [0.4572, 1.2750, 0.4430]), ("mean", 0.7251)])
def test_seed003_bce_with_logits(reduction, printed):
    check(lossref.binary_cross_entropy_with_logits(SEED003_LOGITS, SEED003_LOGITS_Y,
                                                   reduction=reduction),
          F.binary_cross_entropy_with_logits(t(SEED003_LOGITS), t(SEED003_LOGITS_Y),
                                             reduction=reduction), printed)
    total = lossref.binary_cross_entropy_with_logits(SEED003_LOGITS, SEED003_LOGITS_Y,
                                                     reduction="sum")
    assert round(float(total) / 3, 4) == 0.7251


def test_seed001_unseeded_example_from_printed_inputs():
    # The seed drew these with torch.rand/randn and no seed; its printed 4-decimal values
    # still reproduce the printed 0.6705.
    x = np.array([[[-0.0828, 0.1661, -0.5422, -1.2300], [-1.0764, -0.1699, -0.0334, 0.3021],
                   [-0.3994, -0.8070, 1.0112, -0.7639]],
                  [[-1.4431, 0.3587, 0.2310, -0.7968], [1.0035, 1.2438, -0.0235, -1.0956],
                   [-1.6103, 2.2160, 0.5243, 0.4291]]], f32)
    y = np.array([[[0, 1, 1, 0], [1, 1, 1, 1], [0, 0, 1, 1]],
                  [[1, 0, 1, 0], [0, 1, 0, 0], [0, 1, 0, 1]]], f32)
    check(lossref.binary_cross_entropy_with_logits(x, y),
          F.binary_cross_entropy_with_logits(t(x), t(y)), 0.6705)
