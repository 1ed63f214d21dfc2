/* lossref search page: ranking, graceful multi-word queries, one-character Chinese terms,
   the reader's language first, snippets from the prose. Loaded with defer after
   searchtools.js (it replaces parts of Sphinx's Search object before Search.init runs). */
"use strict";

const lossrefLang = (() => {
  const lang = new URLSearchParams(window.location.search).get("lang") || "";
  return lang.toLowerCase().startsWith("zh") ? "zh-CN" : lang ? "en" : "";
})();
const lossrefDocLang = (docname) =>
  docname.startsWith("book/zh/") ? "zh-CN" : docname.startsWith("book/en/") ? "en" : "";

/* Per page, how much it is about a word (lossref-search-weights.js, written by the build from
   the same tokens as the index): what the chapter is about (130) or in its title (100), in a
   heading (12), each use in the prose (2) and in code (1), capped. */
let lossrefWeightMap = null;
const lossrefWeights = () => {
  if (lossrefWeightMap !== null) return lossrefWeightMap;
  lossrefWeightMap = new Map();
  const data = typeof LOSSREF_WEIGHTS === "undefined" ? null : LOSSREF_WEIGHTS;
  if (!data) return lossrefWeightMap;
  const file = data.docs.map((d) => Search._index.docnames.indexOf(d));
  for (const [word, pairs] of Object.entries(data.terms)) {
    const perFile = new Map();
    for (let i = 0; i < pairs.length; i += 2) if (file[pairs[i]] >= 0) perFile.set(file[pairs[i]], pairs[i + 1]);
    lossrefWeightMap.set(word, perFile);
  }
  return lossrefWeightMap;
};

/* Full-text part of the search. Per page and per query word, the best of: the word in a title
   or heading (Scorer.title), in the body (Scorer.term), inside a longer index word (partial),
   plus the page's weight for the word. Pages matching more of the words come first; a word
   found nowhere is ignored instead of emptying the results. A Chinese term matches index
   words that contain it (熵 -> 交叉熵). */
Search.performTermsSearch = (searchTerms, excludedTerms) => {
  const index = Search._index;
  const terms = index.terms;
  const titleTerms = index.titleterms;
  const weights = lossrefWeights();
  const asList = (files) => (files === undefined ? [] : files.length === undefined ? [files] : files);
  const pages = new Map(); // file -> {score, words}
  searchTerms.forEach((word) => {
    const best = new Map();
    const add = (files, score) =>
      asList(files).forEach((f) => best.set(f, Math.max(best.get(f) || 0, score)));
    const weigh = (key, share) => (weights.get(key) || new Map()).forEach((w, f) =>
      best.set(f, Math.max(best.get(f) || 0, Math.round(share * w))));
    add(terms[word], Scorer.term);
    add(titleTerms[word], Scorer.title);
    const exact = new Map(best);
    const han = /\p{Script=Han}/u.test(word);
    if (han || word.length > 2) {
      const inside = (key) => key !== word && (han ? key.includes(word) : key.startsWith(word));
      Object.keys(terms).forEach((key) => { if (inside(key)) add(terms[key], Scorer.partialTerm); });
      Object.keys(titleTerms).forEach((key) => {
        if (inside(key)) add(titleTerms[key], Scorer.partialTitle);
      });
      weights.forEach((perFile, key) => { if (inside(key)) weigh(key, 0.25); });
    }
    weigh(word, 1);
    best.forEach((score, file) => {
      const page = pages.get(file) || { score: 0, words: 0 };
      page.score += score + (exact.get(file) || 0);
      page.words += 1;
      pages.set(file, page);
    });
  });
  const excluded = (file) => [...excludedTerms].some((term) =>
    asList(terms[term]).includes(file) || asList(titleTerms[term]).includes(file));
  const results = [];
  for (const [file, page] of pages) {
    if (excluded(file)) continue;
    results.push([index.docnames[file], index.titles[file], "", null,
                  1000 * page.words + page.score, index.filenames[file]]);
  }
  return results;
};

/* The reader's language first (the landing page in between), then by score; equal scores in
   the book's order (chapter 2 before chapter 10), not alphabetically by title. */
Scorer.score = (result) => {
  const lang = lossrefDocLang(result[0]);
  const boost = !lossrefLang ? 0 : lang === lossrefLang ? 100000 : lang === "" ? 50000 : 0;
  const docnames = Search._index.docnames;
  const order = docnames.indexOf(result[0]);
  return result[4] + boost + (order < 0 ? 0 : 0.5 * (1 - order / docnames.length));
};

/* Inline math in a snippet as plain text (x_n, Σ w, ℓ, (a)/(b)) rather than a hole or raw TeX. */
const LOSSREF_TEX = {
  alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", eta: "η",
  theta: "θ", lambda: "λ", mu: "μ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ",
  varphi: "φ", psi: "ψ", omega: "ω", Delta: "Δ", Sigma: "Σ", Omega: "Ω", ell: "ℓ", sum: "Σ",
  prod: "Π", infty: "∞", cdot: "·", cdots: "…", ldots: "…", dots: "…", times: "×", le: "≤",
  leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠", approx: "≈", to: "→", rightarrow: "→",
  in: "∈", pm: "±", partial: "∂", nabla: "∇", mid: "|", lvert: "|", rvert: "|", vert: "|",
  lVert: "‖", rVert: "‖", langle: "⟨", rangle: "⟩", quad: " ", qquad: " ", left: "", right: "",
  big: "", Big: "", bigg: "", displaystyle: "", textstyle: "",
};
/* \log, \exp ... keep their name; any other command (\mathbf w, \displaystyle) only styles. */
const LOSSREF_TEX_FUNCTIONS = new Set(["log", "exp", "max", "min", "sin", "cos", "tan", "tanh",
  "arg", "argmax", "argmin", "lim", "sup", "inf", "det", "ln", "sgn", "mod"]);
const lossrefGroup = (x) => (/^[\p{L}\p{N}_.\\]+$/u.test(x.trim()) ? x.trim() : `(${x})`);
const lossrefTexToText = (tex) => {
  let t = tex.replace(/^\\\(|\\\)$|^\\\[|\\\]$|^\$+|\$+$/g, "");
  for (let i = 0; i < 3; i += 1) {
    t = t.replace(/\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}/g, (m, a, b) => `${lossrefGroup(a)}/${lossrefGroup(b)}`)
      .replace(/\\sqrt\{([^{}]*)\}/g, "√($1)")
      .replace(/\\(?:mathrm|text|textrm|textit|operatorname|mathbf|mathit|mathcal|mathbb|boldsymbol|bm|hat|bar|tilde|vec|overline|underline)\{([^{}]*)\}/g, "$1");
  }
  return t.replace(/\\([A-Za-z]+)\s*/g, (m, name) => (name in LOSSREF_TEX ? LOSSREF_TEX[name]
    : LOSSREF_TEX_FUNCTIONS.has(name) ? `${name} ` : ""))
    .replace(/\\[,;:! ]/g, " ").replace(/\\\\/g, " ").replace(/\\([{}|%_#&$])/g, "$1")
    .replace(/[{}]/g, "").replace(/\s+/g, " ").trim();
};

/* Snippets from the prose: not the printed contents list, the title, code, outputs or TeX
   (inline math is kept, as plain text). */
Search.htmlToText = (htmlString, anchor) => {
  const doc = new DOMParser().parseFromString(htmlString, "text/html");
  doc.querySelectorAll("span.math").forEach((el) => {
    el.replaceWith(doc.createTextNode(lossrefTexToText(el.textContent)));
  });
  [".headerlink", "script", "style", "#jb-print-docs-body", "#print-main-content", ".math",
   "mjx-container", "nav", ".lossref-lang-switch", "div.cell_input", "div.cell_output",
   ".toctree-wrapper", "h1", ".bd-header-article", ".dropdown-menu", "footer", ".prev-next-area"].forEach((q) => doc.querySelectorAll(q).forEach((el) => el.remove()));
  let root = doc.querySelector('[role="main"]');
  if (root && anchor) root = root.querySelector(anchor) || root;
  if (!root) return "";
  const paragraphs = [...root.querySelectorAll("p, li, dd, td")].filter(
    (el) => !el.querySelector("p, li, dd, td"));
  const text = paragraphs.length ? paragraphs.map((el) => el.textContent).join(" ") : root.textContent;
  return text.replace(/\s+/g, " ").trim();
};

/* Each result says which book it belongs to; a Chinese reader gets Chinese results headings. */
const LOSSREF_LANG_NAME = { en: "English", "zh-CN": "中文" };
const lossrefLabel = (li) => {
  const a = li.querySelector("a");
  if (!a || li.querySelector(".lossref-result-lang")) return;
  const path = new URL(a.href, window.location.href).pathname;
  const lang = /\/book\/zh\//.test(path) ? "zh-CN" : /\/book\/en\//.test(path) ? "en" : "";
  if (!lang) return;
  li.lang = lang;
  li.dataset.lang = lang;
  const badge = document.createElement("span");
  badge.className = "lossref-result-lang";
  badge.textContent = LOSSREF_LANG_NAME[lang];
  li.insertBefore(badge, a);
};
const lossrefChinese = () => {
  const title = document.querySelector("#search-results > h2");
  if (title && title.firstChild && title.firstChild.nodeType === Node.TEXT_NODE) {
    const text = title.firstChild.textContent;
    const chinese = text.replace("Search Results", "搜索结果").replace("Searching", "正在搜索");
    if (chinese !== text) title.firstChild.textContent = chinese;
  }
  const summary = document.querySelector("#search-results .search-summary");
  if (summary && /found|did not match/.test(summary.textContent)) {
    const n = summary.textContent.match(/found (\d+)/);
    summary.textContent = n ? `搜索完成，找到 ${n[1]} 个匹配的页面。`
      : "没有找到匹配的页面。请检查拼写，或换一个词试试。";
  }
};
_ready(() => {
  /* the page's interface (site name, title, theme's words, sidebar) is put in the reader's
     language by lossref-site.js; here the results */
  const out = document.getElementById("search-results");
  if (!out) return;
  new MutationObserver(() => {
    out.querySelectorAll("ul.search > li").forEach(lossrefLabel);
    if (lossrefLang === "zh-CN") lossrefChinese();
  }).observe(out, { childList: true, subtree: true, characterData: true });
});
