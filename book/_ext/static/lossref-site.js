/* lossref site: small fixes every page needs (loaded with defer, before the theme's script). */
"use strict";

/* Phone menus. pydata-sphinx-theme 0.17 (and sphinx-book-theme's wide-screen fix) hook their
   click handlers to the FIRST .primary-toggle / .secondary-toggle of the page, the header's,
   which sphinx-book-theme hides; the visible buttons in the article header get nothing, so
   neither menu opens (pydata-sphinx-theme issue 2451). Forward their clicks to the first one. */
const lossrefForwardToggles = () => {
  ["primary-toggle", "secondary-toggle"].forEach((cls) => {
    const buttons = [...document.querySelectorAll(`.${cls}`)];
    const wired = buttons[0];
    buttons.slice(1).forEach((button) => {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        wired.click();
      });
    });
  });
};

/* The language switch keeps the reader's place: twins share their section ids. */
const lossrefCarryAnchor = () => {
  const links = [...document.querySelectorAll("a.lossref-twin")];
  const sync = () => links.forEach((a) => {
    a.href = a.href.split("#")[0] + window.location.hash;
  });
  sync();
  window.addEventListener("hashchange", sync);
  links.forEach((a) => a.addEventListener("click", sync));
};

/* Search forms tell the search page which book the reader is in. */
const lossrefSearchLanguage = () => {
  const lang = document.documentElement.lang || "en";
  document.querySelectorAll("form.bd-search").forEach((form) => {
    if (form.querySelector('input[name="lang"]')) return;
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "lang";
    input.value = lang;
    form.appendChild(input);
  });
};

/* The search page serves both books. A reader who comes from a Chinese page (its search form
   sends lang=zh-CN) gets its interface in Chinese: the site name in the header and <title>,
   the theme's words and tooltips (window.LOSSREF_ZH_UI, written by the build from the tables
   that put the chapter pages in Chinese: lossref_site/chinese_ui.py); the sidebar shows the
   reader's book only (lang=en: the English parts). Runs before the theme sets up its
   tooltips (DOMContentLoaded). */
const lossrefReaderLanguage = () => {
  const ui = window.LOSSREF_ZH_UI;
  const param = (new URLSearchParams(window.location.search).get("lang") || "").toLowerCase();
  const lang = param.startsWith("zh") ? "zh-CN" : param ? "en" : "";
  if (!ui || !lang) return;
  /* the sidebar: the reader's book only, as on the chapter pages */
  const other = lang === "en" ? /\/book\/zh\// : /\/book\/en\//;
  document.querySelectorAll("#pst-primary-sidebar p.caption").forEach((caption) => {
    const list = caption.nextElementSibling;
    const links = list ? [...list.querySelectorAll("a[href]")] : [];
    if (links.length && links.every((a) => other.test(new URL(a.href).pathname))) {
      list.remove();
      caption.remove();
    }
  });
  if (lang !== "zh-CN") return;
  document.documentElement.lang = "zh-CN";
  const names = Object.entries(ui.siteName).filter(([en, zh]) => en && zh);
  const skip = "script, style, #search-results, nav.bd-docs-nav";
  Object.entries(ui.attributes).forEach(([name, values]) => {
    document.querySelectorAll(`[${name}]`).forEach((el) => {
      const chinese = values[el.getAttribute(name)];
      if (chinese !== undefined && !el.closest(skip)) el.setAttribute(name, chinese);
    });
  });
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  texts.forEach((node) => {
    if (!node.parentElement || node.parentElement.closest(skip)) return;
    const text = node.textContent.trim();
    const name = names.find(([en]) => en === text);
    const chinese = name ? name[1] : ui.words[text];
    if (chinese !== undefined) node.textContent = node.textContent.replace(text, chinese);
  });
  ui.patterns.forEach(([selector, pattern, replacement]) => {
    document.querySelectorAll(selector).forEach((el) => {
      [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).forEach((n) => {
        n.textContent = n.textContent.replace(new RegExp(pattern), replacement);
      });
    });
  });
  let title = document.title;
  names.forEach(([en, zh]) => { title = title.replace(en, zh); });
  document.title = title.replace(/^Search\b/, ui.words.Search);
};

/* Wide equations and tables scroll inside their column on a phone; the edge they continue
   past fades out (CSS: [data-lossref-overflow]), so the reader sees there is more: "right" at
   the start, "both" in the middle, "left" at the end; nothing when it all fits. (Not code and
   outputs: a line cut at the edge shows it goes on, and a mask on each of the hundreds of
   code blocks makes every frame of a chapter slow to paint.) */
const LOSSREF_SCROLLERS = ".bd-article div.math, .bd-article mjx-container[display='true'], "
  + ".bd-article table, .bd-article .cell_output pre[data-lossref-kind='table']";
const lossrefMarkOverflow = (el) => {
  const over = el.scrollWidth - el.clientWidth;
  const o = getComputedStyle(el).overflowX;
  let side = "";
  if (over > 1 && (o === "auto" || o === "scroll")) {
    const left = el.scrollLeft > 1;
    const right = el.scrollLeft < over - 1;
    side = left && right ? "both" : left ? "left" : right ? "right" : "";
  }
  if (side) el.dataset.lossrefOverflow = side;
  else delete el.dataset.lossrefOverflow;
};
const lossrefScrollCues = () => {
  const update = () => document.querySelectorAll(LOSSREF_SCROLLERS).forEach(lossrefMarkOverflow);
  document.addEventListener("scroll", (event) => {
    if (event.target instanceof Element && event.target.matches(LOSSREF_SCROLLERS))
      lossrefMarkOverflow(event.target);
  }, { capture: true, passive: true });
  window.addEventListener("resize", update);
  document.addEventListener("toggle", update, true); // a revealed solution or output
  const afterMath = () => {
    const mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) mj.startup.promise.then(update);
  };
  if (document.readyState === "complete") afterMath();
  else window.addEventListener("load", afterMath);
  update();
};

/* Text outputs: prose-like ones wrap, tables keep their columns. A table is an output whose
   lines line up in columns (two spaces or more inside a line, or a ruled line); on a desktop
   one a little too wide is set smaller to fit (down to 85 %), one far too wide wraps
   (lossref-fold); on a phone a table scrolls inside its box with the fade cue. */
const LOSSREF_OUTPUTS = ".bd-article .cell_output pre";
const lossrefIsTable = (text) => text.split("\n").some((line) =>
  /\S {2,}\S/.test(line) || /^[\s|+─━=-]{8,}$/.test(line) || /^\s*\[\[/.test(line));
const lossrefFitOutputs = () => {
  const phone = window.matchMedia("(max-width: 640px)").matches;
  document.querySelectorAll(LOSSREF_OUTPUTS).forEach((pre) => {
    if (!("lossrefKind" in pre.dataset))
      pre.dataset.lossrefKind = lossrefIsTable(pre.textContent) ? "table" : "prose";
    if (pre.dataset.lossrefKind === "prose") { pre.classList.add("lossref-wrap"); return; }
    pre.classList.remove("lossref-fold");
    pre.style.fontSize = "";
    if (phone || pre.clientWidth === 0 || pre.scrollWidth <= pre.clientWidth + 1) return;
    const ratio = pre.clientWidth / pre.scrollWidth;
    if (ratio >= 0.85) {
      pre.style.fontSize = `${Math.floor(ratio * 1000) / 10}%`;
      if (pre.scrollWidth <= pre.clientWidth + 1) return;
      pre.style.fontSize = "";
    }
    pre.classList.add("lossref-fold");
  });
};

/* Tables of prose (cells of several words: symptom tables, the glossary, the errata) become
   one card per row on a phone (CSS: table.lossref-stack); each cell is labelled with its
   column's header. Tables of numbers stay tables (they scroll with the cue). */
const lossrefStackTables = () => {
  document.querySelectorAll(".bd-article table").forEach((table) => {
    if (table.closest(".cell_output, .highlighttable")) return;
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    const cells = [...table.querySelectorAll("tbody td")];
    if (heads.length < 2 || !cells.length) return;
    const words = cells.filter((td) => td.textContent.trim().split(/\s+/).length >= 4
      || /[\u4e00-\u9fff]{6}/.test(td.textContent)).length;
    if (words < cells.length / 4) return;
    table.classList.add("lossref-stack");
    table.querySelectorAll("tbody tr").forEach((tr) => {
      [...tr.children].forEach((td, i) => { if (heads[i]) td.dataset.label = heads[i]; });
    });
  });
};

/* The phone's contents drawer: opens scrolled to the current chapter, and closes once the
   reader taps an entry (for a link within the page it would stay open over the text). */
const lossrefDrawer = () => {
  const dialog = document.getElementById("pst-primary-sidebar-modal");
  if (!dialog) return;
  const current = () => dialog.querySelector("nav.bd-docs-nav li.current > a, "
    + "nav.bd-docs-nav a.current, nav.bd-docs-nav li.active > a");
  new MutationObserver(() => {
    if (!dialog.open) return;
    const entry = current();
    if (entry) requestAnimationFrame(() => entry.scrollIntoView({ block: "center" }));
  }).observe(dialog, { attributes: true, attributeFilter: ["open"] });
  dialog.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest("a[href]");
    if (link && dialog.open) dialog.close();
  });
};

const lossrefReady = (fn) => {
  if (document.readyState !== "loading") fn();
  else document.addEventListener("DOMContentLoaded", fn);
};
lossrefReady(lossrefReaderLanguage); // first: the others read <html lang>
lossrefReady(lossrefForwardToggles);
lossrefReady(lossrefCarryAnchor);
lossrefReady(lossrefSearchLanguage);
lossrefReady(lossrefStackTables);
lossrefReady(() => { // before the scroll cues: they read the outputs' kind
  lossrefFitOutputs();
  window.addEventListener("resize", lossrefFitOutputs);
  document.addEventListener("toggle", lossrefFitOutputs, true);
});
lossrefReady(lossrefScrollCues);
lossrefReady(lossrefDrawer);
