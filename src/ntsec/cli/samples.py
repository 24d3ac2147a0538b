"""``ntsec samples``: the real captures shipped with ntsec, so that every example runs after a
plain ``pip install`` (``ntsec samples standard-user.txt | ntsec token analyze -``)."""

from __future__ import annotations

from importlib import resources

import click

from ntsec.cli._app import emit_json, json_option, wants_json

__all__ = ["samples"]

#: Read through the ``ntsec`` package, not ``ntsec.web`` (which needs the web extra).
_DIR = ("web", "samples")


def _files() -> dict[str, str]:
    root = resources.files("ntsec").joinpath(*_DIR)
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(root.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".txt")
    }


def _descriptions() -> dict[str, str]:
    """What each sample is: the last column of the tables in the samples' README.md (the file
    that gives their sources), so the listing says what to pipe where."""
    readme = resources.files("ntsec").joinpath(*_DIR, "README.md")
    out = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[0].endswith(".txt`"):
            out[cells[0].strip("`")] = cells[-1]
    return out


@click.command(
    epilog="""\b
Examples:
  ntsec samples
  ntsec samples standard-user.txt
  ntsec samples standard-user.txt | ntsec token analyze -
  ntsec samples elevated-admin.txt | ntsec whoami /groups /fo csv --token -
  ntsec samples icacls-mmc.txt | ntsec sddl -
"""
)
@click.argument("name", required=False)
@click.option("--path", "show_path", is_flag=True, help="Print the file's path instead.")
@json_option
@click.pass_context
def samples(ctx: click.Context, *, name: str | None, show_path: bool, as_json: bool) -> None:
    """List the sample captures shipped with ntsec, or print one (to pipe into a command).

    The samples are real whoami captures and icacls outputs copied unchanged from public
    pages; the sources are listed in the package's web/samples/README.md.
    """
    files = _files()
    if name is None:
        if wants_json(ctx, as_json):
            emit_json(sorted(files))
        else:
            what = _descriptions()
            width = max(map(len, files), default=0)
            for file_name in sorted(files):
                click.echo(f"{file_name:<{width}}  {what.get(file_name, '')}".rstrip())
        return
    if name not in files:
        raise click.BadParameter(f"no sample {name!r} (one of: {', '.join(sorted(files))})",
                                 param_hint="NAME")
    if show_path:
        click.echo(str(resources.files("ntsec").joinpath(*_DIR, name)))
        return
    click.echo(files[name], nl=False)
