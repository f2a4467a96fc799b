"""Strips every URL-bearing construct from the HTML handed to a PDF engine (defence in depth).

The engines themselves are locked down (see README.md: no JavaScript, no file access, no
network); this pass makes sure an installation's template cannot even ask for a fetch. It works
on the final HTML, after Jinja2 has escaped the 1C data, so it never changes the text an approver
reads: only tags, attributes and CSS are touched, character references pass through as written.

Kept: `data:` URLs of raster images and fonts, `#fragment` links. Dropped: scripts and their
content, frames, objects, embeds, links, `<base>`, refreshing or pdfkit-option `<meta>`, SVG
animation, comments, CDATA, processing instructions, event handlers, every other URL attribute,
CSS `url()` of anything but `data:` and `@import`.

The engines parse HTML as browsers do (WebKit, html5lib), and Python's parser differs from them
(`<style>` inside `<svg>` or `<math>` is markup there, `</style x>` ends a style there, `<![CDATA[`
and `--!>` end differently). So the output is rebuilt from what this parser understood, and only
in forms every parser reads alike: each `<` starts a tag built here (text carries none, and a
style sheet holding one is dropped), tag and attribute names are plain, values are quoted and
escaped, and a `<style>` inside foreign content is dropped whole. Whatever the parsers disagree
on can then only turn markup into text, never text into markup.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Final

DROPPED_WITH_CONTENT: Final = frozenset({"script", "noembed", "noframes", "noscript", "template"})
DROPPED: Final = frozenset(
    {
        "animate",
        "animatecolor",
        "animatemotion",
        "animatetransform",
        "applet",
        "audio",
        "base",
        "discard",
        "embed",
        "frame",
        "frameset",
        "iframe",
        "link",
        "object",
        "param",
        "plaintext",
        "portal",
        "set",
        "source",
        "track",
        "video",
        "xmp",
    }
)
# Elements whose content browsers parse as markup, where `<style>` is not a style sheet.
FOREIGN: Final = frozenset({"svg", "math"})
URL_ATTRIBUTES: Final = frozenset(
    {
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "dynsrc",
        "formaction",
        "href",
        "icon",
        "imagesrcset",
        "longdesc",
        "lowsrc",
        "manifest",
        "ping",
        "poster",
        "profile",
        "src",
        "srcdoc",
        "srcset",
        "usemap",
        "xlink:href",
        "xml:base",
    }
)
_TAG_NAME = re.compile(r"^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$")
_ATTRIBUTE_NAME = re.compile(r"^[a-z_][a-z0-9_.-]*(:[a-z_][a-z0-9_.-]*)?$")
_URL_CONTROL_CHARS = re.compile(r"[\x00-\x20]+")
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\(.)", re.DOTALL)
_CSS_URL = re.compile(
    r"""url\(\s*(?P<q>["']?)(?P<target>.*?)(?P=q)\s*\)""", re.IGNORECASE | re.DOTALL
)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)
# Left after cleaning, any of these means a fetch the patterns did not understand (an unclosed
# `url(` runs to the end of the sheet in CSS; `attr(x url)` makes an attribute a URL): the
# whole style goes.
_CSS_LEFTOVER_FETCH = re.compile(r"url\(|@import|attr\([^)]*\burl\b", re.IGNORECASE)
# In any other attribute, any of these makes the value a possible fetch.
_CSS_FETCH_HINT = re.compile(r"url\(|image(-set)?\(|cross-fade\(|src\(|\\", re.IGNORECASE)
# Functions that take a URL as a plain string: the whole call goes, or at least its name.
_CSS_STRING_URL_CALL = re.compile(r"(?:image-set|image|cross-fade|src)\([^()]*\)", re.IGNORECASE)
_CSS_STRING_URL_FUNCTION = re.compile(r"(?:image-set|image|cross-fade|src)\(", re.IGNORECASE)
_SAFE_DATA_URL = re.compile(r"^data:(image/(png|jpeg|gif|webp)|font/|application/font)", re.I)


def neutralise(document: str) -> str:
    """The HTML with every construct that could make an engine fetch something removed."""
    parser = _Neutraliser()
    parser.feed(document)
    parser.close()
    return "".join(parser.out)


def safe_css(css: str) -> str:
    """CSS with `@import` removed and every `url()` not of an inline image or font emptied.

    A sheet holding `<`, or a `url(` the patterns do not understand (unclosed), is dropped
    whole. CSS escapes can spell `url(` where a pattern cannot see it (`\\75 rl(`): if the text
    with every escape decoded still holds a fetch after cleaning, the whole style is dropped.
    """
    # A `<` is markup to some parser (a `</style x>` this one missed, a `<style>` inside
    # `<svg>`) and has no use in a style sheet: such a sheet goes whole.
    if "<" in css:
        return ""
    cleaned = _strip_fetches(css)
    if _has_leftover_fetch(cleaned):
        return ""
    decoded = cleaned
    for _ in range(8):
        previous, decoded = decoded, _CSS_ESCAPE.sub(_unescape, decoded)
        if decoded == previous:
            break
    else:
        return ""
    unsafe = _strip_fetches(decoded) != decoded or _has_leftover_fetch(decoded)
    return "" if unsafe else cleaned


def _has_leftover_fetch(css: str) -> bool:
    kept = _CSS_URL.sub(lambda m: "" if _is_safe_data_url(m.group("target")) else m.group(0), css)
    return bool(_CSS_LEFTOVER_FETCH.search(kept))


def _strip_fetches(css: str) -> str:
    css = _CSS_IMPORT.sub("", css)
    css = _CSS_URL.sub(
        lambda m: m.group(0) if _is_safe_data_url(m.group("target")) else "none", css
    )
    css = _CSS_STRING_URL_CALL.sub("none", css)
    return _CSS_STRING_URL_FUNCTION.sub("none(", css)


def _unescape(match: re.Match[str]) -> str:
    if match.group(1):
        code = int(match.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
    return match.group(2)


def _is_safe_data_url(value: str) -> bool:
    return bool(_SAFE_DATA_URL.match(_URL_CONTROL_CHARS.sub("", value)))


class _Neutraliser(HTMLParser):
    def __init__(self) -> None:
        # Character references stay as written: the text is already escaped by Jinja2.
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self._skipping: str | None = None
        # Style text is checked whole: a url( split across two chunks must not slip through.
        self._style: list[str] | None = None
        self._foreign = 0  # open <svg>/<math> elements, as this parser counts them

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        if self._skipping:
            return
        if tag in DROPPED_WITH_CONTENT or (tag == "style" and self._foreign):
            self._skipping = None if closed else tag
            return
        if (
            tag in DROPPED
            or not _TAG_NAME.match(tag)
            or (tag == "meta" and not _harmless_meta(attrs))
            # Engines ignore the slash and take the rest of the page for the sheet's text.
            or (tag == "style" and closed)
        ):
            return
        self._flush_style()
        kept = [_attribute(name, value) for name, value in attrs]
        text = "".join(a for a in kept if a)
        self.out.append(f"<{tag}{text}{' /' if closed else ''}>")
        if tag in FOREIGN and not closed:
            self._foreign += 1
        if tag == "style" and not closed:
            self._style = []

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag == self._skipping:
                self._skipping = None
            return
        if tag in DROPPED_WITH_CONTENT or tag in DROPPED or not _TAG_NAME.match(tag):
            return
        if tag in FOREIGN and self._foreign:
            self._foreign -= 1
        self._flush_style()
        self.out.append(f"</{tag}>")

    def close(self) -> None:
        super().close()
        self._flush_style()

    def _flush_style(self) -> None:
        if self._style is not None:
            self.out.append(safe_css("".join(self._style)))
            self._style = None

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._style is not None:
            self._style.append(data)
        else:
            # A `<` this parser took for text may open a tag for the engine's parser.
            self.out.append(data.replace("<", "&lt;").replace(">", "&gt;"))

    def handle_entityref(self, name: str) -> None:
        if not self._skipping:
            self._text(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self._skipping:
            self._text(f"&#{name};")

    def _text(self, reference: str) -> None:
        # Inside a style sheet a reference is not decoded by the engine: it stays CSS text.
        if self._style is not None:
            self._style.append(reference)
        else:
            self.out.append(reference)

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype") and not self._skipping:
            # Written anew: the declaration's own text could hold a `<`.
            self.out.append("<!DOCTYPE html>")

    # Comments, processing instructions (`<?xml-stylesheet href=…?>`) and CDATA are dropped.
    def handle_comment(self, data: str) -> None:
        pass

    def handle_pi(self, data: str) -> None:
        pass

    def unknown_decl(self, data: str) -> None:
        pass


def _harmless_meta(attrs: list[tuple[str, str | None]]) -> bool:
    names = {name for name, _ in attrs}
    if "http-equiv" in names:
        return False
    # pdfkit reads `<meta name="pdfkit-...">` as command-line options for wkhtmltopdf.
    meta_name = next((v or "" for n, v in attrs if n == "name"), "")
    return not meta_name.lower().startswith("pdfkit")


def _attribute(name: str, value: str | None) -> str:
    if not _ATTRIBUTE_NAME.match(name):
        return ""
    local = name.rsplit(":", 1)[-1]  # `xlink:href`, and any other prefix an author makes up
    if local.startswith("on") or local in ("srcset", "imagesrcset", "srcdoc"):
        return ""
    if value is None:
        return f" {name}"
    if name in URL_ATTRIBUTES or local in URL_ATTRIBUTES:
        target = _URL_CONTROL_CHARS.sub("", value)
        fragment = local == "href" and target.startswith("#")
        if not (fragment or _is_safe_data_url(target)):
            return ""
    if name == "style":
        value = safe_css(value)
    elif _CSS_FETCH_HINT.search(_URL_CONTROL_CHARS.sub("", value)) and not _local_reference(value):
        # SVG presentation attributes (`fill`, `filter`, `mask`…) take CSS `url()` references.
        return ""
    return f' {name}="{html.escape(value, quote=True)}"'


def _local_reference(value: str) -> bool:
    """True when every `url()` in the value points into the document (`url(#gradient)`)."""
    targets = [m.group("target").strip() for m in _CSS_URL.finditer(value)]
    rest = _CSS_URL.sub("", value)
    return (
        bool(targets)
        and all(t.startswith("#") for t in targets)
        and not _CSS_FETCH_HINT.search(_URL_CONTROL_CHARS.sub("", rest))
    )
