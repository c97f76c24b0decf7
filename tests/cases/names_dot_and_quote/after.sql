CREATE TYPE "it's ""on""" AS ENUM ('yes', 'no');
CREATE TABLE "a.b""c" (
    "x.y" integer NOT NULL,
    "say ""hi""" text,
    flag "it's ""on""",
    CONSTRAINT "a.b""c_pk" PRIMARY KEY ("x.y"),
    CONSTRAINT "chk ""hi"".len" CHECK (length("say ""hi""") < 100)
);
COMMENT ON TABLE "a.b""c" IS 'A table with a dot and a quote.';
COMMENT ON COLUMN "a.b""c"."say ""hi""" IS 'Quoted "column".';
CREATE INDEX "idx.a""b" ON "a.b""c" ("say ""hi""");
COMMENT ON INDEX "idx.a""b" IS 'Index with a dot.';
CREATE TABLE child (
    id integer NOT NULL,
    parent integer,
    CONSTRAINT child_pkey PRIMARY KEY (id),
    CONSTRAINT "fk.child""parent" FOREIGN KEY (parent) REFERENCES "a.b""c" ("x.y")
);
