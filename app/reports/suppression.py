"""Small-number suppression for breakdowns of people, so nobody can be singled out.

Primary suppression hides every group of fewer than ``threshold`` people. If that leaves the
hidden groups recoverable by subtracting the shown groups from the total (one group hidden, or
hidden groups that together hold fewer than ``threshold`` people), the next smallest groups are
hidden as well (secondary suppression) until at least two groups holding ``threshold`` or more
people together are hidden.
"""

from __future__ import annotations

from collections.abc import Mapping

SUPPRESSION_THRESHOLD = 10


def suppressed_groups(
    people_by_group: Mapping[str, int], *, threshold: int = SUPPRESSION_THRESHOLD
) -> set[str]:
    """The groups whose numbers must not be shown."""
    ordered = sorted(people_by_group, key=lambda group: (people_by_group[group], group))
    hidden = {group for group in ordered if 0 < people_by_group[group] < threshold}
    if not hidden:
        return hidden
    for group in ordered:
        hidden_people = sum(people_by_group[g] for g in hidden)
        if len(hidden) >= 2 and hidden_people >= threshold:
            break
        if group not in hidden and people_by_group[group] > 0:
            hidden.add(group)
    return hidden
