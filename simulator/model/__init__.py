"""The data a candidate and an author write, and nothing that judges it.

`catalog` (component kinds and their aliases), `yamlio` (reading YAML/JSON with line numbers and
size limits), `validation` (located errors), `design` (the component graph and its file format),
`roles` (what a component does: its kind, the words of its label, its declared roles), `notation`
(the text notation), `canvas` (canvas positions), `compare` (a design beside the reference), `render`
(DOT/SVG), `scenario` (the scenario file format and the traffic it sets) and `targets` (the latency
target a brief states).
"""
