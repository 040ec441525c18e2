"""``python -m streamrun``: the same as the ``streamrun`` command."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    try:
        from ._cli import main
    except KeyboardInterrupt:  # Ctrl-C while the command starts: no traceback
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    sys.exit(main())
