"""Allow ``python -m seqcast``; signals are handled before anything heavy is imported."""

from seqcast.cli.startup import main

if __name__ == "__main__":
    main()
