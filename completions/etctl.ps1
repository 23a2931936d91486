
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
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('vendor', 'vendor', [CompletionResultType]::ParameterValue, 'Vendor master key: create it, derive instance keys')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Mint ak_/sk_ pairs for an instance with the vendor key')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register a pair on the ledger (the secret comes from stdin, env or a prompt)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the ledger''s credentials (every page)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one credential')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a credential through the API (asks first on a terminal; --yes otherwise)')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace the operator credential: register a new pair, prove it, save it, revoke the old one')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show which credential the ledger sees (GET /whoami)')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Save a ledger URL and operator credential as a profile, after checking it with the ledger')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Forget a saved profile and its secret')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the saved profiles')
            [CompletionResult]::new('db', 'db', [CompletionResultType]::ParameterValue, 'Work on the ledger''s SQLite database directly (while ledgerd is up or down)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            break
        }
        'etctl;vendor' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file')
            [CompletionResult]::new('instance-key', 'instance-key', [CompletionResultType]::ParameterValue, 'Print the instance key (hex) to provision on that ledger as LEDGERD_INSTANCE_KEY')
            break
        }
        'etctl;vendor;init' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing vendor key (every pair minted with the old one stops verifying)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;vendor;instance-key' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;generate' {
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'Instance the pairs are for')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many pairs')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'How many pairs')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --format json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;verify' {
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'Instance the pair should belong to')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;register' {
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'A label to find the credential by later')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the registered record as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Which credentials')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'A JSON array of credential records')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The credential record as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;revoke' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
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
            [CompletionResult]::new('--new-key', '--new-key', [CompletionResultType]::ParameterName, 'Rotate to this already-minted key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)')
            [CompletionResult]::new('--instance', '--instance', [CompletionResultType]::ParameterName, 'Mint the new pair for this instance with the vendor key')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'Label of the new credential [default: the old one''s]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; `env` prints the new ETCTL_API_KEY/ETCTL_API_SECRET to eval')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Same as --format json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;whoami' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;login' {
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The operator ak_ key [default: ETCTL_API_KEY, else a prompt]; the secret comes from stdin, ETCTL_API_SECRET or a prompt')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;logout' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;profiles' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;db' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List credentials straight from the database')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a credential straight in the database (audited as `db`, with who and why)')
            break
        }
        'etctl;db;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The ledger''s SQLite file; it must exist (nothing is ever created)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Which credentials')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'A JSON array of credential records')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;db;revoke' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The ledger''s SQLite file; it must exist (nothing is ever created)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, for the audit trail (who did it is recorded as well)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be revoked, and change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'etctl;completions' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for each answer from the ledger')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
