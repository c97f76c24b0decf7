"""What a rollback may do: which versions it reverts, whether their down files are the ones
recorded, what an earlier run left untold, and which of its drops and type changes are
refused, kept in the trash or allowed (the forward plan's gate, applied to the down steps).

api.rollback calls it; rollback_plan.py builds the values it judges. Must not: run anything
but read-only questions to the server and the state, or write anything but the settling of
an earlier run's outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.apply import outcome, rollback_plan
from reconciler.errors import Refused, StalePlan
from reconciler.ops.pg.phased import CONTRACT_DETAIL
from reconciler.plan import Plan
from reconciler.plan.files import document, file_key, sha256
from reconciler.state.base import ApplyRecord

if TYPE_CHECKING:
    from reconciler.pipeline.planner import Live


def _values_kept(conn: Any, back: Plan, live: Live, allow_destructive: bool) -> Plan:
    """A rollback's column type changes tried on the live values (pipeline/lossy.py): one whose cast
    fails on a value is refused; one that changes values is refused without
    `allow_destructive`, and carries the hazard with it."""

    retyped = rollback_plan.retypes(back, live.pg)
    from reconciler.pipeline.lossy import FAILS, verdicts  # deferred: start-up (pglast)

    judged = verdicts(conn, [tc for _, tc in retyped]) if retyped else []
    if failed := [v for v in judged if v.outcome == FAILS]:
        raise Refused(f"Rolling back would fail: {failed[0].refusal()}.")
    lossy = [(c, v) for (c, _), v in zip(retyped, judged, strict=True) if v.destructive]
    if lossy and not allow_destructive:
        v = lossy[0][1]
        raise Refused(
            f"Rolling back would change data: column {v.change.schema}.{v.change.table}."
            f"{v.change.column} type {v.change.old_type} → {v.change.new_type} {v.hazard()}; "
            "refusing without --allow-destructive.",
            detail="Those values cannot be kept: check them, then pass --allow-destructive.",
        )
    return rollback_plan.with_value_hazards(back, lossy)


def settle(state: Any, *, last: bool) -> tuple[list[str], bool]:
    """Say what became of the newest run if it ended without saying; with --last, stop
    when going on would revert a version its user did not mean: the one before a rollback
    that did commit, or the one before an apply that never did."""
    found = outcome.unsettled(state)
    if found is None:
        return [], False
    outcome.settle(state, found)
    notes = [found.sentence()]
    a = found.attempt
    moved_on = (a.direction == "down" and found.committed) or (
        a.direction == "up" and not found.committed
    )
    if last and moved_on:
        notes.append(
            "Nothing else was rolled back: `rollback --last` now would revert an older "
            "version than that run meant to; run it again if that is what you want."
        )
        return notes, True
    return notes, False


def targets_of(state: Any, *, version: str | None) -> list[ApplyRecord]:
    applied = [r for r in state.history() if r.direction == "up" and r.status == "applied"]
    if version is None:
        targets = applied[:1]
    else:
        targets = [r for r in applied if r.version >= version]
        if not any(r.version == version for r in applied):
            rec = state.get(version)
            if rec is not None and rec.status == "rolled_back":
                raise Refused(f"Version {version} is already rolled back.")
            raise Refused(f"Version {version} is not an applied version of this target.")
    if not targets:
        raise Refused("Nothing to roll back: every recorded apply is already rolled back.")
    return targets


def guarded(
    t: Any, back: Plan, live: Live, targets: list[ApplyRecord], allow_destructive: bool
) -> tuple[Plan, list[rollback_plan.Kept]]:
    """`back` with its drops of data refused, or kept in the trash when allowed."""
    if t.pg is None or live.pg is None:
        return back, []
    gone = purged(t.pg, targets)
    if gone and not allow_destructive:
        raise Refused(
            f"Rolling back would bring back {gone[0]} empty: its rows were kept in the "
            "trash, which `reconciler trash purge` has since removed; refusing without "
            "--allow-destructive.",
            detail="Restore them from a backup first, or pass --allow-destructive to roll "
            "back with the object empty.",
        )
    if hit := rollback_plan.breaks_unmodeled(back, live.pg):
        raise Refused(
            f"Rolling back would drop {hit[0]}, which {hit[1]} needs and Reconciler does not "
            "manage; remove that dependency first, then roll back.",
        )
    if clash := rollback_plan.restored_then_dropped(back):
        raise Refused(
            f"Rolling back {', '.join(r.version for r in targets)} together would bring "
            f"{clash} back from the trash and then drop it with its data; roll back one "
            "version at a time (`reconciler rollback --last`) so that each drop can be kept.",
        )
    if (widened := rollback_plan.access_widened(back)) and not allow_destructive:
        c, what = widened[0]
        raise Refused(
            f"Rolling back would widen which rows roles see: {c.address} {what}; refusing "
            "without --allow-destructive.",
            detail="Review the rollback with `reconciler rollback --last` (it asks first), then "
            "re-run with --allow-destructive.",
        )
    back = _values_kept(t.pg, back, live, allow_destructive)
    found = rollback_plan.losses(t.pg, back, live.pg)
    if not found:
        return back, []
    if not allow_destructive:
        what = "; ".join(f"{x.what} holds {x.amount}" for x in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        lost = [x.what for x in found if not rollback_plan.keepable(x, live.pg)]
        raise Refused(
            f"Rolling back would drop data: {what}{more}; refusing without --allow-destructive.",
            detail="With --allow-destructive the rows and values are kept in reconciler_trash, "
            "and applying the version again brings them back"
            + (f", except those of {', '.join(lost)}, which cannot be kept." if lost else "."),
        )
    token = f"rollback|{back.version}|{datetime.now(UTC).isoformat()}"
    return rollback_plan.keep(back, found, live.pg, token)


def refuse_contracts(targets: list[ApplyRecord], plans: list[Plan]) -> None:
    """A version that contracted a column (the last plan of a phased move) cannot be rolled
    back, even with --force: the old column is gone, and undoing the rest of that plan (a check
    or key it put back on the new column) would leave the table neither before nor after."""
    for rec, p in zip(targets, plans, strict=True):
        dropped = [
            str(d["dropped"])
            for c in p.changes
            for d in c.details
            if isinstance(d, dict) and d.get("attribute") == CONTRACT_DETAIL
        ]
        if dropped:
            raise Refused(
                f"Version {rec.version} cannot be rolled back: its contract dropped "
                f"{'column' if len(dropped) == 1 else 'columns'} {' and '.join(dropped)} for "
                "good; nothing was changed.",
                detail="To go back, put the old type or name in the YAML and plan again: a new "
                "move, in phases like this one.",
            )


def not_deleted(state: Any, targets: list[ApplyRecord]) -> frozenset[str]:
    """The Redis keys (quoted) the applies of `targets` were to prune and left alone (changed
    since their plan): a RESTORE in their down steps would bring back a key the application
    deleted or replaced since, which no apply took. Read from each apply's own skip record."""
    versions = {rec.version: rec.started_at for rec in targets}
    keys: set[str] = set()
    for e in state.events():
        since = versions.get(e.version) if e.kind == "redis-skipped" else None
        if since is not None and e.at >= since:
            keys.update(str(k) for k in e.detail.get("not_deleted", ()))
    return frozenset(keys)


def verify_down(rec: ApplyRecord, p: Plan, plans_dir: Path) -> None:
    """Every down file that still exists must be the one recorded at apply time."""
    if document(p, "down") != rec.down_sql or sha256(rec.down_sql) != rec.down_sha256:
        raise StalePlan(f"The recorded down script of {rec.version} does not match its plan.")
    for engine in ("pg", "redis"):
        meta = p.files.get(file_key(engine, "down"))
        path = plans_dir / meta["name"] if meta else None
        if path is not None and path.exists() and sha256(path.read_text("utf-8")) != meta["sha256"]:
            raise StalePlan(
                f"The down file {path} was edited since {rec.version} was applied "
                "(checksum mismatch); refusing to run it.",
                detail="Restore the file from version control; the recorded copy is in the state.",
            )


def purged(conn: Any, targets: list[ApplyRecord]) -> list[str]:
    """The objects the targets' down steps would bring back from trash tables that are gone:
    their rows were purged, so the rollback would rebuild them empty."""
    from reconciler.pipeline import trash  # deferred: start-up (the diff) only for a rollback

    refs = {
        c.address: trash.referenced(text) - trash.made(text)
        for r in targets
        for c in Plan.from_dict(r.plan).changes
        for text in ("\n".join(c.down),)
    }
    gone = trash.missing(conn, set().union(*refs.values()) if refs else set())
    return [
        f"{address} (from {trash.TRASH_SCHEMA}.{', '.join(sorted(names & gone))})"
        for address, names in refs.items()
        if names & gone
    ]
