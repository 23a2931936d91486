
use builtin;
use str;

set edit:completion:arg-completer[etctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'etctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'etctl'= {
            cand --profile 'profile'
            cand --url 'url'
            cand --timeout 'timeout'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand vendor 'Vendor master key: create it, derive instance keys'
            cand generate 'Mint ak_/sk_ pairs for an instance with the vendor key'
            cand verify 'Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)'
            cand register 'Register a pair on the ledger (the secret comes from stdin, env or a prompt)'
            cand update 'Change a credential''s label, scopes, addresses, expiry or rate limit (PATCH)'
            cand list 'List the ledger''s credentials (every page)'
            cand show 'Show one credential (without API_KEY: the one etctl is using)'
            cand revoke 'Revoke a credential through the API (asks first on a terminal; --yes otherwise)'
            cand rotate 'Replace the operator credential: register a new pair, prove it, save it, revoke the old one'
            cand audit 'Who registered, changed and revoked credentials, newest first (GET /audit)'
            cand whoami 'Show which credential the ledger sees (GET /whoami)'
            cand status 'Which ledger and credential etctl uses, where each came from, and whether the ledger answers'
            cand login 'Save a ledger URL and operator credential as a profile, after checking it with the ledger'
            cand logout 'Forget a saved profile and its secret'
            cand profiles 'List the saved profiles, or choose the default one (`profiles use NAME`)'
            cand db 'Work on the ledger''s SQLite database directly (while ledgerd is up or down)'
            cand completions 'Print shell completions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'etctl;vendor'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file'
            cand instance-key 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'etctl;vendor;init'= {
            cand --force 'Replace an existing vendor key (every pair minted with the old one stops verifying)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;vendor;instance-key'= {
            cand -o 'Write the key to this new file, mode 0600, instead of stdout (an existing file is left alone)'
            cand --output 'Write the key to this new file, mode 0600, instead of stdout (an existing file is left alone)'
            cand --fingerprint 'Print only the key''s fingerprint (first 8 hex of its SHA-256), as ledgerd logs it at start'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;vendor;help'= {
            cand init 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file'
            cand instance-key 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'etctl;vendor;help;init'= {
        }
        &'etctl;vendor;help;instance-key'= {
        }
        &'etctl;vendor;help;help'= {
        }
        &'etctl;generate'= {
            cand --instance 'Instance the pairs are for'
            cand -n 'How many pairs'
            cand --count 'How many pairs'
            cand --format 'Output format'
            cand --json 'Same as --format json'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;verify'= {
            cand --instance 'Instance the pair should belong to'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;register'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --label 'A label to find the credential by later'
            cand --scope 'Allow only this scope; repeat, or separate with commas [default at registration: all four]'
            cand --allow-ip 'Usable only from this address or CIDR block; repeat for more [default: anywhere]; `any` lifts the restriction'
            cand --expires-in 'Expire after this long from now: 90d, 12h, 30m, 45s'
            cand --expires-at 'Expire at this time, in RFC 3339: 2027-01-31T00:00:00Z, 2027-01-31T09:00:00+02:00'
            cand --rate-limit 'At most N requests per DURATION, per ledgerd process: 100/1m, 10/s, 5000/1h'
            cand --no-expiry 'Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)'
            cand --no-rate-limit 'No rate limit of its own'
            cand --json 'Print the registered record as JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;update'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --label 'A new label (an empty one removes it)'
            cand --scope 'Allow only this scope; repeat, or separate with commas [default at registration: all four]'
            cand --allow-ip 'Usable only from this address or CIDR block; repeat for more [default: anywhere]; `any` lifts the restriction'
            cand --expires-in 'Expire after this long from now: 90d, 12h, 30m, 45s'
            cand --expires-at 'Expire at this time, in RFC 3339: 2027-01-31T00:00:00Z, 2027-01-31T09:00:00+02:00'
            cand --rate-limit 'At most N requests per DURATION, per ledgerd process: 100/1m, 10/s, 5000/1h'
            cand --no-expiry 'Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)'
            cand --no-rate-limit 'No rate limit of its own'
            cand --json 'Print the updated record as JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;list'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --status 'Which credentials'
            cand --label 'Only credentials whose label matches this glob (`*` any run of characters, `?` one; exact otherwise)'
            cand --json 'A JSON array of credential records'
            cand -q 'Only the keys, one per line (for xargs)'
            cand --quiet 'Only the keys, one per line (for xargs)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;show'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --json 'The credential record as JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;revoke'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand -y 'Do not ask for confirmation (required without a terminal)'
            cand --yes 'Do not ask for confirmation (required without a terminal)'
            cand --json 'Print the API''s answer as JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;rotate'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --new-key 'Rotate to this already-minted key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)'
            cand --instance 'Mint the new pair for this instance with the vendor key [default: the instance the ledger reports]'
            cand --label 'Label of the new credential [default: the old one''s]'
            cand --grace 'Let the old credential work this much longer (90s, 10m, 1h), then expire, instead of revoking it at once'
            cand --format 'Output format; `env` prints `export ETCTL_API_KEY=…` and `export ETCTL_API_SECRET=…` to eval'
            cand --json 'Same as --format json'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;audit'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --limit 'Only the newest N events [default: all of them, every page]'
            cand --json 'A JSON array of audit events, newest first'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;whoami'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --json 'JSON output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;status'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --json 'JSON output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;login'= {
            cand --profile 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger [default: 10]'
            cand --api-key 'The operator ak_ key [default: ETCTL_API_KEY, else a prompt]; the secret comes from stdin, ETCTL_API_SECRET or a prompt'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;logout'= {
            cand --profile 'The saved profile to act on [default: ETCTL_PROFILE, then `etctl profiles use`, then default]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;profiles'= {
            cand --json 'JSON output'
            cand -q 'Only the profile names, one per line'
            cand --quiet 'Only the profile names, one per line'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand use 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'etctl;profiles;use'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;profiles;help'= {
            cand use 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'etctl;profiles;help;use'= {
        }
        &'etctl;profiles;help;help'= {
        }
        &'etctl;db'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List credentials straight from the database'
            cand revoke 'Revoke a credential straight in the database (audited as `db`, with who and why)'
            cand audit 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'etctl;db;list'= {
            cand --db 'The ledger''s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)'
            cand --status 'Which credentials'
            cand --label 'Only credentials whose label matches this glob (`*` any run of characters, `?` one; exact otherwise)'
            cand --json 'A JSON array of credential records'
            cand -q 'Only the keys, one per line (for xargs)'
            cand --quiet 'Only the keys, one per line (for xargs)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;db;revoke'= {
            cand --db 'The ledger''s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)'
            cand --reason 'Why, for the audit trail (who did it is recorded as well)'
            cand -y 'Do not ask for confirmation (required without a terminal)'
            cand --yes 'Do not ask for confirmation (required without a terminal)'
            cand --dry-run 'Say what would be revoked, and change nothing'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;db;audit'= {
            cand --db 'The ledger''s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)'
            cand --limit 'Only the newest N events [default: all of them]'
            cand --json 'A JSON array of audit events ({id, at, api_key, action, actor, reason, changes})'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;db;help'= {
            cand list 'List credentials straight from the database'
            cand revoke 'Revoke a credential straight in the database (audited as `db`, with who and why)'
            cand audit 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'etctl;db;help;list'= {
        }
        &'etctl;db;help;revoke'= {
        }
        &'etctl;db;help;audit'= {
        }
        &'etctl;db;help;help'= {
        }
        &'etctl;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;help'= {
            cand vendor 'Vendor master key: create it, derive instance keys'
            cand generate 'Mint ak_/sk_ pairs for an instance with the vendor key'
            cand verify 'Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)'
            cand register 'Register a pair on the ledger (the secret comes from stdin, env or a prompt)'
            cand update 'Change a credential''s label, scopes, addresses, expiry or rate limit (PATCH)'
            cand list 'List the ledger''s credentials (every page)'
            cand show 'Show one credential (without API_KEY: the one etctl is using)'
            cand revoke 'Revoke a credential through the API (asks first on a terminal; --yes otherwise)'
            cand rotate 'Replace the operator credential: register a new pair, prove it, save it, revoke the old one'
            cand audit 'Who registered, changed and revoked credentials, newest first (GET /audit)'
            cand whoami 'Show which credential the ledger sees (GET /whoami)'
            cand status 'Which ledger and credential etctl uses, where each came from, and whether the ledger answers'
            cand login 'Save a ledger URL and operator credential as a profile, after checking it with the ledger'
            cand logout 'Forget a saved profile and its secret'
            cand profiles 'List the saved profiles, or choose the default one (`profiles use NAME`)'
            cand db 'Work on the ledger''s SQLite database directly (while ledgerd is up or down)'
            cand completions 'Print shell completions'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'etctl;help;vendor'= {
            cand init 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file'
            cand instance-key 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)'
        }
        &'etctl;help;vendor;init'= {
        }
        &'etctl;help;vendor;instance-key'= {
        }
        &'etctl;help;generate'= {
        }
        &'etctl;help;verify'= {
        }
        &'etctl;help;register'= {
        }
        &'etctl;help;update'= {
        }
        &'etctl;help;list'= {
        }
        &'etctl;help;show'= {
        }
        &'etctl;help;revoke'= {
        }
        &'etctl;help;rotate'= {
        }
        &'etctl;help;audit'= {
        }
        &'etctl;help;whoami'= {
        }
        &'etctl;help;status'= {
        }
        &'etctl;help;login'= {
        }
        &'etctl;help;logout'= {
        }
        &'etctl;help;profiles'= {
            cand use 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one'
        }
        &'etctl;help;profiles;use'= {
        }
        &'etctl;help;db'= {
            cand list 'List credentials straight from the database'
            cand revoke 'Revoke a credential straight in the database (audited as `db`, with who and why)'
            cand audit 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)'
        }
        &'etctl;help;db;list'= {
        }
        &'etctl;help;db;revoke'= {
        }
        &'etctl;help;db;audit'= {
        }
        &'etctl;help;completions'= {
        }
        &'etctl;help;help'= {
        }
    ]
    $completions[$command]
}
