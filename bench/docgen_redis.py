"""The Redis sections of docs/benchmarks.md, from the same results as the rest of the page."""

from __future__ import annotations

from typing import Any

from bench import redis_violations
from bench.docgen import _phase_list, _top_phase
from bench.keyspace_gen import (
    APP_SPEC,
    CACHE_TTL,
    MISSING_TTL_ONE_IN,
    RATELIMIT_TTL,
    RL_SPEC,
    SESSION_TTL,
)
from bench.redis_bench import REDIS_FIGURES, REDIS_LABELS
from bench.report import (
    TARGET_PLAN_VS_BIGKEYS,
    TARGET_RSS_GROWTH,
    describe_target,
    fmt_mib,
    fmt_n,
    fmt_pct,
    fmt_s,
    verdict,
)
from bench.runner import NA, X

_SIZE_COMMANDS = ("strlen", "hlen", "llen", "scard", "zcard", "xlen")


def _redis(r: dict[str, Any]) -> dict[str, Any] | None:
    redis = r.get("redis")
    return redis if redis and redis.get("sizes") else None


def _fig(size: dict[str, Any], key: str) -> dict[str, Any] | None:
    f = size["figures"].get(key)
    return f if f and f["ok"] else None


def _largest(redis: dict[str, Any]) -> dict[str, Any]:
    return max(redis["sizes"], key=lambda s: s["keys"])


def _rss_growth(redis: dict[str, Any]) -> dict[str, Any] | None:
    return (redis.get("targets") or {}).get("rss_growth")


def _violations(size: dict[str, Any]) -> int:
    return (size.get("shape") or {}).get("without_ttl", 0)


# ------------------------------------------------------------------------------- summary


def summary(r: dict[str, Any]) -> list[str]:
    redis = _redis(r)
    if redis is None:
        return []
    out = []
    for size in redis["sizes"]:
        plan, big, floor = (_fig(size, k) for k in ("plan", "bigkeys", "scan_floor"))
        times = ""
        if plan and big and floor:
            times = (
                f"; the plan took {fmt_s(plan['median_s'])} against {fmt_s(big['median_s'])} "
                f"for `--bigkeys` and {fmt_s(floor['median_s'])} for a bare SCAN loop"
            )
        verdicts = "; ".join(describe_target(x) for x in size["derived"]["targets"].values())
        keys = fmt_n(size["keys"])
        out.append(f"- **Redis, {keys} keys** (`reconciler plan --redis`): {verdicts}{times}.")
        big_target = size["derived"]["targets"].get("plan_vs_bigkeys", {})
        if big_target.get("met") is False and big and floor:
            out.append(
                "  - What dominates: the scan itself (one TYPE and one PEXPIRETIME per key, "
                "pipelined with the next SCAN, and the key matched to its pattern in Python, "
                "about 2 µs a key), see *what dominates* below; --bigkeys' own time is the "
                "figure that moves most between runs on this machine (20.3 s on 2026-12-04, "
                f"{fmt_s(big['median_s'])} here, same keyspace). What it would take: the plan "
                f"within {TARGET_PLAN_VS_BIGKEYS * big['median_s'] / floor['median_s']:.1f}"
                f"{X} the bare SCAN loop (it is {plan['median_s'] / floor['median_s']:.2f}{X}): "
                "the per-key matching and counting in C (one compiled pattern set per key "
                "prefix), or TYPE asked only for patterns whose rules depend on it."
            )
        slow = size["derived"]["targets"].get("plan_slowest_command", {})
        command = (plan or {}).get("slowest_command") or ""
        if slow.get("met") is False and command:
            verb = command.split()[0].upper()
            what = (
                "a SCAN with COUNT 1000, the command the bare SCAN loop sends too, which takes "
                "~0.5 ms on this server when the machine is idle (median of a whole SCAN of 1M "
                "keys, slowest 0.65 ms)"
                if verb == "SCAN"
                else f"a {verb} of one key, which the server answers in microseconds"
            )
            out.append(
                f"  - The slowest command was `{command}` ({slow['value']} ms): {what}. The "
                "server was descheduled while it ran: the plan's client parses the previous "
                "batch on the same two cores. What it would take: a smaller COUNT (500 halves "
                "each SCAN's work for twice the round trips), or the client on another "
                "machine, as it is in production."
            )
    rss = _rss_growth(redis)
    if rss:
        parts = []
        for key in ("plan", "scan_only"):
            g = rss["figures"].get(key)
            if g:
                parts.append(
                    f"{'the plan' if key == 'plan' else 'scan_keyspace alone'} "
                    f"{fmt_mib(g['from_mib'])} → {fmt_mib(g['to_mib'])} ({X}{g['factor']}: "
                    f"{verdict(g['met'])})"
                )
        if parts:
            out.append(
                f"- **Peak RSS, {fmt_n(rss['from'])} → {fmt_n(rss['to'])} keys** (target ≤ "
                f"+{TARGET_RSS_GROWTH * 100:.0f} %): {'; '.join(parts)}."
            )
    out += redis_violations.summary_line(redis.get("violations") or {})
    prof = _profiled(redis)
    if prof:
        ph = prof["profile"]["phases"]
        out.append(
            f"- The {fmt_n(prof['keys'])}-key plan, in one instrumented run of "
            f"{fmt_s(ph['process_wall_s'])}: {_phase_list(ph, limit=4)}."
        )
    return out


def _profiled(redis: dict[str, Any]) -> dict[str, Any] | None:
    for size in redis["sizes"]:
        prof = size.get("profile") or {}
        if prof.get("phases"):
            return size
    return None


# ------------------------------------------------------------------------------- section


def section(r: dict[str, Any]) -> list[str]:
    redis = _redis(r)
    if redis is None:
        return []
    out = _method(r, redis)
    out += ["## Redis: results", ""]
    for size in sorted(redis["sizes"], key=lambda s: s["keys"]):
        out += _size_section(size)
    out += _commands(redis) + _rss(redis) + redis_violations.section(redis.get("violations") or {})
    out += _growth(redis) + _dominates(r, redis)
    out += _profile(redis)
    return out


def _method(r: dict[str, Any], redis: dict[str, Any]) -> list[str]:
    m = r["machine"]
    rd = m.get("redis") or {}
    runs = " and ".join(
        f"{k} runs at {fmt_n(int(n))} keys"
        for n, k in redis.get("options", {}).get("runs", {}).items()
    )
    missing = f"{100 / MISSING_TTL_ONE_IN:.0f} %"
    return [
        "## Redis: how it was measured",
        "",
        f"`python -m bench` also starts a throwaway Redis {rd.get('server', '?')} "
        "(`reconciler.dev.start_redis` in the run's temporary directory: 127.0.0.1 only, "
        '`--save ""`, no AOF), and for each size loads a keyspace from a deterministic generator '
        "(`bench/keyspace_gen.py`) with one `redis-cli --pipe` of a generated RESP file. Key *i* "
        "is the same at every size (the smaller keyspace is the start of the larger one):",
        "",
        "| share | key | type | TTL | pattern |",
        "|---:|---|---|---|---|",
        f"| 35 % | `app:session:<uuid>` | hash, 3 fields | {SESSION_TTL} s, missing on every "
        f"{MISSING_TTL_ONE_IN}th key | `app:session:{{session_id}}`, class session |",
        f"| 45 % | `app:cache:user:<i>` | string, ~100 bytes | {CACHE_TTL} s, missing on every "
        f"{MISSING_TTL_ONE_IN}th key | `app:cache:user:{{user_id}}`, class cache |",
        "| 1 % | `app:queue:<name>` | list, 3 items | none | `app:queue:{queue_name}`, class "
        "queue |",
        f"| 18 % | `rl:<token>` | zset, 3 members | {RATELIMIT_TTL} s | `rl:{{token}}`, class "
        f"ratelimit, ttl {RATELIMIT_TTL} |",
        "| 1 % | `legacy:<i>` | string | none | none: no pattern declares them |",
        "",
        f"So {missing} of the session and cache keys break their TTL policy, and a right plan "
        "EXPIREs exactly those keys and reports the `legacy:*` keys as matching no pattern. The "
        "desired state is `keys/app.yaml` and `keys/rl.yaml`:",
        "",
        "```yaml",
        *APP_SPEC.rstrip().splitlines(),
        "```",
        "",
        "```yaml",
        *RL_SPEC.rstrip().splitlines(),
        "```",
        "",
        "Four whole processes are measured: `redis-cli --bigkeys` (the peer: a full SCAN that "
        "reads every key's type and size), a bare redis-py `SCAN COUNT 1000` loop that only "
        "counts the keys (the floor), `reconciler plan --redis URL --schemas SPEC --out DIR` "
        "(load the spec, scan, diff, write the plan files, print the plan), and "
        "`scan_keyspace` alone from `python -c` (load the spec, connect, scan: no diff, no "
        "files). Wall time by `time.perf_counter()`, peak RSS and CPU time of the client process "
        f"by {m.get('peak_rss_method', 'GNU time')}; the server's CPU time during each run from "
        "INFO cpu before and after it, and the commands it ran from `CONFIG RESETSTAT` before "
        f"and INFO commandstats after. Median, min and max of {runs}; the runs are interleaved "
        "(bigkeys, floor, plan, scan alone, bigkeys, …) so that a change of machine load hits "
        f"every figure alike. The rate-limit keys live {RATELIMIT_TTL} s, less than the runs of "
        "one size take together, so they are written again (same members, EXPIRE "
        f"{RATELIMIT_TTL}; not timed) before every run: each run sees the whole keyspace. "
        "Before the first size, the plan and the scan alone also run against an empty keyspace "
        "(database 1 of the same server), and a process only imports the CLI: the costs paid "
        "before the first key.",
        "",
        "Every run is checked, and a wrong result fails the run: `--bigkeys` must sample every "
        "key and count each type right; the SCAN loop must return every key; `scan_keyspace` "
        "must count every key once, per pattern, with exactly the generated keys without TTL "
        "and none above policy; the plan must say `0 to add, 2 to change, 0 to drop`, its up "
        "file must EXPIRE exactly the keys generated without TTL (none twice, each with its "
        "pattern's TTL), its down file must PERSIST them back, and its findings must report the "
        "`legacy:*` keys, with their exact count, and nothing else.",
        "",
    ]


def _share(ratio: float | None) -> str:
    return NA if ratio is None else f"{100 * ratio:.0f} %"


def _cell(text: str) -> str:
    """Text for a Markdown table cell (command names such as `acl|list` hold a pipe)."""
    return text.replace("|", "\\|")


def _server_cpu_cell(f: dict[str, Any]) -> str:
    return fmt_s(f.get("median_server_cpu_s"))


def _load_span(f: dict[str, Any]) -> str:
    load = f.get("load_1min") or []
    return " → ".join(f"{x:.1f}" for x in load) if load else NA


def _size_section(size: dict[str, Any]) -> list[str]:
    s = size.get("shape") or {}
    out = [
        f"### {fmt_n(size['keys'])} keys",
        "",
        f"{fmt_n(s.get('sessions', 0))} sessions, {fmt_n(s.get('caches', 0))} cache strings, "
        f"{fmt_n(s.get('queues', 0))} queues, {fmt_n(s.get('ratelimits', 0))} rate limits and "
        f"{fmt_n(s.get('legacy', 0))} legacy keys; {fmt_n(s.get('without_ttl', 0))} keys "
        f"without their TTL. Redis used {fmt_mib(size.get('server_memory_mib'))} for them.",
        "",
        "| figure | median | min | max | peak RSS | client CPU | server CPU | runs | "
        "load before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in REDIS_FIGURES:
        f = size["figures"].get(key)
        if f is None:
            continue
        name = label if f["ok"] else f"{label} — **FAILED**"
        out.append(
            f"| {name} | {fmt_s(f['median_s'])} | {fmt_s(f['min_s'])} | {fmt_s(f['max_s'])} | "
            f"{fmt_mib(f['peak_rss_mib'])} | {fmt_s(f['median_cpu_s'])} | "
            f"{_server_cpu_cell(f)} | {f['runs']} | {_load_span(f)} |"
        )
    d = size["derived"]
    out += [
        "",
        *(f"- {describe_target(x)}" for x in d["targets"].values()),
        f"- plan / SCAN loop: {d['plan_vs_floor']}{X}; scan_keyspace alone / SCAN loop: "
        f"{d['scan_only_vs_floor']}{X}; --bigkeys / SCAN loop: {d['bigkeys_vs_floor']}{X}",
        f"- scan_keyspace alone takes {_share(d['scan_only_vs_plan'])} of the plan's wall time",
    ]
    files = size.get("plan_files")
    if files:
        total = sum(files.values())
        per = total / _violations(size) if _violations(size) else None
        listed = ", ".join(f"{k} {v / 1024:,.0f} KiB" for k, v in sorted(files.items()))
        out.append(
            f"- plan files: {total / 2**20:.2f} MiB ({listed})"
            + (f", {per:.0f} bytes per key to EXPIRE" if per else "")
        )
    setup = size.get("setup_s", {})
    if setup:
        out.append(
            "- setup (not a figure): " + ", ".join(f"{k} {fmt_s(v)}" for k, v in setup.items())
        )
    return [*out, ""]


def _commands(redis: dict[str, Any]) -> list[str]:
    size = _largest(redis)
    n = size["keys"]
    rows = []
    for key, label in REDIS_FIGURES:
        f = _fig(size, key)
        if not f or not f.get("commands"):
            continue
        c = f["commands"]
        sized = sum(c.get(k, 0) for k in _SIZE_COMMANDS)
        main = ("scan", "type", "pexpiretime", "time", *_SIZE_COMMANDS)
        other = {k: v for k, v in c.items() if k not in main}
        per_scan = n / c["scan"] if c.get("scan") else None
        rows.append(
            f"| {label} | {fmt_n(c.get('scan', 0))} "
            f"({f'{per_scan:,.0f}' if per_scan else NA} keys each) | {fmt_n(c.get('type', 0))} | "
            f"{fmt_n(c.get('pexpiretime', 0))} | {fmt_n(sized)} | {fmt_n(c.get('time', 0))} | "
            + (_cell(", ".join(f"{k} {v}" for k, v in other.items())) or NA)
            + " |"
        )
    if not rows:
        return []
    return [
        f"### Commands the server ran per run, {fmt_n(n)} keys",
        "",
        "From INFO commandstats after one run (the bench's own INFO and CONFIG left out). Size "
        "commands are STRLEN, HLEN, LLEN, SCARD, ZCARD and XLEN.",
        "",
        "| figure | SCAN | TYPE | PEXPIRETIME | size commands | TIME | other |",
        "|---|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
    ]


def _baseline(redis: dict[str, Any], key: str) -> dict[str, Any] | None:
    b = (redis.get("baselines") or {}).get(key)
    return b if b and "error" not in b else None


def _rss(redis: dict[str, Any]) -> list[str]:
    rss = _rss_growth(redis)
    if not rss:
        return []
    ordered = sorted(redis["sizes"], key=lambda s: s["keys"])
    small, large = ordered[0], ordered[-1]
    a, b = fmt_n(rss["from"]), fmt_n(rss["to"])
    pct = f"{TARGET_RSS_GROWTH * 100:.0f} %"
    out = [
        f"## Redis: peak RSS, {a} → {b} keys",
        "",
        f"The target: the plan's peak RSS at {b} keys within +{pct} of its peak at {a}. Keys "
        f"without TTL grow with the keyspace ({fmt_n(_violations(small))} → "
        f"{fmt_n(_violations(large))}), and the plan must hold each of them, so the last column "
        "divides the RSS added by the keys to EXPIRE added. The column before it subtracts the "
        "peak RSS of the same command run against an empty keyspace (database 1 of the same "
        "server): what the command holds for the keys.",
        "",
        f"| figure | {a} keys | {b} keys | factor | target | above an empty keyspace | "
        "added per key to EXPIRE |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    bases = {
        "plan": _baseline(redis, "plan_empty"),
        "scan_only": _baseline(redis, "scan_only_empty"),
    }
    for key, label in REDIS_FIGURES:
        g = rss["figures"].get(key)
        if not g:
            continue
        target = NA if g["target"] is None else f"≤ {X}{g['target']:.2f}: {verdict(g['met'])}"
        per = g.get("bytes_per_violating_key")
        base = bases.get(key)
        above = NA
        if base:
            lo, hi = g["from_mib"] - base["peak_rss_mib"], g["to_mib"] - base["peak_rss_mib"]
            above = f"{fmt_mib(lo)} → {fmt_mib(hi)}"
        out.append(
            f"| {label} | {fmt_mib(g['from_mib'])} | {fmt_mib(g['to_mib'])} | {X}{g['factor']} | "
            f"{target} | {above} | {NA if per is None or key not in bases else fmt_n(per)} |"
        )
    empties = (
        ("plan_empty", f"{REDIS_LABELS['plan']}, empty keyspace"),
        ("scan_only_empty", f"{REDIS_LABELS['scan_only']}, empty keyspace"),
        ("cli_imports", "a process only importing the CLI"),
    )
    for key, label in empties:
        base = _baseline(redis, key)
        if base:
            cell = fmt_mib(base["peak_rss_mib"])
            out.append(f"| {label} | {cell} | {cell} | {' | '.join([NA] * 4)} |")
    out += ["", *_rss_prose(redis, rss, large), ""]
    return out


def _rss_prose(redis: dict[str, Any], rss: dict[str, Any], large: dict[str, Any]) -> list[str]:
    plan, scan = rss["figures"].get("plan"), rss["figures"].get("scan_only")
    floor = rss["figures"].get("scan_floor")
    if not plan or not scan:
        return []
    cli, scan_base = _baseline(redis, "plan_empty"), _baseline(redis, "scan_only_empty")
    files = large.get("plan_files") or {}
    file_mib = sum(files.values()) / 2**20 if files else None
    scan_text = (
        f"**The scan.** `scan_keyspace` alone went {fmt_mib(scan['from_mib'])} → "
        f"{fmt_mib(scan['to_mib'])} (+{scan['added_mib']} MiB)"
    )
    if scan_base:
        scan_text += (
            f", against {fmt_mib(scan_base['peak_rss_mib'])} for an empty keyspace: almost all "
            "of it is the interpreter and its imports"
        )
    scan_text += (
        ". It keeps per pattern only counters, a few examples and, for every key that breaks its "
        "TTL policy, one `KeyFix` (a small object with the key's text, expiry and type), while at "
        "most three batches of 1,000 keys are in flight; its growth, "
        f"{fmt_n(scan['bytes_per_violating_key'] or 0)} bytes per key to EXPIRE, is about one "
        "`KeyFix` with its key string. The number of keys scanned does not show"
        + (
            f": the bare SCAN loop stayed at {fmt_mib(floor['to_mib'])} ({X}{floor['factor']})."
            if floor
            else "."
        )
    )
    plan_text = (
        f"**The plan.** `reconciler plan --redis` went {fmt_mib(plan['from_mib'])} → "
        f"{fmt_mib(plan['to_mib'])} (+{plan['added_mib']} MiB, "
        f"{fmt_n(plan['bytes_per_violating_key'] or 0)} bytes per key to EXPIRE"
    )
    if scan["bytes_per_violating_key"]:
        times = (plan["bytes_per_violating_key"] or 0) / scan["bytes_per_violating_key"]
        plan_text += f", {times:.0f} times the scan's"
    plan_text += ")"
    if cli:
        base = cli["peak_rss_mib"]
        lo, hi = plan["from_mib"] - base, plan["to_mib"] - base
        plan_text += (
            f". Against an empty keyspace it peaks at {fmt_mib(base)}, so what the plan holds "
            f"for the keys went {fmt_mib(lo)} → {fmt_mib(hi)}"
        )
    plan_text += (
        ". That part grows with the keys to fix: on top of the scan's `KeyFix` list the plan "
        "holds every one of them several times over — a sorted copy in `ExpireKeys`, the "
        "rendered `EXPIRE` line (up) and `PERSIST`/`PEXPIREAT` line (down) of the planned "
        "change, `Plan.to_dict()` (built once for the `.plan.json` and again for the terminal "
        "rendering), the JSON text, which repeats every line of both `.redis` files, and the "
        "text of those files, all held until the last file is written"
        + (
            f" ({file_mib:.1f} MiB of plan files at {fmt_n(large['keys'])} keys)."
            if file_mib
            else "."
        )
        + " It is proportional to the violations, not to the keyspace: the same keyspace with "
        "nothing to fix would need little more than the empty one. Streaming the lines "
        "of the `.redis` files from the `KeyFix` list, and keeping them out of the `.plan.json` "
        "(which already records each file's sha256), would leave only the scan's growth."
    )
    return [scan_text, "", plan_text]


def _growth(redis: dict[str, Any]) -> list[str]:
    if not redis.get("growth"):
        return []
    g0 = redis["growth"]
    heads = [f"{fmt_n(g['from'])} → {fmt_n(g['to'])} ({X}{g['keys']:g} keys)" for g in g0]
    out = [
        "## Redis: growth between sizes",
        "",
        "Factor of the median wall time (and of the peak RSS); linear growth equals the key "
        "factor, and a fixed cost (interpreter start, imports) makes it smaller.",
        "",
        "| figure | " + " | ".join(heads) + " |",
        "|---|" + "---:|" * len(heads),
    ]
    for key, label in REDIS_FIGURES:
        cells = []
        for g in g0:
            v = g["figures"].get(key)
            cells.append(f"{X}{v['time']} (RSS {X}{v['peak_rss']})" if v else NA)
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*out, ""]


# ------------------------------------------------------------------------ what dominates


def _cpu_split(f: dict[str, Any]) -> str:
    wall, cpu, server = f["median_s"], f.get("median_cpu_s"), f.get("median_server_cpu_s")
    text = f"its own CPU time was {fmt_s(cpu)} ({fmt_pct(cpu, wall)} of {fmt_s(wall)} wall)"
    if server is not None:
        text += f", the server's {fmt_s(server)} ({fmt_pct(server, wall)})"
    return text


def _overlap(f: dict[str, Any]) -> str:
    """A sentence comparing the two CPU times with the wall time: their sum above the wall
    means they overlapped by at least the difference; below it, at least the rest is waiting."""
    cpu, server = f.get("median_cpu_s"), f.get("median_server_cpu_s")
    if cpu is None or server is None:
        return ""
    wall = f["median_s"]
    both = cpu + server
    if both > wall:
        return (
            f" The two CPU times add up to {fmt_s(both)}, more than the wall time: client and "
            f"server worked at the same time for at least {fmt_s(both - wall)}."
        )
    return (
        f" The two CPU times add up to {fmt_s(both)}: at least {fmt_s(wall - both)} "
        f"({fmt_pct(wall - both, wall)}) neither side ran, each waiting for the other's reply "
        "or for a core."
    )


def _commands_total(f: dict[str, Any]) -> int:
    return sum((f.get("commands") or {}).values())


def _dominates(r: dict[str, Any], redis: dict[str, Any]) -> list[str]:
    size = _largest(redis)
    n = size["keys"]
    cores = r["machine"].get("cores") or "?"
    out = [
        f"## Redis: what dominates each figure ({fmt_n(n)} keys)",
        "",
        f"Client and server are separate processes sharing the machine's {cores} cores: a "
        "figure's wall time holds its own CPU time, the server's CPU time for it, and waiting "
        "(round trips, scheduling). The first two can overlap — the plan's scan works on one "
        "batch while the server answers the next — so wall time minus both CPU times is a "
        "lower bound of the waiting.",
        "",
    ]
    big, floor = _fig(size, "bigkeys"), _fig(size, "scan_floor")
    plan, scan = _fig(size, "plan"), _fig(size, "scan_only")
    if big:
        out += _bigkeys_paragraph(big, plan, n)
    if floor:
        c = floor.get("commands") or {}
        out += [
            f"**redis-py SCAN COUNT 1000 loop (floor)** — median {fmt_s(floor['median_s'])}; "
            f"{_cpu_split(floor)}. {fmt_n(c.get('scan', 0))} SCAN calls, one round trip each; "
            "every key crosses the socket once and becomes a Python bytes object, and nothing "
            "else happens to it: the least a Python client spends to see every key."
            f"{_overlap(floor)} Peak RSS {fmt_mib(floor['peak_rss_mib'])}, whatever the size.",
            "",
        ]
    if plan:
        out += _plan_paragraph(size, plan, big)
    if scan:
        out += _scan_paragraph(size, scan, plan, floor)
    out += _fixed_cost(redis)
    return out


def _bigkeys_paragraph(big: dict[str, Any], plan: dict[str, Any] | None, n: int) -> list[str]:
    c = big.get("commands") or {}
    scans = c.get("scan", 0)
    trips = 3 * scans
    sized = sum(c.get(k, 0) for k in _SIZE_COMMANDS)
    text = (
        f"**redis-cli --bigkeys (peer)** — median {fmt_s(big['median_s'])}; {_cpu_split(big)}. "
        "redis-cli 7.0 sends SCAN without COUNT, so the server returns its default of about 10 "
        f"keys per call: {fmt_n(scans)} SCAN calls for {fmt_n(n)} keys, each followed by a "
        f"pipeline of TYPE commands ({fmt_n(c.get('type', 0))} in all) and one of size commands "
        f"({fmt_n(sized)}), about {fmt_n(trips)} round trips"
    )
    if trips:
        text += f", {big['median_s'] / trips * 1e6:.0f} µs of wall time each"
    text += ". It is dominated by those round trips."
    if plan and plan.get("median_server_cpu_s") and big.get("median_server_cpu_s"):
        text += (
            f" The server ran about as many commands for it as for the plan "
            f"({fmt_n(_commands_total(big))} against {fmt_n(_commands_total(plan))}) but spent "
            f"{fmt_s(big['median_server_cpu_s'])} of CPU on them against "
            f"{fmt_s(plan['median_server_cpu_s'])}: the difference is the per-round-trip work "
            "(a read, a write and an event-loop turn for every ten keys)."
        )
    text += _overlap(big)
    text += f" Peak RSS {fmt_mib(big['peak_rss_mib'])}: it keeps only the biggest key per type."
    return [text, ""]


def _plan_paragraph(
    size: dict[str, Any], plan: dict[str, Any], big: dict[str, Any] | None
) -> list[str]:
    c = plan.get("commands") or {}
    d = size["derived"]
    text = (
        f"**reconciler plan --redis** — median {fmt_s(plan['median_s'])}"
        + (f" ({d['plan_vs_bigkeys']}{X} --bigkeys)" if big else "")
        + f"; {_cpu_split(plan)}. The server ran {fmt_n(c.get('scan', 0))} SCAN, "
        f"{fmt_n(c.get('type', 0))} TYPE, {fmt_n(c.get('pexpiretime', 0))} PEXPIRETIME and "
        f"{fmt_n(c.get('time', 0))} TIME: one pipeline per batch of 1,000 keys, which also "
        "carries the next SCAN, so a batch costs one round trip."
    )
    text += _overlap(plan)
    prof = size.get("profile") or {}
    ph = prof.get("phases")
    if ph:
        top, secs = _top_phase(ph)
        text += (
            f" Dominated by the {top} ({fmt_s(secs)}); one instrumented run of "
            f"{fmt_s(ph['process_wall_s'])}: {_phase_list(ph)}."
        )
    cp = prof.get("cprofile")
    if cp:
        keys = sorted(cp["key_functions"], key=lambda k: -k["cumulative_s"])[:5]
        parts = [f"{k['label']} {fmt_s(k['cumulative_s'])}" for k in keys if k["cumulative_s"]]
        top_fn = cp["top_tottime"][0]["function"] if cp["top_tottime"] else None
        most = ""
        if top_fn:
            loop = ", the per-key loop of the scan" if "_aggregate" in top_fn else ""
            most = f"; the function with the most own time is `{top_fn}`{loop}"
        text += (
            f" Under cProfile ({fmt_s(cp['profiled_total_s'])} profiled) the largest cumulative "
            f"costs are {', '.join(parts)}{most}."
        )
        text += _quoting_sentence(size, ph, cp)
    return [text + f" Peak RSS {fmt_mib(plan['peak_rss_mib'])}.", ""]


def _quoting_sentence(size: dict[str, Any], ph: dict[str, Any] | None, cp: dict[str, Any]) -> str:
    costs = {k["label"]: k for k in cp["key_functions"]}
    build = costs.get("plan build")
    quote = next((k for label, k in costs.items() if label.startswith("argument quoting")), None)
    if not build or not quote or not build["cumulative_s"]:
        return ""
    build_s = (ph or {}).get("phases_s", {}).get("plan build")
    return (
        " The plan build"
        + (f" ({fmt_s(build_s)} unprofiled)" if build_s else "")
        + f" renders an EXPIRE line and a PERSIST line for each of the "
        f"{fmt_n(_violations(size))} keys to fix; quoting their arguments "
        f"(`redisproto.quote`, a Python loop over every byte) took "
        f"{fmt_pct(quote['cumulative_s'], build['cumulative_s'])} of it under cProfile."
    )


def _scan_paragraph(
    size: dict[str, Any],
    scan: dict[str, Any],
    plan: dict[str, Any] | None,
    floor: dict[str, Any] | None,
) -> list[str]:
    text = f"**scan_keyspace alone** — median {fmt_s(scan['median_s'])}; {_cpu_split(scan)}."
    text += _overlap(scan)
    if floor:
        text += (
            f" Against the floor ({size['derived']['scan_only_vs_floor']}{X}) it sends two "
            "commands per key (TYPE, PEXPIRETIME) in pipelines of 1,000 keys, so the server "
            f"works {fmt_s(scan['median_server_cpu_s'])} instead of "
            f"{fmt_s(floor['median_server_cpu_s'])}, and it decodes and matches every key "
            "against the patterns in Python."
        )
    if plan:
        text += (
            f" It takes {fmt_pct(scan['median_s'], plan['median_s'])} of the plan's wall time: "
            "the rest of the plan is the CLI's extra imports, the diff, the plan build and "
            "files, and the terminal output."
        )
    return [text + f" Peak RSS {fmt_mib(scan['peak_rss_mib'])}.", ""]


_POSTGRES_ONLY = ("psycopg", "pglast", "deepdiff")


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _fixed_cost(redis: dict[str, Any]) -> list[str]:
    empty, cli = _baseline(redis, "plan_empty"), _baseline(redis, "cli_imports")
    if not empty:
        return []
    base = redis.get("baselines") or {}
    text = (
        "**Fixed cost.** Before it sees a key, every plan pays for starting Python, importing "
        "the CLI, connecting and reading the server's ACL users: against an empty keyspace "
        f"the plan takes {fmt_s(empty['median_s'])} ({fmt_s(empty['median_cpu_s'])} CPU) and "
        f"peaks at {fmt_mib(empty['peak_rss_mib'])}"
    )
    if cli:
        text += (
            f"; a process that only imports the CLI takes {fmt_s(cli['median_s'])} of that "
            f"and {fmt_mib(cli['peak_rss_mib'])}"
        )
    text += "."
    times = base.get("cli_importtime_s") or {}
    if times.get("all imports"):
        listed = ", ".join(
            f"{k} {fmt_s(v)}"
            for k, v in sorted(times.items(), key=lambda kv: -kv[1])
            if k != "all imports" and v >= 0.005
        )
        text += f" `python -X importtime` puts the CLI's imports at {fmt_s(times['all imports'])}"
        text += f" ({listed})." if listed else "."
    postgres = {k: times[k] for k in _POSTGRES_ONLY if times.get(k)}
    if postgres:
        text += (
            f" {_and(list(postgres))} ({fmt_s(sum(postgres.values()))} together) serve only "
            "Postgres, yet a Redis-only plan imports them"
        )
        scan_times = base.get("scan_importtime_s") or {}
        in_scan = [k for k in _POSTGRES_ONLY if scan_times.get(k)]
        if in_scan:
            text += (
                f", and so does `scan_keyspace` alone ({_and(in_scan)}: "
                f"{fmt_s(sum(scan_times[k] for k in in_scan))})"
            )
        text += "."
    rows, decided = [], False
    for size in sorted(redis["sizes"], key=lambda s: s["keys"]):
        plan, big = _fig(size, "plan"), _fig(size, "bigkeys")
        if not plan or not big:
            continue
        rest = plan["median_s"] - empty["median_s"]
        ratio = rest / big["median_s"]
        missed = size["derived"]["targets"]["plan_vs_bigkeys"]["met"] is False
        decided = decided or (missed and ratio <= TARGET_PLAN_VS_BIGKEYS)
        rows.append(
            f"at {fmt_n(size['keys'])} keys the fixed cost is "
            f"{fmt_pct(empty['median_s'], plan['median_s'])} of the plan's median, and the rest "
            f"({fmt_s(rest)}) is {ratio:.2f}{X} --bigkeys"
        )
    if rows:
        text += " --bigkeys, a C program, starts in milliseconds; " + "; ".join(rows) + "."
        if decided:
            text += (
                " Where the target is missed, the fixed cost alone decides it: the work that "
                "depends on the keys is faster than --bigkeys."
            )
    return [text, ""]


def _profile(redis: dict[str, Any]) -> list[str]:
    size = next((s for s in redis["sizes"] if (s.get("profile") or {}).get("cprofile")), None)
    if size is None:
        return []
    cp = size["profile"]["cprofile"]
    tool = "cProfile" + (
        ""
        if size["profile"].get("pyinstrument_available")
        else " (pyinstrument is not in the venv)"
    )
    return [
        f"## Redis: profile of the plan ({fmt_n(size['keys'])} keys)",
        "",
        f"One run under {tool}: {fmt_s(cp['process_wall_s'])} wall, "
        f"{fmt_s(cp['profiled_total_s'])} profiled (the profiler slows call-heavy Python code "
        f"most, so read shares, not seconds). Imports: {fmt_s(cp['imports_cumulative_s'])} "
        "cumulative.",
        "",
        "| cost | calls | cumulative |",
        "|---|---:|---:|",
        *[
            f"| {k['label']} | {fmt_n(k['calls'])} | {fmt_s(k['cumulative_s'])} |"
            for k in sorted(cp["key_functions"], key=lambda k: -k["cumulative_s"])
        ],
        "",
        "Functions with the most own time:",
        "",
        "| function | calls | own time | cumulative |",
        "|---|---:|---:|---:|",
        *[
            f"| `{t['function']}` | {fmt_n(t['calls'])} | {fmt_s(t['tottime_s'])} | "
            f"{fmt_s(t['cumulative_s'])} |"
            for t in cp["top_tottime"]
        ],
        "",
    ]


# -------------------------------------------------------------------------------- checks


def checks(r: dict[str, Any]) -> list[str]:
    redis = r.get("redis") or {}
    out = []
    for size in redis.get("sizes", []):
        n = fmt_n(size["keys"])
        for c in size["checks"]:
            mark = "ok" if c["ok"] else f"**FAILED**: {c['detail']}"
            out.append(f"- {n} keys, {c['name']}: {mark}")
        for key, _ in REDIS_FIGURES:
            f = size["figures"].get(key)
            if f is not None:
                mark = "ok" if f["ok"] else "**FAILED**: " + "; ".join(f["errors"])
                out.append(f"- {n} keys, {REDIS_LABELS[key]}, every run: {mark}")
    return out + redis_violations.checks(redis.get("violations") or {})
