"""``python -m cli``: the `rag` command."""

import sys

from cli.main import main

sys.exit(main())
