#compdef etctl

autoload -U is-at-least

_etctl() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--profile=[]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[]:URL:_default' \
'--timeout=[]:SECONDS:_default' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_etctl_commands" \
"*::: :->etctl" \
&& ret=0
    case $state in
    (etctl)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-command-$line[1]:"
        case $line[1] in
            (vendor)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_etctl__subcmd__vendor_commands" \
"*::: :->vendor" \
&& ret=0

    case $state in
    (vendor)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-vendor-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'--force[Replace an existing vendor key (every pair minted with the old one stops verifying)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(instance-key)
_arguments "${_arguments_options[@]}" : \
'(--fingerprint)-o+[Write the key to this new file, mode 0600, instead of stdout (an existing file is left alone)]:FILE:_files' \
'(--fingerprint)--output=[Write the key to this new file, mode 0600, instead of stdout (an existing file is left alone)]:FILE:_files' \
'--fingerprint[Print only the key'\''s fingerprint (first 8 hex of its SHA-256), as ledgerd logs it at start]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':instance -- Instance id\: 1-64 characters of a-z, 0-9 and -:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_etctl__subcmd__vendor__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-vendor-help-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(instance-key)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(generate)
_arguments "${_arguments_options[@]}" : \
'--instance=[Instance the pairs are for]:INSTANCE:_default' \
'-n+[How many pairs]:N:_default' \
'--count=[How many pairs]:N:_default' \
'--format=[Output format]:FORMAT:((table\:"Aligned columns for people"
json\:"A JSON array (generate) or object (rotate)"
env\:"Shell lines\: \`export ETCTL_API_KEY=...\` (rotate, to eval), \`ETCTL_API_KEY=... ETCTL_API_SECRET=...\` (generate, one pair a line)"))' \
'(--format)--json[Same as --format json]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
'--instance=[Instance the pair should belong to]:INSTANCE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':api_key -- The ak_ key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt):_default' \
&& ret=0
;;
(register)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'--label=[A label to find the credential by later]:LABEL:_default' \
'*--scope=[Allow only this scope; repeat, or separate with commas \[default at registration\: all four\]]:SCOPE:((accounts\:read\:"GET /accounts, GET /account/{id}"
accounts\:write\:"POST /accounts"
credentials\:read\:"GET /credentials, GET /credentials/{api_key}, GET /audit"
credentials\:write\:"DELETE and PATCH /credentials/{api_key}"))' \
'*--allow-ip=[Usable only from this address or CIDR block; repeat for more \[default\: anywhere\]; \`any\` lifts the restriction]:ADDRESS:_default' \
'(--expires-at --no-expiry)--expires-in=[Expire after this long from now\: 90d, 12h, 30m, 45s]:DURATION:_default' \
'(--no-expiry)--expires-at=[Expire at this time, in RFC 3339\: 2027-01-31T00\:00\:00Z, 2027-01-31T09\:00\:00+02\:00]:TIME:_default' \
'(--no-rate-limit)--rate-limit=[At most N requests per DURATION, per ledgerd process\: 100/1m, 10/s, 5000/1h]:N/DURATION:_default' \
'--no-expiry[Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)]' \
'--no-rate-limit[No rate limit of its own]' \
'--json[Print the registered record as JSON]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':api_key -- The ak_ key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt):_default' \
&& ret=0
;;
(update)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'--label=[A new label (an empty one removes it)]:LABEL:_default' \
'*--scope=[Allow only this scope; repeat, or separate with commas \[default at registration\: all four\]]:SCOPE:((accounts\:read\:"GET /accounts, GET /account/{id}"
accounts\:write\:"POST /accounts"
credentials\:read\:"GET /credentials, GET /credentials/{api_key}, GET /audit"
credentials\:write\:"DELETE and PATCH /credentials/{api_key}"))' \
'*--allow-ip=[Usable only from this address or CIDR block; repeat for more \[default\: anywhere\]; \`any\` lifts the restriction]:ADDRESS:_default' \
'(--expires-at --no-expiry)--expires-in=[Expire after this long from now\: 90d, 12h, 30m, 45s]:DURATION:_default' \
'(--no-expiry)--expires-at=[Expire at this time, in RFC 3339\: 2027-01-31T00\:00\:00Z, 2027-01-31T09\:00\:00+02\:00]:TIME:_default' \
'(--no-rate-limit)--rate-limit=[At most N requests per DURATION, per ledgerd process\: 100/1m, 10/s, 5000/1h]:N/DURATION:_default' \
'--no-expiry[Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)]' \
'--no-rate-limit[No rate limit of its own]' \
'--json[Print the updated record as JSON]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':api_key -- The ak_ key to change (scopes and addresses given replace the whole list):_default' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'--status=[Which credentials]:STATUS:((active\:"Usable now\: neither revoked nor expired"
expired\:"Past its expiry, not revoked"
revoked\:""
all\:""))' \
'--label=[Only credentials whose label matches this glob (\`*\` any run of characters, \`?\` one; exact otherwise)]:PATTERN:_default' \
'(-q --quiet)--json[A JSON array of credential records]' \
'-q[Only the keys, one per line (for xargs)]' \
'--quiet[Only the keys, one per line (for xargs)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'--json[The credential record as JSON]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'::api_key -- The ak_ key to show \[default\: the operator credential etctl is using\]:_default' \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'-y[Do not ask for confirmation (required without a terminal)]' \
'--yes[Do not ask for confirmation (required without a terminal)]' \
'--json[Print the API'\''s answer as JSON]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':api_key -- The ak_ key to revoke; revocation is permanent:_default' \
&& ret=0
;;
(rotate)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'(--instance)--new-key=[Rotate to this already-minted key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)]:API_KEY:_default' \
'--instance=[Mint the new pair for this instance with the vendor key \[default\: the instance the ledger reports\]]:INSTANCE:_default' \
'--label=[Label of the new credential \[default\: the old one'\''s\]]:LABEL:_default' \
'--grace=[Let the old credential work this much longer (90s, 10m, 1h), then expire, instead of revoking it at once]:DURATION:_default' \
'--format=[Output format; \`env\` prints \`export ETCTL_API_KEY=…\` and \`export ETCTL_API_SECRET=…\` to eval]:FORMAT:((table\:"Aligned columns for people"
json\:"A JSON array (generate) or object (rotate)"
env\:"Shell lines\: \`export ETCTL_API_KEY=...\` (rotate, to eval), \`ETCTL_API_KEY=... ETCTL_API_SECRET=...\` (generate, one pair a line)"))' \
'(--format)--json[Same as --format json]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(audit)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'--limit=[Only the newest N events \[default\: all of them, every page\]]:N:_default' \
'--json[A JSON array of audit events, newest first]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'::api_key -- Only the events of this ak_ key \[default\: every credential'\''s\]:_default' \
&& ret=0
;;
(whoami)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'--json[JSON output]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'--json[JSON output]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(login)
_arguments "${_arguments_options[@]}" : \
'--profile=[Use this saved profile (see \`etctl login\`, \`etctl profiles use\`); beats ETCTL_PROFILE and the ETCTL_* credential]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'--url=[Ledger URL; beats ETCTL_URL and the profile'\''s URL \[default\: http\://127.0.0.1\:8080\]]:URL:_default' \
'--timeout=[Seconds to wait for each answer from the ledger \[default\: 10\]]:SECONDS:_default' \
'--api-key=[The operator ak_ key \[default\: ETCTL_API_KEY, else a prompt\]; the secret comes from stdin, ETCTL_API_SECRET or a prompt]:API_KEY:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(logout)
_arguments "${_arguments_options[@]}" : \
'--profile=[The saved profile to act on \[default\: ETCTL_PROFILE, then \`etctl profiles use\`, then default\]]:NAME:{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(profiles)
_arguments "${_arguments_options[@]}" : \
'(-q --quiet)--json[JSON output]' \
'-q[Only the profile names, one per line]' \
'--quiet[Only the profile names, one per line]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_etctl__subcmd__profiles_commands" \
"*::: :->profiles" \
&& ret=0

    case $state in
    (profiles)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-profiles-command-$line[1]:"
        case $line[1] in
            (use)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':name -- A saved profile (see `etctl profiles`):{compadd -- ${(f)"$(etctl profiles --quiet 2>/dev/null)"}}' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_etctl__subcmd__profiles__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-profiles-help-command-$line[1]:"
        case $line[1] in
            (use)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(db)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_etctl__subcmd__db_commands" \
"*::: :->db" \
&& ret=0

    case $state in
    (db)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-db-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
'--db=[The ledger'\''s SQLite file, or its PostgreSQL URL (postgres\://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)]:PATH|URL:_files' \
'--status=[Which credentials]:STATUS:((active\:"Usable now\: neither revoked nor expired"
expired\:"Past its expiry, not revoked"
revoked\:""
all\:""))' \
'--label=[Only credentials whose label matches this glob (\`*\` any run of characters, \`?\` one; exact otherwise)]:PATTERN:_default' \
'(-q --quiet)--json[A JSON array of credential records]' \
'-q[Only the keys, one per line (for xargs)]' \
'--quiet[Only the keys, one per line (for xargs)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
'--db=[The ledger'\''s SQLite file, or its PostgreSQL URL (postgres\://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)]:PATH|URL:_files' \
'--reason=[Why, for the audit trail (who did it is recorded as well)]:REASON:_default' \
'-y[Do not ask for confirmation (required without a terminal)]' \
'--yes[Do not ask for confirmation (required without a terminal)]' \
'--dry-run[Say what would be revoked, and change nothing]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':api_key -- The ak_ key to revoke; revocation is permanent:_default' \
&& ret=0
;;
(audit)
_arguments "${_arguments_options[@]}" : \
'--db=[The ledger'\''s SQLite file, or its PostgreSQL URL (postgres\://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)]:PATH|URL:_files' \
'--limit=[Only the newest N events \[default\: all of them\]]:N:_default' \
'--json[A JSON array of audit events ({id, at, api_key, action, actor, reason, changes})]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'::api_key -- Only the events of this ak_ key:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_etctl__subcmd__db__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-db-help-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(audit)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':shell -- The shell to print the completion script of:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_etctl__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-help-command-$line[1]:"
        case $line[1] in
            (vendor)
_arguments "${_arguments_options[@]}" : \
":: :_etctl__subcmd__help__subcmd__vendor_commands" \
"*::: :->vendor" \
&& ret=0

    case $state in
    (vendor)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-help-vendor-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(instance-key)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(generate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(verify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(register)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(update)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rotate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(audit)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(whoami)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(login)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(logout)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(profiles)
_arguments "${_arguments_options[@]}" : \
":: :_etctl__subcmd__help__subcmd__profiles_commands" \
"*::: :->profiles" \
&& ret=0

    case $state in
    (profiles)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-help-profiles-command-$line[1]:"
        case $line[1] in
            (use)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(db)
_arguments "${_arguments_options[@]}" : \
":: :_etctl__subcmd__help__subcmd__db_commands" \
"*::: :->db" \
&& ret=0

    case $state in
    (db)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:etctl-help-db-command-$line[1]:"
        case $line[1] in
            (list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(revoke)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(audit)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_etctl_commands] )) ||
_etctl_commands() {
    local commands; commands=(
'vendor:Vendor master key\: create it, derive instance keys' \
'generate:Mint ak_/sk_ pairs for an instance with the vendor key' \
'verify:Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)' \
'register:Register a pair on the ledger (the secret comes from stdin, env or a prompt)' \
'update:Change a credential'\''s label, scopes, addresses, expiry or rate limit (PATCH)' \
'list:List the ledger'\''s credentials (every page)' \
'show:Show one credential (without API_KEY\: the one etctl is using)' \
'revoke:Revoke a credential through the API (asks first on a terminal; --yes otherwise)' \
'rotate:Replace the operator credential\: register a new pair, prove it, save it, revoke the old one' \
'audit:Who registered, changed and revoked credentials, newest first (GET /audit)' \
'whoami:Show which credential the ledger sees (GET /whoami)' \
'status:Which ledger and credential etctl uses, where each came from, and whether the ledger answers' \
'login:Save a ledger URL and operator credential as a profile, after checking it with the ledger' \
'logout:Forget a saved profile and its secret' \
'profiles:List the saved profiles, or choose the default one (\`profiles use NAME\`)' \
'db:Work on the ledger'\''s SQLite database directly (while ledgerd is up or down)' \
'completions:Print shell completions' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'etctl commands' commands "$@"
}
(( $+functions[_etctl__subcmd__audit_commands] )) ||
_etctl__subcmd__audit_commands() {
    local commands; commands=()
    _describe -t commands 'etctl audit commands' commands "$@"
}
(( $+functions[_etctl__subcmd__completions_commands] )) ||
_etctl__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'etctl completions commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db_commands] )) ||
_etctl__subcmd__db_commands() {
    local commands; commands=(
'list:List credentials straight from the database' \
'revoke:Revoke a credential straight in the database (audited as \`db\`, with who and why)' \
'audit:Show the audit trail straight from the database, newest first\: every registration, change and revocation, with who made it (an ak_ key, \`api\`, or \`db\` for SQL by hand)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'etctl db commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db__subcmd__audit_commands] )) ||
_etctl__subcmd__db__subcmd__audit_commands() {
    local commands; commands=()
    _describe -t commands 'etctl db audit commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db__subcmd__help_commands] )) ||
_etctl__subcmd__db__subcmd__help_commands() {
    local commands; commands=(
'list:List credentials straight from the database' \
'revoke:Revoke a credential straight in the database (audited as \`db\`, with who and why)' \
'audit:Show the audit trail straight from the database, newest first\: every registration, change and revocation, with who made it (an ak_ key, \`api\`, or \`db\` for SQL by hand)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'etctl db help commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db__subcmd__help__subcmd__audit_commands] )) ||
_etctl__subcmd__db__subcmd__help__subcmd__audit_commands() {
    local commands; commands=()
    _describe -t commands 'etctl db help audit commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db__subcmd__help__subcmd__help_commands] )) ||
_etctl__subcmd__db__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'etctl db help help commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db__subcmd__help__subcmd__list_commands] )) ||
_etctl__subcmd__db__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'etctl db help list commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db__subcmd__help__subcmd__revoke_commands] )) ||
_etctl__subcmd__db__subcmd__help__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'etctl db help revoke commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db__subcmd__list_commands] )) ||
_etctl__subcmd__db__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'etctl db list commands' commands "$@"
}
(( $+functions[_etctl__subcmd__db__subcmd__revoke_commands] )) ||
_etctl__subcmd__db__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'etctl db revoke commands' commands "$@"
}
(( $+functions[_etctl__subcmd__generate_commands] )) ||
_etctl__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'etctl generate commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help_commands] )) ||
_etctl__subcmd__help_commands() {
    local commands; commands=(
'vendor:Vendor master key\: create it, derive instance keys' \
'generate:Mint ak_/sk_ pairs for an instance with the vendor key' \
'verify:Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)' \
'register:Register a pair on the ledger (the secret comes from stdin, env or a prompt)' \
'update:Change a credential'\''s label, scopes, addresses, expiry or rate limit (PATCH)' \
'list:List the ledger'\''s credentials (every page)' \
'show:Show one credential (without API_KEY\: the one etctl is using)' \
'revoke:Revoke a credential through the API (asks first on a terminal; --yes otherwise)' \
'rotate:Replace the operator credential\: register a new pair, prove it, save it, revoke the old one' \
'audit:Who registered, changed and revoked credentials, newest first (GET /audit)' \
'whoami:Show which credential the ledger sees (GET /whoami)' \
'status:Which ledger and credential etctl uses, where each came from, and whether the ledger answers' \
'login:Save a ledger URL and operator credential as a profile, after checking it with the ledger' \
'logout:Forget a saved profile and its secret' \
'profiles:List the saved profiles, or choose the default one (\`profiles use NAME\`)' \
'db:Work on the ledger'\''s SQLite database directly (while ledgerd is up or down)' \
'completions:Print shell completions' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'etctl help commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__audit_commands] )) ||
_etctl__subcmd__help__subcmd__audit_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help audit commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__completions_commands] )) ||
_etctl__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help completions commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__db_commands] )) ||
_etctl__subcmd__help__subcmd__db_commands() {
    local commands; commands=(
'list:List credentials straight from the database' \
'revoke:Revoke a credential straight in the database (audited as \`db\`, with who and why)' \
'audit:Show the audit trail straight from the database, newest first\: every registration, change and revocation, with who made it (an ak_ key, \`api\`, or \`db\` for SQL by hand)' \
    )
    _describe -t commands 'etctl help db commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__db__subcmd__audit_commands] )) ||
_etctl__subcmd__help__subcmd__db__subcmd__audit_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help db audit commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__db__subcmd__list_commands] )) ||
_etctl__subcmd__help__subcmd__db__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help db list commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__db__subcmd__revoke_commands] )) ||
_etctl__subcmd__help__subcmd__db__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help db revoke commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__generate_commands] )) ||
_etctl__subcmd__help__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help generate commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__help_commands] )) ||
_etctl__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help help commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__list_commands] )) ||
_etctl__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help list commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__login_commands] )) ||
_etctl__subcmd__help__subcmd__login_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help login commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__logout_commands] )) ||
_etctl__subcmd__help__subcmd__logout_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help logout commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__profiles_commands] )) ||
_etctl__subcmd__help__subcmd__profiles_commands() {
    local commands; commands=(
'use:Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one' \
    )
    _describe -t commands 'etctl help profiles commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__profiles__subcmd__use_commands] )) ||
_etctl__subcmd__help__subcmd__profiles__subcmd__use_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help profiles use commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__register_commands] )) ||
_etctl__subcmd__help__subcmd__register_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help register commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__revoke_commands] )) ||
_etctl__subcmd__help__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help revoke commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__rotate_commands] )) ||
_etctl__subcmd__help__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help rotate commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__show_commands] )) ||
_etctl__subcmd__help__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help show commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__status_commands] )) ||
_etctl__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help status commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__update_commands] )) ||
_etctl__subcmd__help__subcmd__update_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help update commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__vendor_commands] )) ||
_etctl__subcmd__help__subcmd__vendor_commands() {
    local commands; commands=(
'init:Create the vendor master key\: in the OS keyring when reachable, else a 0600 file' \
'instance-key:Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)' \
    )
    _describe -t commands 'etctl help vendor commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__vendor__subcmd__init_commands] )) ||
_etctl__subcmd__help__subcmd__vendor__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help vendor init commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__vendor__subcmd__instance-key_commands] )) ||
_etctl__subcmd__help__subcmd__vendor__subcmd__instance-key_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help vendor instance-key commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__verify_commands] )) ||
_etctl__subcmd__help__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help verify commands' commands "$@"
}
(( $+functions[_etctl__subcmd__help__subcmd__whoami_commands] )) ||
_etctl__subcmd__help__subcmd__whoami_commands() {
    local commands; commands=()
    _describe -t commands 'etctl help whoami commands' commands "$@"
}
(( $+functions[_etctl__subcmd__list_commands] )) ||
_etctl__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'etctl list commands' commands "$@"
}
(( $+functions[_etctl__subcmd__login_commands] )) ||
_etctl__subcmd__login_commands() {
    local commands; commands=()
    _describe -t commands 'etctl login commands' commands "$@"
}
(( $+functions[_etctl__subcmd__logout_commands] )) ||
_etctl__subcmd__logout_commands() {
    local commands; commands=()
    _describe -t commands 'etctl logout commands' commands "$@"
}
(( $+functions[_etctl__subcmd__profiles_commands] )) ||
_etctl__subcmd__profiles_commands() {
    local commands; commands=(
'use:Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'etctl profiles commands' commands "$@"
}
(( $+functions[_etctl__subcmd__profiles__subcmd__help_commands] )) ||
_etctl__subcmd__profiles__subcmd__help_commands() {
    local commands; commands=(
'use:Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'etctl profiles help commands' commands "$@"
}
(( $+functions[_etctl__subcmd__profiles__subcmd__help__subcmd__help_commands] )) ||
_etctl__subcmd__profiles__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'etctl profiles help help commands' commands "$@"
}
(( $+functions[_etctl__subcmd__profiles__subcmd__help__subcmd__use_commands] )) ||
_etctl__subcmd__profiles__subcmd__help__subcmd__use_commands() {
    local commands; commands=()
    _describe -t commands 'etctl profiles help use commands' commands "$@"
}
(( $+functions[_etctl__subcmd__profiles__subcmd__use_commands] )) ||
_etctl__subcmd__profiles__subcmd__use_commands() {
    local commands; commands=()
    _describe -t commands 'etctl profiles use commands' commands "$@"
}
(( $+functions[_etctl__subcmd__register_commands] )) ||
_etctl__subcmd__register_commands() {
    local commands; commands=()
    _describe -t commands 'etctl register commands' commands "$@"
}
(( $+functions[_etctl__subcmd__revoke_commands] )) ||
_etctl__subcmd__revoke_commands() {
    local commands; commands=()
    _describe -t commands 'etctl revoke commands' commands "$@"
}
(( $+functions[_etctl__subcmd__rotate_commands] )) ||
_etctl__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'etctl rotate commands' commands "$@"
}
(( $+functions[_etctl__subcmd__show_commands] )) ||
_etctl__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'etctl show commands' commands "$@"
}
(( $+functions[_etctl__subcmd__status_commands] )) ||
_etctl__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'etctl status commands' commands "$@"
}
(( $+functions[_etctl__subcmd__update_commands] )) ||
_etctl__subcmd__update_commands() {
    local commands; commands=()
    _describe -t commands 'etctl update commands' commands "$@"
}
(( $+functions[_etctl__subcmd__vendor_commands] )) ||
_etctl__subcmd__vendor_commands() {
    local commands; commands=(
'init:Create the vendor master key\: in the OS keyring when reachable, else a 0600 file' \
'instance-key:Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'etctl vendor commands' commands "$@"
}
(( $+functions[_etctl__subcmd__vendor__subcmd__help_commands] )) ||
_etctl__subcmd__vendor__subcmd__help_commands() {
    local commands; commands=(
'init:Create the vendor master key\: in the OS keyring when reachable, else a 0600 file' \
'instance-key:Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'etctl vendor help commands' commands "$@"
}
(( $+functions[_etctl__subcmd__vendor__subcmd__help__subcmd__help_commands] )) ||
_etctl__subcmd__vendor__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'etctl vendor help help commands' commands "$@"
}
(( $+functions[_etctl__subcmd__vendor__subcmd__help__subcmd__init_commands] )) ||
_etctl__subcmd__vendor__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'etctl vendor help init commands' commands "$@"
}
(( $+functions[_etctl__subcmd__vendor__subcmd__help__subcmd__instance-key_commands] )) ||
_etctl__subcmd__vendor__subcmd__help__subcmd__instance-key_commands() {
    local commands; commands=()
    _describe -t commands 'etctl vendor help instance-key commands' commands "$@"
}
(( $+functions[_etctl__subcmd__vendor__subcmd__init_commands] )) ||
_etctl__subcmd__vendor__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'etctl vendor init commands' commands "$@"
}
(( $+functions[_etctl__subcmd__vendor__subcmd__instance-key_commands] )) ||
_etctl__subcmd__vendor__subcmd__instance-key_commands() {
    local commands; commands=()
    _describe -t commands 'etctl vendor instance-key commands' commands "$@"
}
(( $+functions[_etctl__subcmd__verify_commands] )) ||
_etctl__subcmd__verify_commands() {
    local commands; commands=()
    _describe -t commands 'etctl verify commands' commands "$@"
}
(( $+functions[_etctl__subcmd__whoami_commands] )) ||
_etctl__subcmd__whoami_commands() {
    local commands; commands=()
    _describe -t commands 'etctl whoami commands' commands "$@"
}

if [ "$funcstack[1]" = "_etctl" ]; then
    _etctl "$@"
else
    compdef _etctl etctl
fi
