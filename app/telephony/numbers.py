"""Ofcom's fictional (drama) number ranges: safe for synthetic data, never rung for real."""

from __future__ import annotations

# E.164 prefixes of the 1,000-number blocks Ofcom reserves for TV, radio and drama.
_DRAMA_PREFIXES = (
    "+447700900",  # mobile 07700 900000-900999
    "+441134960",  # Leeds 0113 496 0xxx
    "+441144960",  # Sheffield
    "+441154960",  # Nottingham
    "+441164960",  # Leicester
    "+441174960",  # Bristol
    "+441184960",  # Reading
    "+441214960",  # Birmingham
    "+441314960",  # Edinburgh
    "+441414960",  # Glasgow
    "+441514960",  # Liverpool
    "+441614960",  # Manchester
    "+441914980",  # Tyneside
    "+442079460",  # London 020 7946 0xxx
    "+442890180",  # Belfast 028 9018 0xxx
    "+442920180",  # Cardiff 029 2018 0xxx
    "+441632960",  # 01632 960xxx
    "+443069990",  # 0306 999 0xxx
    "+448081570",  # 0808 157 0xxx
    "+449098790",  # 0909 879 0xxx
)


def is_fictional(e164: str) -> bool:
    """Whether ``e164`` is in a range reserved for drama (so no real person can answer it)."""
    return len(e164) == 13 and e164.startswith(_DRAMA_PREFIXES)
