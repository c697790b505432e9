"""`python -m simulator`: the command line (see simulator/cli)."""
import sys

from simulator.cli.main import main

sys.exit(main())
