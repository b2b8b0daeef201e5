"""Degraded mode: registry state on every metadata backend, audited; what each mode does to a
scored row; the automatic rule; and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from slipway.adapters.factory import open_artifact_store, open_metadata_store
from slipway.api import Slipway
from slipway.artifacts.loader import LoadedArtifact
from slipway.cli.main import main
from slipway.core.errors import InvalidInputError, NotFoundError
from slipway.guards.degraded import DegradationRule, DegradedMode, degrade_when
from slipway.registry.service import Registry
from support.examples import ExampleData


@pytest.fixture
def registry(metadata_url: str, tmp_path: Path) -> Iterator[Registry]:
    metadata = open_metadata_store(metadata_url)
    yield Registry(
        metadata, open_artifact_store(str(tmp_path / "store"), cache_dir=tmp_path / "cache"), actor="ops@test"
    )
    metadata.close()


def test_degrade_change_mode_and_restore_are_stored_and_audited(registry: Registry) -> None:
    assert registry.degradation("apartments") is None

    first = registry.degrade("apartments", "warn", reason="zip price table is stale")
    second = registry.degrade("apartments", "refuse", reason="upstream outage")
    assert registry.degradations() == [second]
    ended = registry.restore("apartments", reason="outage over")

    assert (first.mode, second.mode, ended) == ("warn", "refuse", second)
    assert registry.degradation("apartments") is None and registry.degradations() == []
    events = [e for e in registry.audit_log() if e.subject == "apartments"]
    assert [e.action for e in events] == ["deployment.degraded", "deployment.degraded", "deployment.restored"]
    assert events[0].before is None and events[0].after["reason"] == "zip price table is stale"
    assert events[1].before["mode"] == "warn" and events[1].after["mode"] == "refuse"
    assert events[2].before["mode"] == "refuse" and events[2].after == {"reason": "outage over"}
    assert all(e.actor == "ops@test" for e in events)
    assert registry.verify_audit().ok


@pytest.mark.parametrize(
    ("name", "mode", "reason", "error", "message"),
    [
        (
            "apartments",
            "panic",
            "x",
            InvalidInputError,
            "unknown degraded mode 'panic'; use one of: warn, fallback",
        ),
        ("apartments", "warn", "  ", InvalidInputError, "needs a reason"),
        ("../etc", "warn", "x", InvalidInputError, "invalid deployment name '../etc'"),
    ],
    ids=["mode", "reason", "name"],
)
def test_bad_degrade_requests_are_refused(
    registry: Registry, name: str, mode: str, reason: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        registry.degrade(name, mode, reason=reason)
    assert registry.degradations() == [] and registry.audit_log() == []


def test_restoring_a_deployment_that_is_not_degraded_is_an_error(registry: Registry) -> None:
    with pytest.raises(NotFoundError, match="'credit' is not in degraded mode"):
        registry.restore("credit")


# -- what each mode does to a scored row --------------------------------------------------------


@pytest.fixture
def rows(credit_data: ExampleData) -> pd.DataFrame:
    return credit_data.holdout.head(5)


def score(
    sw: Slipway, artifact: LoadedArtifact, rows: pd.DataFrame
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    scored = sw.scorer(artifact, runtime="native", deployment="credit").score_frame(rows)
    return scored.rows(), scored.notes


def test_warn_scores_as_usual_and_says_degraded(
    slipway_home: Slipway, guarded_credit: LoadedArtifact, rows: pd.DataFrame
) -> None:
    normal, notes = score(slipway_home, guarded_credit, rows)
    assert "degraded" not in notes
    slipway_home.degrade("credit", "warn", reason="drift under investigation")

    warned, notes = score(slipway_home, guarded_credit, rows)

    assert warned == normal
    assert notes["degraded"] | {"since": None} == {
        "degraded": True,
        "mode": "warn",
        "reason": "drift under investigation",
        "since": None,
    }


def test_fallback_mode_lets_the_fallback_answer_every_row(
    slipway_home: Slipway, guarded_credit: LoadedArtifact, rows: pd.DataFrame
) -> None:
    slipway_home.degrade("credit", "fallback", reason="model under review")

    scored, notes = score(slipway_home, guarded_credit, rows)

    assert notes["degraded"]["mode"] == "fallback"
    assert [row["prediction"] for row in scored] == [0] * len(rows)  # the artifact's fallback rule
    assert all(
        row["flags"][0]["guard"] == "degraded" and row["flags"][0]["action"] == "fallback" for row in scored
    )


def test_refuse_mode_rejects_every_row_with_the_reason(
    slipway_home: Slipway, guarded_credit: LoadedArtifact, rows: pd.DataFrame
) -> None:
    slipway_home.degrade("credit", "refuse", reason="data breach upstream")

    scored, notes = score(slipway_home, guarded_credit, rows)

    assert all(row["rejected"] and row["prediction"] is None for row in scored)
    assert scored[0]["flags"][0]["message"] == "degraded mode (refuse): data breach upstream"
    slipway_home.restore("credit")
    restored, notes = score(slipway_home, guarded_credit, rows)
    assert "degraded" not in notes and not any(row["rejected"] for row in restored)


def test_the_stage_rereads_the_state_after_its_refresh_interval() -> None:
    states: list[Any] = [None]
    stage = DegradedMode(lambda: states[-1], refresh_s=3600)
    assert stage.state() is None
    states.append("changed")
    assert stage.state() is None  # cached: the registry is not read for every request
    assert DegradedMode(lambda: states[-1], refresh_s=0).state() == "changed"


# -- the automatic rule -------------------------------------------------------------------------


def test_the_rule_enters_degraded_mode_when_too_many_recent_rows_are_out_of_domain(
    slipway_home: Slipway, guarded_credit: LoadedArtifact, credit_data: ExampleData
) -> None:
    scorer = slipway_home.scorer(guarded_credit, runtime="native")
    rule = DegradationRule(guard="domain", share=0.2, window=50, mode="warn")
    normal = credit_data.holdout.head(40)
    odd = credit_data.holdout.iloc[40:70].copy()
    odd.loc[odd.index[:20], "income"] = 5e6  # 20 of the last 50 rows out of domain: 40%

    assert (
        degrade_when(rule, scorer.score_frame(normal), registry=slipway_home.registry, name="credit") is None
    )
    entered = degrade_when(rule, scorer.score_frame(odd), registry=slipway_home.registry, name="credit")

    assert entered is not None and entered.mode == "warn"
    assert entered.reason == "40% of the last 50 rows were flagged by the domain guard (limit 20%)"
    assert entered.rule == {"guard": "domain", "share": 0.2, "window": 50, "observed_share": 0.4}
    assert degrade_when(rule, scorer.score_frame(odd), registry=slipway_home.registry, name="credit") is None
    audited = [e for e in slipway_home.audit_log() if e.action == "deployment.degraded"]
    assert len(audited) == 1 and audited[0].after["rule"]["observed_share"] == 0.4


def test_the_rule_waits_for_a_full_window_and_forgets_old_rows(
    guarded_credit: LoadedArtifact, credit_data: ExampleData
) -> None:
    from slipway.guards.stages import guard_stages
    from slipway.scoring.scorer import Scorer

    scorer = Scorer(guarded_credit, stages=guard_stages(guarded_credit))
    odd = credit_data.holdout.head(10).copy()
    odd["income"] = 5e6
    rule = DegradationRule(guard="domain", share=0.5, window=20)

    assert rule.observe(scorer.score_frame(odd)) is False  # 10 rows: the window is not full
    assert rule.observe(scorer.score_frame(odd)) is True  # 20 of 20
    assert rule.observe(scorer.score_frame(credit_data.holdout.head(15))) is False  # 5 of the last 20
    with pytest.raises(InvalidInputError, match="share must be in"):
        DegradationRule(share=1.5)


# -- CLI ----------------------------------------------------------------------------------------


def run(home: Path, *args: str) -> int:
    return main(["--home", str(home), *args])


def test_cli_degrade_list_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    assert run(home, "degrade", "apartments", "--mode", "fallback", "--reason", "zip table stale") == 0
    assert "apartments degraded (fallback)" in capsys.readouterr().out

    assert run(home, "degraded", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["mode"], d["reason"]) for d in listed] == [
        ("apartments", "fallback", "zip table stale")
    ]

    assert run(home, "restore", "apartments", "--reason", "fixed") == 0
    assert "apartments restored (was fallback" in capsys.readouterr().out
    assert run(home, "degraded", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run(home, "audit", "log", "--json") == 0
    actions = [event["action"] for event in json.loads(capsys.readouterr().out)]
    assert actions == ["deployment.degraded", "deployment.restored"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["degrade", "apartments", "--mode", "panic", "--reason", "x"], "Invalid value for '--mode'"),
        (["degrade", "apartments", "--mode", "warn"], "Missing option '--reason'"),
        (["degrade", "apartments", "--mode", "warn", "--reason", " "], "needs a reason"),
        (["restore", "apartments"], "'apartments' is not in degraded mode"),
    ],
    ids=["mode", "no-reason", "blank-reason", "not-degraded"],
)
def test_cli_bad_degrade_commands_fail_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(tmp_path / "home", *args) != 0
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
