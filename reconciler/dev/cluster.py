"""A throwaway local Redis Cluster: N primaries with R replicas each, every node on 127.0.0.1.

Owns: starting the nodes (non-persisting, daemonized, each with its own directory holding its
nodes.conf, pid and log files), joining them with `redis-cli --cluster create`, waiting until
every node agrees the cluster is healthy, a manual failover that waits the same way, and
LocalCluster, which asks the cluster (never a cached guess) which nodes are primaries now.

Must not: listen on anything but 127.0.0.1, persist data (no RDB, no AOF, diskless replication
both ways), or signal a process it cannot show to be its own live redis-server (each node is a
RedisServer, whose stop() checks that before it signals).
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.dev.cluster_map import SlotMap, ask, slot_map, unsettled
from reconciler.dev.launch import (
    HOST,
    log_size,
    log_tail,
    pid_alive,
    port_is_free,
    port_taken,
    read_pid,
)
from reconciler.dev.redis import RedisServer, await_redis, find_redis_server
from reconciler.dev.users import run_tool
from reconciler.errors import ReconcilerError
from reconciler.model.words import counted

__all__ = ["LocalCluster", "find_redis_cli", "start_redis_cluster"]

BUS_PORT_OFFSET = 10000  # a cluster node also listens on port + 10000 for the cluster bus

# Failure detection needs a node silent for this long. Low enough that an automatic failover
# (a killed primary) completes in a few seconds; high enough that a busy test machine stalling
# a node for a second does not fail over a healthy primary. CLUSTER FAILOVER does not wait on it.
_NODE_TIMEOUT_MS = 2000
# Data ports are drawn from here, so that neither they nor their bus ports (30000-32767) fall in
# Linux's default ephemeral range (32768-60999), where outgoing connections take ports at random.
_PORT_RANGE = (20000, 22768)
_PORT_PICKS = 200
_START_ATTEMPTS = 3
_CREATE_TIMEOUT_S = 60.0
_READY_TIMEOUT_S = 30.0
_POLL_S = 0.05
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def find_redis_cli() -> Path:
    """redis-cli: next to redis-server first (same version), then PATH."""
    beside = find_redis_server().with_name("redis-cli")
    if beside.is_file():
        return beside
    if on_path := shutil.which("redis-cli"):
        return Path(on_path)
    raise ReconcilerError(
        "redis-cli was not found.",
        detail="Run `make setup` (the Debian `redis-server` package brings redis-cli, which "
        "creates the cluster) or put redis-cli on PATH.",
    )


@dataclass(frozen=True, slots=True)
class LocalCluster:
    """A Redis Cluster started by us. Roles move on failover, so ask, never remember, them."""

    dir: Path
    nodes: tuple[RedisServer, ...]
    replicas: int  # per primary

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(node.port for node in self.nodes)

    @property
    def url(self) -> str:
        """A seed URL: a cluster client discovers every other node from it."""
        return f"redis://{HOST}:{self.ports[0]}"

    def primaries(self) -> list[int]:
        """The ports that own slots now, as the first answering node sees the cluster."""
        return sorted({row.primary for row in self.slot_map()})

    def replicas_of(self, primary_port: int) -> list[int]:
        """The replicas the cluster lists for `primary_port` (which must be a primary now)."""
        shards = {row.primary: row.replicas for row in self.slot_map()}
        if primary_port not in shards:
            raise ReconcilerError(
                f"{HOST}:{primary_port} is not a primary of the Redis Cluster in {self.dir}.",
                detail=f"Its primaries now: {', '.join(map(str, sorted(shards)))}.",
            )
        return list(shards[primary_port])

    def replica_of(self, primary_port: int) -> int:
        """The one replica of `primary_port`; an error when it has none or several."""
        replicas = self.replicas_of(primary_port)
        if len(replicas) != 1:
            raise ReconcilerError(
                f"{HOST}:{primary_port} has {len(replicas)} replicas, not one: "
                "use replicas_of() to choose."
            )
        return replicas[0]

    def failover(self, primary_port: int, *, timeout: float = 15) -> int:
        """Promote the (first) replica of `primary_port` with CLUSTER FAILOVER; its port.

        Returns once every node reports cluster_state:ok, every slot map shows the replica as the
        primary and the old primary as its replica, and that old primary's link is up.
        """
        replicas = self.replicas_of(primary_port)
        if not replicas:
            raise ReconcilerError(f"{HOST}:{primary_port} has no replica to fail over to.")
        promoted = replicas[0]
        offsets = {node.port: log_size(_log(node.dir)) for node in self.nodes}
        ask(promoted, "CLUSTER", "FAILOVER")

        def switched(slot_map: SlotMap) -> str | None:
            shards = {row.primary: row.replicas for row in slot_map}
            if primary_port in shards.get(promoted, ()):
                return None
            return f"does not yet list {HOST}:{primary_port} as a replica of {HOST}:{promoted}"

        doing = f"after a failover to {HOST}:{promoted}"
        _await_settled(self, offsets, timeout=timeout, expect=switched, doing=doing)
        return promoted

    def flushall(self) -> None:
        """Delete every key (FLUSHALL on each primary), and wait until the replicas have too."""
        for primary in self.primaries():
            ask(primary, "FLUSHALL", "SYNC")
            wanted = len(self.replicas_of(primary))
            acked = int(ask(primary, "WAIT", str(wanted), "5000"))
            if acked < wanted:
                raise ReconcilerError(
                    f"Only {acked} of {wanted} replicas of {HOST}:{primary} confirmed FLUSHALL "
                    "within 5 seconds."
                )

    def stop(self) -> None:
        """Stop every node (SHUTDOWN NOSAVE, then signals); safe to call again."""
        failures: list[str] = []
        for node in self.nodes:
            try:
                node.stop()
            except ReconcilerError as exc:
                failures.append(exc.summary)  # stop the others all the same
        if failures:
            raise ReconcilerError(
                f"{counted(len(failures), 'Redis Cluster node')} in {self.dir} did not stop.",
                detail="\n".join(failures),
            )

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def slot_map(self) -> SlotMap:
        unanswered: list[str] = []
        for port in self.ports:
            try:
                return slot_map(port)
            except ReconcilerError as exc:
                unanswered.append(exc.summary)
        raise ReconcilerError(
            f"No node of the Redis Cluster in {self.dir} answers.", detail="\n".join(unanswered)
        )


# ----------------------------------------------------------------------------------- starting


def start_redis_cluster(
    workdir: Path, *, primaries: int = 3, replicas: int = 1, ports: list[int] | None = None
) -> LocalCluster:
    """Start primaries * (1 + replicas) nodes on 127.0.0.1, join them, wait until all agree.

    Each node runs from `workdir/node-<i>`. `ports` (one per node) fixes the data ports; their
    bus ports (port + 10000) must be free too. Without it, free pairs are picked, and a start
    that loses a port to another process is retried on a new pair. On any failure every node
    started is stopped again.
    """
    total = _check_shape(primaries, replicas, ports)
    binary, cli = str(find_redis_server()), str(find_redis_cli())
    workdir = workdir.resolve()
    directories = [workdir / f"node-{index}" for index in range(total)]
    for directory in directories:
        if (pid := read_pid(directory / "redis.pid")) is not None and pid_alive(pid, name="redis"):
            raise ReconcilerError(
                f"A Redis Cluster node already runs from {directory} (pid {pid})."
            )

    nodes: list[RedisServer] = []
    offsets: dict[int, int] = {}
    try:
        for index, directory in enumerate(directories):
            directory.mkdir(parents=True, exist_ok=True)
            offset = log_size(directory / "redis.log")
            wanted = ports[index] if ports is not None else None
            node = _start_node(binary, directory, port=wanted, taken={n.port for n in nodes})
            nodes.append(node)
            offsets[node.port] = offset
        cluster = LocalCluster(dir=workdir, nodes=tuple(nodes), replicas=replicas)
        _create(cli, cluster.ports, replicas=replicas)
        _await_settled(cluster, offsets, timeout=_READY_TIMEOUT_S, doing="after its start")
        return cluster
    except BaseException as exc:
        for node in nodes:
            try:
                node.stop()
            except ReconcilerError as stop_error:
                exc.add_note(f"Cleaning up: {stop_error.summary}")
        raise


def _check_shape(primaries: int, replicas: int, ports: list[int] | None) -> int:
    """The number of nodes; an error, before anything starts, for a shape that cannot work."""
    if primaries < 3:
        raise ReconcilerError(
            f"A Redis Cluster needs at least 3 primaries, not {primaries} "
            "(redis-cli --cluster create refuses fewer)."
        )
    if replicas < 0:
        raise ReconcilerError(f"A primary cannot have {replicas} replicas.")
    total = primaries * (1 + replicas)
    if ports is None:
        return total
    if len(ports) != total:
        raise ReconcilerError(
            f"{primaries} primaries with {counted(replicas, 'replica')} each need {total} ports, "
            f"not {len(ports)}."
        )
    listening = list(ports) + [port + BUS_PORT_OFFSET for port in ports]
    if len(set(listening)) != len(listening):
        raise ReconcilerError(
            "The Redis Cluster ports overlap (each node also listens on its port + 10000).",
            detail=f"Ports: {', '.join(map(str, ports))}.",
        )
    if out_of_range := [port for port in ports if not 0 < port <= 65535 - BUS_PORT_OFFSET]:
        raise ReconcilerError(
            f"Redis Cluster ports must be at most {65535 - BUS_PORT_OFFSET} (the bus port is "
            f"port + 10000): {', '.join(map(str, out_of_range))}."
        )
    return total


def _pick_port(taken: set[int]) -> int:
    """A data port that, with its bus port, is free now and not already one of ours."""
    for _ in range(_PORT_PICKS):
        port = random.randrange(*_PORT_RANGE)
        if port in taken or not port_is_free(port):
            continue
        if port_is_free(port + BUS_PORT_OFFSET):
            return port
    raise ReconcilerError(
        f"Found no free pair of ports (port and port + 10000) between {_PORT_RANGE[0]} and "
        f"{_PORT_RANGE[1]} on {HOST} in {_PORT_PICKS} tries."
    )


def _start_node(binary: str, directory: Path, *, port: int | None, taken: set[int]) -> RedisServer:
    """One cluster-enabled node, retried on a new port pair when another process took one."""
    for attempt in range(_START_ATTEMPTS):
        candidate = port if port is not None else _pick_port(taken)
        node, why = _launch_node(binary, directory, candidate)
        if node is not None:
            return node
        if port is None and attempt < _START_ATTEMPTS - 1 and port_taken(why):
            continue
        break
    raise ReconcilerError(
        f"A Redis Cluster node did not start on {HOST}:{candidate} (directory {directory}).",
        detail=why or None,
    )


def _launch_node(binary: str, directory: Path, port: int) -> tuple[RedisServer | None, str]:
    """The started node, or None and why (its log, or redis-server's own output)."""
    pidfile, log, nodes_conf = directory / "redis.pid", _log(directory), directory / "nodes.conf"
    pidfile.unlink(missing_ok=True)
    # A nodes.conf left by an earlier cluster would make the node rejoin that one (same node id,
    # same slots) and `--cluster create` refuse it as not empty.
    nodes_conf.unlink(missing_ok=True)
    offset = log_size(log)
    argv = [binary, "--port", str(port), "--bind", HOST, "--dir", str(directory)]
    argv += ["--save", "", "--appendonly", "no", "--daemonize", "yes"]
    argv += ["--pidfile", str(pidfile), "--logfile", str(log)]
    argv += ["--cluster-enabled", "yes", "--cluster-config-file", str(nodes_conf)]
    argv += ["--cluster-node-timeout", str(_NODE_TIMEOUT_MS)]
    # Replication never touches the disk, and starts at once: the 7.0 default waits 5 s for
    # more replicas to arrive before it sends the first full sync.
    argv += ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"]
    argv += ["--repl-diskless-load", "swapdb"]
    # CLUSTER SLOTS (7.0) hides a replica until gossip reports a non-zero replication offset
    # for it, and on an idle primary only the replication PING moves the offset: every 10 s by
    # default, which kept clients (and us) from seeing a fresh cluster's replicas for seconds.
    argv += ["--repl-ping-replica-period", "1"]
    # SHUTDOWN must not wait (up to 10 s by default) for lagging replicas of a throwaway node.
    argv += ["--shutdown-timeout", "0"]
    result = run_tool(argv, timeout=30)
    pid = await_redis(port, pidfile, log, offset) if result.returncode == 0 else None
    if pid is not None:
        return RedisServer(dir=directory, port=port, pid=pid), ""
    return None, log_tail(log, offset) or (result.stderr or result.stdout).strip()


def _create(cli: str, ports: Sequence[int], *, replicas: int) -> None:
    """`redis-cli --cluster create`: assign the slots, meet the nodes, attach the replicas."""
    argv = [cli, "--cluster", "create", *(f"{HOST}:{port}" for port in ports)]
    argv += ["--cluster-replicas", str(replicas), "--cluster-yes"]
    try:
        # stdin from /dev/null: --cluster-yes answers the prompt, and CI may have no stdin.
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=_CREATE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise ReconcilerError(
            f"redis-cli --cluster create did not finish within {_CREATE_TIMEOUT_S:g} seconds."
        ) from exc
    except OSError as exc:
        raise ReconcilerError(f"Could not run {cli}: {exc.strerror or exc}.") from exc
    if result.returncode != 0:
        output = _ANSI.sub("", f"{result.stdout}\n{result.stderr}").strip().splitlines()
        raise ReconcilerError(
            f"redis-cli --cluster create failed (exit code {result.returncode}) for the nodes "
            f"on ports {', '.join(map(str, ports))}.",
            detail="\n".join(output[-15:]) or None,
        )


# ------------------------------------------------------------------------------------ waiting


def _await_settled(
    cluster: LocalCluster,
    offsets: dict[int, int],
    *,
    timeout: float,
    doing: str,
    expect: Callable[[SlotMap], str | None] | None = None,
) -> None:
    """Wait until `unsettled` (and `expect`, on the agreed slot map) find nothing wrong."""
    deadline = time.monotonic() + timeout
    while True:
        for node in cluster.nodes:
            if not node.is_running():
                raise ReconcilerError(
                    f"Redis Cluster node {HOST}:{node.port} exited while the cluster settled "
                    f"{doing}.",
                    detail=log_tail(_log(node.dir), offsets.get(node.port, 0)) or None,
                )
        problem = unsettled(cluster.ports, replicas=cluster.replicas, expect=expect)
        if problem is None:
            return
        if time.monotonic() >= deadline:
            port, reason = problem
            node = next(n for n in cluster.nodes if n.port == port)
            raise ReconcilerError(
                f"The Redis Cluster in {cluster.dir} did not settle within {timeout:g} seconds "
                f"{doing}: {HOST}:{port} {reason}.",
                detail=log_tail(_log(node.dir), offsets.get(port, 0)) or None,
            )
        time.sleep(_POLL_S)


def _log(directory: Path) -> Path:
    return directory / "redis.log"
