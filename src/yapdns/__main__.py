"""Allow ``python -m yapdns``."""

from yapdns.cli import main

main()
