CREATE SCHEMA "Ventes";
COMMENT ON SCHEMA "Ventes" IS 'Schéma des ventes.';
CREATE TYPE "Ventes"."Statut" AS ENUM ('Ouvert', 'Fermé');
CREATE TABLE "Ventes"."Kunden" (
    "Id" integer NOT NULL,
    "prénom" text,
    "Straße" text DEFAULT 'Hauptstraße',
    "État" "Ventes"."Statut" DEFAULT 'Ouvert',
    CONSTRAINT "Kunden_PK" PRIMARY KEY ("Id"),
    CONSTRAINT "Kunden_Uniq" UNIQUE ("prénom", "Straße"),
    CONSTRAINT "Kunden_Prénom_Check" CHECK ("prénom" <> '')
);
COMMENT ON TABLE "Ventes"."Kunden" IS 'Größte Kunden.';
COMMENT ON COLUMN "Ventes"."Kunden"."prénom" IS 'Première lettre majuscule.';
CREATE INDEX "Kunden_Straße_Idx" ON "Ventes"."Kunden" ("Straße");
COMMENT ON INDEX "Ventes"."Kunden_Straße_Idx" IS 'Nach Straße.';
CREATE TABLE "Ventes"."Bestellungen" (
    "Nr" integer NOT NULL,
    "KundenId" integer,
    CONSTRAINT "Bestellungen_pkey" PRIMARY KEY ("Nr"),
    CONSTRAINT "Bestellungen_Kunden_FK" FOREIGN KEY ("KundenId")
        REFERENCES "Ventes"."Kunden" ("Id")
);
