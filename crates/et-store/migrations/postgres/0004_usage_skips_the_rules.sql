-- PostgreSQL migration 4: an UPDATE that changes nothing but last_used_at (the housekeeper's, every
-- two seconds, thousands of rows at a time) no longer runs the three PL/pgSQL BEFORE UPDATE
-- triggers. For such a row each of them did nothing (no rule looks at last_used_at; the audit
-- records label, policy and revocation changes only, as on SQLite, whose triggers are all
-- `UPDATE OF` other columns) but cost a PL/pgSQL call: a 10 000-row batch held PostgreSQL's core
-- for about a second (BENCHMARKS.md, PostgreSQL).
--
-- Each trigger now has a WHEN clause: it runs when any column but last_used_at differs between
-- OLD and NEW, as the earlier triggers left NEW (PostgreSQL evaluates a BEFORE trigger's WHEN just
-- before the function would run). An UPDATE setting last_used_at together with anything else meets
-- every rule as before. The functions are unchanged. A migration adding a column to api_credential
-- must add it to these three lists (tests/postgres.rs checks that every column but last_used_at is
-- in each).
--
-- api_credential_policy_is_valid served INSERT and UPDATE, and a WHEN clause of an INSERT trigger
-- cannot name OLD: it stays for INSERT, and api_credential_policy_stays_valid runs the same
-- function on UPDATE (before api_credential_rules, as it did: triggers of one event run in name order).

DROP TRIGGER api_credential_rules ON api_credential;
CREATE TRIGGER api_credential_rules BEFORE UPDATE ON api_credential
    FOR EACH ROW
    WHEN ((OLD.api_key, OLD.api_secret_hash, OLD.label, OLD.active, OLD.created_at, OLD.revoked_at, OLD.revoked_by,
           OLD.revoke_reason, OLD.seq, OLD.expires_at, OLD.scopes, OLD.allowed_ips, OLD.rate_limit,
           OLD.rate_limit_window_s, OLD.updated_by)
          IS DISTINCT FROM
          (NEW.api_key, NEW.api_secret_hash, NEW.label, NEW.active, NEW.created_at, NEW.revoked_at, NEW.revoked_by,
           NEW.revoke_reason, NEW.seq, NEW.expires_at, NEW.scopes, NEW.allowed_ips, NEW.rate_limit,
           NEW.rate_limit_window_s, NEW.updated_by))
    EXECUTE FUNCTION api_credential_rules();

DROP TRIGGER api_credential_policy_is_valid ON api_credential;
CREATE TRIGGER api_credential_policy_is_valid BEFORE INSERT ON api_credential
    FOR EACH ROW EXECUTE FUNCTION api_credential_policy_is_valid();
CREATE TRIGGER api_credential_policy_stays_valid BEFORE UPDATE ON api_credential
    FOR EACH ROW
    WHEN ((OLD.api_key, OLD.api_secret_hash, OLD.label, OLD.active, OLD.created_at, OLD.revoked_at, OLD.revoked_by,
           OLD.revoke_reason, OLD.seq, OLD.expires_at, OLD.scopes, OLD.allowed_ips, OLD.rate_limit,
           OLD.rate_limit_window_s, OLD.updated_by)
          IS DISTINCT FROM
          (NEW.api_key, NEW.api_secret_hash, NEW.label, NEW.active, NEW.created_at, NEW.revoked_at, NEW.revoked_by,
           NEW.revoke_reason, NEW.seq, NEW.expires_at, NEW.scopes, NEW.allowed_ips, NEW.rate_limit,
           NEW.rate_limit_window_s, NEW.updated_by))
    EXECUTE FUNCTION api_credential_policy_is_valid();

DROP TRIGGER api_credential_updated ON api_credential;
CREATE TRIGGER api_credential_updated BEFORE UPDATE ON api_credential
    FOR EACH ROW
    WHEN ((OLD.api_key, OLD.api_secret_hash, OLD.label, OLD.active, OLD.created_at, OLD.revoked_at, OLD.revoked_by,
           OLD.revoke_reason, OLD.seq, OLD.expires_at, OLD.scopes, OLD.allowed_ips, OLD.rate_limit,
           OLD.rate_limit_window_s, OLD.updated_by)
          IS DISTINCT FROM
          (NEW.api_key, NEW.api_secret_hash, NEW.label, NEW.active, NEW.created_at, NEW.revoked_at, NEW.revoked_by,
           NEW.revoke_reason, NEW.seq, NEW.expires_at, NEW.scopes, NEW.allowed_ips, NEW.rate_limit,
           NEW.rate_limit_window_s, NEW.updated_by))
    EXECUTE FUNCTION api_credential_updated();
