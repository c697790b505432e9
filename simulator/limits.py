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
