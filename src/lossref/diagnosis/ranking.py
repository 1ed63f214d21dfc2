"""margin_ranking_loss and the triplet losses: ±1 targets and the margin."""

from __future__ import annotations

from ._common import Arr, Report, read, zero_one_target

__all__ = ["CHECKS"]


def _margin_ranking(r: Report, name: str, x: Arr, y: Arr, options: dict,
                    reduction: str) -> None:
    """margin_ranking_loss: the third tensor holds 1 or -1."""
    zero_one_target(r, name, read(options["target"], "target"))


def _triplet(r: Report, name: str, x: Arr, y: Arr, options: dict, reduction: str) -> None:
    margin = options.get("margin", 1.0)
    if margin <= 0:
        r.add("non-positive-margin", "error",
              f"margin={margin!r}: torch raises \"margin must be greater than 0\" for {name}.",
              f"margin={margin!r}：{name} 的间隔必须是正数，torch 报错 \"margin must be greater "
              f"than 0\"。")


CHECKS = {"margin_ranking_loss": _margin_ranking, "triplet_margin_loss": _triplet,
          "triplet_margin_with_distance_loss": _triplet}
