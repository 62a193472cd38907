"""The two colors. Every module that speaks of blue and green takes them from here."""

from __future__ import annotations

from bgrender import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Literal

    Color = Literal["blue", "green"]
else:
    Color = str
COLORS: tuple[Color, Color] = ("blue", "green")


def other(color: Color) -> Color:
    return "green" if color == "blue" else "blue"
