"""Exclusion rules as data, and which pathways they keep from automated contact."""
