-- PostgreSQL migration 2: SQLite migration 3 (SPEC §6): an expiry, scopes, allowed client addresses
-- and a rate limit per credential, each validated by the database, frozen once revoked, and every
-- change audited as `update` with what changed, by the actor named in updated_by or by `db`.
-- updated_by is transient: the API sets it with the changed columns (and with an authenticated
-- registration); the triggers read it and clear it, so a later hand-made change is `db`'s.

ALTER TABLE api_credential ADD COLUMN expires_at text;
ALTER TABLE api_credential ADD COLUMN scopes text NOT NULL
    DEFAULT '["accounts:read","accounts:write","credentials:read","credentials:write"]';
ALTER TABLE api_credential ADD COLUMN allowed_ips text NOT NULL DEFAULT '[]';
ALTER TABLE api_credential ADD COLUMN rate_limit integer;
ALTER TABLE api_credential ADD COLUMN rate_limit_window_s integer;
ALTER TABLE api_credential ADD COLUMN updated_by text;

ALTER TABLE credential_audit ADD COLUMN changes text;
ALTER TABLE credential_audit DROP CONSTRAINT credential_audit_action_check;
ALTER TABLE credential_audit ADD CONSTRAINT credential_audit_action_check
    CHECK (action IN ('register', 'revoke', 'update'));

-- An RFC 3339 UTC time as ledgerd writes it (2027-01-31T00:00:00.000Z), or one PostgreSQL reads.
CREATE FUNCTION ledger_is_time(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF t !~ '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]' THEN
        RETURN false;
    END IF;
    PERFORM t::timestamptz;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END $$;

-- expires_at in RFC 3339 UTC with milliseconds, as the records and the audit show it.
CREATE FUNCTION ledger_time(t text) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT CASE WHEN ledger_is_time(t)
               THEN to_char(t::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ELSE t END $$;

-- Unix milliseconds as ledgerd writes times, exactly (no floating point).
CREATE FUNCTION ledger_from_ms(ms bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_char(('epoch'::timestamptz + ms * interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- expires_at as unix milliseconds: NULL for never, 0 (long expired) for a value that is no time.
CREATE FUNCTION ledger_ms(t text) RETURNS bigint LANGUAGE sql STABLE AS
$$ SELECT CASE WHEN t IS NULL THEN NULL
               WHEN ledger_is_time(t) THEN (extract(epoch FROM t::timestamptz) * 1000)::bigint ELSE 0 END $$;

CREATE FUNCTION ledger_json(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN t::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_check_policy(c api_credential) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
BEGIN
    IF c.expires_at IS NOT NULL AND NOT ledger_is_time(c.expires_at) THEN
        RAISE EXCEPTION 'expires_at must be NULL (never) or an RFC 3339 UTC time like 2027-01-31T00:00:00.000Z';
    END IF;
    j := ledger_json(c.scopes);
    IF j IS NULL OR jsonb_typeof(j) <> 'array' OR EXISTS (
        SELECT 1 FROM jsonb_array_elements(j) e
         WHERE jsonb_typeof(e) <> 'string'
            OR e #>> '{}' NOT IN ('accounts:read', 'accounts:write', 'credentials:read', 'credentials:write')) THEN
        RAISE EXCEPTION 'scopes must be a JSON array of scope names: accounts:read, accounts:write, credentials:read, credentials:write (like ''["accounts:read"]'')';
    END IF;
    j := ledger_json(c.allowed_ips);
    IF j IS NULL OR jsonb_typeof(j) <> 'array' OR EXISTS (
        SELECT 1 FROM jsonb_array_elements(j) e
         WHERE jsonb_typeof(e) <> 'string' OR NOT (e #>> '{}') ~ '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$') THEN
        RAISE EXCEPTION 'allowed_ips must be a JSON array of IPv4/IPv6 addresses or CIDRs (like ''["127.0.0.2/32","10.0.0.0/8","::1/128"]''; ''[]'' means anywhere)';
    END IF;
    BEGIN
        PERFORM (e #>> '{}')::inet FROM jsonb_array_elements(j) e;
    EXCEPTION WHEN others THEN
        RAISE EXCEPTION 'allowed_ips must be a JSON array of IPv4/IPv6 addresses or CIDRs (like ''["127.0.0.2/32","10.0.0.0/8","::1/128"]''; ''[]'' means anywhere)';
    END;
    IF (c.rate_limit IS NULL) <> (c.rate_limit_window_s IS NULL)
       OR c.rate_limit NOT BETWEEN 1 AND 1000000 OR c.rate_limit_window_s NOT BETWEEN 1 AND 86400 THEN
        RAISE EXCEPTION 'rate_limit (1..1000000 requests) and rate_limit_window_s (1..86400 seconds) are set together, or both NULL (no limit)';
    END IF;
END $$;

CREATE FUNCTION api_credential_policy_is_valid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- On an update, only when a policy column changes: a revocation of a row that got past the
    -- rules (its trigger disabled) must still go through.
    IF TG_OP = 'INSERT'
       OR NEW.expires_at IS DISTINCT FROM OLD.expires_at OR NEW.scopes IS DISTINCT FROM OLD.scopes
       OR NEW.allowed_ips IS DISTINCT FROM OLD.allowed_ips OR NEW.rate_limit IS DISTINCT FROM OLD.rate_limit
       OR NEW.rate_limit_window_s IS DISTINCT FROM OLD.rate_limit_window_s THEN
        PERFORM ledger_check_policy(NEW);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER api_credential_policy_is_valid BEFORE INSERT OR UPDATE ON api_credential
    FOR EACH ROW EXECUTE FUNCTION api_credential_policy_is_valid();

-- A registration's actor: `api` (open registration) or the registering credential.
CREATE OR REPLACE FUNCTION api_credential_registered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO credential_audit (api_key, action, actor) VALUES (NEW.api_key, 'register', coalesce(NEW.updated_by, 'api'));
    IF NEW.updated_by IS NOT NULL THEN
        UPDATE api_credential SET updated_by = NULL WHERE api_key = NEW.api_key;
    END IF;
    RETURN NULL;
END $$;

-- Every change of the policy columns or the label: refused once revoked, else audited as `update`
-- with {"field": {"from": old, "to": new}} (expires_at normalized, scopes and allowed_ips as arrays,
-- the rate limit as {"limit", "window_s"}), by updated_by or `db`; updated_by is cleared here.
CREATE FUNCTION api_credential_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb := '{}';
BEGIN
    IF NEW.label IS DISTINCT FROM OLD.label THEN
        changes := changes || jsonb_build_object('label', jsonb_build_object('from', OLD.label, 'to', NEW.label));
    END IF;
    IF NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
        changes := changes || jsonb_build_object('expires_at',
            jsonb_build_object('from', ledger_time(OLD.expires_at), 'to', ledger_time(NEW.expires_at)));
    END IF;
    IF NEW.scopes IS DISTINCT FROM OLD.scopes THEN
        changes := changes || jsonb_build_object('scopes', jsonb_build_object(
            'from', coalesce(ledger_json(OLD.scopes), to_jsonb(OLD.scopes)), 'to', coalesce(ledger_json(NEW.scopes), to_jsonb(NEW.scopes))));
    END IF;
    IF NEW.allowed_ips IS DISTINCT FROM OLD.allowed_ips THEN
        changes := changes || jsonb_build_object('allowed_ips', jsonb_build_object(
            'from', coalesce(ledger_json(OLD.allowed_ips), to_jsonb(OLD.allowed_ips)),
            'to', coalesce(ledger_json(NEW.allowed_ips), to_jsonb(NEW.allowed_ips))));
    END IF;
    IF NEW.rate_limit IS DISTINCT FROM OLD.rate_limit OR NEW.rate_limit_window_s IS DISTINCT FROM OLD.rate_limit_window_s THEN
        changes := changes || jsonb_build_object('rate_limit', jsonb_build_object(
            'from', CASE WHEN OLD.rate_limit IS NOT NULL
                         THEN jsonb_build_object('limit', OLD.rate_limit, 'window_s', OLD.rate_limit_window_s) END,
            'to', CASE WHEN NEW.rate_limit IS NOT NULL
                       THEN jsonb_build_object('limit', NEW.rate_limit, 'window_s', NEW.rate_limit_window_s) END));
    END IF;
    IF changes <> '{}' THEN
        IF NOT OLD.active THEN
            RAISE EXCEPTION 'a revoked credential cannot be changed; register a new credential instead';
        END IF;
        INSERT INTO credential_audit (api_key, action, actor, changes)
        VALUES (NEW.api_key, 'update', coalesce(NEW.updated_by, 'db'), changes::text);
    END IF;
    NEW.updated_by := NULL;
    RETURN NEW;
END $$;

CREATE TRIGGER api_credential_updated BEFORE UPDATE ON api_credential
    FOR EACH ROW EXECUTE FUNCTION api_credential_updated();
