"""Search that works for both books: Chinese words, one-character terms, ranking, snippets.

* The index: Sphinx's Chinese search (jieba) with a user dictionary of the book's terms
  (``jieba_dict.txt``), so that 交叉熵 or 负对数似然 are indexed whole, not cut into 交叉 + 熵.
* The query: Chinese readers type phrases without spaces ("二元交叉熵的权重"); ``splitQuery``
  cuts runs of Han characters by forward maximum matching against the words of the index.
* ``lossref-search.js`` (search page only) replaces the full-text part of Sphinx's search:
  a title or heading match ranks above a body match; a word found nowhere (a reader's whole
  question, "熵 权重") narrows nothing instead of emptying the results, pages matching more
  words rank first; a term that is not an index word (熵, one character) matches the index
  words that contain it (交叉熵, 二元交叉熵); pages in the reader's language (the search form
  of each page sends ``lang``) come first, and each result is labelled with its language;
  snippets come from the prose, not from the page's contents list, code or raw LaTeX (inline
  math is shown as plain text, λ/2‖w‖^2, not left as a hole).
* Ranking (issue 26): the build writes ``_static/lossref-search-weights.js`` (search page only,
  about 170 KB): per page and index word, a weight from where the page uses it: what the chapter
  is ABOUT (its torch.nn classes, functions and options, its Chinese terms), its title, its
  headings, each use in the prose and in code. A reader who types ``KLDivLoss``, ``pos_weight``
  or 交叉熵 gets the chapter about it first; equal scores keep the book's order.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.search.zh import SearchChinese

JIEBA_DICT = Path(__file__).resolve().parent.parent / "jieba_dict.txt"

#: Replaces searchtools.js's splitQuery for the zh index. Runs of Han characters are cut by
#: forward maximum matching against the words of the index itself (the ones jieba produced
#: at build time); unknown single characters such as 的 are dropped. A run that matches no
#: index word at all (熵) is kept whole: lossref-search.js looks it up inside index words.
JS_SPLITTER = r"""
var splitQuery = (query) => {
  const index = (typeof Search !== "undefined" && Search._index) ? Search._index : null;
  const known = (w) => index !== null && (w in index.terms || w in index.titleterms);
  const words = [];
  query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu).forEach((chunk) => {
    (chunk.match(/\p{Script=Han}+|[^\p{Script=Han}]+/gu) || []).forEach((part) => {
      if (index === null || !/\p{Script=Han}/u.test(part) || known(part)) {
        words.push(part);
        return;
      }
      const found = [];
      let start = 0;
      while (start !== part.length) {
        let end = part.length;
        while (end - start !== 1 && !known(part.slice(start, end))) end -= 1;
        if (end - start !== 1 || known(part.slice(start, end))) found.push(part.slice(start, end));
        start = end;
      }
      words.push(...(found.length ? found : [part]));
    });
  });
  return words.filter((word) => word);
};
"""


class SearchChineseBook(SearchChinese):
    """Sphinx's Chinese search (jieba) with a query splitter that segments Chinese phrases."""

    js_splitter_code = JS_SPLITTER


def configure(app: Sphinx, config: Any) -> None:
    """``config-inited``: the jieba dictionary of the book's terms."""
    options = dict(config.html_search_options or {})
    options.setdefault("dict", str(JIEBA_DICT))
    config.html_search_options = options
    try:  # jieba logs "Building prefix dict ..." at import; keep the build log for warnings
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except ImportError:
        pass


def search_page_script(app: Sphinx, pagename: str, templatename: str, context: dict,
                       doctree: Any) -> None:
    """``html-page-context``: the ranking and snippets script, on the search page only.

    ``defer``: it runs after searchtools.js (a plain script) and before Search.init.
    """
    if pagename == "search":
        app.add_js_file(WEIGHTS_FILE, loading_method="defer")
        app.add_js_file("lossref-search.js", loading_method="defer")


#: pydata-sphinx-theme puts Sphinx's search tools and the whole index (about 300 KB) on every
#: page, for its search-as-you-type field; with that option off (the default, and ours) the
#: header's search form just opens search.html, and only that page needs them.
SEARCH_SCRIPTS = re.compile(r'\s*<script src="[^"]*(?:_static/searchtools\.js|'
                            r'_static/language_data\.js|searchindex\.js)[^"]*"></script>')


def index_on_search_page_only(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: drop the search tools and index from every page but search.html."""
    if exc is not None or app.builder.format != "html":
        return
    if app.config.html_theme_options.get("search_as_you_type"):
        return
    for page in Path(app.outdir).rglob("*.html"):
        if page.name == "search.html" and page.parent == Path(app.outdir):
            continue
        text = page.read_text(encoding="utf-8")
        lean = SEARCH_SCRIPTS.sub("", text)
        if lean != text:
            page.write_text(lean, encoding="utf-8")


# --------------------------------------------------------------------------- ranking weights

#: What each chapter is about, beyond the words of its title: the torch.nn classes, the
#: torch.nn.functional names and the options it explains. A reader who types one of them
#: gets this chapter first (in both languages: the key is the file name the twins share).
#: Every other word ranks by where a page uses it (title, headings, prose, code) and how often.
ABOUT: dict[str, list[str]] = {
    "01_loss_cost_objective": ["loss", "cost", "objective", "损失函数", "代价函数", "目标函数"],
    "02_softmax_cross_entropy": ["CrossEntropyLoss", "cross_entropy", "softmax", "log_softmax",
                                 "logsumexp", "交叉熵", "交叉熵损失"],
    "03_weights_ignore_smoothing": ["weight", "ignore_index", "label_smoothing", "label smoothing",
                                    "class weights", "权重",
                                    "类别权重", "忽略索引", "标签平滑"],
    "04_nll_loss": ["NLLLoss", "nll_loss", "NLLLoss2d", "负对数似然"],
    "05_binary_cross_entropy": ["BCELoss", "binary_cross_entropy", "二元交叉熵"],
    "06_bce_with_logits": ["BCEWithLogitsLoss", "binary_cross_entropy_with_logits",
                           "pos_weight", "正样本权重", "对数几率"],
    "07_reductions_legacy": ["reduction", "size_average", "reduce", "归约", "归约方式"],
    "08_gradients": ["gradient", "gradients", "backward", "grad", "梯度"],
    "09_regression": ["L1Loss", "l1_loss", "MSELoss", "mse_loss", "SmoothL1Loss",
                      "smooth_l1_loss", "HuberLoss", "huber_loss", "beta", "delta"],
    "10_distributions": ["KLDivLoss", "kl_div", "log_target", "PoissonNLLLoss",
                         "poisson_nll_loss", "log_input", "GaussianNLLLoss", "gaussian_nll_loss",
                         "full", "eps"],
    "11_margins_rankings": ["MarginRankingLoss", "margin_ranking_loss", "HingeEmbeddingLoss",
                            "hinge_embedding_loss", "SoftMarginLoss", "soft_margin_loss",
                            "CosineEmbeddingLoss", "cosine_embedding_loss", "TripletMarginLoss",
                            "triplet_margin_loss", "TripletMarginWithDistanceLoss",
                            "triplet_margin_with_distance_loss", "margin", "swap",
                            "distance_function"],
    "12_multi_margins": ["MultiMarginLoss", "multi_margin_loss", "MultiLabelMarginLoss",
                         "multilabel_margin_loss", "MultiLabelSoftMarginLoss",
                         "multilabel_soft_margin_loss"],
    "13_ctc": ["CTCLoss", "ctc_loss", "blank", "zero_infinity", "input_lengths",
               "target_lengths"],
    "14_vocabulary_scale": ["LinearCrossEntropyLoss", "linear_cross_entropy", "vocabulary"],
    "15_troubleshooting": ["diagnose", "troubleshooting"],
    "16_seed_errata": ["errata", "勘误"],
    "17_cheat_sheet_glossary": ["cheat", "glossary", "速查表", "术语表"],
    "18_performance": ["performance", "benchmark"],
    "19_gradient_accumulation": ["gradient accumulation", "num_items_in_batch", "梯度累积"],
    "20_data_parallel": ["DistributedDataParallel", "data parallel", "all_reduce", "数据并行"],
    "21_vocab_parallel": ["vocab_parallel_cross_entropy", "Megatron", "tensor parallel",
                          "词表并行"],
    "22_half_precision": ["float16", "bfloat16", "autocast", "GradScaler", "half precision",
                          "半精度", "混合精度"],
}
#: A word's weight in a page: what the chapter is ABOUT, in its title, in a heading, in the
#: prose (each use, up to a cap), in code and outputs (each use, up to a cap). A title word
#: outweighs any number of uses elsewhere (100 > 12 + 2 * 30 + 15), a declared subject a title
#: word (the NLL chapter, not the one with "Poisson NLL" in its title, for 负对数似然).
W_ABOUT, W_TITLE, W_HEADING, W_PROSE, CAP_PROSE, W_CODE, CAP_CODE = 130, 100, 12, 2, 30, 1, 15
WEIGHTS_FILE = "lossref-search-weights.js"


def _kind(node: nodes.Node, top: nodes.Node | None) -> str:
    for parent in _ancestors(node):
        if isinstance(parent, nodes.title):
            return "title" if parent.parent is top else "heading"
        if isinstance(parent, (nodes.literal_block, nodes.raw)):
            return "code"
        if isinstance(parent, nodes.container) and {"cell_input", "cell_output"} & set(
                parent.get("classes", [])):
            return "code"
    return "prose"


def _ancestors(node: nodes.Node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def page_weights(lang: Any, docname: str, doctree: nodes.document) -> dict[str, int]:
    """Stemmed word -> weight of one page, tokenized and stemmed as Sphinx's index does."""
    top = next(iter(doctree.findall(nodes.section)), None)
    uses: dict[str, dict[str, int]] = {}

    def add(text: str, kind: str) -> None:
        for word in lang.split(text):
            stemmed = lang.stem(word).lower()
            if not lang.word_filter(stemmed):
                if not lang.word_filter(word):
                    continue
                stemmed = word.lower()
            counts = uses.setdefault(stemmed, {})
            counts[kind] = counts.get(kind, 0) + 1

    for text in doctree.findall(nodes.Text):
        if isinstance(text.parent, nodes.comment):
            continue
        add(text.astext(), _kind(text, top))
    stem = docname.rsplit("/", 1)[-1]
    for phrase in ABOUT.get(stem, []):  # whole: 二元交叉熵 is not about 交叉熵
        for word in phrase.split():
            key = lang.stem(word).lower()
            uses.setdefault(key if lang.word_filter(key) else word.lower(), {})["about"] = 1
    weights = {}
    for word, c in uses.items():
        w = (max(W_ABOUT * bool(c.get("about")), W_TITLE * bool(c.get("title")))
             + W_HEADING * bool(c.get("heading"))
             + W_PROSE * min(c.get("prose", 0), CAP_PROSE) + W_CODE * min(c.get("code", 0), CAP_CODE))
        if w >= 3:
            weights[word] = w
    return weights


class _Terms(list):
    """``latin_terms`` of the tokenizer used for the weights: a set (Sphinx's is a list that
    every page extends and every stemmed word scans)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def extend(self, words) -> None:
        self.seen.update(words)

    def __contains__(self, word) -> bool:
        return word in self.seen


_TOKENIZER: list[Any] = []


def tokenizer(app: Sphinx) -> Any | None:
    """The index's own tokenizer and stemmer (the Chinese one with the book's dictionary)."""
    if not _TOKENIZER:
        if not str(app.config.html_search_language or "").startswith("zh"):
            return None
        lang = SearchChineseBook(dict(app.config.html_search_options or {}))
        lang.latin_terms = _Terms()
        _TOKENIZER.append(lang)
    return _TOKENIZER[0]


def collect_weights(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: the page's word weights, kept in the environment (so an incremental
    build keeps those of the pages it does not read again)."""
    lang = tokenizer(app)
    if lang is None:
        return
    store = getattr(app.env, "lossref_search_weights", None)
    if store is None:
        store = app.env.lossref_search_weights = {}
    docname = app.env.docname
    store[docname] = page_weights(lang, docname, doctree)


def purge_weights(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, "lossref_search_weights", {}).pop(docname, None)


def merge_weights(app: Sphinx, env: Any, docnames: set, other: Any) -> None:
    store = getattr(env, "lossref_search_weights", None)
    if store is None:
        store = env.lossref_search_weights = {}
    for docname in docnames:
        if docname in getattr(other, "lossref_search_weights", {}):
            store[docname] = other.lossref_search_weights[docname]


def write_weights(app: Sphinx, exc: Exception | None) -> None:
    """``build-finished``: ``_static/lossref-search-weights.js`` for the search page:
    ``{docs: [docname…], terms: {word: [doc, weight, doc, weight…]}}``."""
    if exc is not None or app.builder.format != "html":
        return
    store = getattr(app.env, "lossref_search_weights", {})
    docs = sorted(d for d in store if d in app.env.all_docs)
    terms: dict[str, list[int]] = {}
    for i, docname in enumerate(docs):
        for word, w in store[docname].items():
            terms.setdefault(word, []).extend((i, w))
    data = json.dumps({"docs": docs, "terms": dict(sorted(terms.items()))},
                      ensure_ascii=False, separators=(",", ":"))
    target = Path(app.outdir) / "_static" / WEIGHTS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"var LOSSREF_WEIGHTS = {data};\n", encoding="utf-8")


def setup(app: Sphinx) -> None:
    app.connect("config-inited", configure)
    app.add_search_language(SearchChineseBook)
    app.connect("html-page-context", search_page_script)
    app.connect("build-finished", index_on_search_page_only)
    app.connect("doctree-read", collect_weights)
    app.connect("env-purge-doc", purge_weights)
    app.connect("env-merge-info", merge_weights)
    app.connect("build-finished", write_weights)
