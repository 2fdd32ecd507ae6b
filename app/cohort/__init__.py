"""Cohort import: reading a hospital's tracking-list extract into patients and pathways."""
