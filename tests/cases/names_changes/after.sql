CREATE SCHEMA "Ünï Cödé";
COMMENT ON SCHEMA "Ünï Cödé" IS 'Schéma.';
CREATE TYPE "Ünï Cödé"."Étape" AS ENUM ('Début');
COMMENT ON TYPE "Ünï Cödé"."Étape" IS 'Étapes.';
CREATE TABLE "Ünï Cödé"."Nouvelle ""Table"".x" (
    "Col""A" bigint NOT NULL,
    "order" text NOT NULL DEFAULT '€',
    "Nouveau.Nom" integer,
    "étape" "Ünï Cödé"."Étape",
    CONSTRAINT "Tab.le""1_pkey" PRIMARY KEY ("Col""A"),
    CONSTRAINT "Chk ""order""" CHECK ("order" <> '')
);
COMMENT ON TABLE "Ünï Cödé"."Nouvelle ""Table"".x" IS 'Renommée.';
COMMENT ON COLUMN "Ünï Cödé"."Nouvelle ""Table"".x"."Col""A" IS 'Clé.';
CREATE INDEX "Idx ""order""" ON "Ünï Cödé"."Nouvelle ""Table"".x" ("order", "Nouveau.Nom");
COMMENT ON INDEX "Ünï Cödé"."Idx ""order""" IS 'Index.';
CREATE TABLE "Ünï Cödé"."Référence" (
    "Réf" bigint,
    CONSTRAINT "FK ""réf""" FOREIGN KEY ("Réf")
        REFERENCES "Ünï Cödé"."Nouvelle ""Table"".x" ("Col""A") ON DELETE CASCADE
);
