"""Pydantic models of Dynatrace platform dashboards and notebooks, for reading.

The formats are open: Dynatrace adds keys between versions and tools add their
own, so every model keeps unknown keys (``extra="allow"``) and most fields are
optional even where the docs call them required. Values whose shape varies a
lot (visualization settings, cached results) stay plain JSON. Writing never
goes through these models: edits are spliced into the original text by
:mod:`dqlbuild.documents.jsontext`, so key order and formatting survive.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, JsonValue, SkipValidation, Tag

# The token the Dashboards app stores as a variable's default for "select all".
SELECT_ALL = "3420b2ac-f1cf-4b24-b62d-61ba1ba8ed05*"

VariableType = Literal["query", "csv", "text", "code"]

# Plain JSON that a model keeps as it is (visualization settings, cached results). The
# models read decoded JSON only, so checking again that such a value is JSON would walk
# the largest parts of a document for nothing.
Json = Annotated[JsonValue, SkipValidation]


class OpenModel(BaseModel):
    """Base of all models: unknown keys are kept, JSON names are aliases."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Timeframe(OpenModel):
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class QuerySettings(OpenModel):
    max_result_records: int | None = Field(default=None, alias="maxResultRecords")
    default_scan_limit_gbytes: float | None = Field(default=None, alias="defaultScanLimitGbytes")
    max_result_mega_bytes: float | None = Field(default=None, alias="maxResultMegaBytes")
    default_sampling_ratio: float | None = Field(default=None, alias="defaultSamplingRatio")
    enable_sampling: bool | None = Field(default=None, alias="enableSampling")


class Variable(OpenModel):
    """A dashboard variable, referenced from queries as ``$key``."""

    # Optional only so that malformed generated files still load.
    key: str | None = None
    # Not an enum: files written by other tools carry other values.
    type: str | None = None
    input: str | None = None
    multiple: bool | None = None
    visible: bool | None = None
    editable: bool | None = None
    default_value: JsonValue = Field(default=None, alias="defaultValue")
    version: int | None = None


class Layout(OpenModel):
    x: int | float = 0
    y: int | float = 0
    w: int | float = 0
    h: int | float = 0


class _Tile(OpenModel):
    title: str | None = None
    description: str | None = None


class DataTile(_Tile):
    """A DQL tile; Explore tiles are data tiles with ``subType``/``queryConfig``."""

    type: Literal["data"] = "data"
    query: str | None = None
    visualization: str | None = None
    visualization_settings: Json = Field(default=None, alias="visualizationSettings")
    query_settings: QuerySettings | None = Field(default=None, alias="querySettings")
    davis: Json = None
    timeframe: Json = None
    segments: Json = None
    sub_type: str | None = Field(default=None, alias="subType")
    query_config: Json = Field(default=None, alias="queryConfig")

    @property
    def is_explore(self) -> bool:
        """Built with the Explore builder: the app regenerates ``query`` from ``queryConfig``."""
        return self.sub_type is not None or self.query_config is not None


class MarkdownTile(_Tile):
    type: Literal["markdown"] = "markdown"
    content: str | None = None


class CodeTile(_Tile):
    """A JavaScript tile; ``input`` is code, not DQL."""

    type: Literal["code"] = "code"
    input: str | None = None
    visualization: str | None = None
    visualization_settings: Json = Field(default=None, alias="visualizationSettings")
    query_settings: QuerySettings | None = Field(default=None, alias="querySettings")


class SloTile(_Tile):
    type: Literal["slo"] = "slo"
    input: str | None = None
    visualization_settings: Json = Field(default=None, alias="visualizationSettings")


class GenericTile(OpenModel):
    """A tile of a kind this library does not know; kept as it is."""

    type: Any = None
    title: Any = None


def _tile_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in ("data", "markdown", "code", "slo") else "other"


Tile = Annotated[
    Annotated[DataTile, Tag("data")]
    | Annotated[MarkdownTile, Tag("markdown")]
    | Annotated[CodeTile, Tag("code")]
    | Annotated[SloTile, Tag("slo")]
    | Annotated[GenericTile, Tag("other")],
    Discriminator(_tile_tag),
]


class GridLayout(OpenModel):
    mode: str | None = None
    columns_count: int | None = Field(default=None, alias="columnsCount")


class DashboardSettings(OpenModel):
    grid_layout: GridLayout | None = Field(default=None, alias="gridLayout")
    default_timeframe: Json = Field(default=None, alias="defaultTimeframe")
    default_segments: Json = Field(default=None, alias="defaultSegments")


class DashboardContent(OpenModel):
    """The ``content`` of a platform (Gen3) dashboard."""

    # A number for dashboards; the app migrates old versions, never bump it.
    version: int | float | None = None
    variables: list[Variable] = Field(default_factory=list)
    tiles: dict[str, Tile] = Field(default_factory=dict)
    # Plain JSON is accepted for entries that are not {x, y, w, h} (seen in generated files).
    layouts: dict[str, Annotated[Layout | JsonValue, Field(union_mode="left_to_right")]] = Field(
        default_factory=dict
    )
    settings: DashboardSettings | None = None
    annotations: list[Json] | None = None
    imported_with_code: bool | None = Field(default=None, alias="importedWithCode")
    refresh_rate: int | None = Field(default=None, alias="refreshRate")
    grid_columns_count: int | None = Field(default=None, alias="gridColumnsCount")


class SectionInput(OpenModel):
    value: str | None = None
    timeframe: Timeframe | None = None


class DqlSectionState(OpenModel):
    input: SectionInput | None = None
    visualization: str | None = None
    visualization_settings: Json = Field(default=None, alias="visualizationSettings")
    query_settings: QuerySettings | None = Field(default=None, alias="querySettings")
    davis: Json = None
    # Cached output of the last run; its ``input.value`` is a copy of the query.
    result: Json = None
    state: Json = None


class _Section(OpenModel):
    id: str | None = None
    title: str | None = None
    show_title: bool | None = Field(default=None, alias="showTitle")


class DqlSection(_Section):
    """A notebook DQL section; the query is ``state.input.value``."""

    type: Literal["dql"] = "dql"
    show_input: bool | None = Field(default=None, alias="showInput")
    height: float | None = None
    sub_type: str | None = Field(default=None, alias="subType")
    query_config: Json = Field(default=None, alias="queryConfig")
    state: DqlSectionState | None = None

    @property
    def query(self) -> str | None:
        if self.state is None or self.state.input is None:
            return None
        return self.state.input.value

    @property
    def is_explore(self) -> bool:
        return self.sub_type is not None or self.query_config is not None


class MarkdownSection(_Section):
    type: Literal["markdown"] = "markdown"
    markdown: str | None = None


class FunctionSection(_Section):
    """A JavaScript/TypeScript section (``state.input.value`` is code)."""

    type: Literal["function"] = "function"
    state: Json = None


class GenericSection(OpenModel):
    type: Any = None
    id: Any = None


def _section_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in ("dql", "markdown", "function") else "other"


Section = Annotated[
    Annotated[DqlSection, Tag("dql")]
    | Annotated[MarkdownSection, Tag("markdown")]
    | Annotated[FunctionSection, Tag("function")]
    | Annotated[GenericSection, Tag("other")],
    Discriminator(_section_tag),
]


class NotebookContent(OpenModel):
    """The ``content`` of a notebook (no variables; ``version`` is a string)."""

    version: str | int | None = None
    default_timeframe: Timeframe | None = Field(default=None, alias="defaultTimeframe")
    default_segments: Json = Field(default=None, alias="defaultSegments")
    sections: list[Section] = Field(default_factory=list)


class ModificationInfo(OpenModel):
    created_by: str | None = Field(default=None, alias="createdBy")
    created_time: str | None = Field(default=None, alias="createdTime")
    last_modified_by: str | None = Field(default=None, alias="lastModifiedBy")
    last_modified_time: str | None = Field(default=None, alias="lastModifiedTime")


class DocumentEnvelope(OpenModel):
    """Metadata around a document's content (``content`` itself excluded).

    ``version`` here is the document revision used for optimistic locking,
    not the content schema version.
    """

    id: str | None = None
    name: str | None = None
    type: str | None = None
    description: str | None = None
    owner: str | None = None
    is_private: bool | None = Field(default=None, alias="isPrivate")
    version: Json = None
    labels: Json = None
    modification_info: ModificationInfo | None = Field(default=None, alias="modificationInfo")
