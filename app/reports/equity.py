"""Was the campaign fair? Response, leave and removal rates by group, with the tests behind a flag.

Unit: the eligible pathways of the campaign's cohort (pathways not excluded by any rule). Groups
are judged on the number of distinct people in them (suppression) and rates on pathways. See
docs/reports.md for the statistics and the suppression policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.reports.facts import UNDER_18, UNKNOWN, Counts, Dimension
from app.reports.statistics import Interval, holm_adjust, two_proportion_p_value, wilson_interval
from app.reports.suppression import SUPPRESSION_THRESHOLD, suppressed_groups

ALPHA = 0.05
TEST_DESCRIPTION = (
    "Two-sided pooled two-proportion z-test of each group against everyone else in the "
    "breakdown, Holm-Bonferroni correction across the groups tested in that breakdown, "
    "flagged when the adjusted p-value is below 0.05 and the group's rate is the lower."
)
SEX_LABELS = {"1": "Male", "2": "Female", "9": "Indeterminate", "X": "Not known"}
ETHNIC_LABELS = {
    "A": "White British",
    "B": "White Irish",
    "C": "Any other White background",
    "D": "White and Black Caribbean",
    "E": "White and Black African",
    "F": "White and Asian",
    "G": "Any other mixed background",
    "H": "Indian",
    "J": "Pakistani",
    "K": "Bangladeshi",
    "L": "Any other Asian background",
    "M": "Caribbean",
    "N": "African",
    "P": "Any other Black background",
    "R": "Chinese",
    "S": "Any other ethnic group",
    "Z": "Not stated",
}
TITLES = {
    "imd_decile": "IMD decile (1 = most deprived)",
    "age_band": "Age band",
    "sex": "Sex",
    "ethnic_category": "Ethnic category",
    "preferred_language": "Preferred language",
}
# Equity looks at the eligible population: excluded pathways were never meant to be contacted.
DIMENSIONS = [Dimension(f"equity_{name}", name, eligible_only=True) for name in TITLES]


@dataclass(frozen=True)
class Rate:
    """A proportion with its numerator, denominator and 95% Wilson score interval."""

    count: int
    of: int
    rate: float | None
    ci: Interval | None


@dataclass(frozen=True)
class EquityGroup:
    """One group of a breakdown; every number is None when the group is suppressed."""

    key: str
    label: str
    suppressed: bool
    people: int | None
    pathways: int | None
    response: Rate | None
    leave: Rate | None
    removal: Rate | None
    p_value_adjusted: float | None
    low_response: bool


@dataclass(frozen=True)
class EquityBreakdown:
    """Rates for every group of one characteristic, and which groups were flagged."""

    dimension: str
    title: str
    groups: list[EquityGroup]
    flagged: list[str]
    suggestions: list[str]
    overall_response: float | None = None
    test: str = TEST_DESCRIPTION


@dataclass(frozen=True)
class GroupCounts:
    """What the database counted for one group of eligible pathways."""

    key: str
    people: int
    pathways: int
    responded: int
    leave: int
    removed: int


# Preferred-language codes (ISO 639-1, as the extract carries them) in words.
LANGUAGE_LABELS: dict[str, str] = {
    "en": "English",
    "cy": "Welsh",
    "pl": "Polish",
    "ur": "Urdu",
    "pa": "Punjabi",
    "bn": "Bengali",
    "gu": "Gujarati",
    "ar": "Arabic",
    "so": "Somali",
    "pt": "Portuguese",
    "ro": "Romanian",
    "tr": "Turkish",
    "zh": "Chinese",
    "fr": "French",
    "es": "Spanish",
}


def _label(dimension: str, key: str) -> str:
    if dimension == "sex":
        return SEX_LABELS.get(key, key)
    if dimension == "ethnic_category":
        return ETHNIC_LABELS.get(key, key)
    if dimension == "preferred_language":
        return LANGUAGE_LABELS.get(key.split("-")[0].lower(), key)
    return key


def _sort_key(dimension: str, key: str) -> tuple[int, int, str]:
    if key == UNKNOWN:
        return (1, 0, key)
    if dimension == "imd_decile" and key.isdigit():
        return (0, int(key), key)
    if dimension == "age_band":
        order = [UNDER_18, "18-39", "40-64", "65-79", "80+"]
        return (0, order.index(key) if key in order else 99, key)
    return (0, 0, key)


def _rate(count: int, of: int) -> Rate:
    return Rate(count=count, of=of, rate=count / of if of else None, ci=wilson_interval(count, of))


def breakdown(
    dimension: str, title: str, counts: list[GroupCounts], *, threshold: int = SUPPRESSION_THRESHOLD
) -> EquityBreakdown:
    """Rates, suppression and low-response flags for one characteristic's groups.

    Every group of ``threshold`` people or more is tested, including one hidden only to protect
    a smaller group (secondary suppression): its flag is still shown, without its numbers.
    """
    hidden = suppressed_groups({c.key: c.people for c in counts}, threshold=threshold)
    all_pathways = sum(c.pathways for c in counts)
    all_responded = sum(c.responded for c in counts)
    tested = [c for c in counts if c.people >= threshold]
    raw_p = [
        two_proportion_p_value(
            c.responded, c.pathways, all_responded - c.responded, all_pathways - c.pathways
        )
        for c in tested
    ]
    adjusted = dict(zip((c.key for c in tested), holm_adjust(raw_p), strict=True))
    groups: list[EquityGroup] = []
    suggestions: list[str] = []
    for c in sorted(counts, key=lambda c: _sort_key(dimension, c.key)):
        label = _label(dimension, c.key)
        rest_pathways = all_pathways - c.pathways
        rest_responded = all_responded - c.responded
        below = rest_pathways > 0 and c.responded * rest_pathways < rest_responded * c.pathways
        low = c.key in adjusted and below and adjusted[c.key] < ALPHA
        if c.key in hidden:
            groups.append(EquityGroup(c.key, label, True, None, None, None, None, None, None, low))
            if low:
                suggestions.append(
                    f"{title}, {label}: significantly fewer responded than everyone else "
                    f"(numbers suppressed to protect a small group). {_ACTION}"
                )
            continue
        groups.append(
            EquityGroup(
                key=c.key,
                label=label,
                suppressed=False,
                people=c.people,
                pathways=c.pathways,
                response=_rate(c.responded, c.pathways),
                leave=_rate(c.leave, c.responded),
                removal=_rate(c.removed, c.pathways),
                p_value_adjusted=adjusted.get(c.key),
                low_response=low,
            )
        )
        if low:
            suggestions.append(
                f"{title}, {label}: {c.responded / c.pathways:.0%} responded against "
                f"{rest_responded / rest_pathways:.0%} of everyone else; "
                f"{c.pathways - c.responded} did not respond. {_ACTION}"
            )
    flagged = [g.label for g in groups if g.low_response]
    overall = all_responded / all_pathways if all_pathways else None
    return EquityBreakdown(dimension, title, groups, flagged, suggestions, overall)


_ACTION = (
    "Contact this group's non-responders by a person (a call from the booking team) or by "
    "another channel (letter, interpreter-led call) before treating any of them as unreachable."
)


def equity_breakdowns(counts: dict[str, list[Counts]]) -> list[EquityBreakdown]:
    """Every equity breakdown, from the grouped counts of :data:`DIMENSIONS`."""
    return [
        breakdown(
            name,
            title,
            [
                GroupCounts(c.key, c.people, c.pathways, c.responded, c.leave, c.removed)
                for c in counts[f"equity_{name}"]
            ],
        )
        for name, title in TITLES.items()
    ]
