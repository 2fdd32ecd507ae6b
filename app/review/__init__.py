"""The clinical review queue: items, decisions, and the export back to the PAS."""
