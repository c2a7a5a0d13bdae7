"""Allow ``python -m seqcast``."""

from seqcast.cli import main

main()
