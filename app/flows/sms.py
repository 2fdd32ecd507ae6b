"""Counting SMS segments: GSM-7 when every character is in its alphabet, UCS-2 otherwise.

A single message holds 160 GSM-7 or 70 UCS-2 characters; a longer one is split into parts of 153
or 67 (the rest carries the joining header). The GSM-7 extension characters count twice. Welsh
letters such as ŵ and ŷ are not in GSM-7, so one of them makes the whole message UCS-2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    """How a text will be sent: its encoding, length in that encoding's units, and parts."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    parts: int


def count_segments(text: str) -> Segments:
    """The encoding and number of parts a text message needs."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        units = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        parts = 1 if units <= 160 else math.ceil(units / 153)
        return Segments("GSM-7", units, parts)
    units = len(text.encode("utf-16-le")) // 2
    parts = 1 if units <= 70 else math.ceil(units / 67)
    return Segments("UCS-2", units, parts)
