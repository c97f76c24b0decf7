CREATE TABLE a_rather_long_table_name_holding_the_runs_queue (
    identifier_of_the_run_in_queue bigint GENERATED ALWAYS AS IDENTITY
);
