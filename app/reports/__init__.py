"""Reports: what a campaign achieved, whether it was fair, and what is due across campaigns."""
