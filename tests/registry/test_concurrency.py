"""Eight processes register into one fresh registry at once: versions stay contiguous, the chain linear.

The processes start together (a barrier) and each opens the registry itself, so this also covers
eight processes migrating a brand-new database at the same moment.
"""

from __future__ import annotations

import multiprocessing
import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from tiny_artifact import write_tiny_artifact

from slipway.adapters.factory import open_artifact_store, open_metadata_store
from slipway.core.manifest import MANIFEST_NAME, parse_manifest
from slipway.registry.service import Registry

WORKERS = 8
VERSIONS_PER_WORKER = 50
JOIN_TIMEOUT_S = 600


def register_all(
    url: str, home: str, worker: int, folders: list[str], start: Barrier, errors: Queue[str]
) -> None:
    """One process: open the registry and register each artifact folder in turn."""
    try:
        start.wait(timeout=120)
        metadata = open_metadata_store(url)
        artifacts = open_artifact_store(f"{home}/artifacts", cache_dir=Path(home) / "cache")
        registry = Registry(metadata, artifacts, actor=f"worker-{worker}")
        for folder in map(Path, folders):
            manifest = parse_manifest((folder / MANIFEST_NAME).read_bytes())
            record, created = registry.register(manifest, folder)
            if not created:
                raise AssertionError(f"{folder} was not registered as a new version: {record}")
        metadata.close()
    except BaseException:
        errors.put(f"worker {worker}:\n{traceback.format_exc()}")
        raise


@pytest.mark.slow
def test_eight_processes_register_400_versions(sql_url: str, tmp_path: Path) -> None:
    folders = [
        [str(tmp_path / "builds" / f"{w}-{i}") for i in range(VERSIONS_PER_WORKER)] for w in range(WORKERS)
    ]
    digests = {
        write_tiny_artifact(Path(folder), payload=Path(folder).name.encode()).digest
        for batch in folders
        for folder in batch
    }
    context = multiprocessing.get_context("spawn")
    start, errors = context.Barrier(WORKERS), context.Queue()
    processes = [
        context.Process(target=register_all, args=(sql_url, str(tmp_path), w, folders[w], start, errors))
        for w in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(JOIN_TIMEOUT_S)
    stuck = [p for p in processes if p.is_alive()]
    for process in stuck:
        process.kill()
    problems = [errors.get(timeout=5) for _ in range(errors.qsize())] if not errors.empty() else []
    assert not stuck, f"{len(stuck)} workers still running after {JOIN_TIMEOUT_S}s"
    assert problems == []
    assert [p.exitcode for p in processes] == [0] * WORKERS

    metadata = open_metadata_store(sql_url)
    registry = Registry(
        metadata, open_artifact_store(str(tmp_path / "artifacts"), cache_dir=tmp_path), actor="t"
    )
    versions = registry.list_versions("credit")
    log = registry.audit_log()
    report = registry.verify_audit()
    metadata.close()

    assert [v.version for v in versions] == list(range(1, WORKERS * VERSIONS_PER_WORKER + 1))
    assert {v.digest for v in versions} == digests
    assert {v.created_by for v in versions} == {f"worker-{w}" for w in range(WORKERS)}
    assert [e.action for e in log].count("model.created") == 1
    assert [e.after["version"] for e in log if e.action == "version.registered"] == [  # type: ignore[index]
        v.version for v in versions
    ]
    assert report.ok, report.problem
    assert report.checked == WORKERS * VERSIONS_PER_WORKER + 1
