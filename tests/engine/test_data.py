"""Loading data for the engine: formats, types, and clear errors for bad input."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

import dqlbuild
from dqlbuild import DQLDataError

NOW = dt.datetime(2024, 5, 6, 12, 0, tzinfo=dt.UTC)


def rows(data: object, query: str = "fetch logs", **kwargs: object) -> list[dict[str, object]]:
    return dqlbuild.run(query, {"logs": data}, now=NOW, **kwargs).rows  # type: ignore[arg-type]


def types(data: object, **kwargs: object) -> dict[str, str]:
    return dqlbuild.run("fetch logs", {"logs": data}, now=NOW, **kwargs).types  # type: ignore[arg-type]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- formats
def test_json_lines_array_csv_and_parquet_give_the_same_records(tmp_path: Path) -> None:
    records = [{"a": 1, "s": "x"}, {"a": 2, "s": "y"}]
    jsonl = write(tmp_path / "r.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    array = write(tmp_path / "r.json", json.dumps(records))
    csv = write(tmp_path / "r.csv", "a,s\n1,x\n2,y\n")
    parquet = tmp_path / "r.parquet"
    with dqlbuild.Dataset({"logs": jsonl}) as data:
        data.connection.execute(
            f'COPY (SELECT a, s FROM "{data.table("logs").sql_name}" ORDER BY a) '
            f"TO '{parquet}' (FORMAT parquet)"
        )
    for path in (jsonl, array, csv, parquet):
        assert rows(path) == records, path.suffix


def test_a_grail_query_result_keeps_its_types(tmp_path: Path) -> None:
    result = {
        "records": [{"timestamp": "2024-05-06T07:00:00Z", "took": "1500000", "n": "7"}],
        "types": [{"indexRange": [0, 0], "mappings": {
            "timestamp": {"type": "timestamp"}, "took": {"type": "duration"},
            "n": {"type": "long"}}}],
    }  # fmt: skip
    path = write(tmp_path / "result.json", json.dumps({"result": result}))
    assert types(path) == {"timestamp": "timestamp", "took": "duration", "n": "long"}
    assert rows(path)[0]["took"] == 1_500_000


def test_a_result_written_as_json_loads_back_with_its_types(tmp_path: Path) -> None:
    first = dqlbuild.run(
        'data record(t = toTimestamp("2024-05-06T07:00:00.5Z"), d = 3s, n = 1)', {}, now=NOW
    )
    path = write(tmp_path / "out.json", first.to_json())
    again = dqlbuild.run("fetch x", {"x": path}, now=NOW)
    assert again.types == first.types and again.rows == first.rows


def test_empty_inputs_have_no_records(tmp_path: Path) -> None:
    assert rows([]) == []
    assert rows(write(tmp_path / "e.jsonl", "\n")) == []
    assert rows(write(tmp_path / "e.json", "[]")) == []


# ----------------------------------------------------------------------------- types
def test_well_known_names_become_timestamps_and_durations() -> None:
    data = [{"timestamp": "2024-05-06T07:00:00.000000001Z", "start_time": "2024-05-06",
             "duration": 5, "other": "2024-05-06T07:00:00Z"}]  # fmt: skip
    assert types(data) == {
        "timestamp": "timestamp", "start_time": "timestamp", "duration": "duration",
        "other": "string",
    }  # fmt: skip
    assert dqlbuild.run(
        "fetch logs | fields n = unixNanosFromTimestamp(timestamp)", {"logs": data}
    ).rows == [{"n": 1714978800000000001}]


def test_a_well_known_name_with_other_values_stays_as_it_is() -> None:
    assert types([{"timestamp": "yesterday", "duration": 1.5}]) == {
        "timestamp": "string", "duration": "double",
    }  # fmt: skip


def test_declared_types_convert_and_check_every_value() -> None:
    data = [{"at": "2024-05-06T09:00:00+02:00", "n": "12"}]
    declared = {"logs": {"at": "timestamp", "n": "long"}}
    assert rows(data, types=declared) == [
        {"at": dt.datetime(2024, 5, 6, 7, tzinfo=dt.UTC), "n": 12}
    ]
    with pytest.raises(DQLDataError, match=r"'n' is declared long, but record 2 holds 'x'"):
        rows([{"n": "1"}, {"n": "x"}], types={"logs": {"n": "long"}})
    with pytest.raises(DQLDataError, match="unknown type 'int'"):
        rows(data, types={"logs": {"n": "int"}})
    with pytest.raises(DQLDataError, match="fields the data does not have: 'nope'"):
        rows(data, types={"logs": {"nope": "long"}})


def test_python_datetimes_and_timedeltas_are_typed() -> None:
    data = [{"t": dt.datetime(2024, 5, 6, 7, tzinfo=dt.UTC), "d": dt.timedelta(milliseconds=5)}]
    assert types(data) == {"t": "timestamp", "d": "duration"}
    assert rows(data) == [{"t": dt.datetime(2024, 5, 6, 7, tzinfo=dt.UTC), "d": 5_000_000}]


def test_long_and_double_values_of_one_field_are_doubles() -> None:
    assert rows([{"x": 1}, {"x": 1.5}]) == [{"x": 1.0}, {"x": 1.5}]


def test_empty_arrays_and_records_are_values_of_their_type() -> None:
    # Regression (.mismatches.md M1): an array that is always empty is an array.
    assert rows([{"v": []}]) == [{"v": []}]
    assert rows([{"v": [1]}, {"v": []}]) == [{"v": [1]}, {"v": []}]
    assert types([{"v": [[]]}]) == {"v": "array<array<null>>"}
    assert rows([{"r": {}}, {"r": None}]) == [{"r": {}}, {"r": None}]


def test_nested_objects_are_records_reachable_with_brackets() -> None:
    data = [{"attrs": {"k": "v", "n": {"m": 2}}, "a.b": 1}]
    assert rows(data, "fetch logs | fields attrs[k], attrs[n][m], `a.b`") == [
        {"attrs[k]": "v", "attrs[n][m]": 2, "a.b": 1}
    ]


# ----------------------------------------------------------------------------- errors
def test_mixed_types_name_the_field_and_the_records(tmp_path: Path) -> None:
    path = write(tmp_path / "m.jsonl", '{"m": 1}\n{"m": "a"}\n')
    with pytest.raises(DQLDataError) as info:
        rows(path)
    assert str(info.value) == (
        f"{path}: field 'm' holds values of different types: long (first in record 1), "
        "string (first in record 2); a field must have one type"
    )
    with pytest.raises(DQLDataError, match="'arr' holds values of different types inside"):
        rows([{"arr": [1, "a"]}])


def test_a_record_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path / "b.jsonl", '{"a": 1}\n[1, 2]\n')
    with pytest.raises(DQLDataError, match=r"record 2 is an array, not an object"):
        rows(path)
    with pytest.raises(DQLDataError, match=r"record 2 is a number, not an object"):
        rows(write(tmp_path / "b.json", '[{"a": 1}, 3]'))
    with pytest.raises(DQLDataError, match=r"record 2 is a str, not an object"):
        rows([{"a": 1}, "x"])


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DQLDataError, match="no such file"):
        rows(tmp_path / "missing.jsonl")
    with pytest.raises(DQLDataError, match="is a directory"):
        rows(tmp_path)
    with pytest.raises(DQLDataError, match=r"cannot read as JSON: Malformed JSON"):
        rows(write(tmp_path / "broken.jsonl", '{"a": 1}\n{"a": \n'))
    with pytest.raises(DQLDataError, match="cannot tell the format"):
        rows(write(tmp_path / "data.txt", "hello"))
    locked = write(tmp_path / "locked.jsonl", "{}\n")
    locked.chmod(0)
    if not os.access(locked, os.R_OK):  # root reads anyway
        with pytest.raises(DQLDataError, match="cannot read"):
            rows(locked)


def test_bad_data_arguments() -> None:
    with pytest.raises(DQLDataError, match="not int"):
        dqlbuild.run("fetch logs", {"logs": 5})  # type: ignore[dict-item]
    with pytest.raises(DQLDataError, match="outside the range of a DQL long"):
        rows([{"a": 2**64}])
    with pytest.raises(DQLDataError, match="reserves"):
        rows([{"__dqlbuild_order": 1}])


def test_records_without_fields_are_records() -> None:
    # Regression (.mismatches.md M2): {} is a record with no fields.
    assert rows([{}]) == [{}]
    assert rows([{}, {}], "fetch logs | summarize count()") == [{"count()": 2}]
    assert rows([{}, {"a": 1}]) == [{"a": None}, {"a": 1}]
