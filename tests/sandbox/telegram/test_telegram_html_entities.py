"""Telegram's HTML parse mode, without HTTP: visible text, entities and parse errors."""

from __future__ import annotations

import pytest

from sandbox.telegram.formatting import format_text
from sandbox.telegram.html_entities import HtmlError, parse_html, utf16_len


def test_all_documented_tags_become_entities():
    text, entities = parse_html(
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><tg-spoiler>p</tg-spoiler><span class="tg-spoiler">q</span>'
        "<code>c</code><blockquote>q</blockquote>"
    )
    assert text == "bsieunskdpqcq"
    assert [e["type"] for e in entities] == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough",
        "strikethrough", "strikethrough", "spoiler", "spoiler", "code", "blockquote",
    ]  # fmt: skip


def test_offsets_are_in_utf16_code_units():
    text, entities = parse_html("😀 <b>жирный</b>")
    assert text == "😀 жирный"
    assert (entities[0]["offset"], entities[0]["length"]) == (3, 6)
    assert utf16_len("😀") == 2


def test_nested_entities_are_ordered_outer_first():
    _, entities = parse_html("<b>a <i>b</i></b>")
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 3),
        ("italic", 2, 1),
    ]


def test_pre_with_a_language_is_one_entity():
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert text == "x = 1"
    assert entities == [{"offset": 0, "length": 5, "type": "pre", "language": "python"}]


def test_links_and_user_mentions():
    _, entities = parse_html('<a href="https://t.me/x">t</a> <a href="tg://user?id=42">u</a>')
    assert entities[0] == {"offset": 0, "length": 1, "type": "text_link", "url": "https://t.me/x"}
    assert entities[1] == {"offset": 2, "length": 1, "type": "text_mention", "user": {"id": 42}}


def test_entities_and_numeric_references_are_decoded():
    assert parse_html("&lt;&gt;&amp;&quot;&#1046;&#x416;")[0] == '<>&"ЖЖ'


def test_tag_names_are_case_insensitive():
    assert parse_html("<B>x</B>")[1][0]["type"] == "bold"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("ж <x>", 'Unsupported start tag "x" at byte offset 3'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("a & b", 'Unescaped "&" at byte offset 2'),
    ],
)
def test_bad_html_is_refused_with_telegrams_reason(source, reason):
    with pytest.raises(HtmlError) as refused:
        parse_html(source)
    assert str(refused.value) == reason


def test_text_is_trimmed_and_entities_follow():
    text, entities = format_text("  <b>hi</b>  ", "HTML", None, caption=False)
    assert (text, entities[0]["offset"]) == ("hi", 0)


def test_commands_urls_and_mentions_are_found_automatically():
    _, entities = format_text("/tasks @tg1c_bot https://x.org #tag", None, None, caption=False)
    assert [e["type"] for e in entities] == ["bot_command", "mention", "url", "hashtag"]


def test_nothing_is_detected_inside_code():
    _, entities = format_text("<code>/tasks</code>", "HTML", None, caption=False)
    assert [e["type"] for e in entities] == ["code"]
