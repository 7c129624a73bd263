"""`python -m studio` is the `studio` command."""

import sys

from .cli import main

sys.exit(main())
