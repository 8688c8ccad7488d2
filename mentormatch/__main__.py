"""`python -m mentormatch ...` is the `mentormatch` command (works without the script on PATH)."""

from .cli import main

main()
