"""Generate ``dqlbuild/catalog/catalog.json`` (and its name index ``names.json``) from
the shared DQL catalog.

Usage: python scripts/gen_catalog.py [SOURCE] [--check]

SOURCE defaults to ``../shared/catalog/dql-catalog.json`` next to the project
root. The input is the IntelliJ DQL plugin's definitions (overrides merged);
the corrections of DQL_SPEC.md §10 and those measured on the public corpus of
real queries (``../shared/corpus/queries.jsonl``), and the facts about commands
the plugin does not model, are applied here so that the rest of dqlbuild can
trust the catalog as it is and need not special-case any command or function.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "catalog" / "dql-catalog.json"
OUTPUT = ROOT / "dqlbuild" / "catalog" / "catalog.json"
NAMES_OUTPUT = OUTPUT.with_name("names.json")

# The generator is run from a checkout, where dqlbuild is not installed.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dqlbuild.catalog.model import (  # noqa: E402
    AGGREGATION_KINDS,
    Catalog,
    Command,
    DataObject,
    Function,
    FunctionContext,
    Modifier,
    Parameter,
    Signature,
    Source,
)

Raw = dict[str, Any]

GENERATED_BY = "scripts/gen_catalog.py (generated file, do not edit)"
PSEUDO_PARAMETERS = ("alias",)

# Keys of a catalog parameter we understand; anything else means the catalog
# format changed and this script needs a look.
_PARAMETER_KEYS = {
    "name",
    "aliases",
    "required",
    "requiresName",
    "assignmentSupport",
    "variadic",
    "valueTypes",
    "parameterValueTypes",
    "defaultValue",
    "allowedEnumValues",
    "minValue",
    "maxValue",
    "excludes",
    "modifiers",
    "hidden",
    "experimental",
    "description",
}
# Keys only the corrections below set: upstream having one means it now models that
# fact itself, and the correction needs a look.
_PROJECT_PARAMETER_KEYS = {"namesOtherSide", "acceptsPairs"}
_PROJECT_FUNCTION_KEYS = {"aliases", "undocumentedAliases"}


class CatalogFormatError(Exception):
    """The input does not look like the catalog this script was written for."""


def _short(key: str) -> str:
    """``dql.parameterValueType.enum`` -> ``enum``."""
    parts = key.split(".", 2)
    if len(parts) != 3 or parts[0] != "dql":
        raise CatalogFormatError(f"unexpected catalog key {key!r}")
    return parts[2]


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] == '"'


def _unquote(value: str) -> str:
    if "\\" in value:
        raise CatalogFormatError(f"escape in enum value {value!r}")
    return value[1:-1] if _is_quoted(value) else value


def _find_param(command: Raw, name: str) -> Raw:
    for param in command["parameters"]:
        if param["name"] == name:
            return cast(Raw, param)
    raise CatalogFormatError(f"{command['name']} has no parameter {name!r}")


def _command(raw: Raw, name: str) -> Raw:
    try:
        return cast(Raw, raw["commands"][f"dql.command.{name}"])
    except KeyError:
        raise CatalogFormatError(f"no command {name!r} in the catalog") from None


def _function(raw: Raw, name: str) -> Raw:
    try:
        return cast(Raw, raw["functions"][f"dql.function.{name}"])
    except KeyError:
        raise CatalogFormatError(f"no function {name!r} in the catalog") from None


def _add_once(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def _all_parameters(raw: Raw) -> Iterator[Raw]:
    for command in raw["commands"].values():
        yield from command["parameters"]
    for group in ("functions", "operators"):
        for entry in raw.get(group, {}).values():
            for signature in entry["signatures"]:
                yield from signature.get("parameters", ())


# --- corrections (DQL_SPEC.md §10 and §6) -----------------------------------


def fix_sort_direction(raw: Raw) -> None:
    # §10 #6: `sort x, direction:"descending"` is common, so it is a real named parameter.
    direction = _find_param(_command(raw, "sort"), "direction")
    direction.pop("hidden", None)
    direction["requiresName"] = True


def fix_traverse_aliases(raw: Raw) -> None:
    # §10 #9: Dynatrace's own examples name them `edgeTypes:` / `targetTypes:`.
    traverse = _command(raw, "traverse")
    for kind, alias in (
        ("identifierForEdgeType", "edgeTypes"),
        ("identifierForNodeType", "targetTypes"),
    ):
        matches = [
            p
            for p in traverse["parameters"]
            if f"dql.parameterValueType.{kind}" in p.get("parameterValueTypes", ())
        ]
        if len(matches) != 1:
            raise CatalogFormatError(f"traverse: expected one {kind} parameter")
        _add_once(matches[0].setdefault("aliases", []), alias)


def fix_fetch_bucket(raw: Raw) -> None:
    # §6 #15: upstream has a positional `name`; the engine takes a named `bucket:`.
    fetch = _command(raw, "fetch")
    buckets = [
        p
        for p in fetch["parameters"]
        if "dql.parameterValueType.bucket" in p.get("parameterValueTypes", ())
    ]
    if len(buckets) != 1:
        raise CatalogFormatError("fetch: expected one bucket parameter")
    buckets[0].update(name="bucket", requiresName=True, required=False)


def add_min_unit(raw: Raw) -> None:
    # §10 #1: `5min` occurs in real queries; every enumeration of duration units takes it.
    for param in _all_parameters(raw):
        values = param.get("allowedEnumValues")
        if not values:
            continue
        plain = [_unquote(v) for v in values]
        if {"m", "h"} <= set(plain) and "min" not in plain:
            values.insert(plain.index("m") + 1, '"min"' if _is_quoted(values[0]) else "min")


def check_names(raw: Raw) -> None:
    # Lookups ignore case, so spellings that differ only in case must be one name.
    seen: dict[str, str] = {}
    for entry in raw["commands"].values():
        if entry["name"].lower() in seen:
            raise CatalogFormatError(f"commands {entry['name']!r} clash ignoring case")
        seen[entry["name"].lower()] = entry["name"]
    spelling: dict[str, str] = {}
    for entry in raw["functions"].values():
        other = spelling.setdefault(entry["name"].lower(), entry["name"])
        if other != entry["name"]:
            raise CatalogFormatError(f"functions {other!r} and {entry['name']!r} clash")
    for param in _all_parameters(raw):
        if param["name"].lower() in PSEUDO_PARAMETERS:
            raise CatalogFormatError("a real parameter shadows the alias: pseudo-parameter")


def check_project_keys(raw: Raw) -> None:
    # Run before the corrections: only they may set these keys.
    for param in _all_parameters(raw):
        found = _PROJECT_PARAMETER_KEYS & set(param)
        if found:
            raise CatalogFormatError(f"parameter {param['name']!r}: upstream sets {sorted(found)}")
    for entry in raw["functions"].values():
        found = _PROJECT_FUNCTION_KEYS & set(entry)
        if found:
            raise CatalogFormatError(f"function {entry['name']!r}: upstream sets {sorted(found)}")


def check_function_aliases(raw: Raw) -> None:
    # Run after the corrections: an alias must name one function and no real one.
    names = {entry["name"].lower() for entry in raw["functions"].values()}
    owner: dict[str, str] = {}
    for entry in raw["functions"].values():
        aliases = [a.lower() for a in entry.get("aliases", ())]
        if not {a.lower() for a in entry.get("undocumentedAliases", ())} <= set(aliases):
            raise CatalogFormatError(f"{entry['name']}: an undocumented alias is not an alias")
        for alias in aliases:
            if alias in names:
                raise CatalogFormatError(f"alias {alias!r} of {entry['name']} is a function")
            if owner.setdefault(alias, entry["name"]) != entry["name"]:
                raise CatalogFormatError(f"alias {alias!r} names two functions")


# --- corrections measured on the public corpus ---------------------------------


def fix_summarize_keys_only(raw: Raw) -> None:
    # `summarize by: {k}` without an aggregation lists the distinct keys: 23 parseable
    # corpus queries, e.g. published dashboards (Dynatrace/obslab-llm-observability
    # Travel-Advisor-Overview tile 18; 19 tiles of LawrenceBarratt90/Dynatrace-Business-
    # Observability-Demonstrator). Upstream marks the aggregation required.
    _find_param(_command(raw, "summarize"), "aggregation")["required"] = False


def fix_empty_constructors(raw: Raw) -> None:
    # Constructors make empty values too: `if(..., array(local), else: array())` runs in
    # dynatrace-oss/CustomerSuccess (Software Obsolescence Management 1.5.0, tiles 124,
    # 132, 133), `filter tags == record()` in mf-dynatrace/dt-mcp-workspace. Upstream
    # marks the variadic parameters of the "create" functions required.
    found = False
    for entry in raw["functions"].values():
        if entry.get("category") != "dql.functionCategory.create":
            continue
        for signature in entry["signatures"]:
            for param in signature.get("parameters", ()):
                if param.get("variadic"):
                    param["required"] = False
                    found = True
    if not found:
        raise CatalogFormatError("no variadic parameter in the create functions")


def add_first_alias(raw: Raw) -> None:
    # `first()` (not in the catalog, undocumented) runs as `takeFirst()` in every version,
    # 1.0.1 to 1.4.0, of a dashboard Dynatrace publishes (dynatrace-oss/CustomerSuccess,
    # Platform Adoption): 52 corpus calls.
    take_first = _function(raw, "takeFirst")
    _add_once(take_first.setdefault("aliases", []), "first")
    _add_once(take_first.setdefault("undocumentedAliases", []), "first")


def add_entity_selector_alias(raw: Raw) -> None:
    # `entitySelector()` (not in the catalog, undocumented) runs as
    # `classicEntitySelector()` in a query Dynatrace publishes: the lookup of hosts by the
    # VMs they run on in Dynatrace/monitoring-coverage (README.md, commit b5db2f8).
    selector = _function(raw, "classicEntitySelector")
    _add_once(selector.setdefault("aliases", []), "entitySelector")
    _add_once(selector.setdefault("undocumentedAliases", []), "entitySelector")


def fix_rename_pairs(raw: Raw) -> None:
    # `fieldsRename old, new` (unnamed pairs) runs besides the documented `new = old`:
    # published dashboards of theharithsa/dynatrace-mcp-otel (7 tiles) and examples
    # (redashu/dynatrace_euroclear_24thmarch2026 day1/DQL_examples.md).
    _find_param(_command(raw, "fieldsRename"), "field")["acceptsPairs"] = True


# --- facts upstream does not model --------------------------------------------

# Parameters whose values name fields of the other side, not of the stage's input:
# lookup's key in the subquery and the subquery fields `fields:` copies (DQL_SPEC §3.4,
# §3.5, §6 #18: listed fields are taken from the subquery and added unprefixed), and
# the record members `fieldsFlatten ..., fields:` takes out.
OTHER_SIDE = (
    ("lookup", "lookupField"),
    ("lookup", "fields"),
    ("join", "fields"),
    ("joinNested", "fields"),
    ("fieldsFlatten", "fields"),
)


def mark_other_side(raw: Raw) -> None:
    for command, name in OTHER_SIDE:
        _find_param(_command(raw, command), name)["namesOtherSide"] = True


# What `fetch` and `describe` read (upstream has no list: its dataObject kind takes any
# name). Each entry names its evidence; a name ending in `.*` is a family of views.
GRAIL_DATA_MODEL = "docs.dynatrace.com/docs/platform/grail/data-model"
DATA_OBJECTS: tuple[tuple[str, str], ...] = (
    ("logs", f"table; {GRAIL_DATA_MODEL}"),
    ("events", f"table; {GRAIL_DATA_MODEL}"),
    ("bizevents", f"table; {GRAIL_DATA_MODEL}"),
    ("spans", f"table; {GRAIL_DATA_MODEL}"),
    ("security.events", f"table (built-in security buckets); {GRAIL_DATA_MODEL}"),
    ("dt.system.events", f"table; {GRAIL_DATA_MODEL}; semantic dictionary, system events"),
    ("dt.system.buckets", f"system table; {GRAIL_DATA_MODEL}"),
    ("dt.system.data_objects", f"system table; {GRAIL_DATA_MODEL}"),
    ("dt.system.files", f"system table (lookup files); {GRAIL_DATA_MODEL}"),
    ("dt.entity.*", f"views of classic entities, one per entity type; {GRAIL_DATA_MODEL}"),
    (
        "user.events",
        "semantic dictionary, RUM user events; published queries: "
        "dynatrace-wwse/codespaces-framework (RUM dashboard), Dynatrace/dynatrace-for-ai",
    ),
    (
        "user.sessions",
        "docs.dynatrace.com/docs/semantic-dictionary/model/rum/user-sessions; "
        "Dynatrace/dynatrace-for-ai (dt-obs-frontends skill)",
    ),
    ("user.replays", "published queries reading session replays (dtctl examples)"),
    (
        "dt.davis.problems",
        "published dashboards: dynatrace-oss/CustomerSuccess (Dynatrace Tenant Review)",
    ),
    (
        "dt.davis.events",
        "published dashboards: Dynatrace/dynatrace-configuration-as-code-samples "
        "(service_monitoring_validation)",
    ),
    ("dt.davis.problems.snapshots", "published queries reading problem snapshots"),
    ("dt.davis.events.snapshots", "Dynatrace/dynatrace-for-ai (dt-migration examples)"),
    (
        "dt.system.query_executions",
        "dynatrace-oss/terraform-provider-dynatrace (anomaly detector test data), "
        "dynatrace-perfclinics/dynatrace-getting-started (Flight Stats notebook)",
    ),
    ("dt.synthetic.events", "dynatrace-perfclinics/dynatrace-getting-started (workflows)"),
    ("metric.series", "Dynatrace/dynatrace-for-ai (dt-dql-essentials skill)"),
    ("application.snapshots", "dynatrace-oss/dtctl (Live Debugger snapshots)"),
    (
        "dt.semantic_dictionary.fields",
        "Dynatrace/dynatrace-for-ai (dt-dql-essentials, semantic dictionary reference)",
    ),
    (
        "dt.semantic_dictionary.models",
        "dynatrace-oss/dynatrace-mcp (src/index.ts, the execute_dql tool description)",
    ),
)


# The members of a family that completion offers: the entity types that published
# queries (public dashboards and notebooks) read with `fetch` at least three times, most
# read first. Other members are accepted all the same.
FAMILY_MEMBERS: dict[str, tuple[str, ...]] = {
    "dt.entity.*": tuple(
        f"dt.entity.{kind}"
        for kind in (
            "host",
            "process_group_instance",
            "service",
            "container_group_instance",
            "kubernetes_cluster",
            "application",
            "process_group",
            "cloud_application",
            "cloud_application_namespace",
            "software_component",
            "azure_vm",
            "synthetic_test",
            "host_group",
            "virtualmachine",
            "hypervisor",
            "http_check",
            "synthetic_location",
            "azure_sql_server",
            "service_instance",
            "ec2_instance",
            "azure_region",
            "vmware_datacenter",
            "mobile_application",
            "kubernetes_service",
            "geoloc_site",
            "gcp_zone",
            "environment",
            "custom_device",
            "custom_application",
            "cloud_application_instance",
            "aws_lambda_function",
            "aws_credentials",
            "aws_availability_zone",
            "active_gate",
        )
    ),
}


def data_objects() -> tuple[DataObject, ...]:
    names = [name.lower() for name, _ in DATA_OBJECTS]
    if len(set(names)) != len(names):
        raise CatalogFormatError("a data object is listed twice")
    unknown = set(FAMILY_MEMBERS) - {name for name in names if name.endswith(".*")}
    if unknown:
        raise CatalogFormatError(f"members of families not listed: {sorted(unknown)}")
    return tuple(
        DataObject(name=name, evidence=evidence, members=FAMILY_MEMBERS.get(name, ()))
        for name, evidence in DATA_OBJECTS
    )


CORRECTIONS = (
    fix_sort_direction,
    fix_traverse_aliases,
    fix_fetch_bucket,
    add_min_unit,
    fix_summarize_keys_only,
    fix_empty_constructors,
    add_first_alias,
    add_entity_selector_alias,
    fix_rename_pairs,
    mark_other_side,
)


# --- conversion --------------------------------------------------------------


def _parameter(raw: Raw) -> Parameter:
    unknown = set(raw) - _PARAMETER_KEYS - _PROJECT_PARAMETER_KEYS
    if unknown:
        raise CatalogFormatError(f"parameter {raw['name']!r}: unknown keys {sorted(unknown)}")
    enum = raw.get("allowedEnumValues", [])
    quoted = {_is_quoted(v) for v in enum}
    if len(quoted) > 1:
        raise CatalogFormatError(f"parameter {raw['name']!r}: enum mixes quoted and bare values")
    default = raw.get("defaultValue")
    if enum and default is not None:
        default = _unquote(default)
    return Parameter(
        name=raw["name"],
        aliases=tuple(raw.get("aliases", ())),
        kinds=tuple(_short(k) for k in raw.get("parameterValueTypes", ())),
        value_types=tuple(_short(t) for t in raw.get("valueTypes", ())),
        required=raw.get("required", False),
        requires_name=raw.get("requiresName", False),
        variadic=raw.get("variadic", False),
        assignment_support=raw.get("assignmentSupport", "none"),
        default_value=default,
        enum_values=tuple(_unquote(v) for v in enum),
        enum_quoted=quoted == {True},
        min_value=int(raw["minValue"]) if "minValue" in raw else None,
        max_value=int(raw["maxValue"]) if "maxValue" in raw else None,
        excludes=tuple(raw.get("excludes", ())),
        modifiers=tuple(
            Modifier(name=m["name"], parameter=m["parameter"], value=_unquote(m["value"]))
            for m in raw.get("modifiers", ())
        ),
        hidden=raw.get("hidden", False),
        experimental=raw.get("experimental", False),
        names_other_side=raw.get("namesOtherSide", False),
        accepts_pairs=raw.get("acceptsPairs", False),
    )


def _contexts(raw: Raw) -> dict[str, FunctionContext]:
    """Function category -> the aggregation context its functions belong to."""
    contexts: dict[str, FunctionContext] = {}
    for kind, context in AGGREGATION_KINDS.items():
        try:
            categories = raw["parameterValueTypes"][f"dql.parameterValueType.{kind}"][
                "allowedFunctionCategories"
            ]
        except KeyError:
            raise CatalogFormatError(f"no function categories for kind {kind!r}") from None
        for category in categories:
            if contexts.setdefault(_short(category), context) != context:
                raise CatalogFormatError(f"category {category!r} is in two contexts")
    return contexts


def _enum_of(entry: Raw, name: str) -> tuple[str, ...]:
    units: list[str] = []
    for signature in entry["signatures"]:
        for param in signature.get("parameters", ()):
            for value in param.get("allowedEnumValues", ()):
                if _unquote(value) not in units:
                    units.append(_unquote(value))
    if not units:
        raise CatalogFormatError(f"{name}: no unit enumeration")
    return tuple(units)


def build(raw: Raw, sha256: str) -> Catalog:
    """The project catalog for the parsed shared catalog ``raw`` (not modified)."""
    raw = copy.deepcopy(raw)
    check_names(raw)
    check_project_keys(raw)
    for correction in CORRECTIONS:
        correction(raw)
    check_function_aliases(raw)

    starts = set(raw["dataSources"])
    missing = starts - {c["name"] for c in raw["commands"].values()}
    if missing:
        raise CatalogFormatError(f"data sources that are not commands: {sorted(missing)}")
    commands = tuple(
        Command(
            key=key,
            name=entry["name"],
            synopsis=entry.get("synopsis", ""),
            parameters=tuple(_parameter(p) for p in entry["parameters"]),
            is_start=entry["name"] in starts,
            experimental=entry.get("experimental", False),
        )
        for key, entry in sorted(raw["commands"].items())
    )

    contexts = _contexts(raw)
    functions = tuple(
        Function(
            key=key,
            name=entry["name"],
            category=_short(entry["category"]),
            context=contexts.get(_short(entry["category"])),
            synopsis=entry.get("synopsis", ""),
            signatures=tuple(
                Signature(
                    parameters=tuple(_parameter(p) for p in sig.get("parameters", ())),
                    outputs=tuple(_short(t) for t in sig.get("outputs", ())),
                    experimental=sig.get("experimental", False),
                )
                for sig in entry["signatures"]
            ),
            experimental=entry.get("experimental", False),
            deprecated=entry.get("deprecated", False),
            aliases=tuple(entry.get("aliases", ())),
            undocumented_aliases=tuple(entry.get("undocumentedAliases", ())),
        )
        for key, entry in sorted(raw["functions"].items())
    )

    source = raw["source"]
    return Catalog(
        generated_by=GENERATED_BY,
        source=Source(
            repository=source["repository"],
            commit=source["commit"],
            license=source["license"],
            sha256=sha256,
        ),
        commands=commands,
        functions=functions,
        pseudo_parameters=PSEUDO_PARAMETERS,
        duration_units=_enum_of(raw["functions"]["dql.function.duration"], "duration()"),
        time_alignment_units=_enum_of(raw["operators"]["dql.operator.timeAlignmentAt"], "@"),
        data_objects=data_objects(),
    )


def render(catalog: Catalog) -> str:
    return _dump(catalog.model_dump(mode="json", exclude_defaults=True, by_alias=True))


def render_names(catalog: Catalog) -> str:
    """``names.json``: the catalog spelling of every command and function name (aliases
    included) by lower-case name. The parser needs only these, and reading them from
    the whole catalog would cost every start-up of the command line a few milliseconds."""
    functions: dict[str, str] = {}
    for function in catalog.functions:
        for alias in function.aliases:
            functions.setdefault(alias.lower(), alias)
    # A real function name wins over an alias spelled the same.
    functions.update({f.name.lower(): f.name for f in catalog.functions})
    commands = {c.name.lower(): c.name for c in catalog.commands}
    return _dump({"_generated_by": GENERATED_BY, "commands": commands, "functions": functions})


def _dump(data: Raw) -> str:
    # indent=0: one value per line keeps diffs readable without padding.
    return (
        json.dumps(data, sort_keys=True, indent=0, separators=(",", ":"), ensure_ascii=False) + "\n"
    )


def generate(source: Path) -> str:
    """The text of ``catalog.json`` for the shared catalog at ``source``."""
    data = source.read_bytes()
    return render(build(json.loads(data), hashlib.sha256(data).hexdigest()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if catalog.json is out of date"
    )
    args = parser.parse_args(argv)
    text = generate(args.source)
    outputs = {
        OUTPUT: text,
        NAMES_OUTPUT: render_names(Catalog.model_validate_json(text)),
    }
    if args.check:
        stale = [
            path
            for path, wanted in outputs.items()
            if (path.read_text(encoding="utf-8") if path.exists() else "") != wanted
        ]
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date", file=sys.stderr)
        return 1 if stale else 0
    for path, wanted in outputs.items():
        path.write_text(wanted, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
