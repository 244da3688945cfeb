"""Corpus queries that parse but are not valid DQL, with the errors check() reports.

Each entry was read by hand; the reason says why the query is wrong. Most come from
documentation written without running the queries (invented functions, KQL/SQL habits,
``if(c, a, b)`` with a positional ``else``, which Dynatrace's own guidance lists as failing
with TOO_MANY_POSITIONAL_PARAMETERS). Only identifiers are kept here, never query text.
"""

from __future__ import annotations

IF_ELSE = "if(c, a, b): `else` is named-only (TOO_MANY_POSITIONAL_PARAMETERS)"
IF_CHAIN = "if() with several condition/value pairs"
ROUND = "round(x, 2): `decimals` is named-only"
TAGS = "`tags:azure[...]` unquoted; Dynatrace's docs write `` `tags:azure`[...] ``"
RECORD_COLON = "record(k: v) for record(k = v)"
COLON_NAME = "`name: value` where `name = value` is meant"
JOIN_FIELDS = "invented leftFields:/rightFields: parameters"
TIME_RANGE = "invented timeRange: parameter"
PARSE_UNQUOTED = "DPL pattern not in a string"
TRAVERSE = "invented traverse syntax"
KQL = "KQL/SQL command (where, take)"
NO_FUNCTION = "function DQL does not have (SQL/KQL habit or invented)"
SORT_COUNT = "sort count() for the field `count()` (PARAMETER_MUST_NOT_BE_AN_AGGREGATION)"
AGG_CONTEXT = "aggregation function of another context"
TEMPLATE = "exercise template with empty subqueries"
JOIN_ON = "join without on:"
LOOKUP_FIELD = "lookup without lookupField:"
BARE = "a bare command name from the plugin catalog, not a query"
KIND_LEFT = "kind: left is not a join kind (leftOuter)"
JOIN_NESTED = "joinNested without a name for the nested records"
EXTRA_ARG = "an argument the function does not take"
DURATION = "duration() with three arguments"

# corpus id -> (error codes, why the query is invalid), grouped by repository
EXPECTED_ERRORS: dict[str, tuple[tuple[str, ...], str]] = {
    # AndrewUsher/obsidian-dynatrace-dql
    "q6b935d5fbe7e": (("DQL102", "DQL105"), "; ".join((TRAVERSE, NO_FUNCTION))),
    "qa7adf3e78338": (("DQL102",), NO_FUNCTION),
    # JeremyProffitt/go-mcp-dynatrace
    "q023185db1bea": (("DQL108",), KIND_LEFT),
    "q07621fea8b3e": (("DQL103",), COLON_NAME),
    "q0a2d5c44d501": (("DQL103",), COLON_NAME),
    "q1836a38e6dfe": (("DQL103",), COLON_NAME),
    "q19da4f73dc38": (("DQL102", "DQL103"), COLON_NAME),
    "q2b4be5332a35": (("DQL103",), COLON_NAME),
    "q2d17dd1fd7a7": (("DQL103",), COLON_NAME),
    "q566b4338f0e6": (("DQL103",), COLON_NAME),
    "qe5e485cff34b": (("DQL103",), COLON_NAME),
    # LawrenceBarratt90/Dynatrace-Business-Observability-Demonstrator
    "q168669d7649c": (("DQL103",), TAGS),
    "q3752a5199ea1": (("DQL102",), NO_FUNCTION),
    "q5ffcdb55aa1e": (("DQL107",), IF_ELSE),
    "q79136cbf49c3": (("DQL107",), IF_ELSE),
    "q7cbb2334b298": (("DQL106",), DURATION),
    "q91fa449d8211": (("DQL107",), IF_ELSE),
    "qbc4addffe505": (("DQL106",), DURATION),
    "qbe5ce962e4a2": (("DQL102",), NO_FUNCTION),
    "qc3d2e0d5a4dd": (("DQL107",), IF_ELSE),
    "qd7beaf658859": (("DQL107",), IF_ELSE),
    "qdc6b5c401dc1": (("DQL107",), IF_ELSE),
    "qe59eecadbdac": (("DQL107",), IF_ELSE),
    "qed541b828dcb": (("DQL105",), LOOKUP_FIELD),
    # aachtenberg/dynatrace-dql-kb
    "q395f124bb07a": (("DQL111",), AGG_CONTEXT),
    "q3c806662ce8a": (("DQL103",), JOIN_FIELDS),
    "q8668f57e810b": (("DQL101",), KQL),
    "q8c05ef20d4f0": (("DQL103", "DQL117"), "; ".join((JOIN_NESTED, JOIN_FIELDS))),
    "q955a36a4a11a": (("DQL103",), TIME_RANGE),
    "qed9c7515d35b": (("DQL107",), IF_ELSE),
    # alan-delcaro/workshop-dql-parceiros
    "q0242dfd949f4": (("DQL107", "DQL108"), "; ".join((KIND_LEFT, ROUND))),
    "q50762a520c0b": (("DQL107",), ROUND),
    "q7a13c0da3561": (("DQL107",), IF_ELSE),
    "q9a3128deb29d": (("DQL103",), RECORD_COLON),
    "qad9e9a418df1": (("DQL107",), ROUND),
    "qd73dba3b9f0a": (("DQL107", "DQL108"), "; ".join((KIND_LEFT, IF_ELSE))),
    "qde0f471cd9b7": (("DQL107",), "; ".join((ROUND, IF_ELSE))),
    # discostu105/dynatrace-astroshop-app
    "q9092e087a000": (("DQL105",), JOIN_ON),
    "q918dce693615": (("DQL105",), AGG_CONTEXT),
    # dynatrace-oss/dynatrace-ai-agent-instrumentation-examples
    "q4eb0f64dad29": (("DQL102",), NO_FUNCTION),
    "q7a6fd104ebd9": (("DQL102",), NO_FUNCTION),
    # dynatrace-oss/intellij-idea-dql
    "qab4a8ea039a1": (("DQL105",), BARE),
    "qb801268f2c3c": (("DQL105",), BARE),
    # dynatrace-wwse/enablement-dql-301
    "q45477c973b28": (("DQL114",), TEMPLATE),
    "q4f4cb4b81a06": (("DQL105", "DQL114"), "; ".join((LOOKUP_FIELD, TEMPLATE))),
    "qa0563a80a4bd": (("DQL105", "DQL114"), "; ".join((LOOKUP_FIELD, TEMPLATE))),
    # lawrobar90/Dynatrace-Business-Observability-Forge
    "q0d550c59610c": (("DQL111",), SORT_COUNT),
    "q5b5bf1edecae": (("DQL111",), SORT_COUNT),
    "q775f56e2f974": (("DQL111",), SORT_COUNT),
    # maheedhar132/learn-dql
    "q00058828502f": (("DQL107",), IF_ELSE),
    "q19a55318e64d": (("DQL103",), PARSE_UNQUOTED),
    "q4528a04ea39e": (("DQL105",), JOIN_ON),
    "qb6bb8d8a63b8": (("DQL107",), IF_ELSE),
    "qc2d88728fe1f": (("DQL107",), IF_ELSE),
    "qdcc81e82734f": (("DQL103",), TRAVERSE),
    # mf-dynatrace/dt-mcp-workspace
    "qdd2c2bb87e5d": (("DQL102",), NO_FUNCTION),
    # nithyeswari/guide
    "q0c5f0570a1b3": (("DQL102",), NO_FUNCTION),
    "q555e64a967d8": (("DQL105",), JOIN_ON),
    "q59e7a34662a3": (("DQL107",), IF_ELSE),
    "q6d74f51d892c": (("DQL102",), NO_FUNCTION),
    "qa18a2ae7a697": (("DQL102",), NO_FUNCTION),
    "qcf3a1c2ff199": (("DQL107",), IF_ELSE),
    "qd52b1d8761ad": (("DQL102",), NO_FUNCTION),
    "qdc35e2acd7a7": (("DQL107",), IF_ELSE),
    "qdddff49c0f1b": (("DQL102",), NO_FUNCTION),
    "qfa003cfad830": (("DQL107",), IF_ELSE),
    "qfadfaabfc350": (("DQL107", "DQL111"), "; ".join((IF_ELSE, AGG_CONTEXT))),
    # theharithsa/dynatrace-mcp-otel
    "q30ec4003f56d": (("DQL106", "DQL107"), "; ".join((EXTRA_ARG, IF_ELSE))),
    "q333474e81272": (("DQL106",), EXTRA_ARG),
    "q380298081b94": (("DQL107",), IF_ELSE),
    "q7e9e60ea443f": (("DQL102",), NO_FUNCTION),
    "q84191710812d": (("DQL101",), KQL),
    "q8b2f9e5d3791": (("DQL101",), KQL),
    "q8bb056330c33": (("DQL107",), ROUND),
    "q912eef7104ac": (("DQL107",), ROUND),
    "q97ca0177e94c": (("DQL107",), ROUND),
    "qae802cc5ec01": (("DQL111",), SORT_COUNT),
    "qbfa7b25cf572": (("DQL107",), ROUND),
    "qd1c74a8f4173": (("DQL105", "DQL111"), AGG_CONTEXT),
    "qd3c152ec7023": (("DQL102", "DQL107"), "; ".join((ROUND, NO_FUNCTION))),
    "qda62ac776ae1": (("DQL107",), IF_ELSE),
    "qe4a9ca57aed0": (("DQL107",), IF_ELSE),
    "qeab7f3e45bcc": (("DQL107",), ROUND),
    # timstewart-dynatrace/Best-Practice-Notebooks
    "qb9bbec67ddb6": (("DQL102",), NO_FUNCTION),
}
