"""``Finding``: one thing ``diagnose`` noticed, and the wrapping that keeps it in the column.

A finding printed in a notebook is read in an 89-character ``pre`` block on a desktop; lines
longer than that are cut, not wrapped. :func:`wrap` breaks at spaces in English and between
characters in Chinese, counting a Han character as two columns (its display width).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["SEVERITIES", "WIDTH", "Finding", "display_width", "wrap"]

SEVERITIES = ("error", "warning", "info")
WIDTH = 88
"""The column findings are wrapped to (code cells and printed lines of the book fit 88)."""

# Chinese punctuation that must not start a line (it stays with the character before it).
_NO_LINE_START = set("，。、；：？！）》」』”’…%,.;:?!)]}")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: 2 for wide (Han, full-width) characters."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _tokens(text: str) -> list[str]:
    """Words with their trailing space, and every wide character on its own."""
    out: list[str] = []
    word = ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            if word:
                out.append(word)
                word = ""
            if out and ch in _NO_LINE_START:
                out[-1] += ch                       # never break before this punctuation
            else:
                out.append(ch)
        elif ch == " ":
            word += ch
            out.append(word)
            word = ""
        else:
            if word.endswith(" "):
                out.append(word)
                word = ""
            word += ch
    if word:
        out.append(word)
    return out


def wrap(text: str, width: int = WIDTH, indent: str = "") -> str:
    """``text`` broken into lines of at most ``width`` display columns.

    Breaks at spaces, and between wide (Chinese) characters; the lines after the first start
    with ``indent``. A word longer than the line keeps a line of its own.

    Examples
    --------
    >>> print(wrap("one two three four", width=9, indent="  "))
    one two
      three
      four
    >>> print(wrap("目标都被忽略。", width=8))
    目标都被
    忽略。
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            prefix = indent if lines else ""
            if line and display_width(prefix + (line + token).rstrip()) > width:
                lines.append(line.rstrip())
                line = token.lstrip(" ")
            else:
                line += token
        lines.append(line.rstrip())
    return "\n".join(lines[:1] + [indent + ln for ln in lines[1:]])


@dataclass(frozen=True)
class Finding:
    """One thing ``diagnose`` noticed about a loss call.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``'softmax-before-cross-entropy'``; every code is listed in
        ``lossref.diagnosis.CODES`` with a one-line summary in both languages.
    severity : {'error', 'warning', 'info'}
        ``'error'``: PyTorch refuses the call (the message gives its reason).
        ``'warning'``: PyTorch accepts it, and the number is not what was meant.
        ``'info'``: correct, but worth knowing (or too little data to be sure).
    message, message_zh : str
        The explanation in English and in Chinese.
    chapter : str
        Where the book explains it: the section's address on the site, relative to the
        book's folder (``'en/03_weights_ignore_smoothing.html#weights-ignore-smoothing-all-ignored'``).
        The Chinese twin (:attr:`chapter_zh`) has the same anchor.

    Examples
    --------
    >>> f = Finding("all-targets-ignored", "warning", "Every target is ignored.",
    ...             "所有目标都被忽略。", "en/03_weights_ignore_smoothing.html#x")
    >>> print(f)
    warning all-targets-ignored: Every target is ignored.
      -> en/03_weights_ignore_smoothing.html#x
    >>> f.chapter_zh
    'zh/03_weights_ignore_smoothing.html#x'
    """

    code: str
    severity: str
    message: str
    message_zh: str
    chapter: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    @property
    def chapter_zh(self) -> str:
        """The Chinese twin of :attr:`chapter` (same page name and anchor under ``zh/``)."""
        return "zh/" + self.chapter[3:] if self.chapter.startswith("en/") else self.chapter

    def describe(self, lang: str = "en", width: int = WIDTH) -> str:
        """``severity code: message`` and the chapter, wrapped to ``width`` display columns.

        ``lang`` is ``'en'`` or ``'zh'``; continuation lines are indented by two spaces.
        """
        message, chapter = ((self.message_zh, self.chapter_zh) if lang == "zh"
                            else (self.message, self.chapter))
        return wrap(f"{self.severity} {self.code}: {message}", width, "  ") + f"\n  -> {chapter}"

    def __str__(self) -> str:
        return self.describe("en")

    def __repr__(self) -> str:
        return f"Finding({self.severity} {self.code}: {self.message} [{self.chapter}])"
