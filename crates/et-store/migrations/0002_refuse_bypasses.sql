-- Migration 2: refuse the hand-made SQL that got around migration 1's rules.
--
-- INSERT OR REPLACE (and an UPSERT, and an explicit rowid that collides) deleted a row without
-- firing the delete trigger: a revoked credential could be written back as active, a hash swapped,
-- a credential or an audit row rewritten. A BEFORE INSERT trigger runs before SQLite resolves a
-- conflict, so refusing an insert that would meet an existing row (by api_key, by rowid, by audit id)
-- refuses every REPLACE. In a BEFORE INSERT trigger NEW.rowid (and NEW.id of an INTEGER PRIMARY KEY)
-- is -1 when the statement gives none, so an explicit -1 is refused after the insert instead.
-- CHECK constraints can be switched off by a connection (PRAGMA ignore_check_constraints), so the
-- rules that protect authentication are triggers.
--
-- Rows already in the database that break the new rules: an active credential whose hash is not
-- 64 lowercase hex digits can never authenticate (no secret matches it), so it is revoked here, by
-- 'migration-2', with the reason in the audit trail.

CREATE TRIGGER api_credential_key_is_new BEFORE INSERT ON api_credential
WHEN EXISTS (SELECT 1 FROM api_credential WHERE api_key = NEW.api_key)
BEGIN
    SELECT RAISE(ABORT, 'the api_key is already registered (revoked keys stay registered and cannot be registered again, replaced or upserted); register a new credential instead');
END;

CREATE TRIGGER api_credential_rowid_is_new BEFORE INSERT ON api_credential
WHEN EXISTS (SELECT 1 FROM api_credential WHERE rowid = NEW.rowid)
BEGIN
    SELECT RAISE(ABORT, 'that rowid belongs to another credential, which is never replaced; leave rowid out');
END;

CREATE TRIGGER api_credential_rowid_is_positive AFTER INSERT ON api_credential
WHEN NEW.rowid < 1
BEGIN
    SELECT RAISE(ABORT, 'a credential''s rowid is assigned by the database; leave rowid out');
END;

CREATE TRIGGER api_credential_rowid_is_fixed BEFORE UPDATE ON api_credential
WHEN NEW.rowid IS NOT OLD.rowid
BEGIN
    SELECT RAISE(ABORT, 'a credential''s rowid never changes');
END;

CREATE TRIGGER api_credential_hash_is_hex BEFORE INSERT ON api_credential
WHEN typeof(NEW.api_secret_hash) IS NOT 'text'
  OR length(NEW.api_secret_hash) IS NOT 64
  OR NEW.api_secret_hash GLOB '*[^0-9a-f]*'
BEGIN
    SELECT RAISE(ABORT, 'api_secret_hash must be the SHA-256 of the secret as 64 lowercase hex digits');
END;

CREATE TRIGGER api_credential_active_is_0_or_1 BEFORE INSERT ON api_credential
WHEN NEW.active IS NOT 0 AND NEW.active IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'active is 1 (active) or 0 (revoked)');
END;

-- With active = 2 (CHECK switched off) a credential would be neither active nor revoked for the
-- triggers of migration 1: taken out of service unaudited, then back to 1 as if never revoked.
CREATE TRIGGER api_credential_active_stays_0_or_1 BEFORE UPDATE OF active ON api_credential
WHEN NEW.active IS NOT 0 AND NEW.active IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'active is 1 (active) or 0 (revoked)');
END;

CREATE TRIGGER credential_audit_id_is_automatic BEFORE INSERT ON credential_audit
WHEN NEW.id IS NOT -1
BEGIN
    SELECT RAISE(ABORT, 'audit ids are assigned by the database; leave id out (the audit trail is append-only)');
END;

CREATE TRIGGER credential_audit_id_is_positive AFTER INSERT ON credential_audit
WHEN NEW.id < 1
BEGIN
    SELECT RAISE(ABORT, 'audit ids are assigned by the database; leave id out (the audit trail is append-only)');
END;

UPDATE api_credential
   SET active = 0,
       revoked_by = 'migration-2',
       revoke_reason = 'api_secret_hash is not 64 lowercase hex digits, so no secret can match it; register a new credential'
 WHERE active = 1
   AND (typeof(api_secret_hash) IS NOT 'text'
        OR length(api_secret_hash) IS NOT 64
        OR api_secret_hash GLOB '*[^0-9a-f]*');
