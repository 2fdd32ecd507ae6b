"""Waiting-list validation: contact patients with an approved script, review every answer."""

__version__ = "0.1.0"
