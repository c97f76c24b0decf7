"""Validated Redis file specs → one RedisSnapshot: pattern shapes, overlaps, TTL policy, config
and ACL users, with every problem named by file, line and key path.

Patterns must be disjoint: every key belongs to at most one pattern, so two patterns that can
match the same key (`app:{a}:x` and `app:y:{b}` both match `app:y:x`) are an error, found by
comparing the patterns segment by segment (reconciler/model/keypattern.py). Two exceptions
are precedence: a pattern whose first segment is literal (a namespace) wins over one that
starts with a placeholder (`{host}:{pid:int}`), and a pattern lying strictly within another
(`sess:admin` within `sess:{token}`) wins over it; those may overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reconciler.desired.keyspec import SECRET_MESSAGE, AclUserSpec, KeysFileSpec, PatternSpec
from reconciler.desired.lint_rules import ACL_RULES, KEY_RULES, LintIgnore
from reconciler.desired.spec_base import LintSpec
from reconciler.model import keypattern
from reconciler.model.address import Address
from reconciler.model.keypattern import Segment
from reconciler.model.redis import (
    CLASS_NEEDS_TTL,
    CLASS_TTL,
    AclUser,
    ConfigParam,
    KeyPattern,
    RedisSnapshot,
)
from reconciler.project.yamlload import Marks, Where, at

_GLOB = re.compile(r"[*?\[\]\\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONFIG_NAME = re.compile(r"[a-z0-9-]+\Z")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The parameters Redis (7.0) takes only yes or no for, any case (its boolean configs, with the
# old slave- spellings of the replica- ones): another word is refused by CONFIG SET at apply.
# A parameter not listed here is left to the server, as before.
_YES_NO = frozenset(
    {
        "rdbchecksum", "daemonize", "io-threads-do-reads", "always-show-logo", "protected-mode",
        "rdbcompression", "rdb-del-sync-files", "activerehashing", "stop-writes-on-bgsave-error",
        "set-proc-title", "dynamic-hz", "lazyfree-lazy-eviction", "lazyfree-lazy-expire",
        "lazyfree-lazy-server-del", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush",
        "repl-disable-tcp-nodelay", "repl-diskless-sync", "aof-rewrite-incremental-fsync",
        "no-appendfsync-on-rewrite", "cluster-require-full-coverage",
        "rdb-save-incremental-fsync", "aof-load-truncated", "aof-use-rdb-preamble",
        "aof-timestamp-enabled", "cluster-replica-no-failover", "cluster-slave-no-failover",
        "replica-lazy-flush", "slave-lazy-flush", "replica-serve-stale-data",
        "slave-serve-stale-data", "replica-read-only", "slave-read-only",
        "replica-ignore-maxmemory", "slave-ignore-maxmemory", "jemalloc-bg-thread",
        "activedefrag", "syslog-enabled", "cluster-enabled", "appendonly",
        "cluster-allow-reads-when-down", "cluster-allow-pubsubshard-when-down",
        "crash-log-enabled", "crash-memcheck-enabled", "use-exit-on-panic", "disable-thp",
        "cluster-allow-replica-migration", "replica-announced", "latency-tracking",
        "aof-disable-auto-gc",
    }
)  # fmt: skip
_COMMAND = re.compile(r"[+-]@?[A-Za-z0-9_.|-]+\Z|allcommands\Z|nocommands\Z", re.IGNORECASE)
# ACL rules that belong elsewhere than `commands:` → what to write instead.
_NOT_COMMANDS = {
    "on": "use `enabled: true`",
    "off": "use `enabled: false`",
    "nopass": "use `nopass: true`",
    "resetpass": "passwords are managed through password_env / nopass",
    "allkeys": 'use `keys: ["*"]`',
    "resetkeys": "list the user's key patterns under `keys:`",
    "allchannels": 'use `channels: ["*"]`',
    "resetchannels": "list the user's channels under `channels:`",
    "reset": "a user's rules are always the whole truth; `reset` is implied",
}


@dataclass(frozen=True, slots=True)
class KeysSource:
    display: str  # the path as shown to the user
    spec: KeysFileSpec
    marks: Marks


@dataclass(slots=True)
class BuiltRedis:
    snapshot: RedisSnapshot
    lint_ignores: dict[Address, tuple[LintIgnore, ...]]
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, message)


def build_redis(files: list[KeysSource]) -> BuiltRedis:
    return RedisBuilder().run(files)


def split_pattern(pattern: str) -> tuple[tuple[Segment, ...] | None, str | None]:
    """The segments of a pattern, or None and what is wrong."""
    try:
        return keypattern.parse(pattern), None
    except keypattern.PatternError as exc:
        return None, str(exc)


def overlap(a: tuple[Segment, ...], b: tuple[Segment, ...]) -> str | None:
    """A key both patterns match, or None when they are disjoint."""
    return keypattern.meet(a, b)


def _nested(a: tuple[Segment, ...], b: tuple[Segment, ...]) -> bool:
    """Whether one pattern lies strictly within the other (`sess:admin` within
    `sess:{token}`): a key of both goes to the more specific one."""
    one, other = keypattern.within(a, b), keypattern.within(b, a)
    return one != other


def _rivals(a: tuple[Segment, ...], b: tuple[Segment, ...]) -> bool:
    """Whether two patterns compete for keys: a pattern whose first segment is literal (a
    namespace) takes precedence over one that starts with a placeholder, so only two of the
    same sort must be disjoint."""
    return (keypattern.literal_text(a[0]) is None) == (keypattern.literal_text(b[0]) is None)


class RedisBuilder:
    def __init__(self) -> None:
        self.problems: list[tuple[str, int, str]] = []
        self.patterns: dict[str, KeyPattern] = {}
        self.seen: dict[str, str] = {}  # every well-formed pattern → its first source
        # segment count → (segments, pattern, source) of every well-formed pattern seen
        self.shapes: dict[int, list[tuple[tuple[Segment, ...], str, str]]] = {}
        self.config: dict[str, ConfigParam] = {}
        self.acl: dict[str, AclUser] = {}
        self.user_sources: dict[str, str] = {}  # every user name seen, valid or not
        self.manage_acl = False
        self.ignores: dict[Address, tuple[LintIgnore, ...]] = {}

    def report(self, where: Where, message: str, *, key: bool = False) -> None:
        line = where.key_line if key else where.line
        self.problems.append((where.display, line, at(where.path, message)))

    def run(self, files: list[KeysSource]) -> BuiltRedis:
        for f in files:
            root = Where(f.display, f.marks)
            namespace = self.namespace(f.spec.namespace, root.sub("namespace"))
            for i, p in enumerate(f.spec.patterns):
                self.pattern(p, namespace, f.spec.namespace, root.sub("patterns", i))
            for name, value in f.spec.config.items():
                self.config_param(name, value, root.sub("config", name))
            if f.spec.acl is not None:
                self.manage_acl = True
                for i, u in enumerate(f.spec.acl.users):
                    self.user(u, root.sub("acl", "users", i))
        snapshot = RedisSnapshot(self.patterns, self.config, self.acl, self.manage_acl)
        return BuiltRedis(snapshot, self.ignores, self.problems)

    # --- patterns ----------------------------------------------------------------------------

    def namespace(self, text: str | None, where: Where) -> str | bool | None:
        """The namespace prefix patterns must start with; False when it is itself invalid."""
        if text is None:
            return None
        if not text or ":" in text or "{" in text or "}" in text or _GLOB.search(text):
            self.report(
                where,
                f"namespace {text!r} must be one key segment: not empty, without ':', "
                "braces or glob characters",
            )
            return False
        return text + ":"

    def pattern(
        self, spec: PatternSpec, prefix: str | bool | None, namespace: str | None, where: Where
    ) -> None:
        text = spec.pattern
        pw = where.sub("pattern")
        segments, problem = split_pattern(text)
        if problem or segments is None:
            self.report(pw, problem or "invalid key pattern")
            return
        if isinstance(prefix, str) and not text.startswith(prefix):
            self.report(pw, f"key pattern '{text}' does not start with the namespace '{prefix}'")
            return
        if text in self.seen:
            first = self.seen[text]
            self.report(pw, f"key pattern '{text}' is declared twice (first at {first})")
            return
        self.seen[text] = where.source
        same_length = self.shapes.setdefault(len(segments), [])
        for other_segments, other, other_source in same_length:
            if not _rivals(segments, other_segments) or _nested(segments, other_segments):
                continue
            example = overlap(segments, other_segments)
            if example is not None:
                self.report(
                    pw,
                    f"key pattern '{text}' can match the same keys as '{other}' "
                    f"(at {other_source}), e.g. '{example}'; every key must belong to one pattern",
                )
                same_length.append((segments, text, where.source))
                return
        same_length.append((segments, text, where.source))
        ttl = self.ttl(spec, where)
        new = KeyPattern(
            pattern=text,
            type=spec.type,
            key_class=spec.class_,
            ttl=ttl,
            reason=spec.reason,
            max_length=spec.max_length,
            max_bytes=spec.max_bytes,
            prune=spec.prune,
            namespace=namespace if isinstance(prefix, str) else None,
            source=where.source,
        )
        self.patterns[text] = new
        self.lint_ignores(spec.lint, new.address, KEY_RULES, "a key pattern", where)

    def ttl(self, spec: PatternSpec, where: Where) -> int | None:
        cls = spec.class_
        if cls is None:
            return spec.ttl
        default = CLASS_TTL[cls]
        if spec.ttl is None:
            if default is None and cls in CLASS_NEEDS_TTL:
                self.report(
                    where.sub("class"),
                    f"class '{cls}' has no default TTL; give `ttl:` (seconds every key "
                    "expires within)",
                )
            return default
        # ratelimit/lock have no default window: their ttl states it, it overrides nothing
        overrides = spec.ttl != default and not (default is None and cls in CLASS_NEEDS_TTL)
        if overrides and spec.reason is None:
            was = f"{default} seconds" if default else "no TTL"
            self.report(
                where.sub("ttl"),
                f"ttl {spec.ttl} overrides the class '{cls}' default of {was}; "
                "document why with `reason:`",
            )
        return spec.ttl

    # --- config ------------------------------------------------------------------------------

    def config_param(self, name: str, value: str, where: Where) -> None:
        lowered = name.lower()
        if not _CONFIG_NAME.match(lowered):
            self.report(
                where,
                f"config parameter name {name!r} must be lowercase letters, digits and '-'",
                key=True,
            )
            return
        if lowered in self.config:
            first = self.config[lowered].source
            message = f"config parameter '{lowered}' is set twice (first at {first})"
            self.report(where, message, key=True)
            return
        if lowered in _YES_NO and value.lower() not in ("yes", "no"):
            self.report(
                where,
                f"config parameter '{lowered}' is yes or no, not {value!r} (Redis refuses "
                "anything else); an unquoted on/off or true/false reads as yes/no",
            )
            return
        source = f"{where.display}:{where.key_line}"
        self.config[lowered] = ConfigParam(lowered, value, source=source)

    # --- ACL users ---------------------------------------------------------------------------

    def user(self, spec: AclUserSpec, where: Where) -> None:
        name = spec.name
        nw = where.sub("name")
        if not name or any(c.isspace() for c in name) or _CONTROL.search(name):
            self.report(nw, f"ACL user name {name!r} must be non-empty without spaces")
            return
        if name in self.user_sources:
            first = self.user_sources[name]
            self.report(nw, f"ACL user '{name}' is declared twice (first at {first})")
            return
        self.user_sources[name] = where.source
        ok = True
        if spec.password_env is not None and not _ENV_NAME.match(spec.password_env):
            self.report(
                where.sub("password_env"),
                "password_env must be the name of an environment variable (letters, digits "
                "and _, not starting with a digit), never the password itself",
            )
            ok = False
        if spec.nopass and spec.password_env is not None:
            self.report(where.sub("nopass"), "nopass: true and password_env exclude each other")
            ok = False
        rules: list[str] = []
        for kind, mark, items in (("keys", "~", spec.keys), ("channels", "&", spec.channels)):
            for i, item in enumerate(items):
                if self.pattern_rule_ok(kind, mark, item, where.sub(kind, i)):
                    rules.append(mark + item)
                else:
                    ok = False
        for i, rule in enumerate(spec.commands):
            if self.command_ok(rule, where.sub("commands", i)):
                rules.append(rule)
            else:
                ok = False
        if not ok:
            return
        user = AclUser(
            name=name,
            enabled=spec.enabled,
            rules=tuple(rules),
            password_env=spec.password_env,
            nopass=spec.nopass,
            source=where.source,
        )
        self.acl[name] = user
        self.lint_ignores(spec.lint, user.address, ACL_RULES, "an ACL user", where)

    def pattern_rule_ok(self, kind: str, mark: str, item: str, where: Where) -> bool:
        if not item or any(c.isspace() for c in item) or _CONTROL.search(item):
            self.report(where, f"{kind} entries must be non-empty and without spaces")
            return False
        if item.startswith(mark):
            self.report(where, f"write the pattern without the leading '{mark}' ({kind}: adds it)")
            return False
        return True

    def command_ok(self, rule: str, where: Where) -> bool:
        word = rule.strip().lower()
        if word[:1] in (">", "<", "#", "!"):
            self.report(where, SECRET_MESSAGE)  # the rule is a password or its hash: no echo
            return False
        if word in _NOT_COMMANDS:
            self.report(where, f"'{word}' is not a command rule: {_NOT_COMMANDS[word]}")
            return False
        if word[:1] in ("~", "%"):
            self.report(where, "key patterns go under `keys:`, not `commands:`")
            return False
        if word[:1] == "&":
            self.report(where, "channel patterns go under `channels:`, not `commands:`")
            return False
        if word[:1] == "(":
            self.report(where, "ACL selectors are not supported")
            return False
        if not _COMMAND.match(rule):
            self.report(
                where,
                f"{rule!r} is not an ACL command rule (+command, -command, +@category, "
                "-@category, +command|subcommand, allcommands or nocommands)",
            )
            return False
        return True

    # --- lint ignores ------------------------------------------------------------------------

    def lint_ignores(
        self,
        spec: LintSpec | None,
        address: Address,
        rules: tuple[str, ...],
        what: str,
        where: Where,
    ) -> None:
        if spec is None:
            return
        found = []
        for i, ig in enumerate(spec.ignore):
            iw = where.sub("lint", "ignore", i)
            if ig.rule not in rules:
                known = ", ".join(rules)
                self.report(
                    iw.sub("rule"), f"unknown lint rule '{ig.rule}' for {what} (rules: {known})"
                )
                continue
            found.append(LintIgnore(ig.rule, ig.reason.strip(), iw.source))
        if found:
            self.ignores[address] = tuple(found)
