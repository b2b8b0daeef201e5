"""Batch engines score with the artifact's guards by default; ``guards=False`` (CLI
``--no-guards``) leaves them out, through the same one function (``guard_stages``)."""

from __future__ import annotations

from pathlib import Path

from slipway.api import Slipway
from slipway.artifacts.loader import LoadedArtifact
from slipway.cli.main import main
from support.examples import ExampleData


def test_the_local_engine_applies_guards_unless_switched_off(
    slipway_home: Slipway, guarded_credit: LoadedArtifact, credit_data: ExampleData, tmp_path: Path
) -> None:
    slipway_home.register(guarded_credit.path)
    rows = credit_data.holdout.head(200).copy()
    rows.loc[rows.index[::10], "income"] = 5e6
    source = tmp_path / "rows.parquet"
    rows.to_parquet(source)

    guarded = slipway_home.score("credit:1", source, tmp_path / "on", workers=0)
    plain = slipway_home.score("credit:1", source, tmp_path / "off", workers=0, guards=False)

    assert guarded.record.rows_flagged >= 20 and plain.record.rows_flagged == 0
    home = ["--home", str(slipway_home.settings.home)]
    assert (
        main(
            [*home, "score", "credit:1", str(source), str(tmp_path / "cli"), "--workers", "0", "--no-guards"]
        )
        == 0
    )
    assert slipway_home.batch_runs(limit=1)[0].rows_flagged == 0
