-- Migration 5: api_credential is one B-tree keyed by api_key (a WITHOUT ROWID table).
--
-- A credential was a row of the rowid table and an entry of its primary key's index: every cache
-- miss read the index to find the rowid, then the table to find the row, two descents through two
-- B-trees (BENCHMARKS.md, cold auth). Keyed by api_key, the row is where the key is found.
--
-- Registration order, which lists page through, was the rowid; it is now `seq`, given by the
-- registration (the next after the highest), or by the trigger below to a row inserted by hand
-- without one, with the same rules the rowid had (migration 2): never changed, never another
-- credential's, positive.
--
-- SQLite drops a table's triggers with the table: ledgerd reads those of migrations 1 to 4 before
-- this file runs and makes them again, as stored, after it (sqlite.rs, `migrate`), but the three
-- rowid rules, which have no rowid left to guard and are replaced by the seq rules here.

CREATE TABLE api_credential_v5 (
    api_key             TEXT PRIMARY KEY NOT NULL
                        CHECK (length(api_key) = 43 AND substr(api_key, 1, 3) = 'ak_'),
    api_secret_hash     TEXT NOT NULL CHECK (length(api_secret_hash) = 64),
    label               TEXT,
    active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    revoked_at          TEXT,
    revoked_by          TEXT,
    revoke_reason       TEXT,
    last_used_at        TEXT,
    expires_at          TEXT,
    scopes              TEXT NOT NULL
                        DEFAULT '["accounts:read","accounts:write","credentials:read","credentials:write"]',
    allowed_ips         TEXT NOT NULL DEFAULT '[]',
    rate_limit          INTEGER,
    rate_limit_window_s INTEGER,
    updated_by          TEXT,
    seq                 INTEGER
) WITHOUT ROWID;

INSERT INTO api_credential_v5
      (api_key, api_secret_hash, label, active, created_at, revoked_at, revoked_by, revoke_reason, last_used_at,
       expires_at, scopes, allowed_ips, rate_limit, rate_limit_window_s, updated_by, seq)
SELECT api_key, api_secret_hash, label, active, created_at, revoked_at, revoked_by, revoke_reason, last_used_at,
       expires_at, scopes, allowed_ips, rate_limit, rate_limit_window_s, updated_by, rowid
  FROM api_credential ORDER BY api_key;

DROP TABLE api_credential;
ALTER TABLE api_credential_v5 RENAME TO api_credential;

-- Lists page through registration order, all of them or by state, without a scan or a sort.
CREATE UNIQUE INDEX api_credential_by_seq ON api_credential (seq);
CREATE INDEX api_credential_by_state ON api_credential (active, seq);

-- The rowid rules of migration 2, for seq. A BEFORE trigger runs before SQLite resolves a
-- conflict, so an insert or an update meeting another credential's seq is refused, and with it
-- the REPLACE that would have deleted that credential.
CREATE TRIGGER api_credential_seq_is_new BEFORE INSERT ON api_credential
WHEN NEW.seq IS NOT NULL AND EXISTS (SELECT 1 FROM api_credential WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'that seq belongs to another credential, which is never replaced; leave seq out');
END;

CREATE TRIGGER api_credential_seq_is_positive BEFORE INSERT ON api_credential
WHEN NEW.seq IS NOT NULL AND (typeof(NEW.seq) IS NOT 'integer' OR NEW.seq < 1)
BEGIN
    SELECT RAISE(ABORT, 'a credential''s seq is its place in registration order, assigned by the database; leave seq out');
END;

-- The one change allowed: the next seq given to a row that has none (the trigger below).
CREATE TRIGGER api_credential_seq_is_fixed BEFORE UPDATE OF seq ON api_credential
WHEN NEW.seq IS NOT OLD.seq
 AND (OLD.seq IS NOT NULL OR NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM api_credential))
BEGIN
    SELECT RAISE(ABORT, 'a credential''s seq never changes');
END;

CREATE TRIGGER api_credential_seq_is_assigned AFTER INSERT ON api_credential
WHEN NEW.seq IS NULL
BEGIN
    UPDATE api_credential SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM api_credential) WHERE api_key = NEW.api_key;
END;
