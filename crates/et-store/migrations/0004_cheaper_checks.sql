-- Migration 4: the same rules as migrations 2 and 3, checked more cheaply on every registration.
-- A registration runs these BEFORE INSERT triggers inside the group commit; two of them cost more
-- than the insert itself (callgrind, per registration):
-- - `value NOT IN (four names)` made SQLite build a temporary B-tree for the list (a list of more
--   than two constants is searched through an ephemeral index, built anew for each statement);
--   CASE compares the names one by one.
-- - `api_secret_hash GLOB '*[^0-9a-f]*'` tried the class at every starting position; one class per
--   character, anchored at both ends, reads the text once (and requires the 64 characters).
-- Nothing accepted or refused changes (tests: crates/et-store/tests/store.rs, tests/e2e/hand_sql.rs).

DROP TRIGGER api_credential_hash_is_hex;
CREATE TRIGGER api_credential_hash_is_hex BEFORE INSERT ON api_credential
WHEN typeof(NEW.api_secret_hash) IS NOT 'text'
  OR NOT NEW.api_secret_hash GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
BEGIN
    SELECT RAISE(ABORT, 'api_secret_hash must be the SHA-256 of the secret as 64 lowercase hex digits');
END;
DROP TRIGGER api_credential_scopes_are_known;
CREATE TRIGGER api_credential_scopes_are_known BEFORE INSERT ON api_credential
WHEN CASE WHEN typeof(NEW.scopes) IS NOT 'text' OR NOT json_valid(NEW.scopes) THEN 1
          WHEN json_type(NEW.scopes) IS NOT 'array' THEN 1
          ELSE EXISTS (SELECT 1 FROM json_each(NEW.scopes)
                        WHERE type IS NOT 'text'
                           OR CASE value WHEN 'accounts:read' THEN 0 WHEN 'accounts:write' THEN 0 WHEN 'credentials:read' THEN 0 WHEN 'credentials:write' THEN 0 ELSE 1 END)
     END
BEGIN
    SELECT RAISE(ABORT, 'scopes must be a JSON array of scope names: accounts:read, accounts:write, credentials:read, credentials:write (like ''["accounts:read"]'')');
END;
DROP TRIGGER api_credential_scopes_stay_known;
CREATE TRIGGER api_credential_scopes_stay_known BEFORE UPDATE OF scopes ON api_credential
WHEN CASE WHEN typeof(NEW.scopes) IS NOT 'text' OR NOT json_valid(NEW.scopes) THEN 1
          WHEN json_type(NEW.scopes) IS NOT 'array' THEN 1
          ELSE EXISTS (SELECT 1 FROM json_each(NEW.scopes)
                        WHERE type IS NOT 'text'
                           OR CASE value WHEN 'accounts:read' THEN 0 WHEN 'accounts:write' THEN 0 WHEN 'credentials:read' THEN 0 WHEN 'credentials:write' THEN 0 ELSE 1 END)
     END
BEGIN
    SELECT RAISE(ABORT, 'scopes must be a JSON array of scope names: accounts:read, accounts:write, credentials:read, credentials:write (like ''["accounts:read"]'')');
END;
