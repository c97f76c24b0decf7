-- Shared (spliced in where /*@modelled_trigger*/ stands): a pg_trigger row `tg` the model holds.
NOT tg.tgisinternal
      AND tg.tgparentid = 0  -- the copies of a partitioned table's trigger are the parent's
