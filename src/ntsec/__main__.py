"""``python -m ntsec``: the same command line as the ``ntsec`` script (needs the ``cli`` extra)."""

from ntsec.cli import main

if __name__ == "__main__":
    main()
