"""Turn Lark's parse errors into DQLSyntaxError with messages in DQL's own words.

Lark reports internal terminal names and parser states; users need to hear "missing
`|` between commands" or "single-quoted strings are not DQL". The specific cases are
recognised from the error position and the text around it.
"""

from __future__ import annotations

import re

from dqlbuild.errors import DQLSyntaxError
from dqlbuild.syntax import names
from dqlbuild.syntax.engine import ParseFailure
from dqlbuild.syntax.lexical import code_only

# Human words for the grammar's terminals, used in "expected ..." lists.
_TERMINAL_WORDS = {
    "PIPE": "`|`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "CMP_OP": "a comparison",
    "PLUS": "an operator",
    "MINUS": "an operator",
    "MUL_OP": "an operator",
    "TILDE": "an operator",
    "AT_UNIT": "an operator",
    "AND": "an operator",
    "OR": "an operator",
    "XOR": "an operator",
    "IN": "an operator",
    "SORT_DIR": "`asc` or `desc`",
    "$END": "the end of the query",
}
_EXPRESSION_STARTS = {
    "NAME",
    "QUOTED_NAME",
    "STRING",
    "TRIPLE_STRING",
    "INT",
    "HEX",
    "DOUBLE",
    "DURATION",
    "TRUE",
    "FALSE",
    "NULL",
    "VARIABLE",
    "NOT",
}
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_TEMPLATE_RE = re.compile(r"\{\{.*?\}\}|\$\{[^}\n]*\}?|\{%.*?%\}", re.S)
_NUMBER_WORD_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?([A-Za-z_][A-Za-z0-9_]*)")
_DURATION_UNITS = "ns us ms s m min h d w M q y"


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def syntax_error_at(
    text: str,
    offset: int,
    message: str,
    *,
    expected: tuple[str, ...] = (),
    hint: str | None = None,
) -> DQLSyntaxError:
    line, column = position(text, offset)
    return DQLSyntaxError(
        message,
        line=line,
        column=column,
        offset=offset,
        source=text,
        expected=expected,
        hint=hint,
    )


def describe_expected(terminals: set[str] | frozenset[str]) -> tuple[str, ...]:
    words: list[str] = []
    if terminals & _EXPRESSION_STARTS:
        words.append("an expression")
    if "PARAM_NAME" in terminals and "an expression" not in words:
        words.append("a parameter name")
    for terminal in sorted(terminals):
        word = _TERMINAL_WORDS.get(terminal)
        if word and word not in words:
            words.append(word)
    return tuple(words)


def syntax_error_from_failure(failure: ParseFailure, text: str, start: str) -> DQLSyntaxError:
    if not text.strip() or _only_comments(text):
        what = "expression" if start == "expression" else "query"
        return syntax_error_at(text, 0, f"empty {what}: there is nothing to parse")
    offset = failure.offset
    token = failure.token
    allowed = set(failure.allowed)
    template = _template_near(text, offset)
    if template is not None:
        return syntax_error_at(
            text,
            template.start(),
            f"unrendered template text `{_clip(template.group(0))}`",
            hint="render the template (Monaco, Terraform, Jinja, ...) before parsing the query",
        )
    if token is None:
        return _unexpected_character(allowed, text, offset)
    if token[0] == "$END":
        return _unexpected_end(text, allowed, start)
    return _unexpected_token(token[0], token[1], allowed, text, offset, start)


def _unexpected_character(allowed: set[str], text: str, offset: int) -> DQLSyntaxError:
    ch = text[offset] if offset < len(text) else ""
    expected = describe_expected(allowed)
    rest = text[offset:]
    if ch == "'":
        return syntax_error_at(
            text,
            offset,
            "single-quoted strings are not DQL",
            expected=expected,
            hint='use double quotes: "text"',
        )
    if ch == '"':
        if text[max(0, offset - 2) : offset + 1] == '"""':
            # The scanner read `""` as an empty string before this third quote.
            return syntax_error_at(text, offset - 2, 'unterminated string: `"""` is never closed')
        if rest.startswith('"""'):
            return syntax_error_at(text, offset, 'unterminated string: `"""` is never closed')
        return syntax_error_at(
            text, offset, 'unterminated string: the `"` is never closed', expected=expected
        )
    if ch == "`":
        return syntax_error_at(text, offset, "unterminated name: the backtick is never closed")
    if ch == "$":
        return syntax_error_at(
            text,
            offset,
            "invalid variable reference",
            expected=expected,
            hint="a variable is `$Name`, optionally with `:noquote`, `:backtick` or `:triplequote`",
        )
    if ch.isdigit():
        match = _NUMBER_WORD_RE.match(text, offset)
        if match:
            return syntax_error_at(
                text,
                offset,
                f"`{match.group(0)}` is not a number or a duration",
                expected=expected,
                hint=f"duration units are {_DURATION_UNITS} (case-sensitive); a name that "
                "starts with a digit needs backticks",
            )
    if ch == "@":
        return syntax_error_at(
            text,
            offset,
            "`@` must be followed directly by a time unit",
            hint="write `now()@d` or `@h`, with no space after `@`",
        )
    if rest.startswith(("&&", "||")):
        word = "and" if ch == "&" else "or"
        return syntax_error_at(text, offset, f"`{rest[:2]}` is not DQL", hint=f"use `{word}`")
    if ch == "!":
        return syntax_error_at(text, offset, "`!` is not DQL", hint="use `not` or `!=`")
    if ch == "#":
        return syntax_error_at(text, offset, "`#` is not DQL", hint="comments start with `//`")
    if ch == ".":
        return syntax_error_at(
            text,
            offset,
            "unexpected `.`",
            expected=expected,
            hint="field patterns such as `dt.*` must be strings, and `...` placeholders are not "
            "DQL",
        )
    shown = repr(ch)[1:-1] if not ch.isprintable() or ch.isspace() else ch
    return syntax_error_at(
        text,
        offset,
        f"unexpected character `{shown}`",
        expected=expected,
        hint="names with other characters need backticks" if ch.isalpha() else None,
    )


def _unexpected_token(
    kind: str, value: str, allowed: set[str], text: str, offset: int, start: str
) -> DQLSyntaxError:
    expected = describe_expected(allowed)
    if kind in {"RPAR", "RSQB", "RBRACE"}:
        opener = _CLOSERS[value]
        if _balance(text[:offset], opener, value) <= 0:
            return syntax_error_at(
                text, offset, f"unbalanced `{value}`: there is no `{opener}` to close"
            )
        return syntax_error_at(text, offset, f"unexpected `{value}`", expected=expected)
    if kind == "PIPE" and "PIPE" not in allowed:
        if _previous_char(text, offset) in {"", "|"} and start != "pipeline":
            first = _previous_char(text, offset) == ""
            return syntax_error_at(
                text,
                offset,
                "a query cannot begin with `|`" if first else "a `|` cannot follow another `|`",
                expected=expected,
                hint="a query starts with a command; use parse_pipeline() for fragments that "
                "start with `|`"
                if first
                else "remove the extra `|`",
            )
        return syntax_error_at(
            text, offset, "unexpected `|`: the command before it is incomplete", expected=expected
        )
    previous = _previous_char(text, offset)
    if previous == "[" and "RSQB" in allowed and kind != "NAME":
        return syntax_error_at(
            text,
            offset,
            "an execution block `[...]` holds a query, not a list of values",
            expected=expected,
            hint='for a list of values write `in(field, {"a", "b"})` or `array("a", "b")`',
        )
    if kind == "LPAR" and re.search(r"(?i)\bin\s*$", code_only(text[:offset])):
        return syntax_error_at(
            text,
            offset,
            "the `in` operator takes a subquery `[...]`, not a list in parentheses",
            expected=expected,
            hint='for a list of values write `in(field, {"a", "b"})`',
        )
    if kind == "CMP_OP" and value == "<" and allowed & _EXPRESSION_STARTS:
        placeholder = re.match(r"<[^<>\n]*>", text[offset:])
        return syntax_error_at(
            text,
            offset,
            f"unexpected `{placeholder.group(0) if placeholder else value}`",
            expected=expected,
            hint="`<...>` placeholders are not DQL: replace them with a value"
            if placeholder
            else None,
        )
    if kind == "MUL_OP" and value == "*" and allowed & _EXPRESSION_STARTS:
        return syntax_error_at(
            text,
            offset,
            "unexpected `*`",
            expected=expected,
            hint='field patterns with `*` must be strings, e.g. `fieldsRemove "dt.*"`',
        )
    if kind in {"NAME", "PARAM_NAME"} and "NAME" not in allowed:
        if "PIPE" in allowed and (names.is_known_command(value) or _starts_line(text, offset)):
            return syntax_error_at(
                text,
                offset,
                f"missing `|` before `{value}`: commands are separated by `|`",
                expected=expected,
            )
        hint = None
        if value.lower() in {"by", "as"}:
            hint = "parameters are named with a colon (`by: {field}`) and fields with `=`"
        return syntax_error_at(
            text,
            offset,
            f"unexpected `{value}`: a `,` or an operator is missing, or the word is not DQL",
            expected=expected,
            hint=hint,
        )
    if kind == "LSQB" and allowed & _EXPRESSION_STARTS:
        return syntax_error_at(
            text,
            offset,
            "`[...]` is an execution block (a subquery), not a value",
            expected=expected,
            hint="for a list of values write `array(...)`, or `in(field, {...})` for membership",
        )
    if kind == "LBRACE" and allowed & _EXPRESSION_STARTS:
        return syntax_error_at(
            text,
            offset,
            "a `{...}` group cannot be used as a value inside an expression",
            expected=expected,
            hint="brace groups stand as whole arguments, e.g. `by: {a, b}` or `in(x, {1, 2})`",
        )
    if kind == "CMP_OP" and value == ">" and text[max(0, offset - 1)] == "<":
        return syntax_error_at(text, offset - 1, "`<>` is not DQL", hint="use `!=`")
    if kind == "CMP_OP" and "CMP_OP" not in allowed:
        return syntax_error_at(
            text,
            offset,
            f"comparisons do not chain: unexpected `{value}`",
            expected=expected,
            hint="combine comparisons with `and`",
        )
    if kind == "EQUAL":
        return syntax_error_at(
            text,
            offset,
            "unexpected `=`: only a field name can be assigned to",
            expected=expected,
            hint="compare with `==`",
        )
    shown = _clip(value) if value else kind
    return syntax_error_at(text, offset, f"unexpected `{shown}`", expected=expected)


def _unexpected_end(text: str, allowed: set[str], start: str) -> DQLSyntaxError:
    stripped_end = len(text.rstrip())
    last = text[:stripped_end].rstrip()[-1:] if stripped_end else ""
    for opener, closer in (("(", ")"), ("[", "]"), ("{", "}")):
        if _balance(text, opener, closer) > 0:
            where = _last_unclosed(text, opener, closer)
            return syntax_error_at(
                text,
                where,
                f"unbalanced `{opener}`: it is never closed",
                expected=(f"`{closer}`",),
            )
    if last == "|":
        return syntax_error_at(
            text,
            text.rstrip().rfind("|"),
            "a trailing `|` must be followed by a command",
            expected=("a command",),
        )
    expected = describe_expected(allowed)
    what = "expression" if start == "expression" else "query"
    if last in {",", ":", "="} or last in "+-*/%~<>":
        return syntax_error_at(
            text, stripped_end, f"the {what} ends after `{last}`", expected=expected
        )
    return syntax_error_at(text, stripped_end, f"unexpected end of the {what}", expected=expected)


def _balance(text: str, opener: str, closer: str) -> int:
    code = code_only(text)
    return code.count(opener) - code.count(closer)


def _last_unclosed(text: str, opener: str, closer: str) -> int:
    code = code_only(text)
    stack: list[int] = []
    for i, ch in enumerate(code):
        if ch == opener:
            stack.append(i)
        elif ch == closer and stack:
            stack.pop()
    return stack[-1] if stack else len(text)


def _only_comments(text: str) -> bool:
    return not code_only(text).strip()


def _previous_char(text: str, offset: int) -> str:
    return code_only(text[:offset]).rstrip()[-1:]


def _starts_line(text: str, offset: int) -> bool:
    before = code_only(text[:offset])
    return "\n" in before and not before[before.rfind("\n") + 1 :].strip()


def _template_near(text: str, offset: int) -> re.Match[str] | None:
    """The first template span (outside strings) at or before the error position."""
    for match in _TEMPLATE_RE.finditer(code_only(text)):
        if match.start() <= offset + 1:
            return match
        break
    return None


def _clip(value: str, width: int = 40) -> str:
    value = value.replace("\n", " ")
    return value if len(value) <= width else value[: width - 1] + "…"
