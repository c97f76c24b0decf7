CREATE SCHEMA "café";
CREATE TABLE "café"."crème_brûlée" (
    "identité" integer PRIMARY KEY,
    "größe" numeric(6,2),
    "名前" text
);
COMMENT ON COLUMN "café"."crème_brûlée"."名前" IS 'nom — 名前';
