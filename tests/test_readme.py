"""The README's examples work as printed."""
import re
from pathlib import Path

from simulator.model.design import load_design_text
from simulator.model.notation import parse_dsl

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_readme_opens_with_the_two_commands():
    head = README[:1500]
    assert "streamlit run app.py" in head and "python -m pytest" in head


def test_readme_design_file_and_text_describe_the_same_design():
    (yaml_text,) = [b for b in blocks("yaml") if "nodes:" in b]
    (dsl_text,) = blocks("text")
    from_yaml = load_design_text(yaml_text)
    from_dsl = parse_dsl(dsl_text)
    assert {(n.id, n.kind) for n in from_yaml.nodes} <= {(n.id, n.kind) for n in from_dsl.nodes}
    assert {(e.source, e.target, e.kind) for e in from_yaml.edges} <= \
        {(e.source, e.target, e.kind) for e in from_dsl.edges}
