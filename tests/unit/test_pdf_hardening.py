"""The HTML pass before the PDF engine: every URL-bearing construct goes, the text stays as is."""

from __future__ import annotations

import re

import pytest

from adapters.pdf.hardening import neutralise, safe_css
from adapters.pdf.templating import css_string


@pytest.mark.parametrize(
    "hostile",
    [
        '<img src="http://10.0.0.1/x">',
        '<img src=" file:///etc/passwd">',
        '<img src="data:image/svg+xml,<svg></svg>">',
        '<img srcset="http://10.0.0.1/x 2x">',
        '<iframe src="http://10.0.0.1/x"></iframe>',
        '<object data="http://10.0.0.1/x"></object>',
        '<embed src="http://10.0.0.1/x">',
        '<link rel="stylesheet" href="http://10.0.0.1/x">',
        '<base href="http://10.0.0.1/">',
        '<meta http-equiv="refresh" content="0;url=http://10.0.0.1/x">',
        '<meta name="pdfkit-enable-local-file-access" content="">',
        '<video poster="http://10.0.0.1/x"></video>',
        '<svg><image xlink:href="http://10.0.0.1/x"/></svg>',
        '<svg><use href="http://10.0.0.1/x"/></svg>',
        '<a href="http://10.0.0.1/x">link</a>',
        '<div style="background: url(http://10.0.0.1/x)">',
        "<div style=\"background: URL( '//10.0.0.1/x' )\">",
        "<style>@import 'http://10.0.0.1/x.css';</style>",
        "<style>p { background: url(http://10.0.0.1/x) }</style>",
        "<style>p { background: \\75 rl(http://10.0.0.1/x) }</style>",
        "<style>p { background: \\5c 75rl(http://10.0.0.1/x) }</style>",
        "<style>p { background: image-set('http://10.0.0.1/x' 1x) }</style>",
        "<script>fetch('http://10.0.0.1/x')</script>",
        '<?xml-stylesheet href="http://10.0.0.1/x"?>',
        "<!-- http://10.0.0.1/x -->",
        '<form action="http://10.0.0.1/x"><button formaction="http://10.0.0.1/y">b</button></form>',
        # Parser differentials: what Python's parser reads as text or CSS, browsers as markup.
        "<svg><style><img src=http://10.0.0.1/x></style></svg>",
        "<math><style><img src=http://10.0.0.1/x></style></math>",
        "<svg><foreignObject></svg></foreignObject><style><img src=http://10.0.0.1/x></style>",
        "<style>p {} </style x><img src=http://10.0.0.1/x></style>",
        "<svg><![CDATA[</svg><img src=http://10.0.0.1/x>]]></svg>",
        "<!-- a --!><img src=http://10.0.0.1/x> -->",
        "<noscript><img src=http://10.0.0.1/x></noscript>",
        "<template><img src=http://10.0.0.1/x></template>",
        "<xmp><img src=http://10.0.0.1/x></xmp>",
        "<plaintext><img src=http://10.0.0.1/x>",
        '<iframe srcdoc="&lt;img src=http://10.0.0.1/x&gt;"></iframe>',
        '<!DOCTYPE <img src="http://10.0.0.1/x">',
        '<p x<img src="http://10.0.0.1/x">',
        '<div style="background: url(http://10.0.0.1/x">',
        "<style>p { background: url(http://10.0.0.1/x</style>",
        "<style>@\\69mport 'http://10.0.0.1/x.css';</style>",
        '<svg><rect fill="url(http://10.0.0.1/x#a)"/></svg>',
        '<svg><image l:href="http://10.0.0.1/x"/></svg>',
        '<svg><animate attributeName="href" values="http://10.0.0.1/x"/></svg>',
        '<svg><set attributeName="href" to="http://10.0.0.1/x"/></svg>',
        "<p x:onclick=\"fetch('http://10.0.0.1/x')\">t</p>",
    ],
)
def test_no_url_survives(hostile: str) -> None:
    assert "10.0.0.1" not in neutralise(hostile)
    assert "passwd" not in neutralise(hostile)


@pytest.mark.parametrize(
    "markup",
    [
        "<svg><style><img src=x></style></svg>",
        "<style>p {} </style x><img src=x></style>",
        "a <img<b> c < d",
        "<p a<b=1>x</p>",
        "<!DOCTYPE <b>>",
        "<svg><![CDATA[<b>]]></svg><math><mi><style><b></style></mi></math>",
    ],
)
def test_every_angle_bracket_left_opens_a_tag_the_neutraliser_built(markup: str) -> None:
    out = neutralise(markup)
    # Each `<` is followed by a plain tag name: no parser can read markup the pass did not make.
    tag = re.compile(r"^/?[a-z][a-z0-9-]*[ />]|^!DOCTYPE html>")
    assert all(tag.match(part) for part in out.split("<")[1:])


def test_a_style_inside_svg_or_math_is_dropped_with_its_text() -> None:
    out = neutralise("<svg><style>rect { fill: red }</style><rect/></svg><style>p {}</style>")
    assert out == "<svg><rect /></svg><style>p {}</style>"


@pytest.mark.parametrize(
    "css",
    [
        "p { background: url(http://10.0.0.1/x",  # unclosed: runs to the end of the sheet
        "p::before { content: attr(data-u url) }",  # the attribute's text taken as a URL
        "p { content: '<' }",  # a `<` is markup to some parser
    ],
)
def test_a_sheet_with_a_fetch_the_patterns_cannot_clean_goes_whole(css: str) -> None:
    assert safe_css(css) == ""


def test_a_self_closed_style_is_dropped_so_the_text_after_it_stays_text() -> None:
    # Engines ignore the slash: the page's text would become the style sheet.
    assert neutralise("<style/><p>p { background: url(x) }</p>") == (
        "<p>p { background: url(x) }</p>"
    )


def test_svg_references_into_the_document_are_kept() -> None:
    kept = '<svg><rect fill="url(#shade)" /><use href="#mark" /></svg>'
    assert neutralise(kept) == kept


def test_escaped_text_and_character_references_pass_unchanged() -> None:
    text = (
        "<p>&lt;img src=&#34;http://10.0.0.1/x&#34;&gt; url(http://10.0.0.1/y) "
        "{{ 7*7 }} &amp; Пётр</p>"
    )
    assert neutralise(text) == text


def test_inline_images_fonts_and_fragments_are_kept() -> None:
    kept = (
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="logo">'
        '<a href="#top">up</a>'
        "<style>@font-face { src: url(data:font/ttf;base64,AAAA) }</style>"
    )
    assert neutralise(kept) == kept


def test_event_handlers_are_dropped_and_attributes_reescaped() -> None:
    assert neutralise('<p onclick="x()" title="a&quot;b">t</p>') == '<p title="a&quot;b">t</p>'


def test_a_style_with_only_harmless_css_is_unchanged() -> None:
    css = 'th { background: #eee; } @page { @bottom-right { content: "Стр. " counter(page) } }'
    assert safe_css(css) == css


def test_css_strings_cannot_break_out() -> None:
    quoted = css_string('Стр. "}</style><script>')
    assert "</style>" not in quoted and '"}' not in quoted[1:-1]
    assert quoted.startswith('"Стр.') and quoted.endswith('"')
