"""pytest plugin loaded first (``-p tests.quickstart`` in pyproject's addopts): cheaper startup.

Every pytest process (the xdist controller and each worker) pays its startup again, so a second
saved here is saved three times per `make test`. This module runs before pytest imports the
installed plugins (``-p`` modules are imported before the ``pytest11`` entry points):

- nbval's plugin imports nbformat, which imports jsonschema, whose format checkers import
  ``rfc3987_syntax`` eagerly: that module compiles ~38 Lark grammars at import, 1.4 core-s per
  process (python-jsonschema/jsonschema#1428), for the ``iri`` formats that no notebook schema
  uses. A stand-in module defers that import to the first call of ``is_valid_syntax`` (or the
  first other attribute asked for): the same checks, paid for only if a schema uses them.

- hypothesis's modules are not assertion-rewritten (``_leave_hypothesis_unrewritten``).

The ``anyio`` and ``platformdirs`` plugins (fixtures no test here uses) are switched off with
``-p no:anyio -p no:platformdirs`` beside this one in addopts: pytest imports and
assertion-rewrites their packages (37 modules) in every process otherwise.
"""

import importlib
import importlib.util
import sys
import types

_NAME = "rfc3987_syntax"


def _defer_rfc3987_syntax() -> None:
    """Put the stand-in module in sys.modules (not a global here: pytest scans plugins' globals)."""
    spec = None if _NAME in sys.modules else importlib.util.find_spec(_NAME)
    if spec is None:
        return
    stand_in = types.ModuleType(_NAME, "Stand-in until first use (tests/quickstart.py).")

    def real():
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
        return importlib.import_module(_NAME)

    def is_valid_syntax(*args, **kwargs):
        return real().is_valid_syntax(*args, **kwargs)

    def public(name):  # the real module's other names; private probes don't import it
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(real(), name)

    stand_in.is_valid_syntax, stand_in.__getattr__ = is_valid_syntax, public
    stand_in.__spec__, stand_in.__file__ = spec, spec.origin
    stand_in.__path__ = list(spec.submodule_search_locations or ())
    sys.modules[_NAME] = stand_in


_defer_rfc3987_syntax()


def _leave_hypothesis_unrewritten() -> None:
    """Import hypothesis's own modules plainly, not through pytest's assertion rewriter.

    pytest marks every module of a distribution with a ``pytest11`` entry point for rewriting;
    for hypothesis that is 73 modules (its engine, not test code), parsed and rewritten again
    in every process when no bytecode may be written (PYTHONDONTWRITEBYTECODE): ~1 core-s.
    Our tests' asserts and conftest are rewritten as before. A no-op if pytest's hook changes.
    """
    for hook in sys.meta_path:
        must = getattr(hook, "_must_rewrite", None)
        if isinstance(must, set) and "hypothesis" in must:
            must.discard("hypothesis")
            hook._marked_for_rewrite_cache.clear()


_leave_hypothesis_unrewritten()
