"""Hover text: the catalog's signature and parameters, and dashboard variables."""

from __future__ import annotations

from dqlbuild.catalog import get_catalog
from dqlbuild.documents import Variable
from dqlbuild.lsp.hover import HoverText, hover

QUERY = (
    "fetch logs, from: -2h\n"
    '| filter contains(content, "x", caseSensitive: false) and in(svc, $Service)\n'
    "| summarize n = count(), by: {host}\n"
    "| join [fetch spans], kind: inner, on: {host}"
)
SERVICE = Variable(key="Service", type="csv", input="a,b", multiple=True, default_value=["a"])


def _hover(word: str, nth: int = 0, **kwargs: object) -> HoverText | None:
    offset = -1
    for _ in range(nth + 1):
        offset = QUERY.index(word, offset + 1)
    return hover(QUERY, offset + 1, **kwargs)  # type: ignore[arg-type]


def test_a_command_shows_its_synopsis_and_parameters() -> None:
    found = _hover("fetch")
    assert found is not None
    assert (found.start, found.end) == (0, 5)
    fetch = get_catalog().command("fetch")
    assert fetch is not None
    assert fetch.synopsis in found.markdown
    assert "`from:` — named only" in found.markdown
    assert "start command" in found.markdown


def test_a_function_shows_every_catalog_entry_of_its_name() -> None:
    found = _hover("contains")
    assert found is not None and "**contains()** — string function" in found.markdown
    count = _hover("count")
    assert count is not None
    assert "aggregation in `summarize`" in count.markdown
    assert "aggregation in `timeseries`" in count.markdown


def test_a_parameter_of_a_call_a_command_and_in_a_brace_group() -> None:
    found = _hover("caseSensitive")
    assert found is not None
    assert "parameter of `contains()`" in found.markdown and "default `TRUE`" in found.markdown
    found = _hover("from")
    assert found is not None and "parameter of `fetch`" in found.markdown
    found = _hover("kind")
    assert found is not None and "one of `leftOuter`, `inner`, `outer`" in found.markdown
    found = _hover("by")
    assert found is not None and "parameter of `summarize`" in found.markdown


def test_variables() -> None:
    found = _hover("$Service", variables=[SERVICE])
    assert found is not None
    assert "**$Service** — csv variable" in found.markdown and '["a"]' in found.markdown
    assert _hover("$Service") is None  # not defined here
    builtin = hover("fetch logs, from: $dt_timeframe_from", 25)
    assert builtin is not None and "start of the dashboard's timeframe" in builtin.markdown


def test_a_data_object_shows_where_it_is_documented() -> None:
    found = _hover("logs")
    assert found is not None and found.markdown.startswith("**logs** — data object")
    assert "grail/data-model" in found.markdown
    found = _hover("spans")  # in a subquery
    assert found is not None and "**spans** — data object" in found.markdown
    entity = hover("fetch dt.entity.host | limit 1", 8)
    assert entity is not None and (entity.start, entity.end) == (6, 20)
    assert "one of the `dt.entity.*` views" in entity.markdown
    assert hover("fetch span", 8) is None  # unknown: the diagnostic says so
    assert hover("fetch logs | filter logs == 1", 22) is None  # a field, not a data object


def test_nothing_on_fields_strings_and_unknown_names() -> None:
    assert _hover("content") is None
    assert hover('fetch logs | filter x == "fetch"', 27) is None
    assert hover("fetch logs | frobnicate x", 15) is None
