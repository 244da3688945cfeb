"""What completion offers where, read from the text before the cursor (``|`` marks it)."""

from __future__ import annotations

from lsprotocol import types

from dqlbuild.catalog import get_catalog
from dqlbuild.documents import Variable
from dqlbuild.lsp.catalog_info import data_objects
from dqlbuild.lsp.completion import Completions, complete


def _at(marked: str, **kwargs: object) -> Completions | None:
    offset = marked.index("‸")
    return complete(marked.replace("‸", ""), offset, **kwargs)  # type: ignore[arg-type]


def _labels(marked: str, **kwargs: object) -> list[str]:
    found = _at(marked, **kwargs)
    assert found is not None
    return [item.label for item in found.items]


def _kinds(marked: str) -> dict[str, types.CompletionItemKind | None]:
    found = _at(marked)
    assert found is not None
    return {item.label: item.kind for item in found.items}


def _sorted(marked: str) -> list[str]:
    found = _at(marked)
    assert found is not None
    return [i.label for i in sorted(found.items, key=lambda i: i.sort_text or "")]


def test_commands_at_the_start_of_a_stage() -> None:
    catalog = get_catalog()
    all_commands = {c.name for c in catalog.commands}
    assert set(_labels("‸")) == all_commands
    assert set(_labels("fetch logs | fi‸")) == all_commands
    # Start commands first where a query begins, the others after.
    assert _sorted("‸")[0] in catalog.start_commands
    assert _sorted("fetch logs | ‸")[0] not in catalog.start_commands
    assert _sorted("fetch logs | lookup [‸")[0] in catalog.start_commands


def test_the_typed_word_is_replaced_and_a_glued_pipe_gets_its_space() -> None:
    found = _at("fetch logs | fil‸")
    assert found is not None and found.start == len("fetch logs | ")
    found = _at("fetch logs |‸")
    assert found is not None
    item = next(i for i in found.items if i.label == "filter")
    assert item.insert_text == " filter"


def test_data_objects_after_fetch() -> None:
    # The catalog is the one list: the check (DQL122) and completion agree.
    assert data_objects() == get_catalog().data_object_names
    assert all(get_catalog().data_object(name) is not None for name in data_objects())
    assert {"logs", "user.sessions", "dt.entity.host"} <= set(data_objects())
    assert _labels("fetch ‸") == list(data_objects())
    found = _at("fetch ‸")
    assert found is not None
    assert all(str(item.documentation).startswith("source: ") for item in found.items)
    assert _labels("fetch dt.entity.‸") == list(data_objects())
    found = _at("fetch dt.entity.‸")
    assert found is not None and found.start == len("fetch ")
    assert "logs" not in _labels("fetch logs, ‸")


def test_named_parameters_not_yet_given() -> None:
    labels = _labels("fetch logs, from: -2h, ‸")
    assert "to:" in labels and "timeframe:" in labels and "from:" not in labels
    assert "by:" in _labels("fetch logs | summarize count(), ‸")
    assert "caseSensitive:" in _labels('fetch logs | filter contains(content, "x", ‸')
    # Not in the value of another parameter.
    assert "to:" not in _labels("fetch logs, from: ‸")


def test_enum_values_of_a_parameter() -> None:
    assert _labels("fetch a | join [fetch b], kind: ‸") == ["leftOuter", "inner", "outer"]


def test_fields_seen_upstream() -> None:
    text = (
        'fetch logs | filter loglevel == "ERROR" | fieldsAdd sev = upper(loglevel)'
        " | fieldsRemove tmp | filter ‸"
    )
    kinds = _kinds(text)
    assert kinds["sev"] == types.CompletionItemKind.Field
    assert kinds["loglevel"] == types.CompletionItemKind.Field
    assert "tmp" not in kinds
    # Created fields come before fields only read.
    ordered = [label for label in _sorted(text) if kinds[label] == types.CompletionItemKind.Field]
    assert ordered.index("sev") < ordered.index("loglevel")


def test_after_summarize_only_its_outputs_exist() -> None:
    labels = _labels("fetch logs | filter a > 1 | summarize n = count(), by: {host} | sort ‸")
    fields = [label for label in labels if label in ("n", "host", "a")]
    assert sorted(fields) == ["host", "n"]


def test_names_that_need_backticks_are_inserted_with_them() -> None:
    found = _at("fetch logs | summarize count(), by: {service.name} | sort ‸")
    assert found is not None
    item = next(i for i in found.items if i.label == "count()")
    assert item.insert_text == "`count()`"


def test_a_stage_that_does_not_parse_costs_only_its_own_fields() -> None:
    labels = _labels("fetch logs | fieldsAdd a = 1 | filter (( | fieldsAdd b = 2 | filter ‸")
    assert "a" in labels and "b" in labels


def test_a_subquery_has_its_own_fields() -> None:
    labels = _labels(
        "fetch logs | fieldsAdd outer = 1 | lookup [fetch x | fieldsAdd inner = 2 | filter ‸"
    )
    assert "inner" in labels and "outer" not in labels


def test_functions_of_the_aggregation_context() -> None:
    in_filter = _labels("fetch logs | filter ‸")
    assert "contains" in in_filter and "count" not in in_filter
    in_summarize = _labels("fetch logs | summarize ‸")
    assert "count" in in_summarize and "contains" in in_summarize
    assert "count" in _labels("fetch logs | summarize x = if(a, ‸")  # calls inherit it
    assert "count" not in _labels("fetch logs | summarize count(), by: {‸")


def test_function_snippets_when_the_client_takes_them() -> None:
    found = _at("fetch logs | filter conta‸", snippets=True)
    assert found is not None
    item = next(i for i in found.items if i.label == "contains")
    assert item.insert_text == "contains($1)$0"
    assert item.insert_text_format == types.InsertTextFormat.Snippet


def test_variables_after_a_dollar_also_inside_strings() -> None:
    variables = [Variable(key="Service", type="query", multiple=True)]
    assert _labels("fetch logs | filter in(svc, $‸", variables=variables)[0] == "$Service"
    found = _at('fetch logs | filter x == "$Ser‸', variables=variables)
    assert found is not None and found.start == len('fetch logs | filter x == "')
    assert found.items[0].label == "$Service"
    assert "$dt_timeframe_from" in [i.label for i in found.items]


def test_nothing_inside_comments_plain_strings_or_quoted_names() -> None:
    assert _at("fetch logs // fil‸") is None
    assert _at('fetch logs | filter x == "fil‸') is None
    assert _at("fetch logs | filter `my fi‸") is None
    assert _at("fetch logs | filter x[‸") is None
