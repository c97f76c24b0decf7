"""Keyspaces shaped like the ones real libraries leave in Redis, with the patterns an export of
them should infer.

Each generator is `fn(pipe, rng, scale) -> list[ExpectedPattern]`: it queues its keys on a
redis-py pipeline (or client) and returns, per pattern it expects, the pattern NORMALIZED
(`{name}` → `{}`, `{name:type}` → `{:type}`, see `normalize`), the Redis type, the keys it
wrote and their largest TTL (None when not every key of the pattern expires). Keys and values
are derived from `rng` and fixed instants only, so a seed gives the same keyspace on every run.
`scale` multiplies the entity counts; scale 1 is about 1,200 keys for all libraries together.

Every command is single-key, so a RedisCluster pipeline (which splits by slot) works as well.

The layouts:
  Sidekiq       queues, queue:<name>, schedule/retry/dead, processes, stat:<kind>[:<date>],
                <hostname>:<pid>:<hex6> process hashes and their :work hashes (TTL 60)
  Celery        the `celery` queue, _kombu.binding.* sets, celery-task-meta-<uuid> results
                (TTL 1 day), unacked / unacked_index
  django-redis  `:1:` version prefix: cache_page entries, user_profile_<n>, cache-backed sessions
  Rails cache   views/<path>:<digest> fragments, <model>/<id>-<cache_version> records
  BullMQ        bull:<queue>:<job id>[:logs|:lock] and the queue's wait/active/... structures
  rack-attack   rack::attack:<period>:<throttle>:<discriminator> counters
  seed          this project's own conventions (app:session, app:cache, app:ratelimit, ...)
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Fixed instants, so a seed always writes the same keys: "today" for dated keys, "now" for
# rack-attack's period numbers.
TODAY_ORDINAL = 739_921  # 2026-11-01
NOW = 1_793_491_200  # 2026-11-01T00:00:00Z

SIDEKIQ_STATS_TTL = 5 * 365 * 24 * 3600  # Sidekiq keeps dated stats five years


@dataclass
class ExpectedPattern:
    library: str
    pattern: str  # normalized: `{}` and `{:type}` placeholders
    type: str
    keys: list[str] = field(default_factory=list)
    ttls: list[int | None] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.keys)

    @property
    def all_expire(self) -> bool:
        return bool(self.ttls) and all(t is not None for t in self.ttls)

    @property
    def max_ttl(self) -> int | None:
        """The largest TTL written, when every key expires; else None."""
        return max(t for t in self.ttls if t is not None) if self.all_expire else None


_PLACEHOLDER = re.compile(r"\{[^{}:]*(:[^{}]*)?\}")


def normalize(pattern: str) -> str:
    """`app:{id}:x:{day:date}` → `app:{}:x:{:date}`: placeholder names do not matter."""
    return _PLACEHOLDER.sub(lambda m: "{" + (m.group(1) or "") + "}", pattern)


class _Writer:
    """Queues keys on a pipeline and records which expected pattern each one belongs to."""

    def __init__(self, pipe: Any, library: str) -> None:
        self.pipe = pipe
        self.library = library
        self.patterns: dict[str, ExpectedPattern] = {}

    def put(
        self,
        pattern: str,
        type_: str,
        key: str,
        ttl: int | None = None,
        value: Any = None,
    ) -> None:
        expected = self.patterns.setdefault(pattern, ExpectedPattern(self.library, pattern, type_))
        assert expected.type == type_, (pattern, expected.type, type_)
        expected.keys.append(key)
        expected.ttls.append(ttl)
        pipe = self.pipe
        if type_ == "string":
            pipe.set(key, "1" if value is None else value, ex=ttl)
            return
        if type_ == "hash":
            pipe.hset(key, mapping=value or {"v": "1"})
        elif type_ == "list":
            pipe.rpush(key, *(value or ["x"]))
        elif type_ == "set":
            pipe.sadd(key, *(value or ["x"]))
        elif type_ == "zset":
            pipe.zadd(key, value or {"x": 1})
        elif type_ == "stream":
            for fields in value or [{"event": "x"}]:
                pipe.xadd(key, fields)
        else:
            raise ValueError(type_)
        if ttl is not None:
            pipe.expire(key, ttl)

    def result(self) -> list[ExpectedPattern]:
        return sorted(self.patterns.values(), key=lambda p: p.pattern)


# ------------------------------------------------------------------------------------- values


def hex_id(rng: random.Random, chars: int) -> str:
    """Lowercase hex with at least one letter (never all digits, which would read as int)."""
    text = f"{rng.getrandbits(chars * 4):0{chars}x}"
    if text.isdigit():
        text = "a" + text[1:]
    return text


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def day(days_ago: int) -> str:
    return date.fromordinal(TODAY_ORDINAL - days_ago).isoformat()


def ipv4(rng: random.Random) -> str:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def session_key(rng: random.Random) -> str:
    """Django's session key: 32 characters of lowercase letters and digits (with both)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    while True:
        text = "".join(rng.choice(alphabet) for _ in range(32))
        if re.search("[a-z]", text) and re.search("[0-9]", text):
            return text


def _distinct(rng: random.Random, n: int, lo: int, hi: int) -> list[int]:
    return sorted(rng.sample(range(lo, hi), n))


# ---------------------------------------------------------------------------------- libraries


def sidekiq(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    w = _Writer(pipe, "sidekiq")
    w.put("queues", "set", "queues", value=["default", "mailers"])
    for name in ("default", "mailers"):
        jobs = [f'{{"class":"Job","jid":"{hex_id(rng, 24)}"}}' for _ in range(rng.randint(1, 5))]
        w.put(f"queue:{name}", "list", f"queue:{name}", value=jobs)
    for name in ("schedule", "retry", "dead"):
        members = {f'{{"jid":"{hex_id(rng, 24)}"}}': NOW + n for n in range(rng.randint(1, 5))}
        w.put(name, "zset", name, value=members)
    identities = []
    for host in range(1, 3 * scale + 1):
        for _ in range(2):
            identity = f"worker-{host}.internal:{rng.randint(1000, 65000)}:{hex_id(rng, 12)}"
            identities.append(identity)
            w.put("{}:{:int}:{:hex}", "hash", identity, ttl=60, value={"busy": "0", "beat": NOW})
            w.put("{}:{:int}:{:hex}:work", "hash", f"{identity}:work", ttl=60)
    w.put("processes", "set", "processes", value=identities)
    # stat:processed / stat:failed, each with dated copies: two literal siblings with the same
    # sub-keyspace (itself, and {:date} with a TTL), so they merge into stat:{}.
    for kind in ("processed", "failed"):
        w.put("stat:{}", "string", f"stat:{kind}", value=str(rng.randint(10**4, 10**6)))
    for days_ago in range(14 * scale):
        ttl = SIDEKIQ_STATS_TTL - days_ago * 86400  # well over 24.8 days (2**31 ms)
        for kind in ("processed", "failed"):
            w.put("stat:{}:{:date}", "string", f"stat:{kind}:{day(days_ago)}", ttl=ttl)
    return w.result()


def celery(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    w = _Writer(pipe, "celery")
    w.put("celery", "list", "celery", value=[f'{{"id":"{uuid4(rng)}"}}' for _ in range(3)])
    w.put("_kombu.binding.celery", "set", "_kombu.binding.celery", value=["celery\x06\x16\x06"])
    w.put("_kombu.binding.celery.pidbox", "set", "_kombu.binding.celery.pidbox")
    w.put("_kombu.binding.celeryev", "set", "_kombu.binding.celeryev")
    for _ in range(150 * scale):
        task = uuid4(rng)
        w.put(
            "celery-task-meta-{:uuid}",
            "string",
            f"celery-task-meta-{task}",
            ttl=86400,
            value=f'{{"status":"SUCCESS","task_id":"{task}"}}',
        )
    tags = [str(n) for n in range(1, 4)]
    w.put("unacked", "hash", "unacked", value={t: "[]" for t in tags})
    w.put("unacked_index", "zset", "unacked_index", value={t: NOW for t in tags})
    return w.result()


def django_redis(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    # `:1:` is django-redis' empty KEY_PREFIX and VERSION 1; the `1` is all digits: {:int}.
    w = _Writer(pipe, "django-redis")
    for _ in range(60 * scale):
        url, headers = hex_id(rng, 32), hex_id(rng, 32)
        key = f":1:views.decorators.cache.cache_page..GET.{url}.{headers}.en-us.UTC"
        w.put(":{:int}:views.decorators.cache.cache_page..GET.{:hex}.{:hex}.en-us.UTC",
              "string", key, ttl=300)  # fmt: skip
    for n in _distinct(rng, 100 * scale, 1, 1000):  # < 1000: `user_profile_1234` is 17 chars
        w.put(":{:int}:user_profile_{:int}", "string", f":1:user_profile_{n}", ttl=3600)
    for _ in range(120 * scale):
        key = f":1:django.contrib.sessions.cache{session_key(rng)}"
        # the session key runs into `cache`: one opaque token after the last dot
        w.put(":{:int}:django.contrib.sessions.{}", "string", key, ttl=1_209_600)
    return w.result()


def rails_cache(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    w = _Writer(pipe, "rails")
    for _ in range(30 * scale):
        key = f"views/products/index:{hex_id(rng, 32)}"
        w.put("views/products/index:{:hex}", "string", key, ttl=3600)
    for product in _distinct(rng, 100 * scale, 1, 100_000):
        version = (
            f"2026{rng.randint(1, 10):02d}{rng.randint(1, 28):02d}{rng.randint(0, 235959):06d}"
        )
        w.put("products/{:int}-{:int}", "string", f"products/{product}-{version}", ttl=3600)
    return w.result()


BULL_QUEUES = ("emails", "reports", "thumbnails")


def bullmq(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    """Three queues with the same structure: the queue name becomes a placeholder."""
    w = _Writer(pipe, "bullmq")
    for queue in BULL_QUEUES:
        p = f"bull:{queue}"
        jobs = list(range(1, 40 * scale + 1))
        active = jobs[-3:]
        for job in jobs:
            w.put("bull:{}:{:int}", "hash", f"{p}:{job}", value={"name": "send", "data": "{}"})
            if job % 2 or job in active:
                w.put("bull:{}:{:int}:logs", "list", f"{p}:{job}:logs", value=["started"])
            if job in active:  # only an active job holds its lock, for 30 s
                w.put("bull:{}:{:int}:lock", "string", f"{p}:{job}:lock", ttl=30, value=uuid4(rng))
        w.put("bull:{}:wait", "list", f"{p}:wait", value=[str(j) for j in jobs[-10:-3]])
        w.put("bull:{}:active", "list", f"{p}:active", value=[str(j) for j in active])
        w.put("bull:{}:completed", "zset", f"{p}:completed", value={str(j): j for j in jobs[:20]})
        w.put("bull:{}:failed", "zset", f"{p}:failed", value={str(jobs[20]): 1})
        w.put("bull:{}:delayed", "zset", f"{p}:delayed", value={str(jobs[21]): NOW * 4096})
        w.put("bull:{}:meta", "hash", f"{p}:meta", value={"opts.maxLenEvents": "10000"})
        w.put("bull:{}:id", "string", f"{p}:id", value=str(jobs[-1]))
        events = [{"event": "added", "jobId": str(j)} for j in jobs[-3:]]
        w.put("bull:{}:events", "stream", f"{p}:events", value=events)
    return w.result()


def rack_attack(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    w = _Writer(pipe, "rack-attack")
    for n in range(80 * scale):
        period = NOW // 60 - n % 2  # this period and the previous one
        key = f"rack::attack:{period}:req/ip:{ipv4(rng)}"
        w.put("rack::attack:{:int}:req/ip:{}", "string", key, ttl=60, value="3")
    for n in range(30 * scale):
        key = f"rack::attack:{NOW // 20}:logins/email:user{n}.{hex_id(rng, 4)}@example.com"
        w.put("rack::attack:{:int}:logins/email:{}", "string", key, ttl=20, value="1")
    return w.result()


def seed(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    w = _Writer(pipe, "seed")
    for n in _distinct(rng, 100 * scale, 1, 10**6):
        w.put("app:session:{:int}", "hash", f"app:session:{n}", ttl=86400, value={"user": n})
    for n in _distinct(rng, 100 * scale, 1, 10**6):
        w.put("app:cache:user:{:int}:profile", "string", f"app:cache:user:{n}:profile", ttl=3600)
    for _ in range(50 * scale):
        w.put("app:ratelimit:{}", "zset", f"app:ratelimit:{ipv4(rng)}", ttl=60, value={"h": NOW})
    w.put("app:queue:emails", "list", "app:queue:emails", value=["job"] * 3)
    for name in ("billing-run", "nightly-report"):  # few names: each its own literal pattern
        w.put(f"app:lock:{name}", "string", f"app:lock:{name}", ttl=30, value=uuid4(rng))
    return w.result()


Generator = Callable[[Any, random.Random, int], list[ExpectedPattern]]

LIBRARIES: dict[str, Generator] = {
    "sidekiq": sidekiq,
    "celery": celery,
    "django-redis": django_redis,
    "rails": rails_cache,
    "bullmq": bullmq,
    "rack-attack": rack_attack,
    "seed": seed,
}


def everything(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    """Every library's keys in one keyspace (their prefixes do not overlap)."""
    out: list[ExpectedPattern] = []
    for generate in LIBRARIES.values():
        out += generate(pipe, rng, scale)
    return out


def app_two_patterns(pipe: Any, rng: random.Random, scale: int) -> list[ExpectedPattern]:
    """200·scale session hashes without a TTL, 200·scale cached profiles with one hour."""
    w = _Writer(pipe, "app")
    for n in range(1, 200 * scale + 1):
        w.put("app:session:{:int}", "hash", f"app:session:{n}", value={"user": n})
        w.put("app:cache:user:{:int}:profile", "string", f"app:cache:user:{n}:profile", ttl=3600)
    return w.result()


def write(client: Any, generate: Generator, seed_value: int, scale: int) -> list[ExpectedPattern]:
    """Run one generator on a fresh pipeline of `client` and send its keys."""
    pipe = client.pipeline(transaction=False)
    expected = generate(pipe, random.Random(seed_value), scale)
    pipe.execute()
    return expected
