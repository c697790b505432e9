"""Untrusted text (labels, a model's words, imported reports) shows as typed: never markup, HTML or images."""
import re

from simulator.model.canvas import node_content
from simulator.model.design import Node
from simulator.model.markdown import literal, no_links

ATTACK = '<img src="http://evil.test/x.png" onerror="fetch(1)"> ![i](http://evil.test/i.png) [l](http://evil.test)'


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown source (backslash escapes and entities undone)."""
    text = re.sub(r"\\(.)", r"\1", markdown)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_literal_text_has_no_tag_link_or_image_left_and_reads_as_typed():
    out = literal(ATTACK)
    assert "<" not in out and "](" not in out and "![" not in out
    assert shown(out) == ATTACK
    assert shown(literal("**not bold** :red[not red] $not math$")) == "**not bold** :red[not red] $not math$"


def test_authored_hints_keep_their_code_but_lose_links_and_html():
    out = no_links("Draw a `fallback` arrow. " + ATTACK)
    assert "`fallback`" in out and "<" not in out and "![" not in out
    assert not re.search(r"(?<!\\)\]\(", out)          # every bracket that could open a link is escaped


def test_a_canvas_label_is_plain_text():
    content = node_content(Node("api", "service", label=ATTACK))
    assert "<img" not in content and "](" not in content
    assert ATTACK in shown(content)
