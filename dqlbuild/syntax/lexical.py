"""Lexical rules shared by the parser (decoding) and the printer (encoding).

Decoding happens only when a token becomes a node, encoding only when a node becomes
text; keeping both here makes the round trip a property of one module.

Decisions for what DQL_SPEC leaves open (documented on the docs' syntax page):
- ``"..."`` escapes: ``\\" \\\\ \\/ \\n \\t \\r \\b \\f \\'`` and ``\\uXXXX`` (a surrogate pair of
  two escapes is one character, as in JSON; a lone surrogate is an error). Any other
  backslash pair is kept as written (backslash included): DPL patterns and regexes
  inside strings rely on that, and it can never change the meaning of a valid query.
- `` `...` `` names: ``\\``` is a backtick and ``\\\\`` a backslash; other pairs are kept.
- ``\"\"\"...\"\"\"`` is raw: no escapes at all.
"""

from __future__ import annotations

import re

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*\Z")
KEYWORDS = frozenset({"and", "or", "xor", "not", "in", "true", "false", "null", "asc", "desc"})

STRING_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "'": "'",
}
# A surrogate pair as two escapes is one character (as in JSON); a lone one is no text.
_STRING_ESCAPE_RE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|(u[0-9a-fA-F]{4}|[\s\S]))"
)
_BACKTICK_ESCAPE_RE = re.compile(r"\\([\s\S])")


class EscapeError(ValueError):
    """An escape that stands for no text; ``offset`` is where it starts in the token."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def decode_string(token: str) -> str:
    """The value of a ``"..."`` token (quotes included). Raises :class:`EscapeError` for a
    ``\\uXXXX`` escape of a lone surrogate."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    return _STRING_ESCAPE_RE.sub(_decode_string_escape, body)


def _decode_string_escape(match: re.Match[str]) -> str:
    high = match.group(1)
    if high is not None:
        low = match.group(2)
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    esc = match.group(3)
    if len(esc) == 5:
        ch = chr(int(esc[1:], 16))
        if "\ud800" <= ch <= "\udfff":
            raise EscapeError(
                match.start() + 1, f"`\\{esc}` escapes a lone surrogate, which is not a character"
            )
        return ch
    return STRING_ESCAPES.get(esc, match.group(0))


def decode_triple_string(token: str) -> str:
    return token[3:-3]


def decode_backtick(token: str) -> str:
    """The name inside a backtick-quoted token (backticks included)."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    return _BACKTICK_ESCAPE_RE.sub(
        lambda m: m.group(1) if m.group(1) in "`\\" else m.group(0), body
    )


_ENCODE_RE = re.compile(r'["\\\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]')
_ENCODE_MAP = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def encode_string(value: str) -> str:
    """A ``"..."`` token whose decoded value is exactly ``value``."""
    return '"' + _ENCODE_RE.sub(_encode_char, value) + '"'


def _encode_char(match: re.Match[str]) -> str:
    ch = match.group(0)
    return _ENCODE_MAP.get(ch) or f"\\u{ord(ch):04x}"


def can_be_triple_quoted(value: str) -> bool:
    return '"""' not in value and not value.endswith('"')


def encode_name(name: str) -> str:
    """A field name as written in DQL: plain when possible, else backtick-quoted."""
    if NAME_RE.match(name) and name.lower() not in KEYWORDS:
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def needs_backticks(name: str) -> bool:
    return encode_name(name) != name


_SKIP_RE = re.compile(
    r'"""[\s\S]*?"""|"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"|`[^`\\]*+(?:\\[\s\S][^`\\]*+)*+`'
    r"|//[^\r\n]*|/\*[\s\S]*?(?:\*/|\Z)"
)


def code_only(text: str) -> str:
    """``text`` with strings, quoted names and comments blanked out (same length), for
    scanning brackets and separators without being fooled by their contents."""
    return _SKIP_RE.sub(lambda m: " " * len(m.group(0)), text)
