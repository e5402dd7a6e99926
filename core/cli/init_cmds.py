"""``init`` and ``keygen``: a config that runs as it is, and the pseudonymisation key."""
from __future__ import annotations

from pathlib import Path

import click

from microseg.cli.common import echo_json, json_option, registry_from
from microseg.cli.progress_display import working
from microseg.errors import InputError


@click.command()
@click.argument("path", default="microseg.toml", type=click.Path(dir_okay=False))
@click.option("--from", "from_file", type=click.Path(dir_okay=False), default=None,
              help="Map the columns of your own CSV/Parquet file and write a config for it.")
@click.option("--force", is_flag=True, help="Overwrite an existing config (and sample data).")
@json_option
@click.pass_context
def init(ctx: click.Context, path: str, from_file: str | None, force: bool, as_json: bool) -> None:
    """Write a config that runs as it is, and a random pseudonymisation key.

    Without --from: a commented starter config plus a small synthetic sample data set in data/
    (made-up people and purchases). With --from FILE: a config for your own file, its columns
    mapped by name and type (customer id, date, amount, ...).

    \b
    Examples:
      microseg init && microseg run microseg.toml
      microseg init retail.toml --from ../shared/data/online_retail.csv.gz
    """
    from microseg.privacy.pseudonym import write_new_key
    from microseg.starter import config_for_file, write_starter
    p = Path(path)
    if from_file:
        if p.exists() and not force:
            raise InputError(f"{p} exists; use --force to overwrite")
        with working(f"mapping the columns of {from_file}", as_json):
            text, mapping = config_for_file(Path(from_file), p, registry=registry_from(ctx))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        written, summary = [p], {"kind": mapping.kind, "roles": mapping.roles, "separator": mapping.sep}
    else:
        with working("writing the sample data", as_json):
            written, summary = write_starter(p, force=force), {"kind": "sample data"}
    key = p.resolve().parent / ".microseg" / "key"
    new_key = not key.exists()
    if new_key:
        write_new_key(key)
    if as_json:
        echo_json({"config": str(p), "files": [str(f) for f in written], "key": str(key), "new_key": new_key,
                   "mapping": summary, "next": f"microseg check {p} && microseg run {p}"})
        return
    for f in written:
        click.echo(f"Wrote {f}")
    if from_file:
        roles = ", ".join(f"{r} = {c}" for r, c in summary["roles"].items()) or "none"
        click.echo(f"  {summary['kind']} file, separator {summary['separator']!r}; mapped {roles}")
    if new_key:
        click.echo(f"Wrote {key} (keep it secret: it links pseudonyms to customers)")
    click.echo(f"Next: microseg check {p} && microseg run {p}")


@click.command()
@click.argument("path", default=".microseg/key", type=click.Path(dir_okay=False))
@click.option("--rotate", is_flag=True,
              help="Retire the key in PATH (appended to PATH.retired, or --retired) and write a new one.")
@click.option("--retired", type=click.Path(dir_okay=False), default=None,
              help="Retired keys file (default PATH.retired; set [privacy] retired_keys_file to match).")
@json_option
def keygen(path: str, rotate: bool, retired: str | None, as_json: bool) -> None:
    """Write a new random pseudonymisation key file (mode 0600), or rotate an existing one.

    Point a config at it with key_file in [privacy], or export it: MICROSEG_KEY="$(cat PATH)".
    --rotate keeps the old key in PATH.retired, so that `microseg forget` still reaches runs
    written under it.

    \b
    Examples:
      microseg keygen
      microseg keygen /secure/place/microseg.key --json
      microseg keygen --rotate .microseg/key
    """
    from microseg.privacy.pseudonym import write_new_key
    if rotate:
        from microseg.privacy.keyring import rotate_key
        old, new, kept = rotate_key(Path(path), Path(retired) if retired else None)
        if as_json:
            echo_json({"key": path, "retired_key_id": old, "key_id": new, "retired_keys_file": str(kept)})
            return
        click.echo(f"Rotated {path}: key id {old} retired into {kept}, new key id {new}. Keep {kept}: erasure "
                   "reaches runs written under retired keys through it.")
        return
    try:
        write_new_key(Path(path))
    except FileExistsError:
        raise InputError(f"{path} exists; refusing to overwrite a key (use --rotate to replace it)") from None
    if as_json:
        echo_json({"key": path})
        return
    click.echo(f"Wrote {path}")


COMMANDS = [init, keygen]
