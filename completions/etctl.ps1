
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'etctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'etctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'etctl' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'profile')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'url')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('vendor', 'vendor', [CompletionResultType]::ParameterValue, 'Vendor master key: create it, derive instance keys')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Mint ak_/sk_ pairs for an instance with the vendor key')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register a pair on the ledger (the secret comes from stdin, env or a prompt)')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a credential''s label, scopes, addresses, expiry or rate limit (PATCH)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the ledger''s credentials (every page)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one credential (without API_KEY: the one etctl is using)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a credential through the API (asks first on a terminal; --yes otherwise)')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace the operator credential: register a new pair, prove it, save it, revoke the old one')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Who registered, changed and revoked credentials, newest first (GET /audit)')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show which credential the ledger sees (GET /whoami)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Which ledger and credential etctl uses, where each came from, and whether the ledger answers')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Save a ledger URL and operator credential as a profile, after checking it with the ledger')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget a saved profile and its secret')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the saved profiles, or choose the default one (`profiles use NAME`)')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Work on the ledger''s SQLite database directly (while ledgerd is up or down)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'etctl;vendor' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file')
            [CompletionResult]::new('instance-key', 'instance-key', [CompletionResultType]::ParameterValue, 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'etctl;vendor;init' {
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing vendor key (every pair minted with the old one stops verifying)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;vendor;instance-key' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the key to this new file, mode 0600, instead of stdout (an existing file is left alone)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the key to this new file, mode 0600, instead of stdout (an existing file is left alone)')
            [CompletionResult]::new('--fingerprint', '--fingerprint', [CompletionResultType]::ParameterName, 'Print only the key''s fingerprint (first 8 hex of its SHA-256), as ledgerd logs it at start')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;vendor;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file')
            [CompletionResult]::new('instance-key', 'instance-key', [CompletionResultType]::ParameterValue, 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'etctl;vendor;help;init' {
            break
        }
        'etctl;vendor;help;instance-key' {
            break
        }
        'etctl;vendor;help;help' {
            break
        }
        'etctl;generate' {
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'Instance the pairs are for')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many pairs')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'How many pairs')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --format json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;verify' {
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'Instance the pair should belong to')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;register' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'A label to find the credential by later')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Allow only this scope; repeat, or separate with commas [default at registration: all four]')
            [CompletionResult]::new('--allow-ip', '--allow-ip', [CompletionResultType]::ParameterName, 'Usable only from this address or CIDR block; repeat for more [default: anywhere]; `any` lifts the restriction')
            [CompletionResult]::new('--expires-in', '--expires-in', [CompletionResultType]::ParameterName, 'Expire after this long from now: 90d, 12h, 30m, 45s')
            [CompletionResult]::new('--expires-at', '--expires-at', [CompletionResultType]::ParameterName, 'Expire at this time, in RFC 3339: 2027-01-31T00:00:00Z, 2027-01-31T09:00:00+02:00')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'At most N requests per DURATION, per ledgerd process: 100/1m, 10/s, 5000/1h')
            [CompletionResult]::new('--no-expiry', '--no-expiry', [CompletionResultType]::ParameterName, 'Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)')
            [CompletionResult]::new('--no-rate-limit', '--no-rate-limit', [CompletionResultType]::ParameterName, 'No rate limit of its own')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the registered record as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;update' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'A new label (an empty one removes it)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Allow only this scope; repeat, or separate with commas [default at registration: all four]')
            [CompletionResult]::new('--allow-ip', '--allow-ip', [CompletionResultType]::ParameterName, 'Usable only from this address or CIDR block; repeat for more [default: anywhere]; `any` lifts the restriction')
            [CompletionResult]::new('--expires-in', '--expires-in', [CompletionResultType]::ParameterName, 'Expire after this long from now: 90d, 12h, 30m, 45s')
            [CompletionResult]::new('--expires-at', '--expires-at', [CompletionResultType]::ParameterName, 'Expire at this time, in RFC 3339: 2027-01-31T00:00:00Z, 2027-01-31T09:00:00+02:00')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'At most N requests per DURATION, per ledgerd process: 100/1m, 10/s, 5000/1h')
            [CompletionResult]::new('--no-expiry', '--no-expiry', [CompletionResultType]::ParameterName, 'Never expire (the ledger may still impose its LEDGERD_MAX_CREDENTIAL_LIFETIME at registration)')
            [CompletionResult]::new('--no-rate-limit', '--no-rate-limit', [CompletionResultType]::ParameterName, 'No rate limit of its own')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the updated record as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Which credentials')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'Only credentials whose label matches this glob (`*` any run of characters, `?` one; exact otherwise)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'A JSON array of credential records')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only the keys, one per line (for xargs)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only the keys, one per line (for xargs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The credential record as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;revoke' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the API''s answer as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;rotate' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--new-key', '--new-key', [CompletionResultType]::ParameterName, 'Rotate to this already-minted key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'Mint the new pair for this instance with the vendor key [default: the instance the ledger reports]')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'Label of the new credential [default: the old one''s]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Let the old credential work this much longer (90s, 10m, 1h), then expire, instead of revoking it at once')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; `env` prints `export ETCTL_API_KEY=…` and `export ETCTL_API_SECRET=…` to eval')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --format json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;audit' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only the newest N events [default: all of them, every page]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'A JSON array of audit events, newest first')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;whoami' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;status' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;login' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`, `etctl profiles use`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger [default: 10]')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The operator ak_ key [default: ETCTL_API_KEY, else a prompt]; the secret comes from stdin, ETCTL_API_SECRET or a prompt')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;logout' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The saved profile to act on [default: ETCTL_PROFILE, then `etctl profiles use`, then default]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;profiles' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only the profile names, one per line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only the profile names, one per line')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'etctl;profiles;use' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;profiles;help' {
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'etctl;profiles;help;use' {
            break
        }
        'etctl;profiles;help;help' {
            break
        }
        'etctl;db' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List credentials straight from the database')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a credential straight in the database (audited as `db`, with who and why)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'etctl;db;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The ledger''s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Which credentials')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'Only credentials whose label matches this glob (`*` any run of characters, `?` one; exact otherwise)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'A JSON array of credential records')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only the keys, one per line (for xargs)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only the keys, one per line (for xargs)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;db;revoke' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The ledger''s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, for the audit trail (who did it is recorded as well)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be revoked, and change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;db;audit' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The ledger''s SQLite file, or its PostgreSQL URL (postgres://user@host/ledger, as LEDGERD_DB); it must hold a ledger already (nothing is ever created)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only the newest N events [default: all of them]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'A JSON array of audit events ({id, at, api_key, action, actor, reason, changes})')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;db;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List credentials straight from the database')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a credential straight in the database (audited as `db`, with who and why)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'etctl;db;help;list' {
            break
        }
        'etctl;db;help;revoke' {
            break
        }
        'etctl;db;help;audit' {
            break
        }
        'etctl;db;help;help' {
            break
        }
        'etctl;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;help' {
            [CompletionResult]::new('vendor', 'vendor', [CompletionResultType]::ParameterValue, 'Vendor master key: create it, derive instance keys')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Mint ak_/sk_ pairs for an instance with the vendor key')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register a pair on the ledger (the secret comes from stdin, env or a prompt)')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a credential''s label, scopes, addresses, expiry or rate limit (PATCH)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the ledger''s credentials (every page)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one credential (without API_KEY: the one etctl is using)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a credential through the API (asks first on a terminal; --yes otherwise)')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace the operator credential: register a new pair, prove it, save it, revoke the old one')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Who registered, changed and revoked credentials, newest first (GET /audit)')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show which credential the ledger sees (GET /whoami)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Which ledger and credential etctl uses, where each came from, and whether the ledger answers')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Save a ledger URL and operator credential as a profile, after checking it with the ledger')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget a saved profile and its secret')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the saved profiles, or choose the default one (`profiles use NAME`)')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Work on the ledger''s SQLite database directly (while ledgerd is up or down)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'etctl;help;vendor' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file')
            [CompletionResult]::new('instance-key', 'instance-key', [CompletionResultType]::ParameterValue, 'Print the instance key (hex) to provision on that ledger (--output FILE writes it 0600)')
            break
        }
        'etctl;help;vendor;init' {
            break
        }
        'etctl;help;vendor;instance-key' {
            break
        }
        'etctl;help;generate' {
            break
        }
        'etctl;help;verify' {
            break
        }
        'etctl;help;register' {
            break
        }
        'etctl;help;update' {
            break
        }
        'etctl;help;list' {
            break
        }
        'etctl;help;show' {
            break
        }
        'etctl;help;revoke' {
            break
        }
        'etctl;help;rotate' {
            break
        }
        'etctl;help;audit' {
            break
        }
        'etctl;help;whoami' {
            break
        }
        'etctl;help;status' {
            break
        }
        'etctl;help;login' {
            break
        }
        'etctl;help;logout' {
            break
        }
        'etctl;help;profiles' {
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make NAME the profile used when neither --profile nor ETCTL_PROFILE names one')
            break
        }
        'etctl;help;profiles;use' {
            break
        }
        'etctl;help;db' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List credentials straight from the database')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a credential straight in the database (audited as `db`, with who and why)')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show the audit trail straight from the database, newest first: every registration, change and revocation, with who made it (an ak_ key, `api`, or `db` for SQL by hand)')
            break
        }
        'etctl;help;db;list' {
            break
        }
        'etctl;help;db;revoke' {
            break
        }
        'etctl;help;db;audit' {
            break
        }
        'etctl;help;completions' {
            break
        }
        'etctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
