CREATE SCHEMA "Sales Team";
CREATE TABLE "Sales Team"."Order" (
    "select" integer PRIMARY KEY,
    "user" text,
    "Mixed Case" text,
    "with space" integer,
    "quote""inside" text
);
CREATE TABLE public."group" ("order" integer PRIMARY KEY, "from" text UNIQUE);
CREATE INDEX "idx Order user" ON "Sales Team"."Order" ("user");
