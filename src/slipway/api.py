"""The Python API: one object, ``Slipway``, composing the capabilities over the configured stores.

    import slipway
    sw = slipway.connect()                       # SLIPWAY_HOME, SLIPWAY_REGISTRY_URL, ...
    built = sw.build(model, name="credit", train=frame, target="default")
    version = sw.register(built)
    sw.set_alias("credit", "champion", version.version)
    runner = sw.load("credit@champion")

Workflows that span capabilities (verify then register, resolve then load with the recorded
digest) live here, never inside a capability. The CLI is a thin layer over these methods.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.artifacts.builder import BuildSpec, BuiltArtifact, build_artifact
from slipway.artifacts.datasets import DataSource
from slipway.artifacts.loader import LoadedArtifact, load_artifact
from slipway.artifacts.packing import unpack_artifact
from slipway.artifacts.steps import BuildStep
from slipway.artifacts.verify import verify_artifact
from slipway.batch.engine import DEFAULT_CHUNK_ROWS, BatchEngine, BatchJob, BatchResult
from slipway.batch.output import IDENTITY_COLUMNS, RESULT_COLUMNS, RunIdentity
from slipway.batch.progress import NoProgress, ProgressReporter, RichProgress
from slipway.batch.sources import Source, arrow_types, check_columns, open_file_source
from slipway.batch.worker import ArtifactSpec, ScorerFactory, planning_artifact
from slipway.core.audit import AuditEvent, ChainReport, parse_time, utc_now_iso
from slipway.core.batch_run import BatchRunRecord, BatchRunStatus
from slipway.core.degradation import Degradation
from slipway.core.errors import ConflictError, InvalidInputError, NotFoundError, SlipwayError
from slipway.core.manifest import Manifest
from slipway.core.model import TrustOptions
from slipway.core.records import ModelRecord, ValidationRunRecord, VersionRecord, VersionStatus
from slipway.core.refs import ModelRef, parse_ref
from slipway.core.settings import Settings, redact_url
from slipway.enrichment.artifact import Lookups, LookupsStep, deployment_lookups, lookup_stages
from slipway.enrichment.join import JoinLookupStage
from slipway.enrichment.online import LookupStage
from slipway.guards.config import GuardsInput
from slipway.guards.degraded import DegradedMode
from slipway.guards.stages import guard_stages
from slipway.guards.step import GuardsStep
from slipway.registry.service import Registry
from slipway.runtimes.compile import OnnxCompileStep
from slipway.runtimes.parity import Tolerance
from slipway.runtimes.selection import check_choice, compiled_runtime, select_runtime
from slipway.scoring.scorer import Scorer, Stage

if TYPE_CHECKING:
    import pandas as pd
    from starlette.applications import Starlette

    from slipway.core.deployment import DeploymentRecord, OutcomeRecord, SlotRecord
    from slipway.guards.degraded import DegradationRule
    from slipway.rollout.abtest import Readout
    from slipway.rollout.service import Rollouts
    from slipway.scoring.runtime import Runtime
    from slipway.serving.config import ServeConfig
    from slipway.serving.degraded import DegradedProvider
    from slipway.serving.runner import ServeSpec
    from slipway.validation.plan import Plan, SqlSource
    from slipway.validation.run import ValidationRun

#: Aliases a version may take only after passing its gate (or with force and a reason).
GATED_ALIASES = ("champion", "production")


class Slipway:
    """slipway over one registry and artifact store (see ``Settings`` for where they are)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._lookup_stages: list[LookupStage | JoinLookupStage] = []

    @classmethod
    def from_env(cls, **overrides: str | Path | None) -> Slipway:
        return cls(Settings.from_env(None, **overrides))

    @cached_property
    def registry(self) -> Registry:
        from slipway.adapters.factory import open_artifact_store, open_metadata_store

        metadata = open_metadata_store(self.settings.registry_url)
        store = open_artifact_store(self.settings.store_url, cache_dir=self.settings.cache_dir / "artifacts")
        return Registry(metadata, store, actor=self.settings.actor)

    def close(self) -> None:
        while self._lookup_stages:
            self._lookup_stages.pop().close()
        if "registry" in self.__dict__:
            self.registry.metadata.close()

    def __enter__(self) -> Slipway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- package ---------------------------------------------------------------------------

    def build(
        self,
        model: Any,
        *,
        name: str,
        output: str | Path | None = None,
        train: DataSource | None = None,
        target: str | None = None,
        features: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        validation: DataSource | None = None,
        task: str | None = None,
        classes: Sequence[Any] | None = None,
        flavor: str | None = None,
        params: Mapping[str, Any] | None = None,
        code: Sequence[str | Path] = (),
        requirements: Sequence[str] = (),
        model_card: Mapping[str, Any] | str | Path | None = None,
        tests: str | Path | None = None,
        embed_data: bool = False,
        trust_pickle: bool = False,
        steps: Sequence[BuildStep] = (),
        lookups: Lookups | None = None,
        compile: bool = True,
        parity: Tolerance | None = None,
        guards: GuardsInput = None,
    ) -> BuiltArtifact:
        """Package ``model`` into an immutable artifact folder and return it.

        ``train`` (a DataFrame, or a Parquet/CSV path) is profiled for schema checks and guards;
        ``features`` defaults to its columns minus ``target`` and ``exclude`` (e.g. a sensitive
        attribute kept for fairness analysis). ``output`` defaults to
        ``$SLIPWAY_HOME/builds/NAME-DIGEST12``. Pickle is refused unless ``trust_pickle=True``.

        ``lookups`` (specs, mappings, or a YAML/JSON file) declares the enrichment lookups the
        model needs; requests then send their keys instead of the looked-up features. With
        ``compile`` (the default) the model is also compiled to ONNX where a converter exists
        and kept only if it matches the native model within ``parity`` (see
        ``slipway.runtimes.parity``); the build never fails because compilation failed.

        ``guards`` (a mapping, a YAML/JSON file, or False for none) configures the runtime guards
        fitted into the artifact (``slipway.guards.config``); by default domain, anomaly and
        output checks flag rows, plus conformal prediction when there is validation data.
        """
        spec = BuildSpec(
            name=name,
            train=train,
            target=target,
            features=features,
            exclude=exclude,
            validation=validation,
            task=task,
            classes=classes,
            flavor=flavor,
            params=params,
            code=code,
            requirements=requirements,
            model_card=model_card,
            tests=tests,
            embed_data=embed_data,
            trust_pickle=trust_pickle,
        )
        all_steps: list[BuildStep] = list(steps)
        if guards is not False and (train is not None or guards is not None):
            # the default guards are fitted on the training data; without it only asked-for ones fail
            all_steps.append(GuardsStep(guards))
        if lookups is not None:
            all_steps.append(LookupsStep(lookups))
        if compile:
            all_steps.append(OnnxCompileStep(tolerance=parity))
        if output is not None:
            return build_artifact(model, spec, output=Path(output), steps=all_steps)
        return build_artifact(model, spec, output_dir=self.settings.home / "builds", steps=all_steps)

    # -- register --------------------------------------------------------------------------

    def register(self, artifact: BuiltArtifact | str | Path, *, name: str | None = None) -> VersionRecord:
        """Verify the artifact (folder or .tar.gz) and record it as the model's next version.

        Registering an artifact the model already has returns the existing version.
        """
        path = artifact.path if isinstance(artifact, BuiltArtifact) else Path(artifact)
        with tempfile.TemporaryDirectory(prefix="slipway-register-") as scratch:
            if path.is_file():
                target = Path(scratch) / "artifact"
                unpack_artifact(path, target)
                path = target
            manifest = verify_artifact(path)
            record, _ = self.registry.register(manifest, path, name=name)
        return record

    def models(self) -> list[ModelRecord]:
        return self.registry.list_models()

    def versions(self, name: str) -> list[VersionRecord]:
        return self.registry.list_versions(name)

    def resolve(self, ref: str | ModelRef) -> VersionRecord:
        return self.registry.resolve(ref)

    def show(self, ref: str | ModelRef) -> tuple[VersionRecord, Manifest]:
        record = self.registry.resolve(ref)
        return record, verify_artifact(self.registry.artifact_path(record), expected_digest=record.digest)

    def set_alias(
        self, name: str, alias: str, version: int, *, reason: str | None = None, force: bool = False
    ) -> VersionRecord:
        """Point ``name@alias`` at ``version``.

        ``champion`` and ``production`` only go to a version whose latest gate passed; ``force=True``
        with a ``reason`` overrides that, and the audit event records the override.
        """
        details: dict[str, Any] | None = None
        if alias in GATED_ALIASES:
            self.registry.resolve(ModelRef(name, version=version))
            run = self.registry.latest_validation(name, version)
            if run is None or not run.passed:
                state = (
                    "has never been validated"
                    if run is None
                    else f"failed its latest gate (run {run.id}, {run.finished_at})"
                )
                if not force:
                    raise ConflictError(
                        f"refusing to point {name}@{alias} at version {version}: it {state}. Run "
                        f"`slipway validate {name}:{version}` and fix what fails, or override with "
                        '--force --reason "..." (recorded in the audit trail)'
                    )
                if not (reason or "").strip():
                    raise InvalidInputError(
                        'overriding the gate needs a reason (--reason "..."): '
                        "it is recorded in the audit trail"
                    )
                details = {"forced": True, "gate": "missing" if run is None else "failed"}
                if run is not None:
                    details["run"] = run.id
        return self.registry.set_alias(name, alias, version, reason=reason, details=details)

    def remove_alias(self, name: str, alias: str, *, reason: str | None = None) -> int:
        return self.registry.remove_alias(name, alias, reason=reason)

    def tag(self, ref: str | ModelRef, key: str, value: str) -> VersionRecord:
        return self.registry.set_tag(ref, key, value)

    def untag(self, ref: str | ModelRef, key: str) -> VersionRecord:
        return self.registry.remove_tag(ref, key)

    def set_status(
        self, ref: str | ModelRef, status: VersionStatus | str, *, reason: str | None = None
    ) -> VersionRecord:
        return self.registry.set_status(ref, status, reason=reason)

    # -- load and verify -------------------------------------------------------------------

    def load(
        self,
        source: str | Path | ModelRef,
        *,
        trust_pickle: bool = False,
        trusted_types: Sequence[str] = (),
    ) -> LoadedArtifact:
        """Load a registered version (``name:version``, ``name@alias``) or an artifact path.

        Every file is verified against the manifest, and a registered artifact's digest against
        the registry's record, before anything is deserialised.
        """
        trust = TrustOptions(pickle=trust_pickle, skops_types=tuple(trusted_types))
        if isinstance(source, Path) or (isinstance(source, str) and Path(source).exists()):
            return load_artifact(Path(source), trust=trust, unpack_dir=self.settings.cache_dir / "unpacked")
        record = self.registry.resolve(source)
        return load_artifact(self.registry.artifact_path(record), expected_digest=record.digest, trust=trust)

    def scorer(
        self,
        source: str | Path | ModelRef | LoadedArtifact,
        *,
        runtime: str = "auto",
        lookups: Lookups | None = None,
        stages: Sequence[Stage] = (),
        environ: Mapping[str, str] | None = None,
        trust_pickle: bool = False,
        trusted_types: Sequence[str] = (),
        guards: bool = True,
        deployment: str | None = None,
    ) -> Scorer:
        """A Scorer for a registered version or artifact: its runtime, lookups, guards, then ``stages``.

        ``runtime``: ``auto`` (the verified compiled runtime if any, else native), ``native`` or
        ``compiled``. ``lookups`` overrides the artifact's lookups for this deployment (a
        YAML/JSON file or entries; see ``slipway.enrichment.artifact``); lookup URLs are read
        from ``environ`` (default: the process environment). The lookup connections are closed
        by ``close()``. ``guards=False`` leaves out the artifact's runtime guards; ``deployment``
        names the deployment whose degraded mode (``degrade``) applies to the rows.
        """
        check_choice(runtime)
        artifact = (
            source
            if isinstance(source, LoadedArtifact)
            else self.load(source, trust_pickle=trust_pickle, trusted_types=trusted_types)
        )
        chosen = select_runtime(artifact, runtime)
        opened = self.lookup_stages(artifact, lookups=lookups, environ=environ)
        degraded = DegradedMode.from_registry(self.registry, deployment) if deployment else None
        guarding = guard_stages(artifact, guards=guards, degraded=degraded)
        return Scorer(artifact, runtime=chosen, stages=[*opened, *guarding, *stages])

    def lookup_stages(
        self,
        artifact: LoadedArtifact,
        *,
        lookups: Lookups | None = None,
        environ: Mapping[str, str] | None = None,
        join: bool = False,
    ) -> list[LookupStage | JoinLookupStage]:
        """Lookup stages for ``artifact`` (its lookups, with a deployment's overrides): online
        stages by default, join stages for batch engines with ``join=True``."""
        from slipway.adapters.lookup_sources import open_lookup_source

        specs = deployment_lookups(artifact, lookups)
        stages = lookup_stages(
            artifact, specs, open_source=lambda spec: open_lookup_source(spec, environ=environ), join=join
        )
        self._lookup_stages.extend(stages)
        return stages

    # -- serve -----------------------------------------------------------------------------

    def app(
        self,
        ref: str | Path | ModelRef,
        *,
        runtime: str = "auto",
        lookups: Lookups | None = None,
        stages: Sequence[Stage] = (),
        config: ServeConfig | None = None,
        degraded: DegradedProvider | None = None,
        probe_record: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        trust_pickle: bool = False,
        guards: bool = True,
        deployment: str | None = None,
        degrade_when: DegradationRule | str | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> Starlette:
        """An ASGI app scoring ``ref`` (see ``slipway.serving.app.create_app``); an alias is
        resolved once, so the app serves that version even if the alias moves. The degraded
        mode of ``deployment`` [the model's name] applies to every request; ``degrade_when`` (a
        ``DegradationRule`` or ``GUARD:SHARE:WINDOW[:MODE]``) enters it when the rule fires on the
        served rows."""
        from slipway.guards.degraded import DegradationWatch, parse_rule
        from slipway.serving.app import create_app

        version = None
        if not (isinstance(ref, Path) or (isinstance(ref, str) and Path(ref).exists())):
            record = self.resolve(ref)
            ref, version = ModelRef(record.name, version=record.version), record.version
        artifact = self.load(ref, trust_pickle=trust_pickle)
        name = deployment or artifact.name
        rule = parse_rule(degrade_when) if isinstance(degrade_when, str) else degrade_when
        watch: list[Stage] = (
            [] if rule is None else [DegradationWatch(rule, registry=self.registry, deployment=name)]
        )
        scorer = self.scorer(
            artifact,
            runtime=runtime,
            lookups=lookups,
            stages=[*stages, *watch],
            environ=environ,
            guards=guards,
            deployment=name,
        )

        def close() -> None:
            _close_stages(scorer)
            if on_close is not None:
                on_close()

        return create_app(
            scorer,
            version=version,
            config=config,
            degraded=degraded,
            probe_record=probe_record,
            on_close=close,
        )

    def deployment_app(
        self,
        name: str,
        *,
        config: ServeConfig | None = None,
        interval_s: float = 1.0,
        controller: bool = True,
        environ: Mapping[str, str] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> Starlette:
        """An ASGI app serving deployment ``name``: its slots side by side, each request routed by
        the deployment's policy, re-read from the registry every ``interval_s`` (see
        ``slipway.serving.deployment``); ``controller`` runs the canary analysis in this process."""
        from slipway.serving.config import ServeConfig
        from slipway.serving.deployment import DeploymentServer, create_deployment_app

        def build(slot: SlotRecord) -> Scorer:
            options = slot.options
            return self.scorer(
                slot.ref,
                runtime=str(options.get("runtime", "auto")),
                lookups=options.get("lookups"),
                environ=environ,
                trust_pickle=bool(options.get("trust_pickle", False)),
                deployment=name,  # `slipway degrade NAME` applies to every slot's rows
            )

        server = DeploymentServer(
            self.rollouts, name, build, config or ServeConfig(), interval_s=interval_s, controller=controller,
            on_close=on_close,
        )  # fmt: skip
        return create_deployment_app(server)

    def serve_deployment(
        self,
        name: str,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        workers: int = 1,
        config: ServeConfig | None = None,
        interval_s: float = 1.0,
        controller: bool = True,
    ) -> None:
        """Serve deployment ``name`` over HTTP until interrupted (``slipway serve --deployment``)."""
        from slipway.runtimes.threads import configure_threads
        from slipway.serving.config import ServeConfig
        from slipway.serving.runner import ServeSpec, check_address, run_app, run_workers, serving_cores

        check_address(host, port, workers)
        self.rollouts.deployments.get(name)  # a clear error before any process starts
        if workers == 1:
            configure_threads(workers=1, cores=serving_cores(1))
            run_app(
                self.deployment_app(name, config=config, interval_s=interval_s, controller=controller),
                host=host,
                port=port,
            )
            return
        spec = ServeSpec(
            ref="",
            deployment=name,
            rollout_interval_s=interval_s,
            controller=controller,
            home=str(self.settings.home),
            registry_url=str(self.settings.registry_url),
            store_url=self.settings.store_url,
            workers=workers,
            config=config or ServeConfig(),
        )
        run_workers(spec, host=host, port=port)

    def serve(
        self,
        ref: str,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        workers: int = 1,
        runtime: str = "auto",
        lookups: str | Path | None = None,
        config: ServeConfig | None = None,
        probe_record: Mapping[str, Any] | None = None,
        trust_pickle: bool = False,
        guards: bool = True,
        deployment: str | None = None,
        degrade_when: str | None = None,
    ) -> None:
        """Serve ``ref`` over HTTP until interrupted (``slipway serve``); loopback by default.

        Each of the ``workers`` processes limits its model threads to its share of the cores
        before it loads the model (``slipway.runtimes.threads``).
        """
        from slipway.serving.runner import ServeSpec, check_address, run_app, run_workers

        check_address(host, port, workers)
        if degrade_when is not None:
            from slipway.guards.degraded import parse_rule

            parse_rule(degrade_when)  # a bad rule fails here, not in every worker
        spec = ServeSpec(
            ref=str(ref),
            home=str(self.settings.home),
            registry_url=str(self.settings.registry_url),
            store_url=self.settings.store_url,
            runtime=runtime,
            lookups=None if lookups is None else str(lookups),
            probe_record=None if probe_record is None else dict(probe_record),
            trust_pickle=trust_pickle,
            guards=guards,
            deployment=deployment,
            degrade_when=degrade_when,
            workers=workers,
            config=config or ServeConfig(),
        )
        if workers == 1:
            run_app(self._serving_app(spec), host=host, port=port)
        else:
            run_workers(spec, host=host, port=port)  # each worker process calls worker_app()

    def _serving_app(self, spec: ServeSpec, *, on_close: Callable[[], None] | None = None) -> Starlette:
        from slipway.runtimes.threads import configure_threads
        from slipway.serving.runner import serving_cores

        configure_threads(workers=spec.workers, cores=serving_cores(spec.workers))  # before the model loads
        return self.app(
            spec.ref,
            runtime=spec.runtime,
            lookups=spec.lookups,
            config=spec.config,
            probe_record=spec.probe_record,
            trust_pickle=spec.trust_pickle,
            guards=spec.guards,
            deployment=spec.deployment,
            degrade_when=spec.degrade_when,
            on_close=on_close,
        )

    def verify(self, source: str | Path | ModelRef) -> Manifest:
        """Check every byte of a registered version's stored artifact (or of an artifact folder)."""
        if isinstance(source, Path) or (isinstance(source, str) and Path(source).exists()):
            return verify_artifact(Path(source))
        record = self.registry.resolve(source)
        return verify_artifact(self.registry.artifact_path(record), expected_digest=record.digest)

    # -- validate --------------------------------------------------------------------------

    def validate(
        self,
        source: str | Path | ModelRef,
        *,
        plan: str | Path | Mapping[str, Any] | Plan | None = None,
        against: str | None = None,
        compare: bool = True,
        report_dir: str | Path | None = None,
        runtimes: Sequence[Runtime] = (),
        trust_pickle: bool = False,
        trusted_types: Sequence[str] = (),
        progress: Callable[[str], None] | None = None,
    ) -> ValidationRun:
        """Run the validation gate on a registered version (or an artifact folder).

        ``plan`` defaults to the artifact's own ``tests/plan.yaml``. The version behind
        ``name@against`` (default: the plan's ``comparison.against``, itself ``champion``) is the
        champion to compare with. The artifact's verified compiled runtime (ONNX), if it has one,
        and any ``runtimes`` given are scored too and must match the native model (``runtime_parity``).
        Reports go to ``report_dir`` (default ``$SLIPWAY_HOME/reports/NAME-VERSION-TIME``). A
        registered version's run is stored, audited (``validation.passed``/``validation.failed``)
        and sets its status to validated or rejected. The verdict is returned, not raised: call
        ``.check()`` to raise ``GateFailedError``.
        """
        from slipway.validation.gate import GateOptions, run_gate
        from slipway.validation.reports import write_reports
        from slipway.validation.run import ValidationRun

        record, artifact = self._validation_target(
            source, trust_pickle=trust_pickle, trusted_types=trusted_types
        )
        plan_source = self._plan_source(plan, artifact)
        compiled = compiled_runtime(artifact)
        options = GateOptions(
            runtimes=(*runtimes, compiled) if compiled is not None else tuple(runtimes),
            read_sql=_read_sql,
            progress=progress,
            model={"ref": str(record.ref), "version": record.version} if record else {"ref": None},
        )
        alias = against or plan_source.plan.comparison.against
        if compare and alias is not None and plan_source.plan.comparison.against is not None:
            self._champion(
                artifact, record, alias, options, trust_pickle=trust_pickle, trusted_types=trusted_types
            )
        elif compare:
            options.comparison_note = "comparison turned off in the plan (comparison.against: null)"
        else:
            options.comparison_note = "comparison turned off by the caller"
        report = run_gate(artifact, plan_source, options)
        folder = Path(report_dir) if report_dir is not None else self._report_folder(artifact, record)
        paths = write_reports(report, folder)
        stored = None
        if record is not None:
            run = ValidationRunRecord(
                name=record.name,
                version=record.version,
                digest=artifact.digest,
                plan_digest=report.plan["digest"],
                verdict=report.verdict,
                started_at=report.started_at,
                finished_at=report.finished_at,
                actor=self.settings.actor,
                environment=report.environment,
                results=report.to_dict(),
                reports={kind: str(path.resolve()) for kind, path in paths.items()},
            )
            stored = self.registry.record_validation(run, failed=[f.id for f in report.failures])
        return ValidationRun(report, paths, stored)

    def validation_runs(self, ref: str | ModelRef) -> list[ValidationRunRecord]:
        """The stored gate runs of a version, oldest first."""
        return self.registry.validation_runs(ref)

    def _validation_target(
        self, source: str | Path | ModelRef, *, trust_pickle: bool, trusted_types: Sequence[str]
    ) -> tuple[VersionRecord | None, LoadedArtifact]:
        if isinstance(source, Path) or (isinstance(source, str) and Path(source).exists()):
            return None, self.load(source, trust_pickle=trust_pickle, trusted_types=trusted_types)
        record = self.registry.resolve(source)
        trust = TrustOptions(pickle=trust_pickle, skops_types=tuple(trusted_types))
        path = self.registry.artifact_path(record)
        return record, load_artifact(path, expected_digest=record.digest, trust=trust)

    @staticmethod
    def _plan_source(plan: Any, artifact: LoadedArtifact) -> Any:
        from slipway.validation.plan import Plan
        from slipway.validation.plan_files import PLAN_FILE, PlanSource, load_plan, parse_plan

        if plan is None:
            tests = artifact.tests_dir
            if tests is None or not (tests / PLAN_FILE).is_file():
                raise NotFoundError(
                    f"artifact {artifact.name} ({artifact.digest[:12]}) has no validation plan "
                    f"(tests/{PLAN_FILE}): "
                    "build it with tests=DIR holding plan.yaml, or pass a plan (--plan FILE)"
                )
            return load_plan(tests / PLAN_FILE)
        if isinstance(plan, Plan):
            return PlanSource(plan, None, "python")
        if isinstance(plan, Mapping):
            return PlanSource(parse_plan(plan), None, "python")
        return load_plan(plan)

    def _champion(
        self,
        artifact: LoadedArtifact,
        record: VersionRecord | None,
        alias: str,
        options: Any,
        *,
        trust_pickle: bool,
        trusted_types: Sequence[str],
    ) -> None:
        name = record.name if record is not None else artifact.name
        try:
            champion = self.registry.resolve(ModelRef(name, alias=alias))
        except NotFoundError:
            options.comparison_note = (
                f"no version of {name} has the alias {alias!r} yet: nothing to compare with"
            )
            return
        if champion.digest == artifact.digest:
            options.comparison_note = f"this version is {name}@{alias} itself: nothing to compare with"
            return
        trust = TrustOptions(pickle=trust_pickle, skops_types=tuple(trusted_types))
        path = self.registry.artifact_path(champion)
        options.champion = load_artifact(path, expected_digest=champion.digest, trust=trust)
        options.champion_label = f"{champion.ref} ({name}@{alias})"

    def _report_folder(self, artifact: LoadedArtifact, record: VersionRecord | None) -> Path:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        label = f"{record.name}-{record.version}" if record else f"{artifact.name}-{artifact.digest[:12]}"
        return self.settings.home / "reports" / f"{label}-{stamp}"

    # -- batch scoring ---------------------------------------------------------------------

    def score(
        self,
        model: str | Path | ModelRef,
        input: str | Path | Source,
        output: str | Path,
        *,
        engine: str | BatchEngine = "local",
        query: str | None = None,
        keep: Sequence[str] | None = None,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        workers: int | None = None,
        partitions: int | None = None,
        master: str | None = None,
        resume: bool = False,
        overwrite: bool = False,
        progress: bool | ProgressReporter = False,
        trust_pickle: bool = False,
        trusted_types: Sequence[str] = (),
        scorer_factory: ScorerFactory | None = None,
        guards: bool = True,
    ) -> BatchResult:
        """Score every row of ``input`` with ``model`` and write Parquet parts to the folder ``output``.

        ``model``: ``name:version``, ``name@alias`` or an artifact path. ``input``: a Parquet file
        or folder, a CSV file, or a database URL with ``query``. ``keep``: input columns copied to
        the output [every input column that is not a model feature]. ``engine``: ``"local"``
        (``workers`` processes, ``chunk_rows`` rows per part, ``resume`` a killed run) or
        ``"spark"`` (``master`` [local[*]], ``partitions``). The run is recorded in the registry
        and audited (``batch.completed`` / ``batch.failed``); a failed run leaves nothing under
        ``output``. ``scorer_factory`` builds each worker's scorer [the artifact's verified
        runtime, its lookups as joins and its guards, as online: ``slipway.adapters.batch_scorer``;
        ``guards=False`` leaves the guards out].
        """
        trust = TrustOptions(pickle=trust_pickle, skops_types=tuple(trusted_types))
        if scorer_factory is None:
            from slipway.adapters.batch_scorer import artifact_scorer, unguarded_scorer

            scorer_factory = artifact_scorer if guards else unguarded_scorer
        runner = _batch_engine(engine, workers=workers, partitions=partitions, master=master)
        try:
            return self._score(
                runner,
                model,
                input,
                output,
                trust=trust,
                query=query,
                keep=keep,
                chunk_rows=chunk_rows,
                options={
                    "chunk_rows": chunk_rows,
                    "workers": workers,
                    "partitions": partitions,
                    "resume": resume,
                },
                resume=resume,
                overwrite=overwrite,
                progress=progress,
                scorer_factory=scorer_factory,
            )
        finally:
            runner.close()

    def _score(
        self,
        runner: BatchEngine,
        model: str | Path | ModelRef,
        input: str | Path | Source,
        output: str | Path,
        *,
        trust: TrustOptions,
        query: str | None,
        keep: Sequence[str] | None,
        chunk_rows: int,
        options: dict[str, Any],
        resume: bool,
        overwrite: bool,
        progress: bool | ProgressReporter,
        scorer_factory: ScorerFactory,
    ) -> BatchResult:
        artifact, version = self._load_for_batch(model, trust, runner=runner, scorer_factory=scorer_factory)
        run_id = uuid.uuid4().hex
        started, clock = utc_now_iso(), time.perf_counter()
        source = _open_source(input, query=query)
        location = source.location if isinstance(source, Source) else str(input)
        fingerprint = ""
        reporter = _progress(progress)
        try:
            if resume and not source.replayable:
                raise InvalidInputError(
                    f"cannot resume a run over {location!r}: a query's rows can change between runs; "
                    "export them to Parquet first, or rerun without --resume"
                )
            scorer = scorer_factory(artifact)
            _close_stages(scorer)  # the driver only plans: its lookup connections are not needed
            check_columns(source, scorer.input_columns)
            fingerprint = source.fingerprint()
            job = BatchJob(
                artifact=artifact,
                identity=RunIdentity(artifact.name, version, artifact.digest, run_id),
                source=source,
                output=str(output),
                input_fingerprint=fingerprint,
                input_columns=scorer.input_columns,
                keep=_kept_columns(keep, source, artifact.features),
                types=arrow_types(artifact.profile),
                chunk_rows=chunk_rows,
                resume=resume,
                overwrite=overwrite,
                trust=trust,
                scorer_factory=scorer_factory,
            )
            outcome = runner.run(job, progress=reporter)
        except BaseException as error:
            reporter.stop()
            failed = BatchRunRecord(
                run_id=run_id,
                model=artifact.name,
                version=version,
                digest=artifact.digest,
                engine=runner.name,
                status=BatchRunStatus.FAILED,
                input=location,
                input_fingerprint=fingerprint,
                output=str(output),
                started_at=started,
                finished_at=utc_now_iso(),
                duration_s=round(time.perf_counter() - clock, 3),
                error=f"{type(error).__name__}: {error}"[:2000],
                options=options,
            )
            self._record_failure(failed, error)
            raise
        record = BatchRunRecord(
            run_id=outcome.run_id,
            model=artifact.name,
            version=version,
            digest=artifact.digest,
            engine=runner.name,
            status=BatchRunStatus.COMPLETED,
            input=location,
            input_fingerprint=fingerprint,
            output=outcome.output,
            started_at=started,
            finished_at=utc_now_iso(),
            duration_s=round(time.perf_counter() - clock, 3),
            rows_in=outcome.rows_in,
            rows_out=outcome.rows_out,
            rows_flagged=outcome.rows_flagged,
            rows_rejected=outcome.rows_rejected,
            output_digest=outcome.output_digest,
            options={
                **options,
                "parts": outcome.parts,
                "parts_resumed": outcome.parts_resumed,
                "runtime": outcome.runtime,
                "reader": outcome.reader,
            },
        )
        self.registry.record_batch_run(record)
        return BatchResult(record=record, outcome=outcome)

    def batch_runs(self, model: str | None = None, *, limit: int | None = None) -> list[BatchRunRecord]:
        """Recorded batch runs, newest first."""
        return self.registry.batch_runs(model=model, limit=limit)

    def batch_run(self, run_id: str) -> BatchRunRecord:
        return self.registry.batch_run(run_id)

    def _load_for_batch(
        self,
        model: str | Path | ModelRef,
        trust: TrustOptions,
        *,
        runner: BatchEngine,
        scorer_factory: ScorerFactory,
    ) -> tuple[LoadedArtifact, int | None]:
        """The verified artifact, without its model: the engine's workers load that, starting now."""
        version: int | None = None
        if isinstance(model, Path) or (isinstance(model, str) and Path(model).exists()):
            path, digest = Path(model), None
            if path.is_file():  # a packed artifact: unpacked once into the cache
                path = load_artifact(path, trust=trust, unpack_dir=self.settings.cache_dir / "unpacked").path
        else:
            record = self.registry.resolve(model)
            path, digest, version = self.registry.artifact_path(record), record.digest, record.version
        artifact = planning_artifact(path, digest=digest, trust=trust)
        runner.start(ArtifactSpec(str(path), artifact.digest, trust, scorer_factory))
        return artifact, version

    def _record_failure(self, record: BatchRunRecord, error: BaseException) -> None:
        try:
            self.registry.record_batch_run(record)
        except SlipwayError as failure:
            error.add_note(f"the failed run could not be recorded in the registry either: {failure}")

    # -- degraded mode ---------------------------------------------------------------------

    def degrade(self, name: str, mode: str, *, reason: str) -> Degradation:
        """Put deployment ``name`` (a model name when it has no deployment) in degraded mode."""
        return self.registry.degrade(name, mode, reason=reason)

    def restore(self, name: str, *, reason: str | None = None) -> Degradation:
        """Leave degraded mode; returns the state that ended."""
        return self.registry.restore(name, reason=reason)

    def degradation(self, name: str) -> Degradation | None:
        return self.registry.degradation(name)

    def degradations(self) -> list[Degradation]:
        return self.registry.degradations()

    # -- audit -----------------------------------------------------------------------------

    # -- release (see slipway.rollout) -------------------------------------------------------

    @cached_property
    def rollouts(self) -> Rollouts:
        from slipway.rollout.service import Rollouts

        return Rollouts(self.registry)

    def deploy(
        self, name: str, model_ref: str, *, options: Mapping[str, Any] | None = None
    ) -> DeploymentRecord:
        """Create deployment ``name`` serving ``model_ref`` (or replace its stable version when idle)."""
        return self.rollouts.deploy(name, model_ref, options=options)

    def rollout(
        self,
        name: str,
        model_ref: str,
        *,
        strategy: str = "canary",
        options: Mapping[str, Any] | None = None,
        **policy: Any,
    ) -> DeploymentRecord:
        """Release ``model_ref`` on deployment ``name`` by ``strategy`` (canary, blue-green, ab, shadow);
        ``policy``: steps, min_requests, min_seconds, approval, split, shadow_percent, thresholds."""
        return self.rollouts.start(name, model_ref, strategy=strategy, options=options, **policy)

    def rollback(self, name: str, *, reason: str | None = None) -> DeploymentRecord:
        return self.rollouts.rollback(name, reason=reason)

    def status(self, name: str) -> dict[str, Any]:
        return self.rollouts.status(name)

    def ab_report(
        self, name: str, *, alpha: float = 0.05, power: float = 0.8, mde: float | None = None
    ) -> Readout:
        return self.rollouts.ab_report(name, alpha=alpha, power=power, mde=mde)

    def feedback(
        self, name: str, value: float, *, request_id: str | None = None, user_key: str | None = None
    ) -> OutcomeRecord:
        return self.rollouts.feedback(name, value, request_id=request_id, user_key=user_key)

    def audit_log(self, model: str | None = None) -> list[AuditEvent]:
        return self.registry.audit_log(model=model)

    def verify_audit(self) -> ChainReport:
        return self.registry.verify_audit()

    def history(self, ref: str | ModelRef, *, at: str | datetime) -> int | None:
        """The version ``name@alias`` pointed to at time ``at`` (None if it pointed nowhere)."""
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        if parsed.alias is None:
            raise InvalidInputError(f"history needs NAME@ALIAS, got {str(parsed)!r}")
        moment = at if isinstance(at, datetime) else _parse_moment(at)
        return self.registry.alias_at(parsed.name, parsed.alias, moment)


def _read_sql(source: SqlSource) -> pd.DataFrame:
    """Rows of a production table for the gate; the URL may come from an environment variable."""
    from slipway.adapters.sql_table_reader import SqlTableReader

    url = source.url
    if source.url_env is not None:
        url = os.environ.get(source.url_env)
        if not url:
            raise InvalidInputError(
                f"plan: sql.url_env names {source.url_env!r}, which is not set: export the database URL in it"
            )
    assert url is not None  # the plan holds exactly one of url and url_env
    return SqlTableReader().read_table(url, source.table)


def _parse_moment(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        raise InvalidInputError(
            f"invalid time {text!r}: use ISO 8601, e.g. 2026-11-27T18:00:00Z or 2026-11-27"
        ) from None


def _open_source(input: str | Path | Source, *, query: str | None) -> Source:
    if not isinstance(input, str | Path):
        return input
    text = str(input)
    if query is not None:
        if "://" not in text:
            raise InvalidInputError(
                f"a query needs a database URL as input (e.g. sqlite:///data.db), got {text!r}"
            )
        from slipway.adapters.sql_source import SqlQuerySource

        return SqlQuerySource(text, query)
    if "://" in text and not Path(text).exists():
        raise InvalidInputError(
            f"input {redact_url(text)!r} looks like a database URL: give the rows to score with "
            "query='SELECT ...' (CLI: --query)"
        )
    return open_file_source(text)


def _close_stages(scorer: Scorer) -> None:
    for stage in scorer.stages:
        close = getattr(stage, "close", None)
        if callable(close):
            close()


def _kept_columns(keep: Sequence[str] | None, source: Source, features: Sequence[str]) -> tuple[str, ...]:
    """The columns copied to the output: as asked, or every input column that is not a feature."""
    if keep is not None:
        return tuple(dict.fromkeys(keep))
    reserved = {*features, *RESULT_COLUMNS, *IDENTITY_COLUMNS}
    return tuple(name for name in source.column_names if name not in reserved)


def _batch_engine(
    engine: str | BatchEngine, *, workers: int | None, partitions: int | None, master: str | None
) -> BatchEngine:
    if not isinstance(engine, str):
        return engine
    if engine == "local":
        if partitions is not None or master is not None:
            raise InvalidInputError("partitions and master apply to the Spark engine; use engine='spark'")
        from slipway.batch.local import LocalBatchEngine

        return LocalBatchEngine(workers=workers)
    if engine == "spark":
        if workers is not None:
            raise InvalidInputError("workers applies to the local engine; Spark sizes itself from --master")
        from slipway.adapters.spark_engine import SparkBatchEngine

        return SparkBatchEngine(master=master, partitions=partitions)
    raise InvalidInputError(f"unknown batch engine {engine!r}; use 'local' or 'spark'")


def _progress(progress: bool | ProgressReporter) -> ProgressReporter:
    if progress is True:
        return RichProgress()
    if progress is False:
        return NoProgress()
    return progress


def connect(**overrides: str | Path | None) -> Slipway:
    """A ``Slipway`` on the stores named by the environment, with optional overrides
    (``home``, ``registry_url``, ``store_url``, ``actor``)."""
    return Slipway.from_env(**overrides)


def worker_app() -> Starlette:
    """The app of one ``slipway serve --workers N`` worker process (uvicorn imports it by name)."""
    from slipway.serving.runner import ServeSpec

    spec = ServeSpec.from_env()
    sw = Slipway.from_env(home=spec.home, registry_url=spec.registry_url, store_url=spec.store_url)
    if not spec.ref and spec.deployment is not None:  # slipway serve --deployment NAME
        from slipway.runtimes.threads import configure_threads
        from slipway.serving.runner import serving_cores

        configure_threads(workers=spec.workers, cores=serving_cores(spec.workers))  # before loading
        return sw.deployment_app(
            spec.deployment,
            config=spec.config,
            interval_s=spec.rollout_interval_s,
            controller=spec.controller,
            on_close=sw.close,
        )
    return sw._serving_app(spec, on_close=sw.close)
