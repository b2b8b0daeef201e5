"""``import slipway`` stays light: no database, server, engine or ML stack until used (Click's pattern)."""

import json
import subprocess
import sys

HEAVY = (
    "sqlalchemy",
    "alembic",
    "starlette",
    "uvicorn",
    "pyspark",
    "sklearn",
    "fsspec",
    "psycopg",
    "redis",
    "onnxruntime",
    "xgboost",
    "lightgbm",
    "pandas",
    "httpx",
)


def loaded_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return {name.split(".")[0] for name in json.loads(out)}


def test_import_slipway_loads_no_heavy_module():
    loaded = loaded_after("import slipway")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_registry_database_stack_is_imported_only_when_used():
    assert "sqlalchemy" not in loaded_after("import slipway\nslipway.Slipway")
    assert "sqlalchemy" in loaded_after(
        "import slipway, tempfile\nsw = slipway.connect(home=tempfile.mkdtemp())\nsw.models()"
    )
