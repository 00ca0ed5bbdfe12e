"""``python -m toolwire``: the same command line as the ``toolwire`` script."""

from toolwire.cli import main

main()
