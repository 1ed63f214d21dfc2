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

const lossrefReady = (fn) => {
  if (document.readyState !== "loading") fn();
  else document.addEventListener("DOMContentLoaded", fn);
};
lossrefReady(lossrefForwardToggles);
lossrefReady(lossrefCarryAnchor);
lossrefReady(lossrefSearchLanguage);
