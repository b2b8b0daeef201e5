"""Registry commands: register, models, versions, show, alias, tag, verify."""

from __future__ import annotations

import click

from slipway.cli.context import slipway
from slipway.cli.output import console, describe_runtime, print_json, print_table
from slipway.core.errors import InvalidInputError


@click.command("register")
@click.argument("artifact")
@click.option("--name", help="Register under this model name [the artifact's own].")
def register_artifact(artifact: str, name: str | None) -> None:
    """Verify ARTIFACT (folder or .tar.gz) and register it as the model's next version."""
    record = slipway().register(artifact, name=name)
    console.print(f"registered {record.ref}  digest {record.digest[:12]}  status {record.status}")


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models(as_json: bool) -> None:
    """List registered models."""
    found = slipway().models()
    if as_json:
        print_json(
            [{"name": m.name, "latest_version": m.latest_version, "created_at": m.created_at} for m in found]
        )
        return
    print_table(
        "models", ["name", "latest", "created"], [(m.name, m.latest_version, m.created_at) for m in found]
    )


@click.command("versions")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def versions(name: str, as_json: bool) -> None:
    """List the versions of model NAME."""
    found = slipway().versions(name)
    if as_json:
        print_json([record.to_dict() for record in found])
        return
    print_table(
        f"{name} versions",
        ["version", "status", "aliases", "flavor", "digest", "created", "by"],
        [
            (r.version, r.status, ", ".join(r.aliases), r.flavor, r.digest[:12], r.created_at, r.created_by)
            for r in found
        ],
    )


@click.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(ref: str, as_json: bool) -> None:
    """Show version REF (NAME:VERSION or NAME@ALIAS) and its verified manifest."""
    record, manifest = slipway().show(ref)
    if as_json:
        print_json({"version": record.to_dict(), "manifest": manifest.model_dump(mode="json")})
        return
    section = manifest.model
    console.print(
        f"[bold]{record.ref}[/]  status {record.status}  aliases {', '.join(record.aliases) or '-'}"
    )
    console.print(f"digest    {record.digest}")
    console.print(f"flavor    {section.flavor}  task {section.task}  target {section.target or '-'}")
    console.print(f"features  {', '.join(section.features)}")
    if section.classes is not None:
        console.print(f"classes   {', '.join(map(str, section.classes))}")
    console.print(f"trust     pickle={'yes' if section.trusted_pickle else 'no'}")
    if "runtime" in manifest.sections:
        console.print(f"runtime   {describe_runtime(manifest.sections['runtime'])}")
    if "lookups" in manifest.sections:
        lookups = manifest.sections["lookups"]
        console.print(
            f"lookups   {', '.join(lookups['names'])}: request sends {', '.join(lookups['requires'])}; "
            f"looked up: {', '.join(lookups['provides'])}"
        )
    if record.tags:
        console.print("tags      " + ", ".join(f"{k}={v}" for k, v in sorted(record.tags.items())))
    print_table(
        "files", ["path", "size", "sha256"], [(f.path, f.size, f.sha256[:16]) for f in manifest.files]
    )


@click.group("alias")
def alias() -> None:
    """Point an alias (champion, production, ...) at a version, or remove it."""


@alias.command("set")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", type=int)
@click.option("--reason", help="Why; recorded in the audit trail.")
def alias_set(name: str, alias_name: str, version: int, reason: str | None) -> None:
    """Point NAME@ALIAS at VERSION."""
    record = slipway().set_alias(name, alias_name, version, reason=reason)
    console.print(f"{name}@{alias_name} -> {record.ref}")


@alias.command("rm")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.option("--reason", help="Why; recorded in the audit trail.")
def alias_rm(name: str, alias_name: str, reason: str | None) -> None:
    """Remove NAME@ALIAS."""
    version = slipway().remove_alias(name, alias_name, reason=reason)
    console.print(f"removed {name}@{alias_name} (was version {version})")


@click.command("tag")
@click.argument("ref")
@click.argument("pairs", nargs=-1, metavar="KEY=VALUE...")
@click.option("--rm", "remove", multiple=True, metavar="KEY", help="Remove this tag.")
def tag(ref: str, pairs: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Set tags KEY=VALUE on version REF, or remove them with --rm KEY."""
    if not pairs and not remove:
        raise InvalidInputError("give at least one KEY=VALUE to set or --rm KEY to remove")
    sw = slipway()
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInputError(f"malformed tag {pair!r}: use KEY=VALUE")
        sw.tag(ref, key, value)
    for key in remove:
        sw.untag(ref, key)
    record = sw.resolve(ref)
    console.print(
        f"{record.ref} tags: " + (", ".join(f"{k}={v}" for k, v in sorted(record.tags.items())) or "-")
    )


@click.command("verify")
@click.argument("source")
def verify(source: str) -> None:
    """Check every file of a registered version (REF) or of an artifact folder against its digest."""
    manifest = slipway().verify(source)
    console.print(f"ok  {manifest.name}  {manifest.digest}  ({len(manifest.files)} files verified)")


def install(cli: click.Group) -> None:
    for command in (register_artifact, models, versions, show, alias, tag, verify):
        cli.add_command(command)
