"""`python -m simulator ...`: `main` (argument parsing, list/kinds/validate/grade and exit codes) and
one module per command group (`simulate`, `history`, `authoring`). Commands call the core; none holds
a rule, a query or a prompt of its own.
"""
