CREATE TABLE public.orders (id integer PRIMARY KEY, note varchar(20), qty integer NOT NULL);
CREATE FUNCTION public.orders_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.orders (id, note, qty) VALUES (NEW.id, NEW.note, 1);
        RETURN NEW;
    END IF;
    UPDATE public.orders SET note = NEW.note WHERE id = OLD.id;
    RETURN NEW;
END
$$;
CREATE FUNCTION public.orders_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END
$$;
-- rebuilt around the column type change under it
CREATE VIEW public.open_orders AS SELECT id, note FROM public.orders WHERE qty > 0;
COMMENT ON VIEW public.open_orders IS 'Orders still open.';
CREATE TRIGGER open_orders_write INSTEAD OF INSERT OR UPDATE ON public.open_orders
    FOR EACH ROW EXECUTE FUNCTION public.orders_write();
COMMENT ON TRIGGER open_orders_write ON public.open_orders IS 'Writes through.';
CREATE TRIGGER open_orders_seen AFTER INSERT ON public.open_orders
    FOR EACH STATEMENT EXECUTE FUNCTION public.orders_seen();
-- replaced for a new definition
CREATE VIEW public.big_orders AS SELECT id, qty FROM public.orders WHERE qty > 10;
CREATE TRIGGER big_orders_write INSTEAD OF INSERT ON public.big_orders
    FOR EACH ROW EXECUTE FUNCTION public.orders_write('big');
-- reads a rebuilt view: rebuilt too
CREATE VIEW public.open_notes AS SELECT note FROM public.open_orders;
CREATE TRIGGER open_notes_write INSTEAD OF DELETE ON public.open_notes
    FOR EACH ROW EXECUTE FUNCTION public.orders_write();
GRANT SELECT, INSERT ON public.open_orders TO PUBLIC;
COMMENT ON COLUMN public.open_orders.note IS 'As written.';
-- dropped with its trigger
CREATE VIEW public.old_orders AS SELECT id FROM public.orders WHERE qty = 0;
CREATE TRIGGER old_orders_write INSTEAD OF INSERT ON public.old_orders
    FOR EACH ROW EXECUTE FUNCTION public.orders_write();
