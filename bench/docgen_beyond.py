"""The "beyond one server" sections of docs/benchmarks.md, from the same results as the rest."""

from __future__ import annotations

from typing import Any

from bench.beyond import CLUSTER, FLEET, FLEET_PARALLEL, fleet_key
from bench.report import describe_target, fmt_mib, fmt_n, fmt_s
from bench.runner import NA, X


def _beyond(r: dict[str, Any]) -> dict[str, Any] | None:
    return r.get("beyond") or None


def _fig(part: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    f = ((part or {}).get("figures") or {}).get(key)
    return f if f and f["ok"] else None


def _or_na(value: Any, unit: str = "") -> str:
    return NA if value is None else f"{value}{unit}"


def _load_span(f: dict[str, Any]) -> str:
    load = f.get("load_1min") or []
    return " → ".join(f"{x:.1f}" for x in load) if load else NA


def _setup(part: dict[str, Any]) -> list[str]:
    setup = part.get("setup_s") or {}
    if not setup:
        return []
    return ["- setup (not a figure): " + ", ".join(f"{k} {fmt_s(v)}" for k, v in setup.items())]


def runs_phrase(r: dict[str, Any]) -> str | None:
    """For the page's header: how often each figure of this part ran."""
    beyond = _beyond(r)
    return None if beyond is None else f"beyond one server: {beyond['options']['runs']} run(s)"


# ------------------------------------------------------------------------------- summary


def summary(r: dict[str, Any]) -> list[str]:
    beyond = _beyond(r)
    if beyond is None:
        return []
    out = []
    fleet, scan, d = beyond.get("fleet_drift"), beyond.get("cluster_scan"), beyond["derived"]
    base, p4 = _fig(fleet, "sequential"), _fig(fleet, fleet_key(4))
    if fleet:
        t = describe_target(d["targets"]["fleet_drift_vs_sequential"])
        times = ""
        if base and p4:
            others = ", ".join(
                f"{fmt_s(f['median_s'])} at --parallel {p}"
                for p in FLEET_PARALLEL
                if p != 4 and (f := _fig(fleet, fleet_key(p)))
            )
            times = (
                f"; the fleet took {fmt_s(p4['median_s'])} ({others}) against "
                f"{fmt_s(base['median_s'])} for the single-database runs"
            )
        out.append(
            f"- **Fleet drift, {fleet['databases']} databases of {fleet['tables']} tables**: "
            f"{t}{times}."
        )
    single, cluster = _fig(scan, "single"), _fig(scan, "cluster")
    if scan and single and cluster:
        out.append(
            f"- **Redis Cluster scan, {fmt_n(scan['keys'])} keys**: scan_keyspace on "
            f"{scan['nodes']['primaries']} primaries took {fmt_s(cluster['median_s'])} against "
            f"{fmt_s(single['median_s'])} on one server (cluster / single = "
            f"{_or_na(d['cluster_vs_single'], X)}; no target) — on "
            f"{r['machine'].get('cores', '?')} cores shared by every node and the client, see "
            "*Beyond one server*."
        )
    return out


def counted(r: dict[str, Any]) -> int:
    """Checks and figures of this part, for the summary's count of passed checks."""
    beyond = _beyond(r) or {}
    parts = [p for p in (beyond.get("fleet_drift"), beyond.get("cluster_scan")) if p]
    return sum(len(p["checks"]) + len(p["figures"]) for p in parts)


# ------------------------------------------------------------------------------- section


def section(r: dict[str, Any]) -> list[str]:
    beyond = _beyond(r)
    if beyond is None:
        return []
    out = _method(r, beyond)
    out += ["## Beyond one server: results", ""]
    if beyond.get("fleet_drift"):
        out += _fleet(r, beyond)
    if beyond.get("cluster_scan"):
        out += _cluster(r, beyond)
    return out


def _method(r: dict[str, Any], beyond: dict[str, Any]) -> list[str]:
    o = beyond["options"]
    runs = o["runs"]
    return [
        "## Beyond one server: how it was measured",
        "",
        f"**Fleet drift.** A PostgreSQL of its own holds {o['databases']} databases of the same "
        f"{o['tables']}-table schema (`bench/schema_gen.py`): the schema is loaded into a source "
        "database and exported (the desired state), applied with `reconciler apply` to an empty "
        "template database, which records the apply in its state schema, and the databases are "
        "created from that template (`CREATE DATABASE … TEMPLATE`: schema and recorded state "
        "copied). The baseline is one `reconciler drift --pg URL --schemas DIR` process per "
        "database, one after the other: its figure is the wall time of all of them. The fleet "
        "is one `reconciler drift --schemas DIR --json --parallel P` in a directory whose "
        "`reconciler.yaml` names the databases as the default environment `fleet`, for P = "
        f"{', '.join(map(str, FLEET_PARALLEL))} (the target is set for 4). No "
        "`RECONCILER_PG_URL`, `DATABASE_URL`, `RECONCILER_REDIS_URL` or `REDIS_URL` is in the "
        "children's environment. One unmeasured fleet drift first fills the local cache (the "
        "loaded desired state) and every database's catalog caches, for both. The baseline and "
        f"the three fleet runs alternate, {runs} time(s); medians. Every run is checked: each "
        'single run must exit 0 and say "No drift", each fleet run must exit 0 with a JSON '
        "document whose summary counts every database and whose every target is `ok`; "
        "anything else fails the bench.",
        "",
        f"**Redis Cluster scan.** The Redis part's keyspace ({fmt_n(o['keys'])} keys, "
        "`bench/keyspace_gen.py`) is loaded into a single redis-server and into a local Redis "
        "Cluster (`reconciler.dev.cluster`: three primaries with one replica each, "
        "all on 127.0.0.1). For the cluster the RESP file is split by slot — CRC16 (XMODEM) "
        "of the key, or of its `{hash tag}`, mod 16384, checked against `CLUSTER KEYSLOT` on "
        "a sample — and each share is piped into the primary owning it; each primary's "
        "`DBSIZE` must equal the keys routed to it and the sum of `CLUSTER COUNTKEYSINSLOT` "
        "over its slots, and the totals the keyspace. The figure is the Redis part's "
        "*scan_keyspace alone (python -c)*: a process that loads the spec, connects and scans. "
        "Given a cluster node's URL, `connect_redis` returns a `RedisCluster` and "
        "`scan_keyspace` scans every primary at once, one thread each, and merges the "
        f"per-pattern aggregates. Single and cluster runs alternate, {runs} time(s); the "
        "rate-limit keys (TTL 60 s) are written again before every run, on both. Every run "
        "must count every generated key once, per pattern, and the cluster's report must equal "
        "the single server's. The servers' CPU time is INFO cpu before and after each run, "
        "summed over the six nodes for the cluster.",
        "",
    ]


def _fleet(r: dict[str, Any], beyond: dict[str, Any]) -> list[str]:
    fleet, d = beyond["fleet_drift"], beyond["derived"]
    n = fleet["databases"]
    out = [
        f"### Fleet drift: {n} databases of {fleet['tables']} tables",
        "",
        "| figure | median | min | max | / baseline | peak RSS | CPU (median) | runs | "
        "load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, f in fleet["figures"].items():
        ratio = d.get(f"{key}_vs_sequential") if key != "sequential" else 1.0
        name = f["label"] if f["ok"] else f"{f['label']} — **FAILED**"
        out.append(
            f"| {name} | {fmt_s(f['median_s'])} | {fmt_s(f['min_s'])} | {fmt_s(f['max_s'])} | "
            f"{_or_na(ratio, X)} | {fmt_mib(f['peak_rss_mib'])} | {fmt_s(f['median_cpu_s'])} | "
            f"{f['runs']} | {_load_span(f)} |"
        )
    out += ["", f"- {describe_target(d['targets']['fleet_drift_vs_sequential'])}"]
    if fleet.get("single_run_median_s") is not None:
        out.append(
            f"- one `drift --pg` process: median {fmt_s(fleet['single_run_median_s'])} "
            f"(over every single run); {n} of them: {fmt_s(_median_of(fleet, 'sequential'))}"
        )
    inner, per = fleet.get("fleet_in_process_median_s") or {}, fleet.get("per_target_median_s")
    for p in FLEET_PARALLEL:
        key = fleet_key(p)
        if key in inner and _fig(fleet, key):
            out.append(
                f"- --parallel {p}: {fmt_s(inner[key])} inside the process (the fleet's own "
                f"`seconds`), of {fmt_s(_median_of(fleet, key))} wall; each database "
                f"{fmt_s((per or {}).get(key))} (median of the per-target `seconds`)"
            )
    out += _setup(fleet)
    cores = r["machine"].get("cores") or "?"
    return [*out, "", *_fleet_prose(fleet, d, cores), ""]


def _median_of(part: dict[str, Any], key: str) -> float | None:
    f = _fig(part, key)
    return f["median_s"] if f else None


def _fleet_prose(fleet: dict[str, Any], d: dict[str, Any], cores: Any) -> list[str]:
    base, p1, p4, p8 = (
        _fig(fleet, k) for k in ("sequential", fleet_key(1), fleet_key(4), fleet_key(8))
    )
    if not (base and p1 and p4):
        return []
    n = fleet["databases"]
    one, inside = fleet.get("single_run_median_s"), (fleet.get("per_target_median_s") or {})
    text = (
        f"Where the gain comes from: each of the {n} single runs starts an interpreter, "
        "imports the CLI and loads the desired state before its catalog read; the fleet does "
        f"that once. At --parallel 1 (one database at a time, in one process) that alone takes "
        f"the time from {fmt_s(base['median_s'])} to {fmt_s(p1['median_s'])} "
        f"({_or_na(d.get('fleet_p1_vs_sequential'), X)}): a database costs "
        f"{fmt_s(inside.get(fleet_key(1)))} inside the fleet against {fmt_s(one)} as a process "
        "of its own. "
    )
    threads = p1["median_s"] - p4["median_s"]
    if threads > 0:
        text += (
            f"The threads of --parallel 4 save another {fmt_s(threads)} "
            f"({_or_na(d.get('fleet_p4_vs_sequential'), X)}), overlapping one database's wait "
            "for its catalog queries with another's Python work. "
        )
    else:
        text += (
            f"The threads of --parallel 4 save nothing more ({fmt_s(p4['median_s'])} against "
            f"{fmt_s(p1['median_s'])} at --parallel 1). "
        )
    text += (
        f"CPU time: {fmt_s(base['median_cpu_s'])} for the single runs together, "
        f"{fmt_s(p4['median_cpu_s'])} for the fleet at --parallel 4."
    )
    if p8:
        if p8["median_s"] >= 0.95 * p4["median_s"]:
            text += (
                f" --parallel 8 is no faster ({fmt_s(p8['median_s'])}) on {cores} cores: each "
                "database's diff is Python under one GIL, so threads beyond that overlap add "
                "waiting, not work done."
            )
        else:
            text += f" --parallel 8 is faster still ({fmt_s(p8['median_s'])})."
    return [text]


def _cluster(r: dict[str, Any], beyond: dict[str, Any]) -> list[str]:
    scan, d = beyond["cluster_scan"], beyond["derived"]
    nodes = scan.get("nodes") or {}
    per = scan.get("keys_per_primary") or {}
    memory = scan.get("server_memory_mib") or {}
    out = [
        f"### Redis Cluster scan: {fmt_n(scan['keys'])} keys",
        "",
        "| figure | median | min | max | client CPU | servers' CPU | peak RSS | runs | "
        "load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in scan["figures"].values():
        name = f["label"] if f["ok"] else f"{f['label']} — **FAILED**"
        out.append(
            f"| {name} | {fmt_s(f['median_s'])} | {fmt_s(f['min_s'])} | {fmt_s(f['max_s'])} | "
            f"{fmt_s(f['median_cpu_s'])} | {fmt_s(f.get('median_server_cpu_s'))} | "
            f"{fmt_mib(f['peak_rss_mib'])} | {f['runs']} | {_load_span(f)} |"
        )
    out += [
        "",
        f"- cluster / single server: {_or_na(d['cluster_vs_single'], X)} (no target)",
        f"- {nodes.get('primaries', '?')} primaries with {nodes.get('replicas_each', '?')} "
        "replica each; keys per primary: "
        + ", ".join(f"{fmt_n(k)} (port {p})" for p, k in per.items() if k is not None),
        f"- memory used: single server {fmt_mib(memory.get('single'))}, the cluster's "
        f"primaries together {fmt_mib(memory.get('cluster_primaries'))}",
        *_setup(scan),
        "",
        *_cluster_prose(r, scan, d),
        "",
    ]
    return out


def _median_list(values: list[float] | None) -> float | None:
    values = sorted(values or [])
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _cluster_prose(r: dict[str, Any], scan: dict[str, Any], d: dict[str, Any]) -> list[str]:
    single, cluster = _fig(scan, "single"), _fig(scan, "cluster")
    if not (single and cluster):
        return []
    c1, s1, w1 = single["median_cpu_s"], single.get("median_server_cpu_s"), single["median_s"]
    c2, s2, w2 = cluster["median_cpu_s"], cluster.get("median_server_cpu_s"), cluster["median_s"]
    cores = r["machine"].get("cores") or 0
    shape = scan.get("nodes") or {}
    primaries = shape.get("primaries", 3)
    nodes = primaries * (1 + shape.get("replicas_each", 1))
    ratio = d["cluster_vs_single"]
    out = [
        f"**What this figure means on this machine.** It has {cores or '?'} cores. During the "
        f"cluster run {primaries} primaries, {nodes - primaries} replicas and the Python "
        "process share them; on the single server, one redis-server and the same process. "
        "scan_keyspace runs one thread per primary, but everything the client does per key "
        "— parsing the replies, matching the key against the patterns, adding it to the "
        "aggregates, merging — is Python under one GIL: the threads take turns, so the "
        "client's CPU time is not divided by the number of primaries. What the parallel scan "
        "can spread is the servers' share (SCAN, TYPE and PEXPIRETIME run on three servers "
        "at once), and only over the cores there are.",
    ]
    if c1 is None or s1 is None or c2 is None or s2 is None or not cores:
        return out
    replicas = _median_list(scan.get("replicas_cpu_s_runs")) or 0.0
    on_primaries = s2 - replicas
    both = c2 + s2
    verdict = "slower" if w2 > 1.05 * w1 else "faster" if w2 < 0.95 * w1 else "about as fast"
    text = (
        f"Measured (medians): on the single server the client used {fmt_s(c1)} of CPU and "
        f"the server {fmt_s(s1)}. The server is one process on one core, so the run could not "
        f"take less than {fmt_s(s1)}; it took {fmt_s(w1)}. On the cluster the client used "
        f"{fmt_s(c2)} and the {nodes} nodes {fmt_s(s2)} ({fmt_s(replicas)} of it on the "
        f"replicas, which the scan does not read): {fmt_s(both)} in all, which {cores} cores "
        f"cannot run in less than {fmt_s(both / cores)}; it took {fmt_s(w2)}. So the "
        f"cluster scan was {verdict} here ({_or_na(ratio, X)}): splitting the server's work "
        "over the primaries lifts the single server's one-core floor, but then all the work "
        f"has to fit in {cores} cores"
    )
    if on_primaries > 1.05 * s1:
        text += (
            f", and the primaries together spent more than the one server did "
            f"({fmt_s(on_primaries)} against {fmt_s(s1)})"
        )
    share = on_primaries / primaries
    who = "the client's" if c2 >= share else "one primary's"
    text += (
        ". With a core per node and the client on its own machine, as in production, the "
        f"cluster scan could not go below the larger of the client's {fmt_s(c2)} and one "
        f"primary's share (about {fmt_s(share)}), that is {fmt_s(max(c2, share))} ({who}), "
        f"against {fmt_s(s1)} for the single server. The client's Python work is what more "
        "primaries cannot divide."
    )
    return [*out, "", text]


# -------------------------------------------------------------------------- checks, misses


def checks(r: dict[str, Any]) -> list[str]:
    beyond = _beyond(r) or {}
    out = []
    for name, key in ((FLEET, "fleet_drift"), (CLUSTER, "cluster_scan")):
        part = beyond.get(key)
        if not part:
            continue
        for c in part["checks"]:
            mark = "ok" if c["ok"] else f"**FAILED**: {c['detail']}"
            out.append(f"- {name}, {c['name']}: {mark}")
        for f in part["figures"].values():
            mark = "ok" if f["ok"] else "**FAILED**: " + "; ".join(f["errors"])
            out.append(f"- {name}, {f['label']}, every run: {mark}")
    return out


FAILURE_PREFIXES = (f"{FLEET}, ", f"{CLUSTER}, ")  # failures checks() lists already

FLEET_REMEDY = (
    "The fleet checks its databases on threads of one process: the start-up and the loading "
    "of the desired state are paid once, but each database's catalog read is turned into "
    "values and diffed by Python under one GIL, so past the overlap of one database's queries "
    "with another's Python work, threads add waiting (compare the per-database times inside "
    "the fleet at --parallel 1 and 4, under *Beyond one server: results*). What it would "
    "take: worker processes instead of threads, as many as cores (each paying the start-up "
    "once, not once per database), or less Python work per database."
)


def remedies(r: dict[str, Any]) -> list[str]:
    """Lines under "Targets not met in this run" for this part's missed targets."""
    beyond = _beyond(r) or {}
    t = ((beyond.get("derived") or {}).get("targets") or {}).get("fleet_drift_vs_sequential")
    if not t or t["met"] is not False:
        return []
    return [f"- {describe_target(t)}. {FLEET_REMEDY}"]
