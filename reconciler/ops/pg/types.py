"""Changes of collations, domains and composite types: create, alter in place (domains,
composite types), drop. Free-standing sequences: sequence.py."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg_objects import Collation, CompositeType, Domain
from reconciler.ops.base import DESTRUCTIVE, MAY_FAIL, Action, Change, Hazard, Statement
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import default_clause, dollar_quote, guarded, ident, literal, run_unless


def _comment(kind: str, schema: str, name: str, comment: str | None) -> list[Statement]:
    if comment is None:
        return []
    return [Statement(f"COMMENT ON {kind} {ident(schema, name)} IS {literal(comment)}")]


def collation_options(c: Collation) -> str:
    """The options of CREATE COLLATION, in the order pg_dump writes them."""
    out = [f"provider = {c.provider}"]
    if not c.deterministic:
        out.append("deterministic = false")
    if c.locale is not None:
        out.append(f"locale = {literal(c.locale)}")
    else:
        out.append(f"lc_collate = {literal(c.lc_collate)}, lc_ctype = {literal(c.lc_ctype)}")
    return ", ".join(out)


def _collation_is(c: Collation) -> str:
    """A query finding `c` as defined: the drop of a collation replaced by another definition
    leaves the new one alone when the file runs again."""
    locale = "coalesce(j ->> 'colllocale', j ->> 'colliculocale', co.coll{})"  # ICU's by release
    if c.locale is not None:
        value = literal(c.locale)
        same = f"{locale.format('collate')} = {value} AND {locale.format('ctype')} = {value}"
    else:
        same = f"co.collcollate = {literal(c.lc_collate)} AND co.collctype = {literal(c.lc_ctype)}"
    provider = {"libc": "c", "icu": "i", "builtin": "b"}.get(c.provider, c.provider)
    return (
        "SELECT FROM pg_catalog.pg_collation AS co CROSS JOIN LATERAL pg_catalog.to_jsonb(co) AS j "
        f"WHERE co.oid = pg_catalog.to_regcollation({literal(ident(c.schema, c.name))}) "
        f"AND co.collprovider = {literal(provider)} "
        f"AND co.collisdeterministic = {str(c.deterministic).lower()} AND {same}"
    )


@dataclass(frozen=True, slots=True)
class CreateCollation(CreateWhole):
    collation: Collation
    in_schema = True

    def statements(self) -> list[Statement]:
        c = self.collation
        target = ident(c.schema, c.name)
        return [
            Statement(f"CREATE COLLATION IF NOT EXISTS {target} ({collation_options(c)})"),
            *_comment("COLLATION", c.schema, c.name, c.comment),
        ]

    def describe(self) -> str:
        c = self.collation
        return f"collation ({c.provider}, {c.locale or f'{c.lc_collate} / {c.lc_ctype}'})"


@twin_of(CreateCollation)
@dataclass(frozen=True, slots=True)
class DropCollation(DropWhole):
    """RESTRICT: Postgres refuses it while a column, index, domain or view uses the collation
    (the diff orders those changes first, and refuses a replacement under one that stays)."""

    collation: Collation
    in_schema = True

    def statements(self) -> list[Statement]:
        c = self.collation
        drop = f"DROP COLLATION {ident(c.schema, c.name)} RESTRICT"
        body = f"BEGIN IF EXISTS ({_collation_is(c)}) THEN {drop}; END IF; END"
        return [Statement(f"DO {dollar_quote(body)}")]

    def describe(self) -> str:
        return "collation"


def _domain_sql(d: Domain) -> list[Statement]:
    text = f"CREATE DOMAIN {ident(d.schema, d.name)} AS {d.type}"
    if d.collation is not None:
        text += f" COLLATE {d.collation}"
    if d.default is not None:
        text += f"\n{default_clause(d.default)}"
    if d.not_null:
        text += "\nNOT NULL"
    for k in d.checks:
        text += f"\nCONSTRAINT {ident(k.name)} CHECK ({k.expression})"
    out = [
        Statement(guarded(text, "duplicate_object")),
        *_comment("DOMAIN", d.schema, d.name, d.comment),
    ]
    for k in d.checks:
        if k.comment is not None:
            out.append(
                Statement(
                    f"COMMENT ON CONSTRAINT {ident(k.name)} ON DOMAIN {ident(d.schema, d.name)} "
                    f"IS {literal(k.comment)}"
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class CreateDomain(CreateWhole):
    domain: Domain
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        return _domain_sql(self.domain)

    def describe(self) -> str:
        return f"domain over {self.domain.type}"


@twin_of(CreateDomain)
@dataclass(frozen=True, slots=True)
class DropDomain(DropWhole):
    domain: Domain
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        d = self.domain
        return [Statement(f"DROP DOMAIN IF EXISTS {ident(d.schema, d.name)} RESTRICT")]

    def describe(self) -> str:
        return "domain"


@dataclass(frozen=True, slots=True)
class AlterDomain(Change):
    """Default, NOT NULL, checks and comment of a domain changed in place (its base type and
    collation cannot be: the diff drops and creates the domain for those)."""

    old: Domain
    new: Domain
    deps: frozenset[Address] = frozenset()
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        o, n = self.old, self.new
        target = ident(n.schema, n.name)
        out = []
        if o.default != n.default:
            action = "DROP DEFAULT" if n.default is None else f"SET DEFAULT {n.default}"
            out.append(Statement(f"ALTER DOMAIN {target} {action}"))
        if o.not_null != n.not_null:
            out.append(
                Statement(f"ALTER DOMAIN {target} {'SET' if n.not_null else 'DROP'} NOT NULL")
            )
        old_checks = {k.name: k for k in o.checks}
        new_checks = {k.name: k for k in n.checks}
        readded = {
            name
            for name, k in new_checks.items()
            if name not in old_checks or old_checks[name].expression != k.expression
        }
        for name in old_checks:
            if name not in new_checks or name in readded:
                drop = f"DROP CONSTRAINT IF EXISTS {ident(name)}"
                out.append(Statement(f"ALTER DOMAIN {target} {drop}"))
        for name, k in new_checks.items():
            if name in readded:  # a second run of the file passes over the check it added
                check = f"ALTER DOMAIN {target} ADD CONSTRAINT {ident(name)} CHECK ({k.expression})"
                there = (
                    "SELECT FROM pg_catalog.pg_constraint WHERE contypid = "
                    f"pg_catalog.to_regtype({literal(target)}) AND conname = {literal(name)}"
                )
                # no exception block: a subtransaction right after ALTER DOMAIN … DROP
                # CONSTRAINT fails ("unprocessed inval messages")
                out.append(Statement(run_unless(there, check)))
            old_comment = None if name in readded else old_checks[name].comment
            if k.comment != old_comment:
                value = "NULL" if k.comment is None else literal(k.comment)
                on = f"CONSTRAINT {ident(name)} ON DOMAIN {target}"
                out.append(Statement(f"COMMENT ON {on} IS {value}"))
        if o.comment != n.comment:
            value = "NULL" if n.comment is None else literal(n.comment)
            out.append(Statement(f"COMMENT ON DOMAIN {target} IS {value}"))
        return out

    def reverse(self) -> Change:
        return AlterDomain(self.new, self.old, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return self.deps

    def hazards(self) -> tuple[Hazard, ...]:
        new_checks = {k for k in self.new.checks if k not in self.old.checks}
        if new_checks or (self.new.not_null and not self.old.not_null):
            return (
                Hazard(
                    MAY_FAIL,
                    "a new domain check or NOT NULL is verified against every column using "
                    "the domain and fails on a violating row",
                ),
            )
        return ()

    def details(self) -> list[dict]:
        return attribute_changes(self.old, self.new)

    def describe(self) -> str:
        return "domain: " + ", ".join(d["attribute"] for d in self.details())


def _attribute_sql(name: str, type_: str, collation: str | None) -> str:
    return f"{ident(name)} {type_}" + (f" COLLATE {collation}" if collation else "")


@dataclass(frozen=True, slots=True)
class CreateComposite(CreateWhole):
    type: CompositeType
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        t = self.type
        attributes = ", ".join(_attribute_sql(*a) for a in t.attributes)
        return [
            Statement(
                guarded(
                    f"CREATE TYPE {ident(t.schema, t.name)} AS ({attributes})", "duplicate_object"
                )
            ),
            *_comment("TYPE", t.schema, t.name, t.comment),
        ]

    def describe(self) -> str:
        return f"composite type of {len(self.type.attributes)} attributes"


@twin_of(CreateComposite)
@dataclass(frozen=True, slots=True)
class DropComposite(DropWhole):
    type: CompositeType
    deps: frozenset[Address] = frozenset()

    def statements(self) -> list[Statement]:
        t = self.type
        return [Statement(f"DROP TYPE IF EXISTS {ident(t.schema, t.name)} RESTRICT")]

    def describe(self) -> str:
        return "composite type"


@dataclass(frozen=True, slots=True)
class AlterComposite(Change):
    """Attributes dropped, retyped or added at the end, in place (ALTER TYPE … ATTRIBUTE):
    columns of the type keep their values for the attributes that stay. Postgres refuses a
    new attribute type while a column uses the type (the apply stops there, nothing done)."""

    old: CompositeType
    new: CompositeType
    deps: frozenset[Address] = frozenset()
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        had = {a[0]: a for a in self.old.attributes}
        has = {a[0]: a for a in self.new.attributes}
        acts = [f"DROP ATTRIBUTE IF EXISTS {ident(name)}" for name in had if name not in has]
        for name, type_, collation in self.new.attributes:
            if name not in had:
                continue
            if had[name][1:] != (type_, collation):
                collate = f" COLLATE {collation}" if collation else ""
                acts.append(f"ALTER ATTRIBUTE {ident(name)} TYPE {type_}{collate}")
        acts += [
            f"ADD ATTRIBUTE {_attribute_sql(*a)}" for a in self.new.attributes if a[0] not in had
        ]
        if not acts:
            return []
        text = f"ALTER TYPE {ident(self.new.schema, self.new.name)} {', '.join(acts)}"
        return [Statement(guarded(text, "duplicate_column"))]

    def reverse(self) -> Change:
        return AlterComposite(self.new, self.old, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        kept = {a[0] for a in self.new.attributes}
        gone = [a[0] for a in self.old.attributes if a[0] not in kept]
        if not gone:
            return ()
        return (
            Hazard(
                DESTRUCTIVE,
                f"the values of {', '.join(gone)} in columns of this type are lost; a rollback "
                "adds the attribute back, empty and at the end",
            ),
        )

    def depends_on(self) -> frozenset[Address]:
        return self.deps

    def details(self) -> list[dict]:
        return [
            {
                "attribute": "attributes",
                "old": [list(a) for a in self.old.attributes],
                "new": [list(a) for a in self.new.attributes],
            }
        ]

    def describe(self) -> str:
        return "composite type attributes"
