"""The staff worklist: every human follow-up a patient is owed, and the letters that close it."""
