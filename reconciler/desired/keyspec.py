"""The Redis file format (files below a `keys/` directory) as pydantic models.

Like spec.py these models check shape only: known keys, value kinds, allowed words, numbers.
What needs more than one value (pattern shape, overlaps, TTL policy, duplicates across files)
is checked in keys.py. Secrets are refused *before* pydantic sees the data: a key that looks
like a literal password is reported without its value and dropped, so no message can echo it.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WithJsonSchema,
)

from reconciler.desired.pydantic_errors import describe, validation_problems
from reconciler.desired.spec_base import Flag, LintSpec, Text
from reconciler.model.redis import CLASS_TTL, REDIS_TYPES
from reconciler.project.yamlload import BoolText, Marks, Path, at

SECRET_MESSAGE = "passwords are never written in YAML; use password_env"
MAX_TTL = 2**31 - 1  # seconds (68 years); keeps EXPIRE arithmetic far from overflow
MAX_SIZE = 2**63 - 1

# Words that make a mapping key look like it holds a secret (`password`, `auth_token`, …),
# and whole keys that do (`requirepass`); `auth` alone is not one (`tls-auth-clients`).
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pass", "passphrase", "pwd", "secret", "secrets", "token"}
    | {"credential", "credentials", "apikey"}
)
_SECRET_KEYS = frozenset({"apikey", "requirepass", "masterauth", "authpass", "authtoken"})
_NOT_SECRET = frozenset({"password_env"})
_INT = re.compile(r"[-+]?[0-9][0-9_]*\Z")


def is_secret_key(key: str) -> bool:
    """`password`, `db-password`, `requirepass`, `apiKey` … but not `password_env`/`nopass`."""
    if key in _NOT_SECRET:
        return False
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", spaced) if w]
    joined = "".join(words)
    return any(w in _SECRET_WORDS for w in words) or joined in _SECRET_KEYS


def _whole_number(value: Any) -> Any:
    """YAML text that is a decimal integer → int (the loader keeps every scalar as text)."""
    if isinstance(value, str) and not isinstance(value, BoolText) and _INT.match(value.strip()):
        digits = value.strip().replace("_", "")
        if len(digits) > 20:
            raise ValueError(f"must have at most 19 digits, not {len(digits)}")
        return int(digits)
    return value


def _bounded(high: int, unit: str) -> Any:
    def check(value: int) -> int:
        if value < 1:
            raise ValueError(
                f"must be a positive whole number{' of ' + unit if unit else ''}, not {value}"
            )
        if value > high:
            raise ValueError(f"must be at most {high}{' ' + unit if unit else ''}")
        return value

    return AfterValidator(check)


def _choice(what: str, options: tuple[str, ...]) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or isinstance(value, BoolText):
            return value  # strict str reports the kind
        word = value.strip().lower()
        if word in options:
            return word
        hint = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
        suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
        listed = ", ".join(options)
        raise ValueError(f"unknown {what} {describe(value)}{suffix}; one of: {listed}")

    return BeforeValidator(check)


def _config_text(value: Any) -> Any:
    """A CONFIG value as `CONFIG GET` prints it: booleans yes/no, integers without signs or
    underscores, everything else as written."""
    if isinstance(value, BoolText):
        return "yes" if value.value else "no"
    if isinstance(value, str):
        if _INT.match(value) and not re.match(r"[-+]?0[0-9]", value) and len(value) <= 40:
            return str(int(value.replace("_", "")))
        return value
    if value is None:
        raise ValueError('needs a value; write "" for an empty one')
    raise ValueError(f"must be text, a number or a boolean, not {describe(value)}")


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


NonBlank = Annotated[str, Strict(), AfterValidator(_non_blank)]
Seconds = Annotated[int, BeforeValidator(_whole_number), Strict(), _bounded(MAX_TTL, "seconds")]
Size = Annotated[int, BeforeValidator(_whole_number), Strict(), _bounded(MAX_SIZE, "")]
RedisType = Annotated[
    str, _choice("type", REDIS_TYPES), Strict(), WithJsonSchema({"enum": list(REDIS_TYPES)})
]
KeyClass = Annotated[
    str, _choice("class", tuple(CLASS_TTL)), Strict(), WithJsonSchema({"enum": list(CLASS_TTL)})
]
ConfigValue = Annotated[str, BeforeValidator(_config_text), Strict()]


class _KeySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PatternSpec(_KeySpec):
    pattern: Text
    type: RedisType
    class_: KeyClass | None = Field(None, alias="class")
    ttl: Seconds | None = None
    reason: NonBlank | None = None
    max_length: Size | None = None
    max_bytes: Size | None = None
    prune: Flag = False
    comment: Text | None = None
    lint: LintSpec | None = None


class AclUserSpec(_KeySpec):
    name: Text
    enabled: Flag = True
    password_env: Text | None = None
    nopass: Flag = False
    keys: list[Text] = ()
    channels: list[Text] = ()
    commands: list[Text] = ()
    comment: Text | None = None
    lint: LintSpec | None = None


class AclSpec(_KeySpec):
    users: list[AclUserSpec] = ()


class KeysFileSpec(_KeySpec):
    namespace: Text | None = None
    patterns: list[PatternSpec] = ()
    config: dict[str, ConfigValue] = {}
    acl: AclSpec | None = None


def validate_keys_file(
    data: Any, marks: Marks
) -> tuple[KeysFileSpec | None, list[tuple[int, str]]]:
    """The file's spec (None when it has shape errors) and (line, message) problems."""
    if not isinstance(data, dict):
        return None, [(marks.line(()), f"a file must be a mapping of keys, not {describe(data)}")]
    problems: list[tuple[int, str]] = []
    data = _drop_secrets(data, (), marks, problems)
    try:
        spec = KeysFileSpec.model_validate(data)
    except ValidationError as exc:
        return None, problems + validation_problems(exc, marks, KeysFileSpec)
    return spec, problems  # a dropped secret still lets the rest be checked


def _drop_secrets(value: Any, path: Path, marks: Marks, problems: list) -> Any:
    """A copy of `value` without keys that look like literal secrets, each one reported."""
    if isinstance(value, list):
        return [_drop_secrets(v, (*path, i), marks, problems) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if isinstance(key, str) and is_secret_key(key):
            problems.append((marks.key_line((*path, key)), at((*path, key), SECRET_MESSAGE)))
            continue
        out[key] = _drop_secrets(item, (*path, key), marks, problems)
    return out
