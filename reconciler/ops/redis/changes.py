"""Redis changes: key TTLs, server config, ACL users. Statements are redis-cli command lines.

Keys are data: a change never rewrites a value. TTL fixes carry each key's expiry as scanned
(absolute ms, -1 for none) so that apply can skip a key that changed since the plan, and the
down file restores exactly that expiry (PERSIST, or PEXPIREAT the old instant). Their type as
scanned goes into the change's details (`key_types`), which the plan file keeps: apply and
rollback skip a key whose type is no longer that one (it was deleted and written anew as other
data, which no TTL step of this pattern may touch).
Passwords never appear: an ACL user's password is rendered as a `${ENV_VAR}` reference that
apply substitutes from its environment at the last moment. Nor do the server's hashes of a live
user's passwords (an unsalted sha256 is as good as the password against a guess): the statement
that gives them back carries the placeholder `#${reconciler:acl-kept:<user>}`, which apply
expands from what it kept in Redis before changing the user (locks/redis_acl_kept.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.model.address import Address
from reconciler.model.redis import AclUser, ConfigParam, KeyFix
from reconciler.model.words import counted
from reconciler.ops.base import DESTRUCTIVE, Action, Change, Hazard, Statement
from reconciler.ops.redis.lines import Lines
from reconciler.ops.redis.proto import quote, render

PASSWORD_REF = "${{{}}}"  # rendered into a `>${NAME}` rule; apply substitutes the value
KEPT_PREFIX = "#${reconciler:acl-kept:"  # + user + "}": a live user's hashes, kept in Redis


def kept_passwords(name: str) -> str:
    """The one argument that stands for the hashes of user `name` as they were before apply."""
    return f"{KEPT_PREFIX}{name}}}"


@dataclass(frozen=True, slots=True)
class ExpireKeys(Change):
    """Give every listed key of a pattern its TTL (missing, or longer than the policy).

    `keys`: a tuple, or the sized view of a scan's keys (model/keyfixes.py) read anew each
    time: a plan takes its lines from command_lines(), rendered as they are read."""

    pattern: str
    ttl: int
    keys: Any  # Sequence-like of KeyFix: sized, iterable more than once, by key
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("redis", "keys", self.pattern)

    def statements(self) -> list[Statement]:
        return [Statement(line) for line in self.command_lines()]

    def command_lines(self) -> Lines:
        """The up lines, one EXPIRE per key, each rendered when read (all in the main
        phase, as statements() gives them)."""
        ttl = self.ttl
        return Lines(self.keys, lambda k: render("EXPIRE", k.key, ttl))

    def reverse(self) -> Change:
        return RestoreExpiry(self.pattern, self.ttl, self.keys)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def hazards(self) -> tuple[Hazard, ...]:
        missing = _without_ttl(self.keys)
        return (
            Hazard(
                "expires_data",
                f"{counted(len(self.keys), 'key')} will expire within {self.ttl} s "
                f"({missing} had no TTL at all)",
            ),
        )

    def details(self) -> list[dict]:
        return [
            {"attribute": "ttl", "old": self._old_ttls(), "new": self.ttl, "keys": len(self.keys)},
            key_types(self.keys),
        ]

    def _old_ttls(self) -> str | None:
        """What the keys carry now, in words: none (`(none)` when shown), a TTL above the
        policy's, or some of each."""
        missing = _without_ttl(self.keys)
        if missing == len(self.keys):
            return None
        return f"{'none or ' if missing else ''}over {self.ttl} s"

    def describe(self) -> str:
        return f"expire {counted(len(self.keys), 'key')} within {self.ttl} s"


def _without_ttl(keys: Iterable[KeyFix]) -> int:
    known = getattr(keys, "without_ttl", None)  # a scan's view counts them in one pass
    return known if known is not None else sum(1 for k in keys if k.pexpiretime < 0)


def _restore_line(k: KeyFix) -> str:
    if k.pexpiretime < 0:
        return render("PERSIST", k.key)
    return render("PEXPIREAT", k.key, k.pexpiretime)


def key_types(keys: Iterable[KeyFix]) -> dict:
    """The detail naming each key's type as scanned: one type for the pattern's keys (the
    diff only fixes keys of the pattern's type), a map from the quoted key (ASCII, as in the
    files) to its type should they ever differ. Without old/new, renderers leave it out;
    rollback keeps it as it is."""
    kind = getattr(keys, "kind", None)  # a scan's view holds the keys of one type
    kinds = {kind} if kind is not None else {k.type for k in keys}
    if len(kinds) == 1:
        return {"attribute": "key_types", "type": next(iter(kinds))}
    return {"attribute": "key_types", "types": {quote(k.key): k.type for k in keys}}


@dataclass(frozen=True, slots=True)
class RestoreExpiry(Change):
    """The reverse of ExpireKeys: each key gets back exactly the expiry it had."""

    pattern: str
    ttl: int
    keys: Any  # as ExpireKeys.keys
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("redis", "keys", self.pattern)

    def statements(self) -> list[Statement]:
        return [Statement(line) for line in self.command_lines()]

    def command_lines(self) -> Lines:
        """The down lines, one PERSIST or PEXPIREAT per key, rendered when read."""
        return Lines(self.keys, _restore_line)

    def reverse(self) -> Change:
        return ExpireKeys(self.pattern, self.ttl, self.keys)

    def details(self) -> list[dict]:
        return [key_types(self.keys)]

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def describe(self) -> str:
        return f"restore the expiry of {counted(len(self.keys), 'key')}"


@dataclass(frozen=True, slots=True)
class ConfigSet(Change):
    old: ConfigParam
    new: ConfigParam
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        return [Statement(render("CONFIG", "SET", self.new.name, self.new.value))]

    def reverse(self) -> Change:
        return ConfigSet(self.new, self.old)

    def details(self) -> list[dict]:
        return [{"attribute": "value", "old": self.old.value, "new": self.new.value}]

    def describe(self) -> str:
        return f"{self.new.name} {self.old.value!r} → {self.new.value!r}"


def _setuser_args(user: AclUser) -> list[str]:
    args = ["ACL", "SETUSER", user.name, "reset", "on" if user.enabled else "off"]
    if user.nopass:
        args.append("nopass")
    elif user.password_env:
        args.append(">" + PASSWORD_REF.format(user.password_env))
    elif user.password_hashes:  # a live user, restored by a down statement
        args.append(kept_passwords(user.name))
    return [*args, *user.rules]


@dataclass(frozen=True, slots=True)
class SetAclUser(Change):
    """Create or redefine a user. `old` None: the user is new (its reverse deletes it)."""

    old: AclUser | None
    new: AclUser

    @property
    def action(self) -> Action:  # type: ignore[override]
        return Action.CREATE if self.old is None else Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        return [Statement(render(*_setuser_args(self.new)))]

    def reverse(self) -> Change:
        if self.old is None:
            return DeleteAclUser(self.new)
        return SetAclUser(self.new, self.old)

    def details(self) -> list[dict]:
        if self.old is None:
            return [{"attribute": "user", "old": None, "new": self.new.name}]
        out = []
        if self.old.enabled != self.new.enabled:
            out.append({"attribute": "enabled", "old": self.old.enabled, "new": self.new.enabled})
        if self.old.rules != self.new.rules:
            out.append(
                {"attribute": "rules", "old": list(self.old.rules), "new": list(self.new.rules)}
            )
        if (self.old.password_env, self.old.password_hashes, self.old.nopass) != (
            self.new.password_env,
            self.new.password_hashes,
            self.new.nopass,
        ):
            out.append({"attribute": "password", "old": "(hidden)", "new": "(hidden)"})
        return out

    def describe(self) -> str:
        if self.old is None:
            return "create user"
        return "user: " + ", ".join(d["attribute"] for d in self.details())


@dataclass(frozen=True, slots=True)
class DeleteAclUser(Change):
    user: AclUser
    action = Action.DROP

    @property
    def address(self) -> Address:
        return self.user.address

    def statements(self) -> list[Statement]:
        return [Statement(render("ACL", "DELUSER", self.user.name))]

    def reverse(self) -> Change:
        return SetAclUser(None, self.user)

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(DESTRUCTIVE, f"deletes ACL user {self.user.name}; its clients lose access"),)

    def describe(self) -> str:
        return "user"


@dataclass(frozen=True, slots=True)
class PruneKeys(Change):
    """Delete the wrong-type keys of a `prune: true` pattern, keeping each value (DUMP) so the
    down file can RESTORE it with its exact expiry. Apply deletes a key only while its value
    is still the one dumped at plan time."""

    pattern: str
    keys: tuple[tuple[KeyFix, bytes], ...]  # (key as scanned, DUMP payload)
    action = Action.DROP

    @property
    def address(self) -> Address:
        return Address.of("redis", "keys", self.pattern)

    def statements(self) -> list[Statement]:
        return [Statement(render("DEL", k.key)) for k, _ in self.keys]

    def reverse(self) -> Change:
        return RestoreKeys(self.pattern, self.keys)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def hazards(self) -> tuple[Hazard, ...]:
        return (
            Hazard(
                DESTRUCTIVE,
                f"deletes {counted(len(self.keys), 'key')} of the wrong type "
                "(the down file restores them)",
            ),
        )

    def describe(self) -> str:
        return f"prune {counted(len(self.keys), 'key')} of the wrong type"


@dataclass(frozen=True, slots=True)
class RestoreKeys(Change):
    pattern: str
    keys: tuple[tuple[KeyFix, bytes], ...]
    action = Action.CREATE

    @property
    def address(self) -> Address:
        return Address.of("redis", "keys", self.pattern)

    def statements(self) -> list[Statement]:
        out = []
        for k, payload in self.keys:
            ttl = max(k.pexpiretime, 0)  # ABSTTL: the absolute expiry it had; 0 for none
            out.append(Statement(render("RESTORE", k.key, ttl, payload, "ABSTTL")))
        return out

    def reverse(self) -> Change:
        return PruneKeys(self.pattern, self.keys)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def describe(self) -> str:
        return f"restore {len(self.keys)} pruned keys"
