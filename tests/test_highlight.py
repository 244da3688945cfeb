"""The Pygments lexer: discovery through the entry point, every token class, and the
corpus (every character gets a token; valid DQL gets no Error token)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from pygments.lexers import (
    find_lexer_class_for_filename,
    get_lexer_by_name,
    get_lexer_for_mimetype,
)
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
    _TokenType,
)

from dqlbuild import Call, Command, DQLError, Query, Variable, parse
from dqlbuild.highlight import TERMINAL_ORDER, DQLLexer
from dqlbuild.syntax.grammar import plain_lark
from tests import strategies

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "queries.jsonl"
LEXER = DQLLexer()
COMMAND_TOKENS = (Keyword, Keyword.Pseudo)


def tokens(text: str) -> list[tuple[_TokenType, str]]:
    """Non-whitespace tokens of ``text``."""
    return [(t, v) for _, t, v in LEXER.get_tokens_unprocessed(text) if t is not Whitespace]


def token_of(text: str, value: str, nth: int = 0) -> _TokenType:
    """The token type of the ``nth`` token spelled ``value``."""
    return [t for t, v in tokens(text) if v == value][nth]


# --------------------------------------------------------------------------- discovery


def test_lexer_is_found_by_alias_filename_and_mimetype() -> None:
    assert type(get_lexer_by_name("dql")) is DQLLexer
    assert find_lexer_class_for_filename("queries/x.dql") is DQLLexer
    assert type(get_lexer_for_mimetype("text/x-dql")) is DQLLexer


def _pygmentize() -> list[str]:
    script = Path(sys.executable).with_name("pygmentize")
    if script.exists():
        return [str(script)]
    found = shutil.which("pygmentize")
    return [found] if found else [sys.executable, "-m", "pygments"]


def test_pygmentize_highlights_a_file(tmp_path: Path) -> None:
    source = tmp_path / "q.dql"
    source.write_text('fetch logs // recent\n| filter status == "ERROR"\n| limit 5\n')
    raw = subprocess.run(
        [*_pygmentize(), "-f", "raw", str(source)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NO_COLOR": "1"},
    ).stdout
    assert "Token.Keyword\t'fetch'" in raw
    assert "Token.Comment.Single\t'// recent'" in raw
    assert "Token.Name\t'status'" in raw
    html = subprocess.run(
        [*_pygmentize(), "-l", "dql", "-f", "html"],
        input="fetch logs | summarize count(), by: {host}",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '<span class="k">fetch</span>' in html
    assert '<span class="nf">count</span>' in html
    assert '<span class="na">by</span>' in html


def test_dqlbuild_imports_without_pygments() -> None:
    code = (
        "import sys; sys.modules['pygments'] = None\n"
        "import dqlbuild, dqlbuild.cli\n"
        "try:\n    import dqlbuild.highlight\nexcept ImportError as e:\n    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install 'dqlbuild[highlight]'" in result.stdout


def test_every_grammar_terminal_has_a_place_in_the_lexer() -> None:
    assert sorted(TERMINAL_ORDER) == sorted(t.name for t in plain_lark().terminals)


# --------------------------------------------------------------------------- commands


def test_commands_are_keywords_in_command_position_only() -> None:
    text = "FETCH logs | Filter x > 1 | fields filter, sort, fetch | SORT filter desc"
    assert token_of(text, "FETCH") is Keyword
    assert token_of(text, "Filter") is Keyword
    assert token_of(text, "SORT") is Keyword
    assert token_of(text, "fields") is Keyword
    assert token_of(text, "filter") is Name
    assert token_of(text, "filter", 1) is Name
    assert token_of(text, "sort") is Name
    assert token_of(text, "fetch") is Name


def test_unknown_command_still_looks_like_a_command() -> None:
    text = "fetch logs | frobnicate x | take (a)"
    assert token_of(text, "frobnicate") is Keyword.Pseudo
    assert token_of(text, "take") is Keyword.Pseudo
    assert token_of(text, "x") is Name


def test_commands_inside_execution_blocks_but_not_inside_access() -> None:
    text = (
        "fetch a | lookup [fetch b | fields id], sourceField: k, lookupField: id\n"
        "| filter k in [data record(x = 1)] and r[limit] > 0 and $v[0] == t[`sort`]\n"
        "| append [ fetch c ]"
    )
    kinds = {v: t for t, v in tokens(text)}
    assert kinds["lookup"] is Keyword and kinds["append"] is Keyword
    assert token_of(text, "fetch", 1) is Keyword
    assert token_of(text, "fetch", 2) is Keyword
    assert kinds["fields"] is Keyword and kinds["data"] is Keyword
    assert kinds["limit"] is Name  # an index into r, not a command
    assert token_of(text, "in") is Operator.Word


def test_pipeline_fragment_and_comments_keep_command_position() -> None:
    text = "/* lead */ // line\n  | fieldsAdd x = 1 // tail\n| /* c */ limit 3"
    assert token_of(text, "fieldsAdd") is Keyword
    assert token_of(text, "limit") is Keyword


# --------------------------------------------------------------------------- functions


def test_function_calls_known_or_not() -> None:
    text = "fetch logs | summarize count(), c = countIf (x > 1), y = myFunc(2), count"
    assert token_of(text, "count") is Name.Function
    assert token_of(text, "countIf") is Name.Function
    assert token_of(text, "myFunc") is Name.Function
    assert token_of(text, "count", 1) is Name  # a field named count
    assert token_of(text, "c") is Name


def test_in_is_a_function_before_a_parenthesis_and_not_stays_an_operator() -> None:
    text = "fetch logs | filter in(host, array(1)) and not (a or b) and x in [fetch y]"
    assert token_of(text, "in") is Name.Function
    assert token_of(text, "in", 1) is Operator.Word
    assert token_of(text, "not") is Operator.Word


def test_an_expression_shown_alone_starts_with_a_function() -> None:
    assert token_of("countIf(x > 1)", "countIf") is Name.Function
    assert token_of("by: {host}", "by") is Name.Attribute


# --------------------------------------------------------------------------- words


def test_keywords_and_constants_ignore_case() -> None:
    text = "fetch t | filter a AND b or c Xor NOT d | sort x ASC, y desc | filter e == TRUE"
    for word in ("AND", "or", "Xor", "NOT"):
        assert token_of(text, word) is Operator.Word
    assert token_of(text, "ASC") is Keyword and token_of(text, "desc") is Keyword
    assert token_of(text, "TRUE") is Keyword.Constant
    assert token_of("fetch t | filter x != false and y == null", "null") is Keyword.Constant
    assert token_of("fetch t | filter x != false", "false") is Keyword.Constant


def test_keywords_do_not_run_into_names() -> None:
    text = "fetch t | fields notes, android, index, nullable, ascii, orders, in.x"
    assert tokens(text)[3] == (Keyword, "fields")
    assert all(t is Name for t, v in tokens(text)[4:] if v != ",")


def test_named_parameters() -> None:
    text = (
        'fetch t | summarize n = count(), by: {h}\n| lookup [fetch u], sourceField :k, prefix:"p"'
    )
    assert token_of(text, "by") is Name.Attribute
    assert token_of(text, "sourceField") is Name.Attribute
    assert token_of(text, "prefix") is Name.Attribute
    assert token_of(text, ":") is Punctuation


# --------------------------------------------------------------------------- literals


def test_double_quoted_strings_escapes_and_variables() -> None:
    text = r'fetch t | filter m == "say \"hi\"\n\d \u00e9 $Service:noquote \$x"'
    assert [(t, v) for t, v in tokens(text) if t in String] == [
        (String.Double, '"'),
        (String.Double, "say "),
        (String.Escape, r"\""),
        (String.Double, "hi"),
        (String.Escape, r"\""),
        (String.Escape, r"\n"),
        (String.Double, r"\d "),  # not an escape DQL resolves: kept as written
        (String.Escape, r"\u00e9"),
        (String.Double, " "),
        (String.Interpol, "$Service:noquote"),
        (String.Double, r" \$x"),  # an escaped dollar is no variable reference
        (String.Double, '"'),
    ]


def test_triple_quoted_strings_are_raw_but_show_variables() -> None:
    text = 'fetch t | parse content, """LD \\n "x" $Pattern"""'
    spelled = [(t, v) for t, v in tokens(text) if t in String]
    assert spelled == [
        (String, '"""LD \\n "x" '),
        (String.Interpol, "$Pattern"),
        (String, '"""'),
    ]


def test_backtick_names() -> None:
    text = r"fetch t | fields `my field`, `a\`b\\`"
    spelled = [(t, v) for t, v in tokens(text) if t in String]
    assert spelled == [
        (String.Backtick, "`my field`"),
        (String.Backtick, "`a"),
        (String.Escape, r"\`"),
        (String.Backtick, "b"),
        (String.Escape, "\\\\"),
        (String.Backtick, "`"),
    ]


def test_numbers_durations_and_alignment() -> None:
    text = "fetch t, from: now()-2h@d | filter a == 12 and b > 1.5e3 and c < 0xFF and e == 3min"
    kinds = {v: t for t, v in tokens(text)}
    assert kinds["12"] is Number.Integer
    assert kinds["1.5e3"] is Number.Float
    assert kinds["0xFF"] is Number.Hex
    assert kinds["2h"] is Number and kinds["3min"] is Number
    assert kinds["@"] is Operator and kinds["d"] is Number
    assert tokens("fetch t | fieldsAdd m = 1M, w = @w1")[-2:] == [(Operator, "@"), (Number, "w1")]
    assert token_of("fetch t | fieldsAdd m = 1M", "1M") is Number


def test_variables_and_modifiers() -> None:
    text = "fetch t | filter in(s, $Service) and h == $Host:backtick"
    found = [(t, v) for t, v in tokens(text) if t in (Name.Variable, Name.Attribute)]
    assert found == [
        (Name.Variable, "$Service"),
        (Name.Variable, "$Host"),
        (Name.Attribute, "backtick"),
    ]
    assert tokens(text)[-2] == (Punctuation, ":")


def test_operators_and_punctuation() -> None:
    text = 'fetch t | filter a==1 or b!=2 or c<=3 or d>=4 or e<5 or f>6 or g~"x"\n'
    text += "| fieldsAdd x = (a+b-c)*d/e%f, r = {k: [1]}"
    ops = {v for t, v in tokens(text) if t is Operator}
    assert ops == {"==", "!=", "<=", ">=", "<", ">", "~", "=", "+", "-", "*", "/", "%"}
    punct = {v for t, v in tokens(text) if t is Punctuation}
    assert punct == {"|", ",", ":", "(", ")", "{", "}", "[", "]"}


def test_comments_including_one_left_open_at_the_end() -> None:
    text = "fetch t // one\n/* two\n */ | limit 1 /* open"
    assert [(t, v) for t, v in tokens(text) if t in Comment] == [
        (Comment.Single, "// one"),
        (Comment.Multiline, "/* two\n */"),
        (Comment.Multiline, "/* open"),
    ]


def test_text_that_is_not_dql_gets_error_tokens_and_keeps_every_character() -> None:
    text = 'fetch t | filter a && b | fieldsAdd x = "open'
    values = [v for _, _, v in LEXER.get_tokens_unprocessed(text)]
    assert "".join(values) == text
    errors = [v for t, v in tokens(text) if t is Error]
    assert errors == ["&", "&", '"']


# --------------------------------------------------------------------------- structure


def _lexed(text: str) -> list[tuple[int, _TokenType, str]]:
    lexed = list(LEXER.get_tokens_unprocessed(text))
    assert "".join(v for _, _, v in lexed) == text
    assert all(i == sum(len(v) for _, _, v in lexed[:n]) for n, (i, _, _) in enumerate(lexed))
    return lexed


def _agrees_with_the_parser(text: str, query: Query) -> None:
    """Commands, function calls and variables sit exactly where the parser found them."""
    lexed = _lexed(text)
    assert not [v for _, t, v in lexed if t in Error]

    def at(*kinds: _TokenType) -> set[int]:
        return {i for i, t, v in lexed if t in kinds and v.lower() not in ("asc", "desc")}

    def spans(node_type: type) -> Iterator[int]:
        for node in query.walk():
            if isinstance(node, node_type) and node.span is not None:
                start = node.span.start
                while text[start] in "( \t\r\n":  # a parenthesised node's span has its `(`
                    start += 1
                yield start

    assert at(*COMMAND_TOKENS) == set(spans(Command)), text
    assert at(Name.Function) == set(spans(Call)), text
    assert at(Name.Variable) == set(spans(Variable)), text


@given(strategies.queries)
def test_generated_queries_lex_as_they_parse(query: Query) -> None:
    text = query.to_source()
    _agrees_with_the_parser(text, parse(text))


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    if not CORPUS.exists():
        pytest.skip("../shared/corpus is absent")
    with CORPUS.open(encoding="utf-8") as lines:
        return [json.loads(line)["query"] for line in lines]


def test_every_corpus_query_is_tokenised_and_valid_ones_have_no_error(
    corpus: list[str],
) -> None:
    with_errors = 0
    for text in corpus:
        lexed = list(LEXER.get_tokens_unprocessed(text))
        assert "".join(v for _, _, v in lexed) == text
        if any(t in Error for _, t, _ in lexed):
            with_errors += 1
            # Only text the parser rejects may have Error tokens (parsing just these is
            # the same check as lexing every parsed query, at a fraction of the cost).
            with pytest.raises(DQLError):
                parse(text)
    assert with_errors < len(corpus) // 10


def test_corpus_sample_lexes_as_it_parses(corpus: list[str]) -> None:
    checked = 0
    for text in corpus[::8]:
        try:
            query = parse(text)
        except DQLError:
            continue
        _agrees_with_the_parser(text, query)
        checked += 1
    assert checked > len(corpus) // 10
