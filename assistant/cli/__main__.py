"""`python -m assistant.cli`: the same as the `ally` console script."""

from assistant.cli import main

if __name__ == "__main__":
    main()
