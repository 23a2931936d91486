-- Migration 3: credential lifetime and least privilege (SPEC §6): an expiry, scopes, allowed client
-- addresses and a rate limit per credential, each editable, each change audited.
--
-- Rows of schema 1 and 2 get the defaults: every scope, no expiry, any address, no limit.
-- The rules are triggers, not CHECK constraints (a connection can switch those off), so a hand-made
-- UPDATE in the sqlite3 shell is validated, refused on a revoked credential, and audited as `update`
-- by `db` with what changed, exactly like one made through the API.
--
-- updated_by is how a writer names the actor of a change: the API's UPDATE sets it together with the
-- changed columns (and the registration's INSERT, in authenticated registration); the audit
-- triggers read it, and it is cleared at once, so a later hand-made change is attributed to `db`.

ALTER TABLE api_credential ADD COLUMN expires_at TEXT;
ALTER TABLE api_credential ADD COLUMN scopes TEXT NOT NULL
    DEFAULT '["accounts:read","accounts:write","credentials:read","credentials:write"]';
ALTER TABLE api_credential ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_credential ADD COLUMN rate_limit INTEGER;
ALTER TABLE api_credential ADD COLUMN rate_limit_window_s INTEGER;
ALTER TABLE api_credential ADD COLUMN updated_by TEXT;

-- The audit trail gains `update` and the JSON of what changed. Its CHECK is part of CREATE TABLE,
-- so the table is made again: ids, rows and the AUTOINCREMENT counter are carried over, then its
-- index and its append-only and id triggers are made again as migrations 1 and 2 made them. The
-- triggers of api_credential name the table, not the copy: with legacy_alter_table the rename
-- leaves them pointing at the new table under the old name.
CREATE TABLE credential_audit_v3 (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    api_key TEXT NOT NULL,
    action  TEXT NOT NULL CHECK (action IN ('register', 'revoke', 'update')),
    actor   TEXT NOT NULL,
    reason  TEXT,
    changes TEXT
);
INSERT INTO credential_audit_v3 (id, at, api_key, action, actor, reason)
    SELECT id, at, api_key, action, actor, reason FROM credential_audit ORDER BY id;
DELETE FROM sqlite_sequence WHERE name = 'credential_audit_v3';
UPDATE sqlite_sequence SET name = 'credential_audit_v3' WHERE name = 'credential_audit';
DROP TABLE credential_audit;
PRAGMA legacy_alter_table = ON;
ALTER TABLE credential_audit_v3 RENAME TO credential_audit;
PRAGMA legacy_alter_table = OFF;

CREATE INDEX credential_audit_by_key ON credential_audit (api_key);

CREATE TRIGGER credential_audit_no_update BEFORE UPDATE ON credential_audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER credential_audit_no_delete BEFORE DELETE ON credential_audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
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

-- A registration's actor: `api` (open registration) or the registering credential.
DROP TRIGGER api_credential_registered;
CREATE TRIGGER api_credential_registered AFTER INSERT ON api_credential
BEGIN
    INSERT INTO credential_audit (api_key, action, actor) VALUES (NEW.api_key, 'register', coalesce(NEW.updated_by, 'api'));
END;

CREATE TRIGGER api_credential_registered_by_is_transient AFTER INSERT ON api_credential
WHEN NEW.updated_by IS NOT NULL
BEGIN
    UPDATE api_credential SET updated_by = NULL WHERE api_key = NEW.api_key;
END;

CREATE TRIGGER api_credential_updated_by_is_transient AFTER UPDATE OF updated_by ON api_credential
WHEN NEW.updated_by IS NOT NULL
BEGIN
    UPDATE api_credential SET updated_by = NULL WHERE api_key = NEW.api_key;
END;

-- Validation, on INSERT and on UPDATE of each column (the same conditions twice: a trigger has one
-- event). expires_at: a timestamp SQLite reads (RFC 3339 UTC is what ledgerd writes).
CREATE TRIGGER api_credential_expires_at_is_a_time BEFORE INSERT ON api_credential
WHEN NEW.expires_at IS NOT NULL
 AND (typeof(NEW.expires_at) IS NOT 'text'
      OR NOT NEW.expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*'
      OR strftime('%Y-%m-%dT%H:%M:%fZ', NEW.expires_at) IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'expires_at must be NULL (never) or an RFC 3339 UTC time like 2027-01-31T00:00:00.000Z');
END;

CREATE TRIGGER api_credential_expires_at_stays_a_time BEFORE UPDATE OF expires_at ON api_credential
WHEN NEW.expires_at IS NOT NULL
 AND (typeof(NEW.expires_at) IS NOT 'text'
      OR NOT NEW.expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*'
      OR strftime('%Y-%m-%dT%H:%M:%fZ', NEW.expires_at) IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'expires_at must be NULL (never) or an RFC 3339 UTC time like 2027-01-31T00:00:00.000Z');
END;

-- scopes: a JSON array of scope names ([] is allowed: a credential that can only call /whoami).
CREATE TRIGGER api_credential_scopes_are_known BEFORE INSERT ON api_credential
WHEN CASE WHEN typeof(NEW.scopes) IS NOT 'text' OR NOT json_valid(NEW.scopes) THEN 1
          WHEN json_type(NEW.scopes) IS NOT 'array' THEN 1
          ELSE EXISTS (SELECT 1 FROM json_each(NEW.scopes)
                        WHERE type IS NOT 'text'
                           OR value NOT IN ('accounts:read', 'accounts:write', 'credentials:read', 'credentials:write'))
     END
BEGIN
    SELECT RAISE(ABORT, 'scopes must be a JSON array of scope names: accounts:read, accounts:write, credentials:read, credentials:write (like ''["accounts:read"]'')');
END;

CREATE TRIGGER api_credential_scopes_stay_known BEFORE UPDATE OF scopes ON api_credential
WHEN CASE WHEN typeof(NEW.scopes) IS NOT 'text' OR NOT json_valid(NEW.scopes) THEN 1
          WHEN json_type(NEW.scopes) IS NOT 'array' THEN 1
          ELSE EXISTS (SELECT 1 FROM json_each(NEW.scopes)
                        WHERE type IS NOT 'text'
                           OR value NOT IN ('accounts:read', 'accounts:write', 'credentials:read', 'credentials:write'))
     END
BEGIN
    SELECT RAISE(ABORT, 'scopes must be a JSON array of scope names: accounts:read, accounts:write, credentials:read, credentials:write (like ''["accounts:read"]'')');
END;

-- allowed_ips: a JSON array of IPv4/IPv6 addresses or CIDRs ([]: anywhere). Each is split into its
-- address and prefix length; an IPv4 address is four integers 0..255 (its dots made commas, it is
-- a JSON array of four numbers, which refuses leading zeros and empty parts); an IPv6 address is
-- groups of 1..4 hex digits, eight of them or fewer around one `::`, the last two may be an IPv4
-- address (its colons made `","`, it is a JSON array of group strings).
CREATE TRIGGER api_credential_allowed_ips_are_addresses BEFORE INSERT ON api_credential
WHEN CASE WHEN typeof(NEW.allowed_ips) IS NOT 'text' OR NOT json_valid(NEW.allowed_ips) THEN 1
          WHEN json_type(NEW.allowed_ips) IS NOT 'array' THEN 1
          ELSE EXISTS (
              SELECT 1 FROM (
                  SELECT type, value,
                         CASE WHEN instr(value, '/') THEN substr(value, 1, instr(value, '/') - 1) ELSE value END AS addr,
                         CASE WHEN instr(value, '/') THEN substr(value, instr(value, '/') + 1) END AS prefix
                    FROM json_each(NEW.allowed_ips))
               WHERE CASE WHEN type IS NOT 'text' OR length(value) > 49 THEN 1
                          WHEN prefix IS NOT NULL
                               AND (prefix = '' OR prefix GLOB '*[^0-9]*' OR length(prefix) > 3
                                    OR (length(prefix) > 1 AND prefix GLOB '0*')
                                    OR CAST(prefix AS INTEGER) > CASE WHEN instr(addr, ':') THEN 128 ELSE 32 END) THEN 1
                          -- IPv4: four integers 0..255.
                          WHEN instr(addr, ':') = 0 THEN
                               CASE WHEN addr GLOB '*[^0-9.]*' OR NOT json_valid('[' || replace(addr, '.', ',') || ']') THEN 1
                                    ELSE json_array_length('[' || replace(addr, '.', ',') || ']') IS NOT 4
                                         OR EXISTS (SELECT 1 FROM json_each('[' || replace(addr, '.', ',') || ']')
                                                     WHERE type IS NOT 'integer' OR value > 255)
                               END
                          -- IPv6: hex groups, at most one `::`, no lone colon at either end.
                          WHEN addr GLOB '*[^0-9a-fA-F:.]*' OR instr(addr, ':::') > 0
                               OR length(addr) - length(replace(addr, '::', '')) > 2
                               OR (addr GLOB ':*' AND NOT addr GLOB '::*')
                               OR (addr GLOB '*:' AND NOT addr GLOB '*::') THEN 1
                          ELSE EXISTS (SELECT 1 FROM json_each('["' || replace(addr, ':', '","') || '"]') AS g
                                        WHERE CASE WHEN instr(g.value, '.') = 0 THEN length(g.value) > 4 OR g.value GLOB '*[^0-9a-fA-F]*'
                                                   -- an IPv4 address only as the last group
                                                   WHEN g.key IS NOT json_array_length('["' || replace(addr, ':', '","') || '"]') - 1
                                                        OR g.value GLOB '*[^0-9.]*'
                                                        OR NOT json_valid('[' || replace(g.value, '.', ',') || ']') THEN 1
                                                   ELSE json_array_length('[' || replace(g.value, '.', ',') || ']') IS NOT 4
                                                        OR EXISTS (SELECT 1 FROM json_each('[' || replace(g.value, '.', ',') || ']')
                                                                    WHERE type IS NOT 'integer' OR value > 255)
                                              END)
                               -- eight groups (an IPv4 address counts two), or at most seven and one `::`
                               OR (SELECT count(*) + total(instr(value, '.') > 0)
                                     FROM json_each('["' || replace(addr, ':', '","') || '"]') WHERE value <> '')
                                  NOT BETWEEN CASE WHEN instr(addr, '::') THEN 0 ELSE 8 END
                                          AND CASE WHEN instr(addr, '::') THEN 7 ELSE 8 END
                     END)
     END
BEGIN
    SELECT RAISE(ABORT, 'allowed_ips must be a JSON array of IPv4/IPv6 addresses or CIDRs (like ''["127.0.0.2/32","10.0.0.0/8","::1/128"]''; ''[]'' means anywhere)');
END;

CREATE TRIGGER api_credential_allowed_ips_stay_addresses BEFORE UPDATE OF allowed_ips ON api_credential
WHEN CASE WHEN typeof(NEW.allowed_ips) IS NOT 'text' OR NOT json_valid(NEW.allowed_ips) THEN 1
          WHEN json_type(NEW.allowed_ips) IS NOT 'array' THEN 1
          ELSE EXISTS (
              SELECT 1 FROM (
                  SELECT type, value,
                         CASE WHEN instr(value, '/') THEN substr(value, 1, instr(value, '/') - 1) ELSE value END AS addr,
                         CASE WHEN instr(value, '/') THEN substr(value, instr(value, '/') + 1) END AS prefix
                    FROM json_each(NEW.allowed_ips))
               WHERE CASE WHEN type IS NOT 'text' OR length(value) > 49 THEN 1
                          WHEN prefix IS NOT NULL
                               AND (prefix = '' OR prefix GLOB '*[^0-9]*' OR length(prefix) > 3
                                    OR (length(prefix) > 1 AND prefix GLOB '0*')
                                    OR CAST(prefix AS INTEGER) > CASE WHEN instr(addr, ':') THEN 128 ELSE 32 END) THEN 1
                          -- IPv4: four integers 0..255.
                          WHEN instr(addr, ':') = 0 THEN
                               CASE WHEN addr GLOB '*[^0-9.]*' OR NOT json_valid('[' || replace(addr, '.', ',') || ']') THEN 1
                                    ELSE json_array_length('[' || replace(addr, '.', ',') || ']') IS NOT 4
                                         OR EXISTS (SELECT 1 FROM json_each('[' || replace(addr, '.', ',') || ']')
                                                     WHERE type IS NOT 'integer' OR value > 255)
                               END
                          -- IPv6: hex groups, at most one `::`, no lone colon at either end.
                          WHEN addr GLOB '*[^0-9a-fA-F:.]*' OR instr(addr, ':::') > 0
                               OR length(addr) - length(replace(addr, '::', '')) > 2
                               OR (addr GLOB ':*' AND NOT addr GLOB '::*')
                               OR (addr GLOB '*:' AND NOT addr GLOB '*::') THEN 1
                          ELSE EXISTS (SELECT 1 FROM json_each('["' || replace(addr, ':', '","') || '"]') AS g
                                        WHERE CASE WHEN instr(g.value, '.') = 0 THEN length(g.value) > 4 OR g.value GLOB '*[^0-9a-fA-F]*'
                                                   -- an IPv4 address only as the last group
                                                   WHEN g.key IS NOT json_array_length('["' || replace(addr, ':', '","') || '"]') - 1
                                                        OR g.value GLOB '*[^0-9.]*'
                                                        OR NOT json_valid('[' || replace(g.value, '.', ',') || ']') THEN 1
                                                   ELSE json_array_length('[' || replace(g.value, '.', ',') || ']') IS NOT 4
                                                        OR EXISTS (SELECT 1 FROM json_each('[' || replace(g.value, '.', ',') || ']')
                                                                    WHERE type IS NOT 'integer' OR value > 255)
                                              END)
                               -- eight groups (an IPv4 address counts two), or at most seven and one `::`
                               OR (SELECT count(*) + total(instr(value, '.') > 0)
                                     FROM json_each('["' || replace(addr, ':', '","') || '"]') WHERE value <> '')
                                  NOT BETWEEN CASE WHEN instr(addr, '::') THEN 0 ELSE 8 END
                                          AND CASE WHEN instr(addr, '::') THEN 7 ELSE 8 END
                     END)
     END
BEGIN
    SELECT RAISE(ABORT, 'allowed_ips must be a JSON array of IPv4/IPv6 addresses or CIDRs (like ''["127.0.0.2/32","10.0.0.0/8","::1/128"]''; ''[]'' means anywhere)');
END;

-- rate_limit: both columns or neither; 1..1 000 000 requests per 1..86 400 seconds.
CREATE TRIGGER api_credential_rate_limit_is_whole BEFORE INSERT ON api_credential
WHEN (NEW.rate_limit IS NULL) IS NOT (NEW.rate_limit_window_s IS NULL)
  OR (NEW.rate_limit IS NOT NULL
      AND (typeof(NEW.rate_limit) IS NOT 'integer' OR NEW.rate_limit NOT BETWEEN 1 AND 1000000
           OR typeof(NEW.rate_limit_window_s) IS NOT 'integer' OR NEW.rate_limit_window_s NOT BETWEEN 1 AND 86400))
BEGIN
    SELECT RAISE(ABORT, 'rate_limit (1..1000000 requests) and rate_limit_window_s (1..86400 seconds) are set together, or both NULL (no limit)');
END;

CREATE TRIGGER api_credential_rate_limit_stays_whole BEFORE UPDATE OF rate_limit, rate_limit_window_s ON api_credential
WHEN (NEW.rate_limit IS NULL) IS NOT (NEW.rate_limit_window_s IS NULL)
  OR (NEW.rate_limit IS NOT NULL
      AND (typeof(NEW.rate_limit) IS NOT 'integer' OR NEW.rate_limit NOT BETWEEN 1 AND 1000000
           OR typeof(NEW.rate_limit_window_s) IS NOT 'integer' OR NEW.rate_limit_window_s NOT BETWEEN 1 AND 86400))
BEGIN
    SELECT RAISE(ABORT, 'rate_limit (1..1000000 requests) and rate_limit_window_s (1..86400 seconds) are set together, or both NULL (no limit)');
END;

-- A revoked credential is never changed (SPEC §6): its record stays what it was when revoked.
CREATE TRIGGER api_credential_revoked_is_frozen
BEFORE UPDATE OF label, expires_at, scopes, allowed_ips, rate_limit, rate_limit_window_s ON api_credential
WHEN OLD.active = 0
 AND (NEW.label IS NOT OLD.label OR NEW.expires_at IS NOT OLD.expires_at OR NEW.scopes IS NOT OLD.scopes
      OR NEW.allowed_ips IS NOT OLD.allowed_ips OR NEW.rate_limit IS NOT OLD.rate_limit
      OR NEW.rate_limit_window_s IS NOT OLD.rate_limit_window_s)
BEGIN
    SELECT RAISE(ABORT, 'a revoked credential cannot be changed; register a new credential instead');
END;

-- Every change of these columns is audited as `update`, by the actor in updated_by or by `db`, with
-- {"field": {"from": old, "to": new}} for each changed field (expires_at normalized to RFC 3339 UTC
-- with milliseconds; scopes and allowed_ips as arrays; the rate limit as {"limit", "window_s"}).
-- A value that is not JSON (its validation trigger dropped) is recorded as text: the audit row is
-- never what fails.
CREATE TRIGGER api_credential_updated
AFTER UPDATE OF label, expires_at, scopes, allowed_ips, rate_limit, rate_limit_window_s ON api_credential
WHEN NEW.label IS NOT OLD.label OR NEW.expires_at IS NOT OLD.expires_at OR NEW.scopes IS NOT OLD.scopes
  OR NEW.allowed_ips IS NOT OLD.allowed_ips OR NEW.rate_limit IS NOT OLD.rate_limit
  OR NEW.rate_limit_window_s IS NOT OLD.rate_limit_window_s
BEGIN
    INSERT INTO credential_audit (api_key, action, actor, changes)
    SELECT NEW.api_key, 'update', coalesce(NEW.updated_by, 'db'), json_group_object(field, json(change))
      FROM (SELECT 'label' AS field, json_object('from', OLD.label, 'to', NEW.label) AS change
             WHERE NEW.label IS NOT OLD.label
            UNION ALL
            SELECT 'expires_at', json_object('from', strftime('%Y-%m-%dT%H:%M:%fZ', OLD.expires_at),
                                             'to', strftime('%Y-%m-%dT%H:%M:%fZ', NEW.expires_at))
             WHERE NEW.expires_at IS NOT OLD.expires_at
            UNION ALL
            SELECT 'scopes', json_object('from', CASE WHEN json_valid(OLD.scopes) THEN json(OLD.scopes) ELSE OLD.scopes END,
                                         'to', CASE WHEN json_valid(NEW.scopes) THEN json(NEW.scopes) ELSE NEW.scopes END)
             WHERE NEW.scopes IS NOT OLD.scopes
            UNION ALL
            SELECT 'allowed_ips',
                   json_object('from', CASE WHEN json_valid(OLD.allowed_ips) THEN json(OLD.allowed_ips) ELSE OLD.allowed_ips END,
                               'to', CASE WHEN json_valid(NEW.allowed_ips) THEN json(NEW.allowed_ips) ELSE NEW.allowed_ips END)
             WHERE NEW.allowed_ips IS NOT OLD.allowed_ips
            UNION ALL
            SELECT 'rate_limit',
                   json_object('from', CASE WHEN OLD.rate_limit IS NOT NULL
                                            THEN json_object('limit', OLD.rate_limit, 'window_s', OLD.rate_limit_window_s) END,
                               'to', CASE WHEN NEW.rate_limit IS NOT NULL
                                          THEN json_object('limit', NEW.rate_limit, 'window_s', NEW.rate_limit_window_s) END)
             WHERE NEW.rate_limit IS NOT OLD.rate_limit OR NEW.rate_limit_window_s IS NOT OLD.rate_limit_window_s);
END;
