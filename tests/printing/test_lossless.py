"""Lossless printing: untouched text byte for byte, edits reprint only what changed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dqlbuild import (
    Binary,
    Block,
    Command,
    FieldRef,
    Long,
    Query,
    format,
    parse,
    parse_expression,
)
from dqlbuild.errors import DQLSyntaxError
from tests.fixtures_dql import identity_queries, pretty_pairs

ODD = """  // header comment
FETCH   logs ,from:-2h   // source
/* block
   comment */
|filter  (a==1)AND   `b`!=2
| fieldsAdd x=1,   y = f( 2 ,3 )  // trailing
   | limit 5 /* open comment"""


@pytest.mark.parametrize("text", [ODD, *identity_queries(), *(p[0] for p in pretty_pairs())])
def test_unchanged_query_reprints_byte_for_byte(text: str) -> None:
    assert parse(text).to_source() == text


def test_insert_a_stage_keeps_every_other_byte() -> None:
    q = parse(ODD)
    out = q.insert(1, "filter model.version == $ModelVersion").to_source()
    assert out == ODD.replace(
        "// source\n", "// source\n| filter model.version == $ModelVersion\n", 1
    )


def test_insert_after_a_stage_with_trailing_comment_and_before_leading_comment() -> None:
    text = "fetch logs // src\n// about the filter\n| filter a == 1"
    out = parse(text).insert(1, "filter b == 2").to_source()
    assert out == "fetch logs // src\n| filter b == 2\n// about the filter\n| filter a == 1"


def test_single_line_queries_stay_single_line() -> None:
    text = "fetch logs | filter a == 1 | limit 5"
    q = parse(text)
    assert q.insert(1, "filter b").to_source() == "fetch logs | filter b | filter a == 1 | limit 5"
    assert q.append("sort a").to_source() == "fetch logs | filter a == 1 | limit 5 | sort a"
    assert q.remove(1).to_source() == "fetch logs | limit 5"


def test_multiline_append_uses_the_query_layout() -> None:
    text = "fetch logs\n  | filter a == 1 // one\n  | limit 5 // five"
    out = parse(text).append("sort a").to_source()
    # The comment trailing the last stage stays on its line.
    assert out == "fetch logs\n  | filter a == 1 // one\n  | limit 5 // five\n  | sort a"
    assert parse(out) == parse("fetch logs | filter a == 1 | limit 5 | sort a")


def test_append_after_a_line_comment_never_comments_out_the_stage() -> None:
    text = "fetch logs // only stage"
    out = parse(text).append("limit 1").to_source()
    assert parse(out) == parse("fetch logs | limit 1")


def test_remove_takes_the_stage_comments_with_it() -> None:
    text = "fetch logs\n// about a\n| filter a // a trailing\n| limit 5"
    assert parse(text).remove(1).to_source() == "fetch logs\n| limit 5"


def test_replace_one_argument_keeps_the_rest_of_the_command() -> None:
    text = "FETCH logs ,  from:-2h   // src\n| limit 5"
    q = parse(text)
    fetch = q.commands[0]
    new_fetch = fetch.model_copy(update={"args": (FieldRef(name="spans"), *fetch.args[1:])})
    assert q.replace(0, new_fetch).to_source() == "FETCH spans ,  from:-2h   // src\n| limit 5"


def test_add_and_remove_arguments_in_the_argument_style() -> None:
    text = "fetch logs | fields a,b ,  c // three"
    q = parse(text)
    cmd = q.commands[1]
    added = cmd.model_copy(update={"args": (*cmd.args, FieldRef(name="d"))})
    assert q.replace(1, added).to_source() == "fetch logs | fields a,b ,  c,d // three"
    removed = cmd.model_copy(update={"args": (cmd.args[0], cmd.args[2])})
    # The text before `c` (its leading comments and separator) stays with `c`.
    assert q.replace(1, removed).to_source() == "fetch logs | fields a ,  c // three"


def test_deep_edit_keeps_parentheses_and_spacing_around_it() -> None:
    text = "fetch logs | filter (a==1)AND   `b`!=2"
    q = parse(text)
    cond = q.commands[1].args[0]
    assert isinstance(cond, Binary)
    new_cond = cond.model_copy(update={"operands": (cond.operands[0], parse_expression("c or d"))})
    cmd = q.commands[1].model_copy(update={"args": (new_cond,)})
    # The new `or` needs parentheses under `and`; everything else is the user's text.
    assert q.replace(1, cmd).to_source() == "fetch logs | filter (a==1)AND   (c or d)"


def test_new_node_holding_original_children_reprints_them_verbatim() -> None:
    text = "fetch logs | filter `x`  ==  1"
    q = parse(text)
    original = q.commands[1].args[0]
    assert isinstance(original, Binary)
    wrapped = Binary(op="and", operands=(original, parse_expression("y")))
    out = q.replace(1, Command(name="filter", args=(wrapped,))).to_source()
    assert out == "fetch logs | filter `x`  ==  1 and y"


def test_fragments_from_another_text_are_printed_canonically() -> None:
    other = parse("fetch   spans |  filter   zz  ==  9")
    q = parse("fetch logs | limit 1")
    out = q.insert(1, other.commands[1]).to_source()
    assert out == "fetch logs | filter zz == 9 | limit 1"


def test_queries_without_source_print_canonically() -> None:
    q = Query(commands=(Command(name="fetch", args=(FieldRef(name="logs"),)),))
    assert q.to_source() == format(q) == "fetch logs"
    assert Query.model_validate_json(parse("fetch  logs").model_dump_json()).to_source() == (
        "fetch logs"
    )


def test_edits_never_change_the_original_query() -> None:
    q = parse(ODD)
    before = q.model_dump()
    q.insert(0, "fetch x").append("limit 1").remove(2).replace(1, "sort a")
    assert q.model_dump() == before
    assert q.to_source() == ODD


_stage_texts = st.sampled_from(
    ["filter a == 1", "limit 3", "fieldsAdd x = f(1)", "sort t desc", 'filter s == "|"']
)


@given(
    st.sampled_from([ODD, *identity_queries()]),
    st.lists(st.tuples(st.sampled_from(["insert", "append", "remove", "replace"]),
                       st.integers(0, 20), _stage_texts), max_size=4),
)  # fmt: skip
def test_random_edit_sequences_print_text_that_parses_to_the_edited_tree(
    text: str, edits: list[tuple[str, int, str]]
) -> None:
    q = original = parse(text)
    for op, index, stage in edits:
        n = len(q.commands)
        if op == "insert":
            q = q.insert(index % (n + 1), stage)
        elif op == "append":
            q = q.append(stage)
        elif op == "remove" and n > 1:
            q = q.remove(index % n)
        elif op == "replace":
            q = q.replace(index % n, stage)
    out = q.to_source()
    assert parse(out) == q
    originals = {id(c) for c in original.commands}
    for command in q.commands:
        if id(command) in originals:
            assert command.span is not None
            assert text[command.span.start : command.span.end] in out


def test_literal_edit_reprints_only_the_literal() -> None:
    text = "fetch logs\n| limit   5 // five"
    q = parse(text)
    cmd = q.commands[1].model_copy(update={"args": (Long(value=10),)})
    assert q.replace(1, cmd).to_source() == "fetch logs\n| limit   10 // five"


def test_crlf_queries_get_crlf_separators() -> None:
    out = parse("fetch logs\r\n| limit 5").insert(1, "filter a == 1").to_source()
    assert out == "fetch logs\r\n| filter a == 1\r\n| limit 5"


def test_stages_added_to_an_indented_block_take_its_indentation() -> None:
    text = "fetch logs\n| append [\n    fetch spans // s\n    | filter d > 1s // d\n  ]"
    q = parse(text)
    append = q.commands[1]
    block = append.args[0]
    assert isinstance(block, Block)
    longer = block.model_copy(update={"commands": (*block.commands, parse("limit 1").commands[0])})
    out = q.replace(1, append.model_copy(update={"args": (longer,)})).to_source()
    assert out == (
        "fetch logs\n| append [\n    fetch spans // s\n    | filter d > 1s // d\n    | limit 1\n  ]"
    )


def test_renamed_stage_keeps_its_comments_exactly_once() -> None:
    q = parse("fetch logs // src\n| fields a, // x\n  b")
    renamed = q.commands[1].model_copy(update={"name": "fieldsKeep"})
    out = q.replace(1, renamed).to_source()
    assert out.count("// src") == 1 and out.count("// x") == 1
    assert parse(out) == parse("fetch logs | fieldsKeep a, b")


def test_removing_stages_keeps_the_comments_of_the_stages_that_stay() -> None:
    q = parse("fetch logs\n| filter a == 1 // c\n| limit 10 // end")
    assert q.remove(2).to_source() == "fetch logs\n| filter a == 1 // c"
    inline = parse("fetch logs /* a */ | filter a == 1 /* c */ | limit 10")
    assert inline.remove(1).to_source() == "fetch logs /* a */ | limit 10"
    assert parse("fetch logs\n| limit 1 // last").remove(1).to_source() == "fetch logs"


def test_a_stage_replaced_by_text_keeps_its_place_and_comments() -> None:
    q = parse("fetch logs\n| filter a == 1 // keep me\n| limit 5")
    assert q.replace(1, "filter a == 2").to_source() == (
        "fetch logs\n| filter a == 2 // keep me\n| limit 5"
    )


def test_a_chain_extended_by_one_operand_keeps_its_text() -> None:
    from dqlbuild.ast.nodes import chain

    text = "fetch logs | filter (a==1 /* one */)  AND\n  b"
    q = parse(text)
    cond = q.commands[1].args[0]
    longer = chain("and", cond, parse_expression("c"))
    assert isinstance(longer, Binary) and len(longer.operands) == 3
    cmd = q.commands[1].model_copy(update={"args": (longer,)})
    assert q.replace(1, cmd).to_source() == "fetch logs | filter (a==1 /* one */)  AND\n  b and c"
    # Without an operand, the chain is printed anew; its operands keep their own text.
    three = parse("fetch logs | filter a==1  AND (b)   AND c")
    cond = three.commands[1].args[0]
    assert isinstance(cond, Binary)
    shorter = cond.model_copy(update={"operands": (cond.operands[0], cond.operands[2])})
    cmd = three.commands[1].model_copy(update={"args": (shorter,)})
    assert three.replace(1, cmd).to_source() == "fetch logs | filter a==1 and c"


def _edits(q: Query) -> list[Query]:
    n = len(q.commands)
    stage = parse("fetch x | filter zz == 1 // new").commands[1]
    edits = [q.insert(i, stage) for i in range(1, n + 1)]
    edits += [q.replace(i, "limit 3") for i in range(n)]
    edits += [q.remove(i) for i in range(n) if n > 1]
    return edits


@pytest.mark.parametrize(
    "text", [ODD, *identity_queries()[:40], *(p for p, _ in pretty_pairs()[:20])]
)
def test_reads_back_agrees_with_parsing_the_whole_text(text: str) -> None:
    from dqlbuild.printing.lossless import reads_back

    for edited in _edits(parse(text)):
        new_text = edited.to_source()
        assert reads_back(edited, new_text) == (parse(new_text) == edited)
        assert reads_back(edited, new_text)
        # A text that says something else is caught, wherever it differs.
        for wrong in (new_text.replace("zz", "zy"), new_text.replace("limit 3", "limit 4")):
            if wrong != new_text:
                assert not reads_back(edited, wrong)


def test_reads_back_reports_text_that_does_not_parse_at_its_position() -> None:
    from dqlbuild.printing.lossless import reads_back

    q = parse("fetch logs\n| limit 1\n| limit 2\n| limit 3")
    edited = q.replace(2, "limit 9")
    wrong = "fetch logs\n| limit 1\n| limit (9\n| limit 3"
    with pytest.raises(DQLSyntaxError) as caught:
        reads_back(edited, wrong)
    with pytest.raises(DQLSyntaxError) as whole:
        parse(wrong)
    assert (caught.value.line, caught.value.column) == (whole.value.line, whole.value.column)


def test_original_nodes_are_those_of_the_parse_itself() -> None:
    # Only the stage whose span holds a node is looked at: every node of the parse is
    # found, and no node of another parse of the same text (same spans) is.
    from dqlbuild.ast.base import get_private

    text = "fetch logs | filter in(a, [fetch x | fields a]) | summarize count(), by: {b}"
    q, other = parse(text), parse(text)
    ctx = get_private(q, "source")
    assert all(ctx.is_original(n) for n in q.walk())
    assert not any(ctx.is_original(n) for n in other.walk())
    assert not ctx.is_original(parse_expression("a == 1"))


def test_untouched_runs_of_stages_and_arguments_keep_their_text() -> None:
    text = "fetch logs\n| filter a == 1 // one\n|  sort b\n| fields a,  b ,c\n| limit 3"
    q = parse(text)
    fields = q.commands[3]
    edited = q.insert(2, "filter c > 0").replace(4, fields.with_changes(args=fields.args[:2]))
    assert edited.to_source() == (
        "fetch logs\n| filter a == 1 // one\n| filter c > 0\n|  sort b\n| fields a,  b\n| limit 3"
    )


@pytest.mark.parametrize("protocol", [2, 5])
def test_a_pickled_query_keeps_its_text_for_lossless_printing(protocol: int) -> None:
    # A query sent to another process (multiprocessing pickles it) still prints its
    # untouched parts byte for byte, comments included.
    import copy
    import pickle

    text = 'fetch logs   // all\n| filter a == 1 and b != "x"  /* keep */\n| limit 5'
    query = parse(text)
    back = pickle.loads(pickle.dumps(query, protocol=protocol))
    assert back == query and back.to_source() == text
    assert [n.span for n in back.walk()] == [n.span for n in query.walk()]
    stage = parse("fetch x | filter z == 2").commands[1]
    assert (
        back.insert(1, stage).to_source()
        == query.insert(1, stage).to_source()
        == (
            "fetch logs   // all\n| filter z == 2\n"
            '| filter a == 1 and b != "x"  /* keep */\n| limit 5'
        )
    )
    assert copy.deepcopy(query).to_source() == text
