"""The old passwords of ACL users, kept in Redis so that no plan file or state row holds them.

Owns: the kept records, what goes into them when an ACL step runs, and expanding the
placeholder that a down statement carries instead of a user's password hashes.

Why: a down statement that restores a user's password needs the server's hashes of it (an
unsalted sha256, as good as the password against a guess); written into `*_down.redis`, the
`.plan.json` or the state, they would end up in git. The down statement carries
`#${reconciler:acl-kept:<user>}` instead (ops/redis/changes.py), and Redis, which held the hashes
already, keeps them — as the passwords of a disabled ACL user of the tool's own
(`reconciler-probe-kept-<digest>`, hidden from plans like the probe users), so that only a
client allowed to read ACL users can read them, as before, and not any client that may read
keys:

  before an ACL SETUSER / DELUSER whose inverse holds the placeholder is sent, the user's
  hashes are stored under the record `<user>:<digests>`, where <digests> are the sorted
  sha256 digests of the passwords the step gives the user (none for DELUSER or nopass);
  when a step holding the placeholder is sent, the user's current hashes name the record,
  whose passwords replace the placeholder (`#h1 #h2 …`).

So a rollback finds the record without the plan knowing of it, and only while the user still
has the passwords the apply gave it. A record missing means the old password cannot be given
back: a rollback refuses; the revert of a step that may never have run (the user still has its
old passwords, so no record names them) leaves the user as it is.

Why in locks/: the journal (redis_journal.py) expands the placeholder when it puts back an
interrupted run, from commands below apply/ (see redis_guarded.py); apply/redis/executor.py keeps
the records and expands them as it runs a plan.

Must not: write anything to a file or a log line that derives from a password.
"""

from __future__ import annotations

import hashlib
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.introspect.redis.cluster import is_cluster, on_every_node
from reconciler.introspect.redis.server import PROBE_USER_PREFIX
from reconciler.locks.redis_guarded import nodes
from reconciler.ops.redis.changes import KEPT_PREFIX

_PREFIX = KEPT_PREFIX.encode()


class PasswordRecordGone(ReconcilerError):
    """The old password of an ACL user was not kept in Redis."""


def holds_placeholder(args: list[bytes]) -> bool:
    return any(_placeholder(a) for a in args)


def is_user_command(args: list[bytes]) -> bool:
    return (
        len(args) >= 3 and args[0].upper() == b"ACL" and args[1].upper() in (b"SETUSER", b"DELUSER")
    )


def given(args: list[bytes]) -> str:
    """The sorted digests of the passwords the command leaves the user with (`args` with
    `${ENV}` already substituted): none for DELUSER, `reset`, `nopass`, `resetpass`."""
    if args[1].upper() == b"DELUSER":
        return ""
    digests: set[str] = set()
    for a in args[3:]:
        word = a.lower()
        if word in (b"reset", b"nopass", b"resetpass"):
            digests.clear()
        elif a[:1] == b">":
            digests.add(hashlib.sha256(a[1:]).hexdigest())
        elif a[:1] == b"<":
            digests.discard(hashlib.sha256(a[1:]).hexdigest())
        elif a[:1] == b"#":
            digests.add(a[1:].decode().lower())
        elif a[:1] == b"!":
            digests.discard(a[1:].decode().lower())
    return ",".join(sorted(digests))


def _passwords(client: Any, user: str, what: str) -> tuple[str, ...] | None:
    """An ACL user's password hashes, sorted; None when there is no such user. On a cluster
    every node must agree, as for a plan: apply and rollback set a user on each alike."""

    def read(node: Any) -> tuple[str, ...] | None:
        reply = node.acl_getuser(user)
        if not reply:
            return None
        words = (h.decode() if isinstance(h, bytes) else str(h) for h in reply["passwords"] or ())
        return tuple(sorted(w.removeprefix("#") for w in words))

    return on_every_node(client, read, what) if is_cluster(client) else read(client)


def current_hashes(client: Any, name: bytes) -> tuple[str, ...]:
    """The user's password hashes on the server now (none when there is no such user)."""
    user = name.decode()
    return _passwords(client, user, f"the passwords of ACL user {user}") or ()


def field(name: bytes, digests: str) -> bytes:
    return name + b":" + digests.encode()


def record_user(record: bytes) -> str:
    """The disabled ACL user that holds a record (its name says nothing of the passwords)."""
    return f"{PROBE_USER_PREFIX}kept-{hashlib.sha256(record).hexdigest()[:40]}"


def _on_every_node(client: Any, command: tuple[str, ...]) -> None:
    for node in nodes(client):  # ACL users are each node's own: set on all of them
        node.execute_command(*command)


def keep(client: Any, commands: list[list[bytes]]) -> None:
    """Before the commands are sent (substituted, each an ACL SETUSER / DELUSER whose inverse
    holds the placeholder): each user's hashes, keyed by the passwords the command gives it."""
    for args in commands:
        hashes = current_hashes(client, args[2])
        user = record_user(field(args[2], given(args)))
        _on_every_node(client, ("ACL", "SETUSER", user, "reset", "off", *(f"#{h}" for h in hashes)))


def _kept(client: Any, record: bytes) -> list[bytes] | None:
    """The hashes a record holds; None when there is no such record."""
    found = _passwords(client, record_user(record), "a kept ACL record")
    return None if found is None else [h.encode() for h in found]


def _placeholder(a: bytes) -> bool:
    return a.startswith(_PREFIX) and a.endswith(b"}")


def expecting(inverse: list[bytes], digests: str) -> list[bytes]:
    """The journal's form of an inverse (`${ENV}` left as they are): its placeholder names the
    passwords the step gives the user, so that putting back a step that never ran, or a user
    changed since, leaves the user alone instead of restoring an older record of the same user
    (`#${reconciler:acl-kept:<user>:<digests>}`; a name with `:` still parses, being args[2])."""
    tail = b":" + digests.encode() + b"}"
    return [a[:-1] + tail if _placeholder(a) else a for a in inverse]


def _expected(args: list[bytes]) -> str | None:
    """The digests a journal's placeholder expects the user to have; None for a down file's."""
    for a in args:
        if _placeholder(a):
            inner = a[len(_PREFIX) : -1]
            if inner != args[2] and inner.startswith(args[2] + b":"):
                return inner[len(args[2]) + 1 :].decode()
    return None


def expand(
    client: Any, args: list[bytes], *, refuse: bool, expect: str | None = None
) -> list[bytes] | None:
    """`args` with the placeholder replaced by the user's kept hashes.

    A rollback (`refuse`) fails when the record is missing. A revert (not `refuse`) acts only
    when the user has the passwords `expect`ed (or that its placeholder names), i.e. the step
    it undoes did run: otherwise, or when the record is missing, it returns None and the step
    is left out."""
    name = args[2]
    have = ",".join(current_hashes(client, name))
    expect = expect if expect is not None else _expected(args)
    ran = refuse or expect is None or expect == have
    old = _kept(client, field(name, have)) if ran else None
    if old is None:
        if not refuse:
            return None
        raise PasswordRecordGone(
            f"The old password of ACL user {name.decode(errors='replace')} cannot be restored: "
            "its record in Redis (a disabled ACL user reconciler-probe-kept-…) is gone, or the "
            "user's password changed since.",
            detail="Set the user's password by hand, or plan the user anew from the YAML.",
        )
    hashes = [b"#" + h for h in old]
    out: list[bytes] = []
    for a in args:
        out += hashes if _placeholder(a) else [a]
    return out
