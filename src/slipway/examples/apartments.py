"""Apartment prices: a regression whose key feature comes from a lookup table.

The price of an apartment depends on its surface, rooms, floor, construction year, and the
average market price per square metre of its zip code. That average lives in its own table
(``zip_prices``), maintained apart from the apartments; the model is trained with it joined in,
and serving looks it up by ``zip_code`` the same way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

NAME = "apartments"
TARGET = "price"
LOOKUP_KEY = "zip_code"
LOOKUP_VALUE = "zip_avg_price_m2"
FEATURES = ("surface", "rooms", "floor", "construction_year", LOOKUP_VALUE)
ZIP_TABLE = "zip_prices"
#: The environment variable the artifact's lookup reads the zip table's database URL from.
ZIP_DB_URL_ENV = "APARTMENTS_ZIP_DB_URL"
ZIP_CODES = tuple(f"750{number:02d}" for number in range(1, 21))
MODEL_CARD = {
    "purpose": "Estimate the market price of an apartment from its characteristics and location.",
    "owner": "pricing-team@example.com",
    "intended_use": "Decision support for property valuations; a human reviews every estimate.",
    "limitations": "Trained on apartments of 18-150 m² in 20 zip codes; not valid for houses, "
    "commercial property, or zip codes without a market price.",
    "risk_level": "medium",
}


def zip_prices(*, seed: int = 7) -> pd.DataFrame:
    """The enrichment table: average market price per m² for each zip code."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {LOOKUP_KEY: list(ZIP_CODES), LOOKUP_VALUE: np.round(rng.uniform(7_500, 15_000, len(ZIP_CODES)), 0)}
    )


def write_zip_table(path: str | Path, prices: pd.DataFrame | None = None) -> str:
    """Write the zip table into the SQLite file ``path`` (replacing it); return its database URL."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    prices = zip_prices() if prices is None else prices
    with sqlite3.connect(path) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {ZIP_TABLE}")
        connection.execute(
            f"CREATE TABLE {ZIP_TABLE} ({LOOKUP_KEY} TEXT PRIMARY KEY, {LOOKUP_VALUE} REAL NOT NULL)"
        )
        connection.executemany(
            f"INSERT INTO {ZIP_TABLE} VALUES (?, ?)",  # noqa: S608 - a constant table name
            zip(prices[LOOKUP_KEY].astype(str), prices[LOOKUP_VALUE].astype(float), strict=True),
        )
    connection.close()
    return f"sqlite:///{path}"


def lookup(*, url_env: str = ZIP_DB_URL_ENV, timeout_ms: int = 250) -> dict[str, Any]:
    """The lookup the artifact declares: ``zip_code`` -> ``zip_avg_price_m2`` from ``zip_prices``.

    An unknown zip code is rejected (the model card: not valid for zip codes without a market
    price); when the database cannot answer in time, the row is scored with the median zip price
    and flagged, rather than not answered at all.
    """
    return {
        "name": ZIP_TABLE,
        "keys": {LOOKUP_KEY: "string"},
        "values": {LOOKUP_VALUE: "number"},
        "source": {"kind": "sql", "url_env": url_env, "table": ZIP_TABLE},
        "timeout_ms": timeout_ms,
        "cache": {"size": 1_000, "ttl_s": 300},
        "on_miss": "reject",
        "on_error": {
            "action": "default",
            "values": {LOOKUP_VALUE: float(zip_prices()[LOOKUP_VALUE].median())},
        },
    }


def generate(rows: int = 5_000, *, seed: int = 42, prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Apartments with their price; the zip code's market price is NOT included (see ``enrich``)."""
    rng = np.random.default_rng(seed)
    prices = zip_prices() if prices is None else prices
    surface = np.clip(np.round(rng.lognormal(np.log(60), 0.45, rows), 1), 18, 150)
    rooms = np.clip(np.round(surface / 22 + rng.normal(0, 0.6, rows)), 1, 7).astype(np.int64)
    floor = rng.integers(0, 10, rows)
    year = rng.integers(1890, 2026, rows)
    zip_code = rng.choice(np.asarray(ZIP_CODES), rows)
    per_m2 = prices.set_index(LOOKUP_KEY)[LOOKUP_VALUE].reindex(zip_code).to_numpy()
    age_factor = np.where(year >= 2000, 1.08, 1.0 - 0.0012 * (2000 - year))
    price = surface * per_m2 * age_factor * (1 + 0.012 * floor) * rng.normal(1.0, 0.05, rows)
    return pd.DataFrame(
        {
            "surface": surface,
            "rooms": rooms,
            "floor": floor.astype(np.int64),
            "construction_year": year.astype(np.int64),
            LOOKUP_KEY: zip_code.astype(object),
            TARGET: np.round(price, -2),
        }
    )


def enrich(frame: pd.DataFrame, prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Join the zip code's market price, as the lookup does when scoring."""
    prices = zip_prices() if prices is None else prices
    return frame.merge(prices, on=LOOKUP_KEY, how="left", validate="many_to_one")


def split(frame: pd.DataFrame, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train (60%), validation (20%) and holdout (20%) rows, deterministically."""
    order = np.random.default_rng(seed).permutation(len(frame))
    cut1, cut2 = int(0.6 * len(frame)), int(0.8 * len(frame))
    parts = (order[:cut1], order[cut1:cut2], order[cut2:])
    train, validation, holdout = (frame.iloc[index].reset_index(drop=True) for index in parts)
    return train, validation, holdout


def train(frame: pd.DataFrame, **params: Any) -> HistGradientBoostingRegressor:
    settings = {"max_iter": 200, "learning_rate": 0.1, "random_state": 0, **params}
    return HistGradientBoostingRegressor(**settings).fit(frame[list(FEATURES)], frame[TARGET])
