"""The protective flags a cohort row may carry: the words the exclusion rules match on.

They belong to the rules (a flag means something only because a rule excludes by it); the cohort
reader imports them to refuse a flag nobody knows, so that a misspelt flag cannot vanish.
"""

from __future__ import annotations

FLAGS = frozenset(
    {
        "dementia",
        "cognitive_impairment",
        "learning_disability",
        "safeguarding",
        "deceased",
        "cancer_pathway",
        "lacks_capacity",
        "no_automated_contact",
        "reasonable_adjustment",
    }
)
