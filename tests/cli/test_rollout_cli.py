"""The release commands end to end on a real registry: deploy, rollout, status, watch, rollback, ab report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slipway.api import Slipway
from slipway.cli.main import main
from slipway.core.canonical import sha256_hex
from slipway.core.manifest import MANIFEST_NAME, FileEntry, Manifest, ModelSection
from slipway.core.settings import Settings
from support.cli_env import isolated_home


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolated_home(tmp_path, monkeypatch)
    with Slipway(Settings.from_env()) as sw:
        for version in (1, 2):
            folder = tmp_path / f"v{version}"
            (folder / "model").mkdir(parents=True)
            payload = f"v{version}".encode()
            (folder / "model" / "m.bin").write_bytes(payload)
            manifest = Manifest(
                name="apartments",
                model=ModelSection(flavor="test", path="model/m.bin", task="regression", features=("x",)),
                files=(FileEntry(path="model/m.bin", sha256=sha256_hex(payload), size=len(payload)),),
                slipway_version="0.1.0",
            )
            (folder / MANIFEST_NAME).write_bytes(manifest.to_bytes())
            sw.registry.register(manifest, folder)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_deploy_roll_out_watch_and_roll_back(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    code, out, _ = run(capsys, "deploy", "apartments", "apartments:1", "--runtime", "compiled")
    assert code == 0 and "deployment apartments: stable (single), stable apartments:1" in out
    code, out, _ = run(capsys, "rollout", "apartments", "apartments:2", "--steps", "10,50,100", "--approval")
    assert code == 0 and "rolling (canary)" in out and "10% to candidate" in out
    code, out, _ = run(capsys, "rollout", "watch", "apartments", "--once")
    assert code == 0 and "hold: candidate answered 0 of 200 requests" in out
    code, out, _ = run(capsys, "status", "apartments", "--json")
    data = json.loads(out)
    assert data["traffic"]["candidate_percent"] == 10 and data["analysis"]["decision"] == "hold"
    assert data["slots"]["stable"]["options"] == {"runtime": "compiled"}
    code, out, _ = run(capsys, "status", "apartments")
    assert code == 0 and "wait  error rate: no candidate requests yet" in out
    code, out, _ = run(capsys, "rollback", "apartments", "--reason", "not today")
    assert code == 0 and "stable (single), stable apartments:1, candidate none" in out
    code, out, _ = run(capsys, "audit", "log", "--json")
    assert code == 0 and "rollout.rolled_back" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("rollout", "apartments", "apartments:2"), 3, "no deployment 'apartments'"),
        (("deploy", "apartments", "apartments:7"), 3, "no version 7"),
        (("deploy", "../x", "apartments:1"), 2, "invalid deployment name '../x'"),
        (("status", "nope"), 3, "no deployment 'nope'"),
        (("ab", "report", "nope"), 3, "no deployment 'nope'"),
        (("serve", "--deployment", "nope"), 3, "no deployment 'nope'"),
        (("serve",), 2, "give MODEL_REF, or --deployment NAME"),
        (("serve", "apartments:1", "--degrade-when", "domain:0.2"), 2, "GUARD:SHARE:WINDOW"),
    ],
    ids=[
        "no-deployment",
        "unknown-version",
        "bad-name",
        "status-unknown",
        "ab-unknown",
        "serve-unknown",
        "serve-nothing",
        "serve-bad-degrade-rule",
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(
    capsys: pytest.CaptureFixture[str], home: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    got, _, err = run(capsys, *args)
    assert got == code and message in err and len(err.strip().splitlines()) == 1


def test_a_second_rollout_and_bad_steps_are_refused(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    assert run(capsys, "deploy", "apartments", "apartments:1")[0] == 0
    code, _, err = run(capsys, "rollout", "apartments", "apartments:2", "--steps", "50,25,100")
    assert code == 2 and "not increasing (25 after 50)" in err
    code, _, err = run(capsys, "rollout", "apartments", "apartments:2", "--strategy", "ab", "--split", "150")
    assert code == 2 and "A/B split 150 is outside 0-100" in err
    assert run(capsys, "rollout", "apartments", "apartments:2", "--strategy", "shadow")[0] == 0
    code, _, err = run(capsys, "rollout", "apartments", "apartments:2", "--strategy", "blue-green")
    assert code == 4 and "already has a shadow rollout of apartments:2 running" in err
    code, _, err = run(capsys, "ab", "report", "apartments")
    assert code == 2 and "at least 2 outcomes per arm" in err
