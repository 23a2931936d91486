# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_etctl_global_optspecs
    string join \n profile= url= timeout= h/help V/version
end

function __fish_etctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_etctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_etctl_using_subcommand
    set -l cmd (__fish_etctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c etctl -n "__fish_etctl_needs_command" -l profile -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_needs_command" -l url -r
complete -c etctl -n "__fish_etctl_needs_command" -l timeout -r
complete -c etctl -n "__fish_etctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etctl -n "__fish_etctl_needs_command" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "vendor" -d 'Vendor master key: create it, derive instance keys'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "generate" -d 'Mint ak_/sk_ pairs for an instance with the vendor key'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "verify" -d 'Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "register" -d 'Register a pair on the ledger (the secret comes from stdin, env or a prompt)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "update" -d 'Change a credential\'s label, scopes, addresses, expiry or rate limit (PATCH)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "list" -d 'List the ledger\'s credentials (every page)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "show" -d 'Show one credential (without API_KEY: the one etctl is using)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "revoke" -d 'Revoke a credential through the API (asks first on a terminal; --yes otherwise)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "rotate" -d 'Replace the operator credential: register a new pair, prove it, save it, revoke the old one'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "audit" -d 'Who registered, changed and revoked credentials, newest first (GET /audit)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "whoami" -d 'Show which credential the ledger sees (GET /whoami)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "status" -d 'Which ledger and credential etctl uses, where each came from, and whether the ledger answers'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "login" -d 'Save a ledger URL and operator credential as a profile, after checking it with the ledger'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "logout" -d 'Forget a saved profile and its secret'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "profiles" -d 'List the saved profiles, or choose the default one (`profiles use NAME`)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "db" -d 'Work on the ledger\'s SQLite database directly (while ledgerd is up or down)'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c etctl -n "__fish_etctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and not __fish_seen_subcommand_from init instance-key help" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and not __fish_seen_subcommand_from init instance-key help" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and not __fish_seen_subcommand_from init instance-key help" -f -a "init" -d 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and not __fish_seen_subcommand_from init instance-key help" -f -a "instance-key" -d 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and not __fish_seen_subcommand_from init instance-key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from init" -l force -d 'Replace an existing vendor key (every pair minted with the old one stops verifying)'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from instance-key" -s o -l output -d 'Write the key to this new file, mode 0600, instead of stdout (an existing file is left alone)' -r -F
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from instance-key" -l fingerprint -d 'Print only the key\'s fingerprint (first 8 hex of its SHA-256), as ledgerd logs it at start'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from instance-key" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from instance-key" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "instance-key" -d 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)'
complete -c etctl -n "__fish_etctl_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etctl -n "__fish_etctl_using_subcommand generate" -l instance -d 'Instance the pairs are for' -r
complete -c etctl -n "__fish_etctl_using_subcommand generate" -s n -l count -d 'How many pairs' -r
complete -c etctl -n "__fish_etctl_using_subcommand generate" -l format -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'A JSON array (generate) or object (rotate)'
env\t'Shell lines: `export ETCTL_API_KEY=...` (rotate, to eval), `ETCTL_API_KEY=... ETCTL_API_SECRET=...` (generate, one pair a line)'"
complete -c etctl -n "__fish_etctl_using_subcommand generate" -l json -d 'Same as --format json'
complete -c etctl -n "__fish_etctl_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etctl -n "__fish_etctl_using_subcommand generate" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand verify" -l instance -d 'Instance the pair should belong to' -r
complete -c etctl -n "__fish_etctl_using_subcommand verify" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand verify" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand register" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand register" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand register" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand register" -l label -d 'A label to find the credential by later' -r
complete -c etctl -n "__fish_etctl_using_subcommand register" -l scope -d 'Allow only this scope; repeat, or separate with commas [default at registration: all four]' -r -f -a "accounts:read\t'GET /accounts, GET /account/{id}'
accounts:write\t'POST /accounts'
credentials:read\t'GET /credentials, GET /credentials/{api_key}, GET /audit'
credentials:write\t'DELETE and PATCH /credentials/{api_key}'"
complete -c etctl -n "__fish_etctl_using_subcommand register" -l allow-ip -d 'Usable only from this address or CIDR block; repeat for more [default: anywhere]; `any` lifts the restriction' -r
complete -c etctl -n "__fish_etctl_using_subcommand register" -l expires-in -d 'Expire after this long from now: 90d, 12h, 30m, 45s' -r
complete -c etctl -n "__fish_etctl_using_subcommand register" -l expires-at -d 'Expire at this time, in RFC 3339: 2027-01-31T00:00:00Z, 2027-01-31T09:00:00+02:00' -r
complete -c etctl -n "__fish_etctl_using_subcommand register" -l rate-limit -d 'At most N requests per DURATION, per ledgerd process: 100/1m, 10/s, 5000/1h' -r
complete -c etctl -n "__fish_etctl_using_subcommand register" -l no-expiry -d 'Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)'
complete -c etctl -n "__fish_etctl_using_subcommand register" -l no-rate-limit -d 'No rate limit of its own'
complete -c etctl -n "__fish_etctl_using_subcommand register" -l json -d 'Print the registered record as JSON'
complete -c etctl -n "__fish_etctl_using_subcommand register" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etctl -n "__fish_etctl_using_subcommand register" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand update" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand update" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand update" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand update" -l label -d 'A new label (an empty one removes it)' -r
complete -c etctl -n "__fish_etctl_using_subcommand update" -l scope -d 'Allow only this scope; repeat, or separate with commas [default at registration: all four]' -r -f -a "accounts:read\t'GET /accounts, GET /account/{id}'
accounts:write\t'POST /accounts'
credentials:read\t'GET /credentials, GET /credentials/{api_key}, GET /audit'
credentials:write\t'DELETE and PATCH /credentials/{api_key}'"
complete -c etctl -n "__fish_etctl_using_subcommand update" -l allow-ip -d 'Usable only from this address or CIDR block; repeat for more [default: anywhere]; `any` lifts the restriction' -r
complete -c etctl -n "__fish_etctl_using_subcommand update" -l expires-in -d 'Expire after this long from now: 90d, 12h, 30m, 45s' -r
complete -c etctl -n "__fish_etctl_using_subcommand update" -l expires-at -d 'Expire at this time, in RFC 3339: 2027-01-31T00:00:00Z, 2027-01-31T09:00:00+02:00' -r
complete -c etctl -n "__fish_etctl_using_subcommand update" -l rate-limit -d 'At most N requests per DURATION, per ledgerd process: 100/1m, 10/s, 5000/1h' -r
complete -c etctl -n "__fish_etctl_using_subcommand update" -l no-expiry -d 'Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)'
complete -c etctl -n "__fish_etctl_using_subcommand update" -l no-rate-limit -d 'No rate limit of its own'
complete -c etctl -n "__fish_etctl_using_subcommand update" -l json -d 'Print the updated record as JSON'
complete -c etctl -n "__fish_etctl_using_subcommand update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etctl -n "__fish_etctl_using_subcommand update" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand list" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand list" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand list" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand list" -l status -d 'Which credentials' -r -f -a "active\t'Usable now: neither revoked nor expired'
expired\t'Past its expiry, not revoked'
revoked\t''
all\t''"
complete -c etctl -n "__fish_etctl_using_subcommand list" -l label -d 'Only credentials whose label matches this glob (`*` any run of characters, `?` one; exact otherwise)' -r
complete -c etctl -n "__fish_etctl_using_subcommand list" -l json -d 'A JSON array of credential records'
complete -c etctl -n "__fish_etctl_using_subcommand list" -s q -l quiet -d 'Only the keys, one per line (for xargs)'
complete -c etctl -n "__fish_etctl_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etctl -n "__fish_etctl_using_subcommand list" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand show" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand show" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand show" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand show" -l json -d 'The credential record as JSON'
complete -c etctl -n "__fish_etctl_using_subcommand show" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand show" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand revoke" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand revoke" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand revoke" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand revoke" -s y -l yes -d 'Do not ask for confirmation (required without a terminal)'
complete -c etctl -n "__fish_etctl_using_subcommand revoke" -l json -d 'Print the API\'s answer as JSON'
complete -c etctl -n "__fish_etctl_using_subcommand revoke" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand revoke" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l new-key -d 'Rotate to this already-minted key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)' -r
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l instance -d 'Mint the new pair for this instance with the vendor key [default: the instance the ledger reports]' -r
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l label -d 'Label of the new credential [default: the old one\'s]' -r
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l grace -d 'Let the old credential work this much longer (90s, 10m, 1h), then expire, instead of revoking it at once' -r
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l format -d 'Output format; `env` prints `export ETCTL_API_KEY=…` and `export ETCTL_API_SECRET=…` to eval' -r -f -a "table\t'Aligned columns for people'
json\t'A JSON array (generate) or object (rotate)'
env\t'Shell lines: `export ETCTL_API_KEY=...` (rotate, to eval), `ETCTL_API_KEY=... ETCTL_API_SECRET=...` (generate, one pair a line)'"
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -l json -d 'Same as --format json'
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etctl -n "__fish_etctl_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand audit" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand audit" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand audit" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand audit" -l limit -d 'Only the newest N events [default: all of them, every page]' -r
complete -c etctl -n "__fish_etctl_using_subcommand audit" -l json -d 'A JSON array of audit events, newest first'
complete -c etctl -n "__fish_etctl_using_subcommand audit" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand audit" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand whoami" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand whoami" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand whoami" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand whoami" -l json -d 'JSON output'
complete -c etctl -n "__fish_etctl_using_subcommand whoami" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand whoami" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand status" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand status" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand status" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand status" -l json -d 'JSON output'
complete -c etctl -n "__fish_etctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand login" -l profile -d 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand login" -l url -d 'Ledger URL; beats ETCTL_URL and the profile\'s URL [default: http://127.0.0.1:8080]' -r
complete -c etctl -n "__fish_etctl_using_subcommand login" -l timeout -d 'Seconds to wait for each answer from the ledger [default: 10]' -r
complete -c etctl -n "__fish_etctl_using_subcommand login" -l api-key -d 'The operator ak_ key [default: ETCTL_API_KEY, else a prompt]; the secret comes from stdin, ETCTL_API_SECRET or a prompt' -r
complete -c etctl -n "__fish_etctl_using_subcommand login" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand login" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand logout" -l profile -d 'The saved profile to act on [default: ETCTL_PROFILE, then `etctl profiles use`, then default]' -r -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand logout" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand logout" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and not __fish_seen_subcommand_from use help" -l json -d 'JSON output'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and not __fish_seen_subcommand_from use help" -s q -l quiet -d 'Only the profile names, one per line'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and not __fish_seen_subcommand_from use help" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and not __fish_seen_subcommand_from use help" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and not __fish_seen_subcommand_from use help" -f -a "use" -d 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and not __fish_seen_subcommand_from use help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and __fish_seen_subcommand_from use" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and __fish_seen_subcommand_from use" -f -a "(etctl profiles --quiet 2>/dev/null)"
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and __fish_seen_subcommand_from use" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and __fish_seen_subcommand_from help" -f -a "use" -d 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one'
complete -c etctl -n "__fish_etctl_using_subcommand profiles; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etctl -n "__fish_etctl_using_subcommand db; and not __fish_seen_subcommand_from list revoke audit help" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand db; and not __fish_seen_subcommand_from list revoke audit help" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand db; and not __fish_seen_subcommand_from list revoke audit help" -f -a "list" -d 'List credentials straight from the database'
complete -c etctl -n "__fish_etctl_using_subcommand db; and not __fish_seen_subcommand_from list revoke audit help" -f -a "revoke" -d 'Revoke a credential straight in the database (audited as `db`, with who and why)'
complete -c etctl -n "__fish_etctl_using_subcommand db; and not __fish_seen_subcommand_from list revoke audit help" -f -a "audit" -d 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)'
complete -c etctl -n "__fish_etctl_using_subcommand db; and not __fish_seen_subcommand_from list revoke audit help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from list" -l db -d 'The ledger\'s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)' -r -F
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from list" -l status -d 'Which credentials' -r -f -a "active\t'Usable now: neither revoked nor expired'
expired\t'Past its expiry, not revoked'
revoked\t''
all\t''"
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from list" -l label -d 'Only credentials whose label matches this glob (`*` any run of characters, `?` one; exact otherwise)' -r
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from list" -l json -d 'A JSON array of credential records'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only the keys, one per line (for xargs)'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from revoke" -l db -d 'The ledger\'s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)' -r -F
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from revoke" -l reason -d 'Why, for the audit trail (who did it is recorded as well)' -r
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Do not ask for confirmation (required without a terminal)'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from revoke" -l dry-run -d 'Say what would be revoked, and change nothing'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from audit" -l db -d 'The ledger\'s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)' -r -F
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from audit" -l limit -d 'Only the newest N events [default: all of them]' -r
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from audit" -l json -d 'A JSON array of audit events ({id, at, api_key, action, actor, reason, changes})'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from audit" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from audit" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "list" -d 'List credentials straight from the database'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a credential straight in the database (audited as `db`, with who and why)'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "audit" -d 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)'
complete -c etctl -n "__fish_etctl_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etctl -n "__fish_etctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c etctl -n "__fish_etctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "vendor" -d 'Vendor master key: create it, derive instance keys'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "generate" -d 'Mint ak_/sk_ pairs for an instance with the vendor key'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "verify" -d 'Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "register" -d 'Register a pair on the ledger (the secret comes from stdin, env or a prompt)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "update" -d 'Change a credential\'s label, scopes, addresses, expiry or rate limit (PATCH)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "list" -d 'List the ledger\'s credentials (every page)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "show" -d 'Show one credential (without API_KEY: the one etctl is using)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "revoke" -d 'Revoke a credential through the API (asks first on a terminal; --yes otherwise)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "rotate" -d 'Replace the operator credential: register a new pair, prove it, save it, revoke the old one'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "audit" -d 'Who registered, changed and revoked credentials, newest first (GET /audit)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "whoami" -d 'Show which credential the ledger sees (GET /whoami)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "status" -d 'Which ledger and credential etctl uses, where each came from, and whether the ledger answers'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "login" -d 'Save a ledger URL and operator credential as a profile, after checking it with the ledger'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "logout" -d 'Forget a saved profile and its secret'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "profiles" -d 'List the saved profiles, or choose the default one (`profiles use NAME`)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "db" -d 'Work on the ledger\'s SQLite database directly (while ledgerd is up or down)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "completions" -d 'Print shell completions'
complete -c etctl -n "__fish_etctl_using_subcommand help; and not __fish_seen_subcommand_from vendor generate verify register update list show revoke rotate audit whoami status login logout profiles db completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "init" -d 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file'
complete -c etctl -n "__fish_etctl_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "instance-key" -d 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and __fish_seen_subcommand_from profiles" -f -a "use" -d 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one'
complete -c etctl -n "__fish_etctl_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "list" -d 'List credentials straight from the database'
complete -c etctl -n "__fish_etctl_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "revoke" -d 'Revoke a credential straight in the database (audited as `db`, with who and why)'
complete -c etctl -n "__fish_etctl_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "audit" -d 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)'
