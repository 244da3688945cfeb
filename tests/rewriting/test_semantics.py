"""The semantic test matrix of issue 10: a rewrite never changes what a tile means.

Every case names the class it covers (the issue's numbered defects 1-14, then the cases
found while fixing them) and asserts the status, the reason and the resulting text.
A query is ``filtered`` only when it returns, on the data restricted to the condition,
what it returned before; otherwise it is ``skipped`` (unchanged) or, when its records
come from several pipelines and only some could be filtered, ``partially-filtered``
(docs/rewriting.md, "The placement model").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from dqlbuild import parse
from dqlbuild.documents import load_document
from dqlbuild.documents.workflow import add_filter, render_each
from dqlbuild.errors import DocumentError, DQLValueError
from dqlbuild.rewriting.inject import inject_filter_text
from dqlbuild.rewriting.render import render


@dataclass(frozen=True)
class Case:
    id: str
    query: str
    condition: str
    options: dict[str, Any]
    status: str
    reason: str
    text: str
    subqueries: list[str]
    """The pipeline status of every execution block, depth first."""


CASES = [
    Case(
        "1-sort-limit-then-coalesce",
        (
            "fetch spans | sort duration desc | limit 10 | fieldsAdd model.version = "
            'coalesce(model.version, "unknown")'
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | sort duration desc | limit 10 "
            '| fieldsAdd model.version = coalesce(model.version, "unknown")'
        ),
        [],
    ),
    Case(
        "1-dedup-then-coalesce",
        (
            "fetch spans | dedup trace.id | fieldsAdd model.version = coalesce(model.version, "
            '"unknown")'
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | dedup trace.id | fieldsAdd "
            'model.version = coalesce(model.version, "unknown")'
        ),
        [],
    ),
    Case(
        "1-limit-then-expand",
        "fetch spans | limit 10 | expand model.version",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        "fetch spans | filter model.version == $ModelVersion | limit 10 | expand model.version",
        [],
    ),
    Case(
        "1-limit-then-parse",
        'fetch spans | limit 10 | parse content, "LD:model.version"',
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | limit 10 | parse content, "
            '"LD:model.version"'
        ),
        [],
    ),
    Case(
        "1-no-data-object-limit-then-coalesce",
        (
            "fetch spans | sort duration desc | limit 10 | fieldsAdd model.version = "
            'coalesce(model.version, "unknown")'
        ),
        "model.version == $ModelVersion",
        {},
        "skipped",
        (
            "`limit` (stage 3) keeps only the first records before `fieldsAdd` (stage 4) gives "
            "`model.version` its values, so a filter there would not restrict the records the "
            "query reads"
        ),
        (
            "fetch spans | sort duration desc | limit 10 | fieldsAdd model.version = "
            'coalesce(model.version, "unknown")'
        ),
        [],
    ),
    Case(
        "1-no-data-object-limit-then-parse",
        'fetch logs | limit 10 | parse content, "LD:model.version"',
        "model.version == $ModelVersion",
        {},
        "skipped",
        (
            "`limit` (stage 2) keeps only the first records before `parse` (stage 3) gives "
            "`model.version` its values, so a filter there would not restrict the records the "
            "query reads"
        ),
        'fetch logs | limit 10 | parse content, "LD:model.version"',
        [],
    ),
    Case(
        "1-no-data-object-row-wise-then-parse",
        (
            'fetch logs | filter isNotNull(content) | parse content, "LD:model.version" | '
            "summarize count(), by: {model.version}"
        ),
        "model.version == $ModelVersion",
        {},
        "filtered",
        "inserted after `parse` (stage 3), which gives `model.version` its values",
        (
            'fetch logs | filter isNotNull(content) | parse content, "LD:model.version" | '
            "filter model.version == $ModelVersion | summarize count(), by: {model.version}"
        ),
        [],
    ),
    Case(
        "2-constant-fieldsadd",
        'fetch spans | fieldsAdd model.version = "x"',
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        'fetch spans | filter model.version == $ModelVersion | fieldsAdd model.version = "x"',
        [],
    ),
    Case(
        "2-constant-fields",
        'fetch spans | fields model.version = "all", duration',
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | fields model.version = "
            '"all", duration'
        ),
        [],
    ),
    Case(
        "2-other-attribute",
        "fetch spans | fieldsAdd model.version = toString(gen_ai.request.model)",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | fieldsAdd model.version = "
            "toString(gen_ai.request.model)"
        ),
        [],
    ),
    Case(
        "2-renamed-from-other",
        "fetch spans | fieldsRename model.version = gen_ai.request.model",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | fieldsRename model.version = "
            "gen_ai.request.model"
        ),
        [],
    ),
    Case(
        "2-renamed-away-then-recreated",
        "fetch spans | fieldsRename mv = model.version | fieldsAdd model.version = 1",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | fieldsRename mv = "
            "model.version | fieldsAdd model.version = 1"
        ),
        [],
    ),
    Case(
        "2-no-data-object-constant",
        'fetch spans | fieldsAdd model.version = "x"',
        "model.version == $ModelVersion",
        {},
        "skipped",
        (
            "`fieldsAdd` (stage 2) sets `model.version` to the same value on every record: a "
            "filter on it keeps all records or none"
        ),
        'fetch spans | fieldsAdd model.version = "x"',
        [],
    ),
    Case(
        "2-no-data-object-renamed-away",
        "fetch spans | fieldsRename mv = model.version | fieldsAdd model.version = 1",
        "model.version == $ModelVersion",
        {},
        "skipped",
        (
            "`fieldsAdd` (stage 3) sets `model.version` to the same value on every record: a "
            "filter on it keeps all records or none"
        ),
        "fetch spans | fieldsRename mv = model.version | fieldsAdd model.version = 1",
        [],
    ),
    Case(
        "3-lookup-fields",
        (
            "fetch spans | lookup [fetch spans | fields trace.id, model.version], sourceField: "
            "trace.id, lookupField: trace.id, fields: {model.version}"
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "skipped",
        (
            "`model.version` is brought in by `lookup` (stage 2) from its subquery: the records "
            "before it do not carry it, and after it the field is not the records' own"
        ),
        (
            "fetch spans | lookup [fetch spans | fields trace.id, model.version], sourceField: "
            "trace.id, lookupField: trace.id, fields: {model.version}"
        ),
        ["skipped"],
    ),
    Case(
        "3-lookup-empty-prefix",
        (
            "fetch spans | lookup [fetch spans | fields trace.id, model.version], sourceField: "
            'trace.id, lookupField: trace.id, prefix: ""'
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "skipped",
        (
            "`model.version` is brought in by `lookup` (stage 2) from its subquery: the records "
            "before it do not carry it, and after it the field is not the records' own"
        ),
        (
            "fetch spans | lookup [fetch spans | fields trace.id, model.version], sourceField: "
            'trace.id, lookupField: trace.id, prefix: ""'
        ),
        ["skipped"],
    ),
    Case(
        "3-join-fields",
        (
            "fetch spans | join [fetch spans | fields trace.id, model.version], on: {trace.id}, "
            "fields: {model.version}"
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "skipped",
        (
            "`model.version` is brought in by `join` (stage 2) from its subquery: the records "
            "before it do not carry it, and after it the field is not the records' own"
        ),
        (
            "fetch spans | join [fetch spans | fields trace.id, model.version], on: {trace.id}, "
            "fields: {model.version}"
        ),
        ["skipped"],
    ),
    Case(
        "3-no-data-object-lookup-fields",
        (
            'fetch spans | filter span.kind == "server" | lookup [fetch spans | fields '
            "trace.id, model.version], sourceField: trace.id, lookupField: trace.id, fields: "
            "{model.version}"
        ),
        "model.version == $ModelVersion",
        {},
        "filtered",
        "inserted after `lookup` (stage 3), which gives `model.version` its values",
        (
            'fetch spans | filter span.kind == "server" | lookup [fetch spans | fields '
            "trace.id, model.version], sourceField: trace.id, lookupField: trace.id, fields: "
            "{model.version} | filter model.version == $ModelVersion"
        ),
        ["skipped"],
    ),
    Case(
        "3-no-data-object-limit-then-lookup",
        (
            "fetch spans | limit 10 | lookup [fetch spans | fields trace.id, model.version], "
            "sourceField: trace.id, lookupField: trace.id, fields: {model.version}"
        ),
        "model.version == $ModelVersion",
        {},
        "skipped",
        (
            "`limit` (stage 2) keeps only the first records before `lookup` (stage 3) gives "
            "`model.version` its values, so a filter there would not restrict the records the "
            "query reads"
        ),
        (
            "fetch spans | limit 10 | lookup [fetch spans | fields trace.id, model.version], "
            "sourceField: trace.id, lookupField: trace.id, fields: {model.version}"
        ),
        ["skipped"],
    ),
    Case(
        "3-flatten-empty-prefix",
        'fetch spans | limit 5 | fieldsFlatten attributes, prefix: ""',
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | limit 5 | fieldsFlatten "
            'attributes, prefix: ""'
        ),
        [],
    ),
    Case(
        "3-no-data-object-flatten-empty-prefix",
        (
            "fetch spans | summarize n = count(), by: {attributes} | fieldsFlatten attributes, "
            'prefix: ""'
        ),
        "model.version == $ModelVersion",
        {},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | summarize n = count(), by: "
            '{attributes} | fieldsFlatten attributes, prefix: ""'
        ),
        [],
    ),
    Case(
        "4-anti-join",
        (
            'fetch spans | lookup [fetch spans | filter span.status_code == "error" | fields '
            "trace.id, failed = true], sourceField: trace.id, lookupField: trace.id | filter "
            "isNull(lookup.failed)"
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | lookup [fetch spans | filter "
            'span.status_code == "error" | fields trace.id, failed = true], sourceField: '
            "trace.id, lookupField: trace.id | filter isNull(lookup.failed)"
        ),
        ["skipped"],
    ),
    Case(
        "4-semi-join",
        (
            "fetch spans | filter trace.id in [fetch spans | filter span.status_code == "
            '"error" | fields trace.id]'
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after the filters that follow `fetch spans`",
        (
            "fetch spans | filter trace.id in [fetch spans | filter span.status_code == "
            '"error" | fields trace.id] | filter model.version == $ModelVersion'
        ),
        ["skipped"],
    ),
    Case(
        "4-parent-child-join",
        (
            "fetch spans | join [fetch spans], on: {left[span.parent_id] == right[span.id]}, "
            'prefix: "parent."'
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | join [fetch spans], on: "
            '{left[span.parent_id] == right[span.id]}, prefix: "parent."'
        ),
        ["skipped"],
    ),
    Case(
        "4-join-on-the-field",
        (
            "fetch spans | join [fetch spans | summarize cost = sum(cost), by: {trace.id, "
            "model.version}], on: {trace.id, model.version}"
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`; and in 1 subquery",
        (
            "fetch spans | filter model.version == $ModelVersion | join [fetch spans | filter "
            "model.version == $ModelVersion | summarize cost = sum(cost), by: {trace.id, "
            "model.version}], on: {trace.id, model.version}"
        ),
        ["filtered"],
    ),
    Case(
        "4-lookup-on-the-field",
        (
            "fetch spans | lookup [fetch spans | summarize n = count(), by: {model.version}], "
            "sourceField: model.version, lookupField: model.version"
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`; and in 1 subquery",
        (
            "fetch spans | filter model.version == $ModelVersion | lookup [fetch spans | filter "
            "model.version == $ModelVersion | summarize n = count(), by: {model.version}], "
            "sourceField: model.version, lookupField: model.version"
        ),
        ["filtered"],
    ),
    Case(
        "4-semi-join-on-the-field",
        (
            "fetch spans | filter model.version in [fetch spans | filter span.status_code == "
            '"error" | fields model.version]'
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after the filters that follow `fetch spans`",
        (
            "fetch spans | filter model.version in [fetch spans | filter span.status_code == "
            '"error" | fields model.version] | filter model.version == $ModelVersion'
        ),
        ["skipped"],
    ),
    Case(
        "4-lookup-on-the-field-after-limit-in-table",
        (
            "fetch spans | lookup [fetch spans | sort duration desc | limit 1 | fields "
            "model.version, slowest = duration], sourceField: model.version, lookupField: "
            "model.version"
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | lookup [fetch spans | sort "
            "duration desc | limit 1 | fields model.version, slowest = duration], sourceField: "
            "model.version, lookupField: model.version"
        ),
        ["skipped"],
    ),
    Case(
        "4-append-same-object",
        (
            'fetch spans | filter span.kind == "server" | append [fetch spans | filter '
            'span.kind == "client"]'
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after the filters that follow `fetch spans`; and in 1 subquery",
        (
            'fetch spans | filter span.kind == "server" | filter model.version == '
            '$ModelVersion | append [fetch spans | filter span.kind == "client" | filter '
            "model.version == $ModelVersion]"
        ),
        ["filtered"],
    ),
    Case(
        "4-append-partial",
        (
            'fetch spans | filter span.kind == "server" | append [fetch spans | limit 5 | '
            "fieldsAdd model.version = lower(model.version)]"
        ),
        "model.version == $ModelVersion",
        {},
        "partially-filtered",
        (
            "inserted after the filters that follow `fetch spans`; but not subquery 1: `limit` "
            "(stage 2) keeps only the first records before `fieldsAdd` (stage 3) gives "
            "`model.version` its values, so a filter there would not restrict the records the "
            "query reads"
        ),
        (
            'fetch spans | filter span.kind == "server" | filter model.version == '
            "$ModelVersion | append [fetch spans | limit 5 | fieldsAdd model.version = "
            "lower(model.version)]"
        ),
        ["skipped"],
    ),
    Case(
        "4-append-other-object",
        "fetch spans | append [fetch logs | fields content]",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | append [fetch logs | fields "
            "content]"
        ),
        ["skipped"],
    ),
    Case(
        "4-main-other-object-semi-join",
        "fetch logs | filter trace_id in [fetch spans | fields trace.id]",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "skipped",
        "it reads `fetch logs`, not `fetch spans`",
        "fetch logs | filter trace_id in [fetch spans | fields trace.id]",
        ["skipped"],
    ),
    Case(
        "4-main-other-object-append",
        "fetch logs | append [fetch spans]",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "subquery 1: inserted after `fetch spans`",
        "fetch logs | append [fetch spans | filter model.version == $ModelVersion]",
        ["filtered"],
    ),
    Case(
        "4-outer-join",
        "fetch spans | join [fetch spans | fields trace.id, x = 1], on: {trace.id}, kind: outer",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "partially-filtered",
        (
            "inserted after `fetch spans`; but not subquery 1: `join` (stage 2) does not match "
            "on `model.version`: filtering it would change which records find a match"
        ),
        (
            "fetch spans | filter model.version == $ModelVersion | join [fetch spans | fields "
            "trace.id, x = 1], on: {trace.id}, kind: outer"
        ),
        ["skipped"],
    ),
    Case(
        "4-outer-join-on-the-field",
        (
            "fetch spans | join [fetch spans | fields model.version, x = 1], on: "
            "{model.version}, kind: outer"
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after `fetch spans`; and in 1 subquery",
        (
            "fetch spans | filter model.version == $ModelVersion | join [fetch spans | filter "
            "model.version == $ModelVersion | fields model.version, x = 1], on: {model.version}, "
            "kind: outer"
        ),
        ["filtered"],
    ),
    Case(
        "5-metric-timeseries",
        "timeseries avg(dt.service.request.response_time), by: {dt.entity.service}",
        "model.version == $ModelVersion",
        {},
        "skipped",
        (
            "the dimensions of the metric `dt.service.request.response_time` are unknown: "
            "`model.version` is not among the `by:` keys or in the `filter:` of `timeseries`"
        ),
        "timeseries avg(dt.service.request.response_time), by: {dt.entity.service}",
        [],
    ),
    Case(
        "5-logs-tile-api",
        "fetch logs | summarize count()",
        "model.version == $ModelVersion",
        {},
        "filtered",
        "inserted after `fetch logs`",
        "fetch logs | filter model.version == $ModelVersion | summarize count()",
        [],
    ),
    Case(
        "5-entity-lookup-inside-spans",
        (
            "fetch spans | lookup [fetch dt.entity.service | fields id, entity.name], "
            "sourceField: dt.entity.service, lookupField: id"
        ),
        "model.version == $ModelVersion",
        {},
        "filtered",
        "inserted after `fetch spans`",
        (
            "fetch spans | filter model.version == $ModelVersion | lookup [fetch "
            "dt.entity.service | fields id, entity.name], sourceField: dt.entity.service, "
            "lookupField: id"
        ),
        ["skipped"],
    ),
    Case(
        "5-no-inference-unknown",
        "fetch logs | summarize count()",
        "model.version == $ModelVersion",
        {"infer_data_object": False},
        "skipped",
        (
            "nothing in it shows that the records of `fetch logs` carry `model.version`, and no "
            "data object was named"
        ),
        "fetch logs | summarize count()",
        [],
    ),
    Case(
        "5-no-inference-evidence",
        "fetch spans | filter isNotNull(model.version) | summarize count(), by: {model.version}",
        "model.version == $ModelVersion",
        {"infer_data_object": False},
        "filtered",
        "inserted after the filters that follow `fetch spans`",
        (
            "fetch spans | filter isNotNull(model.version) | filter model.version == "
            "$ModelVersion | summarize count(), by: {model.version}"
        ),
        [],
    ),
    Case(
        "6-timeseries-by",
        "timeseries avg(gen_ai.latency), by: {model.version}",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "added a `filter:` parameter to `timeseries`",
        (
            "timeseries avg(gen_ai.latency), by: {model.version}, filter: model.version == "
            "$ModelVersion"
        ),
        [],
    ),
    Case(
        "6-timeseries-filter-uses",
        "timeseries avg(gen_ai.latency), filter: isNotNull(model.version)",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "merged into the `filter:` parameter of `timeseries`",
        (
            "timeseries avg(gen_ai.latency), filter: isNotNull(model.version) and model.version "
            "== $ModelVersion"
        ),
        [],
    ),
    Case(
        "6-timeseries-end-by-key",
        "timeseries avg(gen_ai.latency), by: {model.version} | sort `avg(gen_ai.latency)` desc",
        "model.version == $ModelVersion",
        {"data_object": "spans", "placement": "end"},
        "filtered",
        "appended after `sort` (the end)",
        (
            "timeseries avg(gen_ai.latency), by: {model.version} | sort `avg(gen_ai.latency)` "
            "desc | filter model.version == $ModelVersion"
        ),
        [],
    ),
    Case(
        "7-multiline-block-comment",
        "fetch spans\n| filter a == 1 /* x\n*/\n| limit 1",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after the filters that follow `fetch spans`",
        (
            "fetch spans\n| filter a == 1 /* x\n*/\n| filter model.version == $ModelVersion\n| "
            "limit 1"
        ),
        [],
    ),
    Case(
        "7-commented-out-stage",
        (
            "fetch spans\n| filter isNotNull(gen_ai.system) // LLM calls\n// | filter span.kind "
            '== "client"\n| summarize count()'
        ),
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        "inserted after the filters that follow `fetch spans`",
        (
            "fetch spans\n| filter isNotNull(gen_ai.system) // LLM calls\n| filter model.version "
            '== $ModelVersion\n// | filter span.kind == "client"\n| summarize count()'
        ),
        [],
    ),
    Case(
        "8-single-to-multi",
        "fetch spans | filter model.version == $ModelVersion | summarize count()",
        "in(model.version, array($ModelVersion))",
        {"data_object": "spans"},
        "filtered",
        (
            "`filter` (stage 2) filtered on `model.version == $ModelVersion`; rewritten to "
            "`in(model.version, array($ModelVersion))`, the form of the variable's selection"
        ),
        "fetch spans | filter in(model.version, array($ModelVersion)) | summarize count()",
        [],
    ),
    Case(
        "8-multi-to-single",
        "fetch spans | filter in(model.version, array($ModelVersion)) | summarize count()",
        "model.version == $ModelVersion",
        {"data_object": "spans"},
        "filtered",
        (
            "`filter` (stage 2) filtered on `in(model.version, array($ModelVersion))`; rewritten "
            "to `model.version == $ModelVersion`, the form of the variable's selection"
        ),
        "fetch spans | filter model.version == $ModelVersion | summarize count()",
        [],
    ),
    Case(
        "8-switch-in-timeseries-filter",
        (
            "timeseries avg(x), by: {model.version}, filter: model.version == $ModelVersion and "
            "a == 1"
        ),
        "in(model.version, array($ModelVersion))",
        {"data_object": "spans"},
        "filtered",
        (
            "`timeseries` (stage 1) filtered on `model.version == $ModelVersion`; rewritten to "
            "`in(model.version, array($ModelVersion))`, the form of the variable's selection"
        ),
        (
            "timeseries avg(x), by: {model.version}, filter: in(model.version, "
            "array($ModelVersion)) and a == 1"
        ),
        [],
    ),
    Case(
        "8-switch-in-other-data-object",
        "fetch logs | filter $ModelVersion == model.version",
        "in(model.version, array($ModelVersion))",
        {"data_object": "spans"},
        "filtered",
        (
            "`filter` (stage 2) filtered on `$ModelVersion == model.version`; rewritten to "
            "`in(model.version, array($ModelVersion))`, the form of the variable's selection"
        ),
        "fetch logs | filter in(model.version, array($ModelVersion))",
        [],
    ),
    Case(
        "end-grouping-key",
        "fetch spans | summarize c = count(), by: {model.version} | sort c desc",
        "model.version == $ModelVersion",
        {"data_object": "spans", "placement": "end"},
        "filtered",
        "appended after `sort` (the end)",
        (
            "fetch spans | summarize c = count(), by: {model.version} | sort c desc | filter "
            "model.version == $ModelVersion"
        ),
        [],
    ),
    Case(
        "end-limit",
        "fetch spans | limit 10",
        "model.version == $ModelVersion",
        {"data_object": "spans", "placement": "end"},
        "skipped",
        (
            "`limit` (stage 2) keeps only the first records, so a filter after it would not "
            "restrict the records the query reads"
        ),
        "fetch spans | limit 10",
        [],
    ),
    Case(
        "end-aggregate",
        "fetch spans | summarize c = count(), by: {host}",
        "c > 10",
        {"placement": "end"},
        "skipped",
        (
            "`summarize` (stage 2) gives `c` other values, so a filter after it would not "
            "restrict the records the query reads"
        ),
        "fetch spans | summarize c = count(), by: {host}",
        [],
    ),
    Case(
        "source-before-filters",
        "fetch spans | filter a == 1",
        "model.version == $ModelVersion",
        {"data_object": "spans", "placement": "source"},
        "filtered",
        "inserted after `fetch spans`",
        "fetch spans | filter model.version == $ModelVersion | filter a == 1",
        [],
    ),
    Case(
        "dedup-by-key-end",
        "fetch spans | dedup model.version, sort: {timestamp desc}",
        "model.version == $ModelVersion",
        {"data_object": "spans", "placement": "end"},
        "filtered",
        "appended after `dedup` (the end)",
        (
            "fetch spans | dedup model.version, sort: {timestamp desc} | filter model.version == "
            "$ModelVersion"
        ),
        [],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matrix(case: Case) -> None:
    result = inject_filter_text(case.query, case.condition, **case.options)
    assert (result.status, result.reason) == (case.status, case.reason)
    assert result.text == case.text
    assert [r.pipeline_status for r in list(result.results())[1:]] == case.subqueries
    if result.status == "skipped":
        assert result.text == case.query
    again = inject_filter_text(result.text, case.condition, **case.options)
    assert again.text == result.text
    assert "filtered" not in [r.pipeline_status for r in again.results()]


def test_every_class_has_a_case() -> None:
    classes = {c.id.split("-")[0] for c in CASES}
    assert {str(n) for n in range(1, 9)} <= classes


# ---------------------------------------------------------------- 7: text edits
def test_an_inserted_stage_never_lands_inside_a_block_comment() -> None:
    text = "fetch spans\n| filter a == 1 /* x\n*/\n| limit 1"
    assert parse(text).insert(2, "filter b == 2").to_source() == (
        "fetch spans\n| filter a == 1 /* x\n*/\n| filter b == 2\n| limit 1"
    )
    assert parse(text).append("filter b == 2").to_source().endswith("| limit 1\n| filter b == 2")


# ---------------------------------------------------------------- 10, 13, 14: render
@pytest.mark.parametrize(
    ("template", "value", "text"),
    [
        ("fetch logs | filter a == $v", 'say "hi"', 'fetch logs | filter a == "say \\"hi\\""'),
        ("fetch logs | fields $v:backtick", "a`b", "fetch logs | fields `a\\`b`"),
        ("fetch logs | limit $v:noquote", "10", "fetch logs | limit 10"),
        (
            "fetch logs | fieldsAdd j = $v:triplequote",
            '{"a": 1}',
            'fetch logs | fieldsAdd j = """{"a": 1}"""',
        ),
    ],
    ids=["quote", "backtick", "noquote", "triplequote"],
)
def test_10_the_apps_strategies_without_warnings(template: str, value: str, text: str) -> None:
    result = render(template, {"v": value})
    assert (result.text, result.warnings) == (text, ())


@pytest.mark.parametrize(
    ("template", "value", "message"),
    [
        ("fetch logs | limit $v:noquote", "1 | limit 5", "only letters, digits"),
        ("fetch logs | fieldsAdd j = $v:triplequote", 'a """ b', 'contains """'),
        ("fetch logs | filter a == $v", "\ud800", "lone surrogate"),
        ("fetch logs | fields $v:backtick", "\udfff", "lone surrogate"),
    ],
    ids=["noquote", "triplequote", "surrogate", "surrogate-backtick"],
)
def test_10_values_the_app_cannot_use_are_refused(template: str, value: str, message: str) -> None:
    with pytest.raises(DQLValueError, match=message):
        render(template, {"v": value})


def test_13_a_carriage_return_ends_a_line_comment_for_the_scanner_too() -> None:
    template = 'fetch logs // note\r| filter a == "\n$v"'
    result = render(template, {"v": " | fieldsAdd injected = 1 | filter true or a == "})
    # The reference is inside the string: the value stays inside it.
    assert result.text == (
        'fetch logs // note\r| filter a == "\n | fieldsAdd injected = 1 | filter true or a == "'
    )
    assert [c.name for c in parse(result.text).commands] == ["fetch", "filter"]


def test_14_a_multi_select_value_in_parentheses_is_the_multi_select_error() -> None:
    with pytest.raises(DQLValueError, match="multi-select"):
        render("fetch logs | filter in(c, ($C))", {"C": ["a", "b"]})
    one = render("fetch logs | filter in(c, ($C))", {"C": ["a"]})
    assert one.text == 'fetch logs | filter in(c, ("a"))'


# ---------------------------------------------------------------- documents: 5, 8, 9, 11, 12
def dashboard(queries: dict[str, str], variables: list[dict[str, Any]] | None = None) -> str:
    tiles = {k: {"type": "data", "title": f"t{k}", "query": q} for k, q in queries.items()}
    return json.dumps({"version": 21, "variables": variables or [], "tiles": tiles}, indent=2)


TILES = {
    "1": "fetch spans | summarize count()",
    "2": "fetch logs | summarize count()",
    "3": "timeseries avg(dt.service.request.response_time), by: {dt.entity.service}",
    "4": "fetch spans | filter model.version == $ModelVersion | summarize count()",
}
VERSION = {"variable": "ModelVersion", "field": "model.version"}


def test_5_without_a_data_object_nothing_is_emptied() -> None:
    doc = load_document(dashboard(TILES))
    result = add_filter(doc, **VERSION)
    # Only tile 4 shows it carries the field (it already filters on the variable).
    assert [loc.status for loc in result.locations] == ["skipped"] * 3 + ["already-filtered"]
    named = add_filter(doc, **VERSION, data_object="spans")
    assert [loc.status for loc in named.locations] == [
        "filtered", "skipped", "skipped", "already-filtered"
    ]  # fmt: skip


def test_8_switching_to_multi_select_rewrites_the_filter() -> None:
    single = {"key": "ModelVersion", "type": "csv", "input": "v1,v2", "multiple": False}
    doc = load_document(dashboard(TILES, [single]))
    with pytest.raises(DocumentError, match="it is csv, single-select: v1,v2"):
        add_filter(doc, **VERSION, data_object="spans", multiple=True)
    result = add_filter(doc, **VERSION, data_object="spans", multiple=True, replace_variable=True)
    assert result.locations[3].status == "filtered"
    assert "filter in(model.version, array($ModelVersion))" in result.locations[3].query


def test_9_the_users_own_variable_is_used_and_re_running_changes_nothing() -> None:
    own = {"key": "ModelVersion", "type": "query", "input": "fetch spans | fields model.version"}
    doc = load_document(dashboard(TILES, [own]))
    result = add_filter(doc, **VERSION)  # the data object comes from the variable's query
    assert result.variable is not None and result.variable.action == "unchanged"
    assert [loc.status for loc in result.locations][:2] == ["filtered", "skipped"]
    edited = load_document(result.text.replace("fields model.version", "fields v = model.version"))
    assert add_filter(edited, **VERSION).text == edited.text


def test_11_every_renderable_tile_is_rendered() -> None:
    doc = load_document(dashboard({"1": "fetch logs | limit $N:noquote", "2": "fetch logs"}))
    [(_, first), (_, second)] = render_each(doc, {"N": "1 | x"})
    assert isinstance(first, DQLValueError) and "tile 1" in first.message
    assert not isinstance(second, DQLValueError) and second.text == "fetch logs"


def test_12_a_gen3_dashboard_with_stray_classic_metadata_loads() -> None:
    data = json.loads(dashboard(TILES))
    data["dashboardMetadata"] = {"name": "converted"}
    assert load_document(json.dumps(data)).kind.value == "dashboard"
