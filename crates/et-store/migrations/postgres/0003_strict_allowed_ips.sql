-- PostgreSQL migration 3: allowed_ips as strict as on SQLite (SQLite migration 3) and as ledgerd
-- reads them. PostgreSQL's inet also takes an IPv4 part with a leading zero (010.0.0.1, which some
-- read as octal) and a shortened network (10/8): ledgerd cannot read those, so such an entry let
-- in nobody, silently. Each IPv4 address, alone or as the end of an IPv6 one, is now four decimal
-- numbers 0..255 without leading zeros, with a prefix length 0..32 without one.

CREATE FUNCTION api_credential_allowed_ips_are_strict() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    octet constant text := '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
    ipv4 constant text := octet || '(\.' || octet || '){3}';
    j jsonb := ledger_json(NEW.allowed_ips);
BEGIN
    -- Anything else wrong with the value is api_credential_policy_is_valid's to say.
    IF j IS NOT NULL AND jsonb_typeof(j) = 'array' AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(j) e, LATERAL (SELECT e #>> '{}' AS v) a
         WHERE jsonb_typeof(e) = 'string'
           AND CASE WHEN position(':' IN a.v) = 0 THEN a.v !~ ('^' || ipv4 || '(/(3[0-2]|[12]?[0-9]))?$')
                    WHEN position('.' IN a.v) > 0 THEN substring(a.v FROM '([^:/]*)(/[0-9]*)?$') !~ ('^' || ipv4 || '$')
                    ELSE false END) THEN
        RAISE EXCEPTION 'allowed_ips must be a JSON array of IPv4/IPv6 addresses or CIDRs (like ''["127.0.0.2/32","10.0.0.0/8","::1/128"]''; ''[]'' means anywhere); an IPv4 address is four numbers 0..255 without leading zeros';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER api_credential_allowed_ips_are_strict BEFORE INSERT OR UPDATE OF allowed_ips ON api_credential
    FOR EACH ROW EXECUTE FUNCTION api_credential_allowed_ips_are_strict();
