"""`python -m paramlab.console.cli`: the paramlab command."""

import sys

from paramlab.console.cli import main

sys.exit(main())
