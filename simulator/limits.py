"""Every size limit on input, defined once: files, designs, labels, replicas, the text notation.

Parsers, validators, rule checks, the JSON Schemas and the store all read these names; none
repeats a number.
"""
from __future__ import annotations

MAX_FILE_BYTES = 2_000_000      # one YAML/JSON/text file (design, scenario, rubric, import)
MAX_ALIASES = 50                # YAML anchors/aliases in one file (no billion laughs)
MAX_ELEMENTS = 200_000          # values in one parsed YAML/JSON document
MAX_NODES = 5_000               # components in one design
MAX_EDGES = 20_000              # connections in one design
MAX_LABEL = 200                 # characters of a component or connection label
MAX_REPLICAS = 100_000          # replicas of one component
MAX_ROLES = 12                  # roles declared on one component
MAX_NOTATION_LINES = 20_000     # lines of the text notation
MAX_NESTING = 50                # lists/mappings inside one another in one YAML/JSON value or file
MAX_NUMBER_DIGITS = 300         # digits of one whole number (a float stops near 1e308; Python refuses 4,300)

# Numbers that enter the simulation (peak, load, spike, entry rates, node properties). Within these
# every result (loads, utilisation, latency, cost) stays a finite float; outside them a user gets a
# message naming the number instead of an overflow. simulation/inputs.py checks them, once.
MAX_RPS = 1e9                   # req/s: a scenario's peak or one traffic-profile entry rate
MAX_MULTIPLIER = 1e6            # --load and the chaos spike
MIN_CAPACITY = 1e-6             # req/s per replica: anything smaller is a typo (and 1e-320 divides to inf)
MAX_CAPACITY = 1e12             # req/s per replica
MAX_LATENCY_MS = 86_400_000.0   # one day, per call
MAX_COST_PER_HOUR = 1e6         # dollars per replica-hour
