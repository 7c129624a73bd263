"""Entry point of the packaged app: `gan-studio` opens the window; `gan-studio COMMAND ...` runs a subcommand."""

import sys

from studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
