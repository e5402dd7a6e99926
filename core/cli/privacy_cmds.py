"""``audit`` and ``forget``."""
from __future__ import annotations


import click

from microseg.cli.common import config_key_option, db_option, echo_json, json_option, load_keys
from microseg.cli.progress_display import working


@click.command()
@click.argument("run_id", required=False, type=int)
@db_option
@json_option
@click.option("--verify", is_flag=True, help="Recompute the audit trail's hash chain, its signed head and every "
                                             "release it recorded (needs the pseudonymisation key).")
@config_key_option
def audit(run_id: int | None, db: str | None, as_json: bool, verify: bool, config: str | None) -> None:
    """Audit RUN (default: latest) against its policy; exit 1 on any violation.

    \b
    Examples:
      microseg audit --verify --config microseg.toml
      microseg audit 2 --json
    """
    from microseg.privacy.audit_report import audit_run
    keyring, cfg = load_keys(config, "audit --verify") if verify else (None, None)
    with working("auditing" + (" and verifying the audit trail" if verify else ""), as_json):
        from microseg.store import open_store, store_timeouts
        doc = audit_run(open_store(db, cfg.store.url if cfg else None, store_timeouts(cfg), create=False), run_id, verify=verify,
                        secret=keyring.current if keyring else None, retired=keyring.retired if keyring else ())
    if as_json:
        echo_json(doc)
    else:
        _print_audit(doc)
    if doc["violations"]:
        from microseg.errors import ComplianceViolation
        raise ComplianceViolation(f"the audit found {len(doc['violations'])} violation(s) in run {doc['run']['id']}")


def _print_audit(doc: dict) -> None:
    click.echo(f"Run {doc['run']['id']} — as of {doc['run']['as_of']}, status {doc['run']['status']}, k = {doc['run']['k']}")
    click.echo(f"  policy {doc['run']['policy_hash'][:16]}…  config {doc['run']['config_hash'][:16]}…")
    for role, fp in doc["inputs"].items():
        click.echo(f"  input {role}: {fp}")
    def name(c: dict) -> str:
        return c["column"] if c.get("table") in (None, "customers") else f"{c['table']}.{c['column']}"
    click.echo("  PII columns: " + (", ".join(f"{name(c)}={c['kind']}→{doc['actions'].get(name(c), c['action'])}"
                                            for c in doc["pii"] if c["kind"] != "none") or "none found"))
    if doc.get("key_id"):
        click.echo(f"  key id: {doc['key_id']}")
    click.echo(f"  consent: {doc['consent']}")
    click.echo(f"  gate: {doc['gate']['decisions']}")
    inv = doc["invariant"]
    click.echo(f"  cells: {inv['within_run']['cells']} (smallest {inv['within_run']['smallest_cell']})"
               + (f"; with runs {', '.join(map(str, inv['earlier_runs']))}: {inv['across_runs']['cells']} cells "
                  f"(smallest {inv['across_runs']['smallest_cell']})" if inv["across_runs"] else ""))
    click.echo(f"  erasures since: {doc['erasures_since']}")
    if "chain" in doc:
        c = doc["chain"]
        click.echo(f"  audit chain: {'OK' if c['ok'] else 'BROKEN'} ({c['events']} events, head {c['head_hash'][:16]}…)")
    if doc["violations"]:
        click.echo("VIOLATIONS:")
        for v in doc["violations"]:
            click.echo(f"  - {v}")
    else:
        click.echo("No violations.")


@click.command()
@click.argument("customer_id")
@db_option
@click.option("--config", "config", type=click.Path(dir_okay=False),
              help="Config whose [privacy] key and retired keys to use.")
@json_option
def forget(customer_id: str, db: str | None, config: str | None, as_json: bool) -> None:
    """Erase CUSTOMER_ID from every stored run, under the current and every retired key, and add
    them to the erasure list that every later run applies (their runs are marked for a re-run).

    \b
    Examples:
      microseg forget C100042 --config microseg.toml
      microseg forget 17850 --db retail.db --json
    """
    from microseg.privacy.erasure import forget as do_forget
    from microseg.privacy.erasure import unreachable_runs
    keyring, cfg = load_keys(config, "forget")
    from microseg.store import open_store, store_timeouts
    store = open_store(db, cfg.store.url if cfg else None, store_timeouts(cfg), create=False)
    runs = do_forget(store, customer_id, keyring)
    unreachable = [r for r in unreachable_runs(store, keyring) if r not in runs]
    if as_json:
        echo_json({"runs": runs, "needs_rerun": runs, "recorded": True, "unreachable": unreachable})
        return
    if runs:
        click.echo(f"Erased from runs {', '.join(map(str, runs))}; they are marked needs-rerun.")
    else:
        click.echo("No stored membership matched.")
    click.echo("The customer is on the erasure list: later runs into this store leave them out.")
    if unreachable:
        click.echo(f"Warning: runs {', '.join(map(str, unreachable))} could not be searched (written under a "
                   "key that is neither the current nor a retired one, or without customer keys); `microseg audit` "
                   "reports them: re-run or delete them.", err=True)


COMMANDS = [audit, forget]
