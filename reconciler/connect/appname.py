"""How a connection names itself: `reconciler/<command> host=… pid=… user=…`.

Every connection carries it as application_name, so pg_stat_activity and the lock's holder
report say which process on which host holds what. Kept apart from the lock so that connecting
does not load it.
"""

from __future__ import annotations

import re

from reconciler.model.names import MAX_NAME_BYTES
from reconciler.state.actor import Actor

__all__ = ["APP_NAME_MAX", "application_name", "parse_application_name"]

APP_NAME_MAX = MAX_NAME_BYTES  # the server silently cuts longer application_name values


def _token(value: str) -> str:
    """A value safe inside application_name: printable ASCII (the server turns other bytes into
    '?' anyway), and no spaces, because fields are separated by spaces."""
    return "".join(c if 32 < ord(c) < 127 else ("_" if c.isspace() else "?") for c in value)


def application_name(command: str, *, actor: Actor | None = None) -> str:
    """`reconciler/<command> host=<hostname> pid=<os pid> user=<os user>`, at most 63 bytes.

    When too long, the hostname is shortened first (to its first DNS label, then cut), so the
    pid and user, which identify the process on that host, survive; only then is the whole
    string cut. The lock's note table keeps the full values.
    """
    actor = actor or Actor.current()
    cmd, host, user = _token(command), _token(actor.host), _token(actor.user)

    def render(h: str) -> str:
        return f"reconciler/{cmd} host={h} pid={actor.pid} user={user}"

    text = render(host)
    if len(text) > APP_NAME_MAX:
        short = host.split(".", 1)[0]
        room = APP_NAME_MAX - len(render(""))
        text = render(short if len(short) <= room else short[: max(room, 0)])
    return text[:APP_NAME_MAX]  # ASCII only, so characters are bytes


_APP_RE = re.compile(
    r"^reconciler/(?P<command>\S+)"
    r"(?: host=(?P<host>\S*))?(?: pid=(?P<pid>\d+))?(?: user=(?P<user>\S*))?"
)


def parse_application_name(text: str | None) -> dict[str, str | None]:
    m = _APP_RE.match(text or "")
    if not m:
        return {"command": None, "host": None, "pid": None, "user": None}
    return m.groupdict()
