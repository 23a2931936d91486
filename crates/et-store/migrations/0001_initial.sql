-- Migration 1: credentials, their audit trail, and the ledger's accounts.
--
-- Operators are told they may revoke by hand in the sqlite3 shell
-- (UPDATE api_credential SET active = false WHERE api_key = '...'), so the rules that matter are
-- enforced here, by the database itself, not only by ledgerd:
--   * a revocation fills in revoked_at and revoked_by ('db' when nobody says otherwise) and is audited;
--   * a revoked credential can never become active again, and no credential is ever deleted;
--   * api_key and its secret hash never change;
--   * the audit trail is append-only.

CREATE TABLE api_credential (
    api_key         TEXT PRIMARY KEY NOT NULL
                    CHECK (length(api_key) = 43 AND substr(api_key, 1, 3) = 'ak_'),
    api_secret_hash TEXT NOT NULL CHECK (length(api_secret_hash) = 64),
    label           TEXT,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    revoked_at      TEXT,
    revoked_by      TEXT,
    revoke_reason   TEXT,
    last_used_at    TEXT
);

-- Lists by state page through (active, rowid) without a scan.
CREATE INDEX api_credential_by_state ON api_credential (active);

CREATE TABLE credential_audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    api_key TEXT NOT NULL,
    action  TEXT NOT NULL CHECK (action IN ('register', 'revoke')),
    actor   TEXT NOT NULL,
    reason  TEXT
);

CREATE INDEX credential_audit_by_key ON credential_audit (api_key);

CREATE TRIGGER api_credential_registered AFTER INSERT ON api_credential
BEGIN
    INSERT INTO credential_audit (api_key, action, actor) VALUES (NEW.api_key, 'register', 'api');
END;

CREATE TRIGGER api_credential_revocation_is_permanent BEFORE UPDATE OF active ON api_credential
WHEN OLD.active = 0 AND NEW.active IS NOT 0
BEGIN
    SELECT RAISE(ABORT, 'revocation is permanent: a revoked api_key can never be reactivated; register a new credential instead');
END;

CREATE TRIGGER api_credential_identity_is_fixed BEFORE UPDATE OF api_key, api_secret_hash ON api_credential
WHEN NEW.api_key IS NOT OLD.api_key OR NEW.api_secret_hash IS NOT OLD.api_secret_hash
BEGIN
    SELECT RAISE(ABORT, 'api_key and api_secret_hash never change; register a new credential instead');
END;

CREATE TRIGGER api_credential_never_deleted BEFORE DELETE ON api_credential
BEGIN
    SELECT RAISE(ABORT, 'credentials are never deleted (a deleted api_key could be registered again); revoke instead: UPDATE api_credential SET active = 0 WHERE api_key = ...');
END;

CREATE TRIGGER api_credential_revoked AFTER UPDATE OF active ON api_credential
WHEN OLD.active = 1 AND NEW.active = 0
BEGIN
    UPDATE api_credential
       SET revoked_at = coalesce(NEW.revoked_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
           revoked_by = coalesce(NEW.revoked_by, 'db')
     WHERE api_key = NEW.api_key;
    INSERT INTO credential_audit (api_key, action, actor, reason)
    VALUES (NEW.api_key, 'revoke', coalesce(NEW.revoked_by, 'db'), NEW.revoke_reason);
END;

CREATE TRIGGER credential_audit_no_update BEFORE UPDATE ON credential_audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER credential_audit_no_delete BEFORE DELETE ON credential_audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TABLE account (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_by TEXT NOT NULL
);
