-- PostgreSQL migration 1: the tables and rules of SQLite migrations 1 and 2, enforced by
-- PL/pgSQL triggers, so hand-made SQL in psql meets the same refusals as in the sqlite3 shell:
--   * a revocation (also UPDATE api_credential SET active = false) fills in revoked_at and
--     revoked_by ('db' when nobody says otherwise) and is audited;
--   * a revoked credential never becomes active again; no credential is ever deleted or truncated;
--   * api_key, its secret hash and its registration order (seq) never change;
--   * an insert meeting a registered api_key is refused before any ON CONFLICT clause is looked at;
--   * the audit trail is append-only, its ids are never given by hand;
--   * every audit row wakes the replicas (pg_notify), once per transaction.
-- Timestamps are text, RFC 3339 UTC with milliseconds, as in SQLite.

CREATE FUNCTION ledger_now() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

CREATE TABLE api_credential (
    api_key         text PRIMARY KEY CHECK (length(api_key) = 43 AND substr(api_key, 1, 3) = 'ak_'),
    api_secret_hash text NOT NULL CHECK (api_secret_hash ~ '^[0-9a-f]{64}$'),
    label           text,
    active          boolean NOT NULL DEFAULT true,
    created_at      text NOT NULL DEFAULT ledger_now(),
    revoked_at      text,
    revoked_by      text,
    revoke_reason   text,
    last_used_at    text,
    -- Registration order (SQLite's rowid): lists page through it.
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);

CREATE INDEX api_credential_by_state ON api_credential (active, seq);

CREATE TABLE credential_audit (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      text NOT NULL DEFAULT ledger_now(),
    api_key text NOT NULL,
    action  text NOT NULL CHECK (action IN ('register', 'revoke')),
    actor   text NOT NULL,
    reason  text,
    -- The writing transaction: audit ids are handed out in insert order, not commit order, so the
    -- replicas read new rows by transaction id against a snapshot's horizon (see pg.rs, poll_changes).
    txid    xid8 NOT NULL DEFAULT pg_current_xact_id()
);

CREATE INDEX credential_audit_by_key ON credential_audit (api_key, id);
CREATE INDEX credential_audit_by_txid ON credential_audit (txid, id);

CREATE TABLE account (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    created_at text NOT NULL DEFAULT ledger_now(),
    created_by text NOT NULL,
    seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);

CREATE FUNCTION api_credential_key_is_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM api_credential WHERE api_key = NEW.api_key) THEN
        RAISE EXCEPTION 'the api_key is already registered (revoked keys stay registered and cannot be registered again, replaced or upserted); register a new credential instead'
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER api_credential_key_is_new BEFORE INSERT ON api_credential
    FOR EACH ROW EXECUTE FUNCTION api_credential_key_is_new();

CREATE FUNCTION api_credential_registered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO credential_audit (api_key, action, actor) VALUES (NEW.api_key, 'register', 'api');
    RETURN NULL;
END $$;

CREATE TRIGGER api_credential_registered AFTER INSERT ON api_credential
    FOR EACH ROW EXECUTE FUNCTION api_credential_registered();

CREATE FUNCTION api_credential_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.api_key IS DISTINCT FROM OLD.api_key OR NEW.api_secret_hash IS DISTINCT FROM OLD.api_secret_hash THEN
        RAISE EXCEPTION 'api_key and api_secret_hash never change; register a new credential instead';
    END IF;
    IF NEW.seq IS DISTINCT FROM OLD.seq THEN
        RAISE EXCEPTION 'a credential''s seq never changes';
    END IF;
    IF NOT OLD.active AND NEW.active THEN
        RAISE EXCEPTION 'revocation is permanent: a revoked api_key can never be reactivated; register a new credential instead';
    END IF;
    IF OLD.active AND NOT NEW.active THEN
        NEW.revoked_at := coalesce(NEW.revoked_at, ledger_now());
        NEW.revoked_by := coalesce(NEW.revoked_by, 'db');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER api_credential_rules BEFORE UPDATE ON api_credential
    FOR EACH ROW EXECUTE FUNCTION api_credential_rules();

CREATE FUNCTION api_credential_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO credential_audit (api_key, action, actor, reason)
    VALUES (NEW.api_key, 'revoke', NEW.revoked_by, NEW.revoke_reason);
    RETURN NULL;
END $$;

CREATE TRIGGER api_credential_revoked AFTER UPDATE OF active ON api_credential
    FOR EACH ROW WHEN (OLD.active AND NOT NEW.active) EXECUTE FUNCTION api_credential_revoked();

CREATE FUNCTION api_credential_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'credentials are never deleted (a deleted api_key could be registered again); revoke instead: UPDATE api_credential SET active = false WHERE api_key = ...';
END $$;

CREATE TRIGGER api_credential_never_deleted BEFORE DELETE ON api_credential
    FOR EACH ROW EXECUTE FUNCTION api_credential_never_deleted();
CREATE TRIGGER api_credential_never_truncated BEFORE TRUNCATE ON api_credential
    FOR EACH STATEMENT EXECUTE FUNCTION api_credential_never_deleted();

CREATE FUNCTION credential_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END $$;

CREATE TRIGGER credential_audit_no_update BEFORE UPDATE OR DELETE ON credential_audit
    FOR EACH ROW EXECUTE FUNCTION credential_audit_append_only();
CREATE TRIGGER credential_audit_no_truncate BEFORE TRUNCATE ON credential_audit
    FOR EACH STATEMENT EXECUTE FUNCTION credential_audit_append_only();

-- An id given by hand (INSERT … OVERRIDING SYSTEM VALUE) is not the one the sequence just handed
-- this session for the row.
CREATE FUNCTION credential_audit_id_is_automatic() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM currval(pg_get_serial_sequence('credential_audit', 'id')) THEN
        RAISE EXCEPTION 'audit ids are assigned by the database; leave id out (the audit trail is append-only)';
    END IF;
    IF NEW.txid IS DISTINCT FROM pg_current_xact_id() THEN
        RAISE EXCEPTION 'an audit row''s txid is its transaction''s; leave txid out';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER credential_audit_id_is_automatic BEFORE INSERT ON credential_audit
    FOR EACH ROW EXECUTE FUNCTION credential_audit_id_is_automatic();

-- One notification per transaction (identical payloads are folded): the replicas read the trail.
CREATE FUNCTION credential_audit_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ledgerd_audit', '');
    RETURN NULL;
END $$;

CREATE TRIGGER credential_audit_notify AFTER INSERT ON credential_audit
    FOR EACH STATEMENT EXECUTE FUNCTION credential_audit_notify();
