"""``python -m runtime.cli``: the ``edgewise`` command."""

import sys

from runtime.cli import main

sys.exit(main())
