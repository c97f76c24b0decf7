CREATE TABLE "user" (
    "select" integer NOT NULL,
    "from" text DEFAULT 'where',
    "group" integer,
    CONSTRAINT user_pkey PRIMARY KEY ("select"),
    CONSTRAINT user_group_check CHECK ("group" > 0)
);
CREATE INDEX idx_user_from ON "user" ("from");
CREATE INDEX user_lower_from ON "user" (lower("from"));
CREATE TABLE "order" (
    "table" integer NOT NULL,
    "user" integer,
    "limit" integer DEFAULT 10,
    CONSTRAINT order_pkey PRIMARY KEY ("table"),
    CONSTRAINT order_user_limit_key UNIQUE ("user", "limit"),
    CONSTRAINT fk_order_user FOREIGN KEY ("user") REFERENCES "user" ("select")
);
CREATE TABLE "select" (
    "order" integer,
    "column" text
);
CREATE INDEX idx_select_order_column ON "select" ("order", "column") WHERE "column" IS NOT NULL;
