"""``python -m app.cli`` runs the command line (useful where the script is not on PATH)."""

from app.cli import main

main()
