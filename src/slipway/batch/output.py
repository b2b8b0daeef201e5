"""The output rows of batch scoring, as Arrow: one schema for the local and the Spark engine.

Each output row holds, in this order:

| column | type | meaning |
|---|---|---|
| *kept columns* | as in the input | the input's key columns passed through (see ``keep``) |
| ``prediction`` | float64, or the class label type | null for rejected rows |
| ``probabilities`` | struct of float64, one field per class label | classifiers only; null when rejected |
| ``rejected`` | bool | a guard refused the row |
| ``flagged`` | bool | the row has at least one flag |
| ``flags`` | string (JSON) | the list of ``Flag.to_dict()``, exactly as in online responses |
| ``extras`` | string (JSON), nullable | extra per-row outputs of stages (``interval``, ``prediction_set``) |
| ``model_name``, ``model_version`` | string, int64 | the version scored (null: an unregistered artifact) |
| ``artifact_digest``, ``run_id`` | string | the artifact's digest, the run's id |

Flags are a JSON string rather than an Arrow struct because a flag's ``value`` and ``detail`` hold
values of any type; ``json.loads`` of the column gives back exactly the online form, and
``to_online_rows`` rebuilds the whole per-row JSON of ``ScoredBatch.row``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from slipway.core.errors import InvalidInputError
from slipway.scoring.result import ScoredBatch, to_plain
from slipway.scoring.row_flags import RowFlags
from slipway.scoring.schema import Columns

PREDICTION = "prediction"
PROBABILITIES = "probabilities"
REJECTED = "rejected"
FLAGGED = "flagged"
FLAGS = "flags"
EXTRAS = "extras"
MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
DIGEST = "artifact_digest"
RUN_ID = "run_id"
RESULT_COLUMNS = (PREDICTION, PROBABILITIES, REJECTED, FLAGGED, FLAGS, EXTRAS)
IDENTITY_COLUMNS = (MODEL_NAME, MODEL_VERSION, DIGEST, RUN_ID)
NO_FLAGS = "[]"
_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


@dataclass(frozen=True, slots=True)
class RunIdentity:
    """What every output row says about where it came from."""

    model: str
    version: int | None
    digest: str
    run_id: str


def label_type(task: str, classes: tuple[Any, ...] | None) -> pa.DataType:
    """The Arrow type of ``prediction``: float64 for regression, else that of the class labels."""
    if task != "classification" or not classes:
        return pa.float64()
    if all(isinstance(label, bool) for label in classes):
        return pa.bool_()
    if all(isinstance(label, int) and not isinstance(label, bool) for label in classes):
        return pa.int64()
    if all(isinstance(label, int | float) and not isinstance(label, bool) for label in classes):
        return pa.float64()
    return pa.string()


@dataclass(frozen=True)
class OutputLayout:
    identity: RunIdentity
    task: str
    classes: tuple[Any, ...] | None
    #: The input columns passed through, with their input types.
    kept: pa.Schema
    #: Whether ``to_table`` adds the identity columns; the Spark engine adds them itself as
    #: constants after scoring, so its Python workers do not ship them, per row, back to Spark.
    stamped: bool = True

    @classmethod
    def for_input(
        cls,
        identity: RunIdentity,
        *,
        task: str,
        classes: tuple[Any, ...] | None,
        input_schema: pa.Schema,
        keep: Sequence[str],
    ) -> OutputLayout:
        reserved = set(RESULT_COLUMNS) | set(IDENTITY_COLUMNS)
        for name in keep:
            if name in reserved:
                raise InvalidInputError(
                    f"input column {name!r} would clash with the output column of the same name; "
                    "rename it in the input, or do not keep it"
                )
            if input_schema.get_field_index(name) < 0:
                raise InvalidInputError(
                    f"cannot keep column {name!r}: the input has no such column "
                    f"(its columns: {', '.join(input_schema.names)})"
                )
        kept = pa.schema([input_schema.field(name) for name in keep])
        return cls(identity, task, classes if task == "classification" else None, kept)

    @property
    def has_probabilities(self) -> bool:
        return self.classes is not None

    def probability_type(self) -> pa.StructType:
        return pa.struct([pa.field(str(label), pa.float64()) for label in self.classes or ()])

    def schema(self) -> pa.Schema:
        """The columns of ``to_table``: those of every output row unless not ``stamped``."""
        fields = [*self.kept, pa.field(PREDICTION, label_type(self.task, self.classes))]
        if self.has_probabilities:
            fields.append(pa.field(PROBABILITIES, self.probability_type()))
        fields += [
            pa.field(REJECTED, pa.bool_()),
            pa.field(FLAGGED, pa.bool_()),
            pa.field(FLAGS, pa.string()),
            pa.field(EXTRAS, pa.string()),
        ]
        if self.stamped:
            fields += [pa.field(name, value.type) for name, value in self.identity_values()]
        return pa.schema(fields)

    def identity_values(self) -> list[tuple[str, pa.Scalar]]:
        """The identity columns, in output order, with the value they hold in every row."""
        identity = self.identity
        return [
            (MODEL_NAME, pa.scalar(identity.model, pa.string())),
            (MODEL_VERSION, pa.scalar(identity.version, pa.int64())),
            (DIGEST, pa.scalar(identity.digest, pa.string())),
            (RUN_ID, pa.scalar(identity.run_id, pa.string())),
        ]

    def to_table(self, scored: ScoredBatch, kept: pa.Table) -> pa.Table:
        """The output rows for ``scored``; ``kept`` holds the passed-through input columns."""
        n = len(scored)
        rejected = np.asarray(scored.rejected, dtype=bool)
        flagged = scored.flagged
        columns: list[pa.Array | pa.ChunkedArray] = [kept.column(name) for name in self.kept.names]
        columns.append(_predictions(scored.predictions, rejected, label_type(self.task, self.classes)))
        if self.has_probabilities:
            columns.append(self._probabilities(scored.probabilities, rejected, n))
        columns += [
            pa.array(rejected, type=pa.bool_()),
            pa.array(flagged, type=pa.bool_()),
            _flags_column(scored.flags, flagged),
            _extras(scored.extras, n),
        ]
        if self.stamped:
            columns += [pa.repeat(value, n) for _, value in self.identity_values()]
        return pa.Table.from_arrays(columns, schema=self.schema())

    def empty(self) -> pa.Table:
        return self.schema().empty_table()

    def _probabilities(self, probabilities: np.ndarray | None, rejected: np.ndarray, n: int) -> pa.Array:
        kind = self.probability_type()
        if probabilities is None:
            return pa.nulls(n, kind)
        fields = [pa.array(probabilities[:, index], type=pa.float64()) for index in range(kind.num_fields)]
        return pa.StructArray.from_arrays(fields, fields=list(kind), mask=pa.array(rejected, type=pa.bool_()))


def _predictions(values: np.ndarray, rejected: np.ndarray, kind: pa.DataType) -> pa.Array:
    if pa.types.is_string(kind) and values.dtype != object:
        values = values.astype(str).astype(object)
    elif pa.types.is_string(kind):
        values = np.asarray([None if v is None else str(v) for v in values.tolist()], dtype=object)
    return pa.array(values, type=kind, mask=rejected, from_pandas=True)


def _flags_column(flags: RowFlags, flagged: np.ndarray) -> pa.Array:
    """The JSON of each row's flags; rows without flags (most) share one "[]", built in Arrow."""
    n = len(flags)
    empty = pa.repeat(pa.scalar(NO_FLAGS, pa.string()), n)
    if not flagged.any():
        return empty
    texts = [_json([f.to_dict() for f in flags[row]]) for row in np.flatnonzero(flagged).tolist()]
    return pc.replace_with_mask(empty, pa.array(flagged, type=pa.bool_()), pa.array(texts, type=pa.string()))


def _extras(extras: dict[str, list[Any]], n: int) -> pa.Array:
    if not extras:
        return pa.nulls(n, pa.string())
    names = list(extras)
    rows = (_json(dict(zip(names, values, strict=True))) for values in zip(*extras.values(), strict=True))
    return pa.array(rows, type=pa.string(), size=n)


def _json(value: Any) -> str:
    """Compact JSON; orjson because batch outputs write one per flagged row, or per row for extras
    (a conformal interval or set): ~10x faster than ``json.dumps``, and ``json.loads`` reads it back
    to the same values."""
    return orjson.dumps(value, default=to_plain, option=_JSON_OPTIONS).decode()


def table_columns(table: pa.Table | pa.RecordBatch, names: Sequence[str]) -> Columns:
    """Numpy arrays of ``names`` for the scorer (nulls become NaN or None, as from a DataFrame)."""
    columns: Columns = {}
    for name in names:
        column = table.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        columns[name] = column.to_numpy(zero_copy_only=False)
    return columns


def to_online_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The per-row JSON that online scoring returns (``ScoredBatch.rows``), from output rows."""
    rows = []
    names = set(table.column_names)
    for record in table.select([c for c in RESULT_COLUMNS if c in names]).to_pylist():
        row: dict[str, Any] = {
            "prediction": record[PREDICTION],
            "rejected": record[REJECTED],
            "flags": json.loads(record[FLAGS]),
        }
        if PROBABILITIES in record:
            row["probabilities"] = record[PROBABILITIES]
        if record[EXTRAS] is not None:
            row.update(json.loads(record[EXTRAS]))
        rows.append(row)
    return rows
