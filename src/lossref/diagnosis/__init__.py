"""``lossref.diagnose``: name the misuse behind a surprising loss, on the reader's own tensors.

``diagnose(loss, input, target, **options)`` looks at a loss call and returns a list of
:class:`Finding`: errors for calls PyTorch refuses (with PyTorch's reason), warnings for calls
PyTorch accepts that give a misleading number, and notes ("info") for behaviour worth knowing.
A correct call gives no error or warning. Every code is listed in :data:`CODES`.

Decisions, documented once:

- ``loss`` is recognised by name only (torch is never imported): a string
  (``"cross_entropy"``, ``"CrossEntropyLoss"``, ``"torch.nn.functional.cross_entropy"``), a
  function (its ``__name__``), a class (its ``__name__``), an instance (its class's name,
  with its options read from its attributes), or a ``functools.partial`` of a function.
  An unknown name raises ``ValueError``. The losses and their parameters are read from
  lossref's own signatures (``signatures.py``), which are torch's.
- The tensors go in torch's positional order: ``diagnose(loss, input, target)``, and for the
  losses that take more, ``diagnose("margin_ranking_loss", input1, input2, target)``,
  ``diagnose("triplet_margin_loss", anchor, positive, negative)``,
  ``diagnose("ctc_loss", log_probs, targets, input_lengths, target_lengths)``,
  ``diagnose("linear_cross_entropy", input, linear_weight, target)``. Further positional
  arguments fill the loss's options in the torch function's order; too many, or one given
  twice, raise ``TypeError`` like any Python call. A tensor the loss needs and the call leaves
  out is a ``missing-argument`` error.
- Arrays are read through ``lossref._validation.asarray`` (CPU or GPU torch tensors with or
  without ``requires_grad``, NumPy arrays including ``ml_dtypes.bfloat16``, lists). Something
  that is not a numeric array raises ``TypeError``. Every other problem, however bad the
  tensors, is a finding; ``diagnose`` does not raise for it.
- dtypes are judged as ``torch.as_tensor`` would carry them: only when the argument has a
  ``dtype``. Plain lists are judged by their values alone.
- Half precision (float16, bfloat16) is no error in itself: only the three losses torch has
  no CPU kernel for are refused; for the others diagnose says what overflows and how coarse
  the printed loss is (it computes the loss's terms with lossref in float64 to know).
- ``Finding.chapter`` is the section of the book that explains the finding, as its address
  on the site relative to the book's folder (``en/…html#anchor``); the Chinese twin has the
  same anchor under ``zh/``.
- Findings come back errors first, then warnings, then notes, each group in the order the
  checks ran. Heuristics that could match a correct call by chance report ``'info'`` when
  too few values make the case.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import (
    binary,
    classification,
    distributions,
    half,
    margin,
    multilabel,
    ranking,
    regression,
    sequence,
    vocabulary,
)
from ._common import (
    BCE,
    BCEL,
    CHEAT_SHEET,
    CTC,
    DISTRIBUTIONS,
    MARGINS,
    MULTI_MARGINS,
    NLL,
    REDUCTIONS,
    REGRESSION,
    SOFTMAX,
    TROUBLE,
    VOCABULARY,
    WEIGHTS,
    Report,
    integer_input,
    is_float,
    read,
)
from .finding import SEVERITIES, Finding, wrap
from .signatures import LOSSES, REQUIRED, check_options, positional, resolve

__all__ = ["CODES", "LOSSES", "SEVERITIES", "Code", "Finding", "diagnose", "wrap"]


class Code(NamedTuple):
    """What one code means: its usual severity, a one-line summary, and where to read on."""

    severity: str            # the severity it usually has
    summary: str
    summary_zh: str
    chapter: str             # en/<page>.html#<anchor>; zh/ is the Chinese twin
    also: tuple = ()         # other severities the same code takes in some calls


E, W, I = "error", "warning", "info"
CODES: dict[str, Code] = {
    # --- any loss: the call itself
    "unknown-option": Code(E, "An option the loss does not take.", "损失函数没有这个参数。",
                           TROUBLE + "#troubleshooting-diagnose"),
    "option-type": Code(E, "An option of the wrong type (a string for a number ...).",
                        "参数类型不对（例如该传数值却传了字符串）。",
                        TROUBLE + "#troubleshooting-diagnose"),
    "missing-argument": Code(E, "A tensor or option the loss needs is missing.",
                             "缺少损失函数必需的张量或参数。", TROUBLE + "#troubleshooting-diagnose"),
    "invalid-reduction": Code(E, "A reduction string torch does not know.",
                              "torch 不认识的 reduction 取值。",
                              REDUCTIONS + "#reductions-legacy-reduction-strings"),
    "deprecated-reduction": Code(W, "reduction='elementwise_mean', retired: torch uses 'mean'.",
                                 "reduction='elementwise_mean' 已弃用：torch 按 'mean' 计算。",
                                 REDUCTIONS + "#reductions-legacy-reduction-strings"),
    "legacy-reduction-arguments": Code(I, "size_average / reduce override reduction.",
                                       "size_average / reduce 会覆盖 reduction。",
                                       REDUCTIONS + "#reductions-legacy-legacy-overrides"),
    "integer-input": Code(E, "Integer or boolean input: losses need floating point.",
                          "输入是整数或布尔型：损失函数需要浮点数。",
                          TROUBLE + "#troubleshooting-dtypes"),
    "target-shape-mismatch": Code(W, "Input and target shapes differ (refused or broadcast).",
                                  "input 与 target 形状不同（被拒绝或被广播）。",
                                  TROUBLE + "#troubleshooting-shapes", (E, I)),
    "target-dtype-mismatch": Code(E, "The target's dtype is not one the loss takes.",
                                  "target 的 dtype 不被这个损失接受。",
                                  TROUBLE + "#troubleshooting-dtype-bce"),
    "empty-batch": Code(W, "An empty batch: the 'mean' is nan.", "空批次：'mean' 是 nan。",
                        REDUCTIONS + "#reductions-legacy-empty-batch"),
    # --- half precision
    "half-not-implemented": Code(E, "No float16/bfloat16 CPU kernel for this loss in torch.",
                                 "torch 在 CPU 上没有这个损失的 float16/bfloat16 实现。",
                                 TROUBLE + "#troubleshooting-float16"),
    "half-overflow": Code(W, "In float16/bfloat16 an exp, a square or the sum overflows.",
                          "在 float16/bfloat16 中 exp、平方或总和溢出。",
                          TROUBLE + "#troubleshooting-float16"),
    "half-loss-step": Code(I, "The half-precision loss is rounded to a coarse step.",
                           "半精度的损失被舍入到较粗的步长。",
                           TROUBLE + "#troubleshooting-float16"),
    # --- cross_entropy, nll_loss (and linear_cross_entropy's logits)
    "input-shape": Code(E, "A 0-d input to a classification loss.", "分类损失的输入是 0 维的。",
                        SOFTMAX + "#softmax-cross-entropy-from-logits"),
    "class-axis-last": Code(E, "The classes are the input's last axis; torch wants dim 1.",
                            "类别在 input 的最后一维，而 torch 要求在 dim 1。",
                            CHEAT_SHEET + "#cheat-sheet-glossary-channels-last"),
    "index-target-shape": Code(E, "Class indices of the wrong shape.", "类别索引的形状不对。",
                               CHEAT_SHEET + "#cheat-sheet-glossary-class-indices"),
    "one-hot-index-target": Code(E, "An integer one-hot target: torch wants class indices.",
                                 "整数的独热编码 (one-hot) 目标：torch 要的是类别索引。",
                                 TROUBLE + "#troubleshooting-dtype-one-hot"),
    "float-class-indices": Code(E, "Class indices stored as floats.", "类别索引存成了浮点数。",
                                NLL + "#nll-loss-target-dtype-and-range"),
    "non-long-class-indices": Code(E, "Class indices that are not int64 where torch needs it.",
                                   "torch 要求 int64 的地方，类别索引不是 int64。",
                                   TROUBLE + "#troubleshooting-dtype-int32"),
    "regression-target": Code(W, "Real-valued targets given to a classification loss.",
                              "实数目标被交给了分类损失。",
                              CHEAT_SHEET + "#cheat-sheet-glossary-regression-losses", (E,)),
    "class-index-out-of-range": Code(E, "A class index outside [0, C - 1].",
                                     "类别索引不在 [0, C - 1] 内。",
                                     NLL + "#nll-loss-target-dtype-and-range"),
    "all-targets-ignored": Code(W, "Every target is ignore_index: the 'mean' is nan.",
                                "所有目标都等于 ignore_index：'mean' 是 nan。",
                                WEIGHTS + "#weights-ignore-smoothing-all-ignored", (I,)),
    "ignore-index-is-a-class": Code(I, "ignore_index is a real class that occurs in the targets.",
                                    "ignore_index 是目标中出现的真实类别。",
                                    WEIGHTS + "#weights-ignore-smoothing-ignore-index"),
    "weighted-mean-denominator": Code(I, "With class weights 'mean' divides by Σ w[y].",
                                      "有类别权重时 'mean' 除以 Σ w[y]。",
                                      WEIGHTS + "#weights-ignore-smoothing-class-weights"),
    "weight-shape": Code(E, "A weight of the wrong shape.", "weight 的形状不对。",
                         WEIGHTS + "#weights-ignore-smoothing-class-weights"),
    "weight-dtype": Code(E, "Class weights of another dtype than the input.",
                         "类别权重与 input 的 dtype 不同。",
                         WEIGHTS + "#weights-ignore-smoothing-class-weights"),
    "label-smoothing-range": Code(E, "label_smoothing outside [0, 1].",
                                  "label_smoothing 不在 [0, 1] 内。",
                                  WEIGHTS + "#weights-ignore-smoothing-label-smoothing", (W,)),
    "label-smoothing-floor": Code(I, "With label smoothing the loss has a floor above 0.",
                                  "使用标签平滑时，损失的下限大于 0。",
                                  WEIGHTS + "#weights-ignore-smoothing-label-smoothing"),
    "ignore-index-with-probabilities": Code(
        E, "ignore_index together with probability targets.", "概率目标配上了 ignore_index。",
        WEIGHTS + "#weights-ignore-smoothing-probability-targets"),
    "probability-target-not-normalised": Code(
        W, "Probability targets whose rows do not sum to 1 (multi-label?).",
        "概率目标的行之和不为 1（多标签？）。",
        WEIGHTS + "#weights-ignore-smoothing-probability-targets"),
    "nonfinite-input": Code(W, "nan or ±inf in the input makes the loss nan or inf.",
                            "输入中的 nan 或 ±inf 让损失变成 nan 或 inf。",
                            TROUBLE + "#troubleshooting-nan"),
    "masked-row-nan-gradient": Code(W, "A row of -inf logits, ignored: finite loss, nan gradient.",
                                    "全是 -inf 的一行被忽略：损失有限，梯度是 nan。",
                                    TROUBLE + "#troubleshooting-nan-masks"),
    "single-class-cross-entropy": Code(W, "cross_entropy over one class is always 0.",
                                       "只有一个类别的 cross_entropy 恒为 0。",
                                       TROUBLE + "#troubleshooting-zero"),
    "softmax-before-cross-entropy": Code(
        W, "Probabilities (softmax output) given to cross_entropy.",
        "把概率（softmax 的输出）交给了 cross_entropy。",
        SOFTMAX + "#softmax-cross-entropy-softmax-before-cross-entropy", (I,)),
    "sigmoid-before-cross-entropy": Code(
        W, "Sigmoid outputs given to cross_entropy: the loss has a floor.",
        "把 sigmoid 的输出交给了 cross_entropy：损失有下限。",
        TROUBLE + "#troubleshooting-stuck", (I,)),
    "softmax-wrong-dim": Code(W, "A softmax over the batch dimension.", "softmax 用在了批次维上。",
                              SOFTMAX + "#softmax-cross-entropy-wrong-dimension"),
    "log-softmax-before-cross-entropy": Code(
        I, "log_softmax before cross_entropy: redundant, harmless.",
        "cross_entropy 之前做了 log_softmax：多余但无害。",
        SOFTMAX + "#softmax-cross-entropy-pitfalls"),
    "constant-logits": Code(W, "Every input row is the same: the output ignores the input.",
                            "input 的每一行都相同：输出与输入无关。",
                            TROUBLE + "#troubleshooting-stuck"),
    "scores-to-nll": Code(W, "Raw scores given to nll_loss.", "把原始分数交给了 nll_loss。",
                          NLL + "#nll-loss-not-a-loss-you-want"),
    "softmax-to-nll": Code(W, "Probabilities, not log-probabilities, given to nll_loss.",
                           "交给 nll_loss 的是概率而不是对数概率。",
                           NLL + "#nll-loss-probabilities-not-log-probabilities", (I,)),
    "log-softmax-wrong-dim": Code(W, "A log_softmax over the batch dimension.",
                                  "log_softmax 用在了批次维上。",
                                  NLL + "#nll-loss-wrong-dimension"),
    "linear-weight-shape": Code(E, "linear_cross_entropy's linear_weight has the wrong shape.",
                                "linear_cross_entropy 的 linear_weight 形状不对。",
                                VOCABULARY + "#vocabulary-scale-size"),
    # --- binary
    "bce-input-range": Code(E, "BCE input outside [0, 1] (logits?).",
                            "BCE 的输入不在 [0, 1] 内（是 logits？）。",
                            BCE + "#binary-cross-entropy-input-range"),
    "bce-target-range": Code(E, "Binary targets outside [0, 1].", "二元目标不在 [0, 1] 内。",
                             BCEL + "#bce-with-logits-targets-not-checked", (W,)),
    "bce-log-clamped": Code(W, "Inputs of exactly 0 or 1 hit BCE's -100 clamp.",
                            "恰好为 0 或 1 的输入触发了 BCE 的 -100 截断。",
                            BCE + "#binary-cross-entropy-clamp"),
    "probabilities-to-bce-with-logits": Code(
        W, "Probabilities (sigmoid output) given to BCE with logits.",
        "把概率（sigmoid 的输出）交给了带 logits 的二元交叉熵。",
        BCEL + "#bce-with-logits-double-sigmoid", (I,)),
    "pos-weight-shape": Code(E, "pos_weight does not broadcast to the input.",
                             "pos_weight 无法广播到 input。",
                             BCEL + "#bce-with-logits-pos-weight-per-class"),
    # --- regression, distributions
    "class-indices-to-regression": Code(W, "Class indices and class scores given to a "
                                        "regression loss.", "把类别索引和类别分数交给了回归损失。",
                                        CHEAT_SHEET + "#cheat-sheet-glossary-one-of-c"),
    "negative-beta": Code(E, "smooth_l1_loss with a negative beta.", "smooth_l1_loss 的 beta 为负。",
                          REGRESSION + "#regression-beta-delta"),
    "non-positive-delta": Code(E, "huber_loss with delta <= 0.", "huber_loss 的 delta <= 0。",
                               REGRESSION + "#regression-beta-delta"),
    "kl-div-mean": Code(W, "kl_div with 'mean' is not the KL divergence: use 'batchmean'.",
                        "kl_div 用 'mean' 得到的不是 KL 散度：请用 'batchmean'。", DISTRIBUTIONS),
    "probabilities-to-kl-div": Code(W, "Probabilities given as kl_div's input.",
                                    "把概率当作 kl_div 的 input。", DISTRIBUTIONS),
    "scores-to-kl-div": Code(W, "Raw scores given as kl_div's input.",
                             "把原始分数当作 kl_div 的 input。", DISTRIBUTIONS),
    "kl-div-log-target": Code(W, "log_target does not match the target.",
                              "log_target 与 target 不符。", DISTRIBUTIONS),
    "negative-variance": Code(E, "gaussian_nll_loss with a negative variance.",
                              "gaussian_nll_loss 的方差为负。", DISTRIBUTIONS),
    "var-shape": Code(E, "gaussian_nll_loss's var has a shape torch refuses.",
                      "gaussian_nll_loss 的 var 形状不被 torch 接受。", DISTRIBUTIONS),
    "poisson-rates-with-log-input": Code(W, "Rates given where log-rates are expected.",
                                         "该传对数速率的地方传了速率。", DISTRIBUTIONS),
    "poisson-negative-rates": Code(W, "Negative rates with log_input=False.",
                                   "log_input=False 时速率为负。", DISTRIBUTIONS),
    "negative-nll": Code(I, "A negative Gaussian or Poisson NLL is normal.",
                         "高斯或泊松负对数似然为负是正常的。", DISTRIBUTIONS),
    # --- margins, rankings
    "zero-one-target": Code(W, "0/1 targets where the loss expects ±1.",
                            "损失要求 ±1 的地方给了 0/1 目标。", MARGINS),
    "signed-input-to-hinge-embedding": Code(
        W, "Signed scores given to hinge_embedding_loss, which expects distances.",
        "把有符号分数交给了要求距离的 hinge_embedding_loss。", MARGINS),
    "inputs-shape-mismatch": Code(E, "The tensors of a pair or triplet loss do not fit.",
                                  "成对或三元组损失的张量形状不匹配。", MARGINS),
    "non-positive-margin": Code(E, "A triplet loss with margin <= 0.",
                                "三元组损失的 margin <= 0。", MARGINS),
    "multi-hot-to-multilabel-margin": Code(W, "A 0/1 multi-hot target to multilabel_margin_loss.",
                                           "把 0/1 多热编码 (multi-hot) 目标交给了 "
                                           "multilabel_margin_loss。", MULTI_MARGINS),
    "multilabel-margin-padding": Code(I, "Labels after the first -1 are ignored.",
                                      "第一个 -1 之后的标签被忽略。", MULTI_MARGINS),
    "multi-margin-p": Code(E, "multi_margin_loss with p other than 1 or 2.",
                           "multi_margin_loss 的 p 不是 1 或 2。", MULTI_MARGINS),
    # --- ctc
    "ctc-log-probs-shape": Code(E, "log_probs is not (T, N, C) or (T, C).",
                                "log_probs 不是 (T, N, C) 或 (T, C)。", CTC + "#ctc-pitfalls"),
    "ctc-batch-first": Code(E, "Batch-first log_probs (N, T, C): ctc_loss wants (T, N, C).",
                            "log_probs 是批次维在前的 (N, T, C)：ctc_loss 要 (T, N, C)。",
                            CTC + "#ctc-pitfall-batch-first"),
    "ctc-lengths": Code(E, "input_lengths / target_lengths torch refuses.",
                        "torch 不接受的 input_lengths / target_lengths。", CTC + "#ctc-pitfalls"),
    "ctc-targets-shape": Code(E, "targets do not match target_lengths.",
                              "targets 与 target_lengths 不符。", CTC + "#ctc-pitfalls"),
    "ctc-blank-range": Code(E, "blank outside [0, C - 1].", "blank 不在 [0, C - 1] 内。",
                            CTC + "#ctc-blank"),
    "ctc-label-out-of-range": Code(W, "A target label outside [0, C - 1]: unchecked by torch.",
                                   "目标标签不在 [0, C - 1] 内：torch 不检查。",
                                   CTC + "#ctc-pitfalls"),
    "ctc-blank-in-targets": Code(W, "The blank label inside a target sequence.",
                                 "目标序列中出现了空白符。", CTC + "#ctc-pitfall-blank-label"),
    "ctc-input-too-short": Code(W, "Fewer frames than the target needs: inf.",
                                "帧数少于目标所需：inf。", CTC + "#ctc-zero-infinity", (I,)),
    "ctc-not-log-softmax": Code(W, "log_probs that are not log-probabilities.",
                                "log_probs 不是对数概率。", CTC + "#ctc-pitfall-raw-scores"),
    "ctc-mean-per-target-length": Code(I, "CTC's 'mean' divides each loss by its target length.",
                                       "CTC 的 'mean' 先把每个损失除以其目标长度。",
                                       CTC + "#ctc-mean"),
}
"""Every code ``diagnose`` can return, with its meaning in both languages and its section."""

_CHAPTERS = {code: record.chapter for code, record in CODES.items()}
_CHECKS: dict = {}
for _family in (classification, binary, regression, distributions, margin, ranking,
                multilabel, sequence, vocabulary):
    _CHECKS.update(_family.CHECKS)


def diagnose(loss: Any, input: Any, target: Any, *more: Any, **options: Any) -> list[Finding]:
    """Name the misuse behind a surprising loss value.

    Parameters
    ----------
    loss : str, function, class or instance
        Which loss: ``"cross_entropy"``, ``lossref.cross_entropy``, ``F.cross_entropy``,
        ``nn.CrossEntropyLoss`` or ``nn.CrossEntropyLoss(weight=w)`` (then its options are
        read from the instance), recognised by name; torch is never imported.
    input, target : array_like
        The loss's first two tensors: NumPy arrays, lists, or torch tensors (with or without
        ``requires_grad``).
    *more : array_like
        The rest of torch's positional arguments, in torch's order (the third tensor of
        ``margin_ranking_loss``, ``cosine_embedding_loss``, the triplet losses and
        ``linear_cross_entropy``; ``input_lengths, target_lengths`` of ``ctc_loss``), then
        the options in the order of torch's signature.
    **options
        The loss's keyword arguments; they override an instance's.

    Returns
    -------
    list of Finding
        Errors (calls torch refuses), then warnings (misleading numbers), then notes. Empty,
        or notes only, for a correct call. ``lossref.diagnosis.CODES`` lists every code.

    Raises
    ------
    ValueError
        ``loss`` is not a loss diagnose knows (``lossref.diagnosis.LOSSES``).
    TypeError
        An array cannot be read as a numeric array; more positional arguments than the loss
        takes; an option given twice.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 1.2, 0.3]], dtype=np.float32)
    >>> diagnose("cross_entropy", logits, np.array([0, 1]))
    []
    >>> probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    >>> [f.code for f in diagnose("CrossEntropyLoss", probs, np.array([0, 1]))]
    ['softmax-before-cross-entropy']
    >>> [f.code for f in diagnose("nll_loss", logits, np.array([0, 1]))]
    ['scores-to-nll']
    >>> [f.code for f in diagnose("margin_ranking_loss", [0.5, 2.0], [1.0, 0.3], [0.0, 1.0])]
    ['zero-one-target']
    """
    name, options = resolve(loss, options)
    if name == "linear_cross_entropy" and "linear_weight" in options and "target" not in options:
        options["target"] = target                 # a module holds its layer: (input, target)
        target = options.pop("linear_weight")
    options = positional(name, more, options)
    x, y = read(input, "input"), read(target, "target")
    report = Report()
    reduction = check_options(report, name, options)
    for needed in REQUIRED[name]:
        if options.get(needed) is None:
            report.add("missing-argument", "error",
                       f"{name} needs {needed}, and the call does not give it (torch raises "
                       f"TypeError).",
                       f"{name} 需要 {needed}，而这次调用没有传（torch 会抛出 TypeError）。")
            return report.findings(_CHAPTERS)
    if not is_float(x):
        integer_input(report, name, x, y)
    elif not half.not_implemented(report, name, x):
        _CHECKS[name](report, name, x, y, options, reduction)
        if not any(item[1] == "error" for item in report.items):
            half.check(report, name, x, y, options, reduction)
    return report.findings(_CHAPTERS)

