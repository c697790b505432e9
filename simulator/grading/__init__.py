"""Judging a design: `rubric` loads a rubric's checks (rules compiled by `simulator.rules`) and
`evaluate`s a design at a scenario's traffic into a `Report`; `library` loads every scenario with its
rubric and checks reference designs and fixtures.
"""
