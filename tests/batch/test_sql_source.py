"""Rows from a SQL query (SQLite and PostgreSQL) score exactly as the same rows from Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from slipway.batch.output import to_online_rows
from slipway.core.errors import InvalidInputError
from slipway.core.settings import redact_url

QUERY = "SELECT * FROM loans ORDER BY row_id"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def loans_url(request: pytest.FixtureRequest, credit_rows: pd.DataFrame) -> str:
    url = str(request.getfixturevalue(f"{request.param}_url"))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        credit_rows.to_sql("loans", connection, index=False)
    engine.dispose()
    return url


def test_query_rows_score_as_the_same_rows_from_parquet(
    batch_home, loans_url: str, credit_parquet: Path, tmp_path: Path
) -> None:
    from_sql = batch_home.score(
        "credit:1", loans_url, tmp_path / "sql", query=QUERY, chunk_rows=400, workers=0
    )
    batch_home.score("credit:1", credit_parquet, tmp_path / "parquet", workers=0)
    sql_table = pq.read_table(tmp_path / "sql")
    assert to_online_rows(sql_table) == to_online_rows(pq.read_table(tmp_path / "parquet"))
    assert sql_table.column("row_id").to_pylist() == list(range(len(sql_table)))
    assert from_sql.record.input == redact_url(loans_url)


@pytest.mark.parametrize(
    ("query", "options", "match"),
    [
        (
            "SELECT * FROM no_such_table",
            {},
            r"the query failed on .*no_such_table|no such table|does not exist",
        ),
        ("SELECT row_id, age FROM loans", {}, r"has no column 'income'"),
        (QUERY, {"resume": True}, r"cannot resume a run over .*: a query's rows can change"),
        ("  ", {}, r"empty query"),
    ],
    ids=["unknown table", "missing column", "resume", "empty"],
)
def test_bad_queries_are_refused_and_nothing_is_written(
    batch_home, loans_url: str, tmp_path: Path, query: str, options, match
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        batch_home.score("credit:1", loans_url, tmp_path / "out", query=query, workers=0, **options)
    assert not [path for path in tmp_path.iterdir() if "out" in path.name]


def test_a_database_url_without_a_query_is_refused(batch_home, tmp_path: Path) -> None:
    with pytest.raises(
        InvalidInputError, match=r"looks like a database URL: give the rows to score with query="
    ):
        batch_home.score("credit:1", "postgresql://u:secret@db/loans", tmp_path / "out", workers=0)
