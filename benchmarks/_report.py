"""What every benchmark does at its end: report an error instead of failing the build (a benchmark measures,
it is not a test), and always exit 0."""
from __future__ import annotations

import sys
import traceback


def run_and_exit(main, name: str) -> None:
    """Run ``main()``; print the traceback and one line naming the benchmark ``name`` if it fails; exit 0."""
    try:
        main()
    except Exception as err:   # a benchmark reports, it does not fail the build
        traceback.print_exc()
        print(f"{name}: error: {err}", file=sys.stderr)
    sys.exit(0)
