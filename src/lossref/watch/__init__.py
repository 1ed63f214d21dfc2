"""``lossref.watch``: run :func:`lossref.diagnose` inside a torch program, at the reader's line.

Three ways in::

    python -m lossref.watch train.py --epochs 3     # like python -m cProfile / pdb
    python -m lossref.watch --strict --lang zh train.py

    with lossref.watch():                           # a block of code, or a notebook cell
        train()

    w = lossref.watch(level="info"); w.start()      # a whole notebook session
    ...
    w.stop()                                        # prints the summary

While a watch runs, the 22 loss functions of ``torch.nn.functional`` are replaced by thin
wrappers (the module losses, ``nn.CrossEntropyLoss()(…)`` and the others, call these same
functions, so they are watched too). ``stop()`` puts the originals back.

What a wrapper does, per call site (the reader's ``file:line`` that called the loss, i.e. the
first frame outside torch and lossref, and the loss's name):

- the first ``max_calls`` calls (default 3) go through :func:`lossref.diagnose` before the loss
  runs; its findings are printed on stderr, once per (site, code), as
  ``path:line: severity code: message``, like a compiler, so an editor can jump to the line;
- every call checks that the loss is finite (one ``.item()`` for a scalar loss, on CUDA a
  synchronisation, as any ``loss.item()`` logging; ``isfinite().all()`` for ``reduction='none'``).
  The first ``nan``/``inf`` loss of a site is diagnosed and reported as ``nonfinite-loss``
  ("first non-finite loss at call N of this site");
- a call that raises is diagnosed (if it was not already), its findings printed, and the
  exception goes on unchanged;
- at the end (``stop()``, the end of the ``with`` block or of the script, or interpreter exit
  for a watch never stopped) a summary lists codes, sites and counts. Nothing is printed at
  all when nothing was found.

Options: ``max_calls`` (per site), ``strict`` (raise :class:`WatchError` on the first error or
warning finding, after printing it; a loss call torch refuses still raises torch's own error),
``lang`` (``'en'`` or ``'zh'``; default: the ``LOSSREF_LANG`` environment variable, else
``'en'``), ``level`` (``'error'``, ``'warning'`` (default) or ``'info'`` to see notes too), and
``file`` (default ``sys.stderr``). The command line takes ``--strict --lang --level --calls``.

Behaviour worth knowing, measured with torch 2.13 on CPU:

- Cost: after the first calls of each site, a call costs a frame walk, a dict look-up and the
  finiteness check: about 3 us per loss call, ~5 % of a 0.3 ms MLP training step on one thread
  against ~50 % for an empty ``TorchFunctionMode`` (``benchmarks/watch_overhead.py``).
- ``torch.jit.script`` of code that calls a loss fails while a watch runs (TorchScript compiles
  the function's source): script before starting the watch; a scripted loss is not watched.
- Only the functions looked up through ``torch.nn.functional`` at call time are watched: a name
  bound before ``start()`` (``from torch.nn.functional import cross_entropy``) calls the
  original. ``python -m lossref.watch`` starts before the script runs, so it sees every call.
- ``torch.compile``: inside a compiled function the wrappers step aside
  (``torch.compiler.is_compiling()``), so dynamo traces the original loss, with no graph break
  and no recompilation; a loss computed inside the compiled region is not watched. A loss
  computed outside it (the usual ``model = torch.compile(model)``, loss in the loop) is.
- ``torch.distributed`` / ``DistributedDataParallel``: a watch watches its own process. Start one
  in every rank (``torchrun --nproc-per-node 2 -m lossref.watch train.py``, or ``with
  lossref.watch():`` in the worker function started by ``torch.multiprocessing.spawn``); each
  rank reports its own findings on its own stderr, with `` [rank r]`` at the end of the line once
  a process group of more than one rank is initialised. Workers started with ``spawn`` do not
  inherit the parent's watch.
- Jupyter: reports go to the kernel's stderr (shown under the cell); a site in a notebook cell
  is written ``In[n]:line`` (IPython's execution count). Only one watch runs at a time: starting
  a second one while one runs does nothing.
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import types
import warnings
from collections import Counter
from typing import Any, TextIO

from .. import Finding, diagnose

__all__ = ["Watch", "WatchError", "LOSSES", "main"]

#: The loss functions of ``torch.nn.functional`` that a watch wraps (torch 2.13 has all 22).
LOSSES = (
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
    "cross_entropy", "ctc_loss", "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss",
    "kl_div", "l1_loss", "linear_cross_entropy", "margin_ranking_loss", "mse_loss",
    "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "nll_loss",
    "poisson_nll_loss", "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
)
LEVELS = ("error", "warning", "info")
_RANK = {"error": 0, "warning": 1, "info": 2}
_TROUBLE = "book/en/15_troubleshooting"

_running: Watch | None = None          # the one watch whose wrappers are installed


def _call(original: Any, args: tuple, kwargs: dict) -> Any:
    # Every wrapped call runs on this one line: a warning torch raises with stacklevel=2
    # (mse_loss's size mismatch, ...) lands here, and _show_warning moves it to the reader's line.
    return original(*args, **kwargs)


_CALL_LINE = _call.__code__.co_firstlineno + 3


class WatchError(RuntimeError):
    """Raised by a ``strict`` watch at the first error or warning finding.

    ``finding`` is the :class:`lossref.Finding`; ``site`` its ``path:line``.
    """

    def __init__(self, line: str, finding: Finding, site: str) -> None:
        super().__init__(line)
        self.finding = finding
        self.site = site


def _library_dirs() -> tuple[str, ...]:
    import torch

    lossref_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return (os.path.dirname(os.path.abspath(torch.__file__)) + os.sep, lossref_dir + os.sep)


class Watch:
    """Watch the loss calls of a running torch program; see the module docstring.

    Create it with ``lossref.watch(**options)``; use it as a context manager or with
    :meth:`start` / :meth:`stop`.

    Parameters
    ----------
    max_calls : int, default 3
        How many calls of each call site go through :func:`lossref.diagnose`.
    strict : bool, default False
        Raise :class:`WatchError` at the first error or warning finding.
    lang : {'en', 'zh'}, optional
        Language of the messages; default ``$LOSSREF_LANG`` or ``'en'``.
    level : {'error', 'warning', 'info'}, default 'warning'
        The least severe finding printed.
    file : text stream, optional
        Where reports go; default ``sys.stderr`` at the time of each report.

    Examples
    --------
    >>> import lossref
    >>> w = lossref.watch(max_calls=1, lang="zh")
    >>> w.max_calls, w.lang, w.level, w.strict
    (1, 'zh', 'warning', False)
    """

    def __init__(self, *, max_calls: int = 3, strict: bool = False, lang: str | None = None,
                 level: str = "warning", file: TextIO | None = None) -> None:
        if lang is None:     # the environment is read leniently: zh, zh_CN, zh-Hans ... are 'zh'
            lang = "zh" if os.environ.get("LOSSREF_LANG", "").lower().startswith("zh") else "en"
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        if isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 0:
            raise ValueError(f"max_calls must be an integer >= 0, got {max_calls!r}")
        self.max_calls, self.strict, self.lang, self.level = max_calls, bool(strict), lang, level
        self.file = file
        self.active = False
        self._originals: dict[str, Any] = {}
        self._reset()

    def _reset(self) -> None:
        self.calls: dict = {}                  # (id(code), instruction, loss) -> calls so far
        self.findings: dict[str, dict] = {}    # code -> {"finding", "sites": Counter}
        self._printed: set = set()             # (path, line, code) already reported
        self._nonfinite: set = set()           # sites whose first non-finite loss was reported
        self._skip: dict[str, bool] = {}       # co_filename -> inside torch or lossref
        self._busy = False
        self._frame: Any = False               # the reader's frame of the loss call running now
        self._codes: dict = {}                 # id -> code object of every call site
        self._rank_seen = ""                   # ' [rank r]' in a process group, at the last report

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> Watch:
        """Install the wrappers (imports torch). Does nothing if a watch already runs."""
        global _running
        if _running is not None:
            return self
        import torch
        import torch.nn.functional as F

        self._torch, self._tensor = torch, torch.Tensor
        self._is_compiling = torch.compiler.is_compiling
        self._dirs = _library_dirs()
        self._reset()
        for name in LOSSES:
            original = getattr(F, name, None)
            if original is not None:
                self._originals[name] = original
                setattr(F, name, self._wrap(name, original))
        self._showwarning = warnings.showwarning
        warnings.showwarning = self._show_warning
        _running, self.active = self, True
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Put the original functions back and print the summary (nothing if all was well)."""
        global _running
        if not self.active:
            return
        import torch.nn.functional as F

        for name, original in self._originals.items():
            setattr(F, name, original)
        self._originals.clear()
        if warnings.showwarning == self._show_warning:
            warnings.showwarning = self._showwarning
        _running, self.active = None, False
        atexit.unregister(self.stop)
        self._print_summary()

    def __enter__(self) -> Watch:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.active else "stopped"
        return (f"<lossref.watch {state}: max_calls={self.max_calls}, strict={self.strict}, "
                f"lang={self.lang!r}, level={self.level!r}>")

    # -- the wrapper ---------------------------------------------------------------------------

    def _wrap(self, name: str, original: Any) -> Any:
        calls, skip, codes, getframe = self.calls, self._skip, self._codes, sys._getframe
        is_compiling, tensor, isfinite = self._is_compiling, self._tensor, math.isfinite
        max_calls, inside, call = self.max_calls, self._inside, _call

        def watched(*args: Any, **kwargs: Any) -> Any:
            if self._busy or is_compiling():
                return original(*args, **kwargs)
            frame = getframe(1)                    # up to the reader's frame
            while True:
                code = frame.f_code
                path = code.co_filename
                library = skip.get(path)
                if library is None:
                    library = skip[path] = inside(path)
                if not library:
                    break
                back = frame.f_back
                if back is None:
                    break
                frame = back
            # The call site as (code, instruction): reading f_lineno costs ~1 us, so the line
            # is looked up only when something is reported. `codes` keeps each code alive.
            key = (id(code), frame.f_lasti, name)
            n = calls[key] = calls.get(key, 0) + 1
            if n == 1:
                codes[key[0]] = code
            if n <= max_calls:
                return self._examine(name, original, frame, n, args, kwargs)
            self._busy, self._frame = True, frame
            try:
                loss = call(original, args, kwargs)
            except BaseException as error:
                self._busy = self._frame = False
                if isinstance(error, Exception):
                    self._report(self._site_of(frame, name), self._diagnose(name, args, kwargs),
                                 n)
                raise
            self._busy = self._frame = False
            if type(loss) is tensor:
                try:
                    finite = isfinite(loss.item())
                except RuntimeError:               # reduction='none': not a scalar
                    finite = bool(loss.isfinite().all())
                if not finite:
                    site = self._site_of(frame, name)
                    self._report(site, self._nonfinite_findings(name, site, n, loss, args,
                                                                kwargs), n)
            return loss

        watched.__name__ = watched.__qualname__ = name
        watched.__doc__ = original.__doc__
        watched.__module__ = original.__module__
        watched.__wrapped__ = original
        return watched

    def _show_warning(self, message: Any, category: Any, filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
        """Show a warning torch pointed at the wrapper (stacklevel=2) at the reader's line."""
        frame = self._frame
        if frame and lineno == _CALL_LINE and filename == __file__:
            filename, lineno, line = frame.f_code.co_filename, frame.f_lineno, None
        self._showwarning(message, category, filename, lineno, file, line)

    def _inside(self, path: str) -> bool:
        return os.path.abspath(path).startswith(self._dirs)

    def _diagnose(self, name: str, args: tuple, kwargs: dict) -> list[Finding]:
        try:
            return diagnose(name, *args, **kwargs)
        except Exception:          # the watch never breaks the reader's program
            return []

    @staticmethod
    def _site_of(frame: Any, name: str) -> tuple:
        return (frame.f_code.co_filename, frame.f_lineno, name)

    def _examine(self, name: str, original: Any, frame: Any, n: int, args: tuple,
                 kwargs: dict) -> Any:
        site = self._site_of(frame, name)
        findings = self._diagnose(name, args, kwargs)
        self._busy, self._frame = True, frame
        try:
            loss = _call(original, args, kwargs)
        except BaseException as error:
            self._busy = self._frame = False
            if isinstance(error, Exception):
                self._report(site, findings, n, strict=False)
            raise
        self._busy = self._frame = False
        if type(loss) is self._tensor and not bool(loss.detach().isfinite().all()):
            findings = self._nonfinite_findings(name, site, n, loss, args, kwargs, findings)
        self._report(site, findings, n)
        return loss

    def _nonfinite_findings(self, name: str, site: tuple, n: int, loss: Any, args: tuple,
                            kwargs: dict, findings: list | None = None) -> list[Finding]:
        key = site
        if key in self._nonfinite:
            self._count("nonfinite-loss", site)
            return []
        self._nonfinite.add(key)
        if findings is None:
            findings = self._diagnose(name, args, kwargs)
        value = "nan" if bool(loss.detach().isnan().any()) else "inf"
        bad_en, bad_zh = self._nonfinite_arguments(name, args, kwargs)
        if bad_en:
            why_en = f": {', '.join(bad_en)} before the loss"
            why_zh = f"：调用前 {'，'.join(bad_zh)}"
        else:
            why_en = (": all its tensor arguments are finite, so the loss itself overflowed or "
                      "took a log of 0")
            why_zh = "：所有张量参数都是有限值，是损失内部溢出或对 0 取了对数"
        return [*findings, Finding(
            "nonfinite-loss", "warning",
            f"first non-finite loss ({value}) at call {n} of this site ({name}){why_en}.",
            f"此调用位置（{name}）第 {n} 次调用时首次出现非有限的损失（{value}）{why_zh}。",
            _TROUBLE)]

    def _nonfinite_arguments(self, name: str, args: tuple,
                             kwargs: dict) -> tuple[list[str], list[str]]:
        """'input holds 1 nan' for each tensor argument that is not finite (en, zh)."""
        import inspect

        try:
            bound = inspect.signature(self._originals[name]).bind(*args, **kwargs).arguments
        except (TypeError, ValueError, KeyError):
            bound = {f"argument {i + 1}": a for i, a in enumerate(args)}
        en, zh = [], []
        for key, value in bound.items():
            if type(value) is not self._tensor or not value.is_floating_point():
                continue
            v = value.detach()
            nan, inf = int(v.isnan().sum()), int(v.isinf().sum())
            if nan or inf:
                parts = [f"{nan} nan"] * bool(nan) + [f"{inf} inf"] * bool(inf)
                en.append(f"{key} holds {' and '.join(parts)}")
                parts = [f"{nan} 个 nan"] * bool(nan) + [f"{inf} 个 inf"] * bool(inf)
                zh.append(f"{key} 含 {'、'.join(parts)}")
        return en, zh

    # -- reporting -------------------------------------------------------------------------------

    def _where(self, site: tuple) -> str:
        path, line, _ = site
        if "ipykernel_" in path or path.startswith("<ipython-input"):
            try:
                count = sys.modules["IPython"].get_ipython().compile._filename_map[path]
                return f"In[{count}]:{line}"
            except Exception:
                pass
        return f"{path}:{line}"

    def _count(self, code: str, site: tuple) -> None:
        entry = self.findings.get(code)
        if entry is not None:
            entry["sites"][self._where(site)] += 1

    def _report(self, site: tuple, findings: list[Finding], n: int, strict: bool = True) -> None:
        where, stream = self._where(site), self.file or sys.stderr
        rank = self._rank_seen = self._rank()
        first_bad = None
        for f in findings:
            if _RANK[f.severity] > _RANK[self.level]:
                continue
            entry = self.findings.setdefault(f.code, {"finding": f, "sites": Counter()})
            entry["sites"][where] += 1
            key = (site[0], site[1], f.code)
            message = f.message_zh if self.lang == "zh" else f.message
            line = f"{where}: {f.severity} {f.code}: {message}{rank}"
            if key not in self._printed:
                self._printed.add(key)
                print(line, file=stream, flush=True)
            if first_bad is None and f.severity in ("error", "warning"):
                first_bad = (line, f)
        if strict and self.strict and first_bad is not None:
            raise WatchError(first_bad[0], first_bad[1], where)

    def _rank(self) -> str:
        dist = getattr(self._torch, "distributed", None)
        try:
            if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
                return f" [rank {dist.get_rank()}]"
        except Exception:
            pass
        return ""

    def summary(self) -> str:
        """The summary ``stop()`` prints: one line per code, its sites and counts ('' if none)."""
        if not self.findings:
            return ""
        zh = self.lang == "zh"
        sites = {s for e in self.findings.values() for s in e["sites"]}
        total = sum(self.calls.values())
        if zh:
            head = (f"lossref.watch 小结：{len(sites)} 个调用位置有 {len(self.findings)} 种发现"
                    f"（共监视 {len(self.calls)} 个调用位置的 {total} 次损失调用）")
        else:
            head = (f"lossref.watch summary: {_n(len(self.findings), 'code')} at "
                    f"{_n(len(sites), 'call site')} ({_n(total, 'loss call')} watched at "
                    f"{_n(len(self.calls), 'site')})")
        lines = [head + self._rank_seen]
        for code, entry in sorted(self.findings.items(),
                                  key=lambda kv: _RANK[kv[1]["finding"].severity]):
            f = entry["finding"]
            chapter = f.chapter.replace("book/en/", "book/zh/", 1) if zh else f.chapter
            lines.append(f"  {f.severity} {code} -> {chapter}")
            for where, count in entry["sites"].items():
                lines.append(f"    {where}  " + (f"{count} 次调用" if zh else _n(count, "call")))
        return "\n".join(lines)

    def _print_summary(self) -> None:
        text = self.summary()
        if text:
            print(text, file=self.file or sys.stderr, flush=True)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


# -- python -m lossref.watch ------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """``python -m lossref.watch [options] SCRIPT [ARGS…]`` (or ``-m MODULE [ARGS…]``)."""
    import argparse
    import runpy

    parser = argparse.ArgumentParser(
        prog="python -m lossref.watch",
        description="Run a Python script as __main__ and report misused torch losses "
                    "(lossref.diagnose) at the script's own lines, on stderr.")
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first error or warning finding (exit status 1)")
    parser.add_argument("--lang", choices=("en", "zh"), default=None,
                        help="language of the messages (default: $LOSSREF_LANG or en)")
    parser.add_argument("--level", choices=LEVELS, default="warning",
                        help="least severe finding printed (default: warning)")
    parser.add_argument("--calls", type=int, default=3, metavar="N",
                        help="calls diagnosed per call site (default: 3)")
    parser.add_argument("-m", dest="module", action="store_true",
                        help="SCRIPT is a module name, run as python -m would")
    parser.add_argument("script", help="the script to run (or module, with -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    options = parser.parse_args(argv)

    w = Watch(max_calls=options.calls, strict=options.strict, lang=options.lang,
              level=options.level)
    sys.argv = [options.script, *options.args]
    if not options.module:
        sys.path.insert(0, os.path.dirname(os.path.abspath(options.script)))
    w.start()
    try:
        if options.module:
            runpy.run_module(options.script, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(options.script, run_name="__main__")
    finally:
        w.stop()
    return 0


class _CallableModule(types.ModuleType):
    """``lossref.watch`` is this module and, called, makes a :class:`Watch`."""

    def __call__(self, *, max_calls: int = 3, strict: bool = False, lang: str | None = None,
                 level: str = "warning", file: TextIO | None = None) -> Watch:
        return Watch(max_calls=max_calls, strict=strict, lang=lang, level=level, file=file)


sys.modules[__name__].__class__ = _CallableModule
