"""``python -m sim``: the command line (sim.cli). Ctrl-C while the libraries are still loading ends it with one
line and exit 130, like Ctrl-C during a run; nothing has been written then."""
import sys

try:
    from .cli import main
except KeyboardInterrupt:
    print("interrupted: nothing was written", file=sys.stderr, flush=True)
    raise SystemExit(130) from None

raise SystemExit(main())
