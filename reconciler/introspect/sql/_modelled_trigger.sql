-- Shared (spliced in where /*@modelled_trigger*/ stands): a pg_trigger row `tg` the model holds.
NOT tg.tgisinternal
      AND tg.tgparentid = 0  -- the copies of a partitioned table's trigger are the parent's
      -- a constraint trigger is; one naming another table (FROM) is not
      AND (tg.tgconstraint = 0 OR tg.tgconstrrelid = 0)
      AND tg.tgoldtable IS NULL
      AND tg.tgnewtable IS NULL
      AND tg.tgenabled = 'O'
