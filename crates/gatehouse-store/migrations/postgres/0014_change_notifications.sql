-- Tells every node which cached configuration changed, when the change commits: each node
-- LISTENs on `gatehouse_changes` and forgets its copy (see gatehouse_store::changes). Payloads:
-- `client:<client_id>`, `server:<auth_server_id>` (the server, its configuration or its keys),
-- `origins:`. Numbered apart from the schema's migrations; SQLite's 0020 is empty (one node).

CREATE FUNCTION gatehouse_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec RECORD;
    payload TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        rec := OLD;
    ELSE
        rec := NEW;
    END IF;
    -- One branch per table: a record's fields are resolved only when the branch runs.
    IF TG_TABLE_NAME = 'apps' THEN
        payload := 'client:' || rec.client_id;
        IF TG_OP = 'UPDATE' AND OLD.client_id IS DISTINCT FROM NEW.client_id THEN
            PERFORM pg_notify('gatehouse_changes', 'client:' || OLD.client_id);
        END IF;
    ELSIF TG_TABLE_NAME = 'app_client_secrets' THEN
        SELECT 'client:' || client_id INTO payload FROM apps WHERE id = rec.app_id;
    ELSIF TG_TABLE_NAME = 'auth_servers' THEN
        payload := 'server:' || rec.id;
    ELSIF TG_TABLE_NAME IN ('auth_server_objects', 'signing_keys') THEN
        payload := 'server:' || rec.auth_server_id;
    ELSIF TG_TABLE_NAME = 'trusted_origins' THEN
        payload := 'origins:';
    END IF;
    IF payload IS NOT NULL THEN
        PERFORM pg_notify('gatehouse_changes', payload);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER gatehouse_notify_change AFTER INSERT OR UPDATE OR DELETE ON apps
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change();
CREATE TRIGGER gatehouse_notify_change AFTER INSERT OR UPDATE OR DELETE ON app_client_secrets
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change();
CREATE TRIGGER gatehouse_notify_change AFTER INSERT OR UPDATE OR DELETE ON auth_servers
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change();
CREATE TRIGGER gatehouse_notify_change AFTER INSERT OR UPDATE OR DELETE ON auth_server_objects
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change();
CREATE TRIGGER gatehouse_notify_change AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change();
CREATE TRIGGER gatehouse_notify_change AFTER INSERT OR UPDATE OR DELETE ON trusted_origins
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change();
