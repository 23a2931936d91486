
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
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand vendor 'Vendor master key: create it, derive instance keys'
            cand generate 'Mint ak_/sk_ pairs for an instance with the vendor key'
            cand verify 'Check a pair offline against the vendor key (the secret comes from stdin, env or a prompt)'
            cand register 'Register a pair on the ledger (the secret comes from stdin, env or a prompt)'
            cand list 'List the ledger''s credentials (every page)'
            cand show 'Show one credential'
            cand revoke 'Revoke a credential through the API (asks first on a terminal; --yes otherwise)'
            cand rotate 'Replace the operator credential: register a new pair, prove it, save it, revoke the old one'
            cand whoami 'Show which credential the ledger sees (GET /whoami)'
            cand login 'Save a ledger URL and operator credential as a profile, after checking it with the ledger'
            cand logout 'Forget a saved profile and its secret'
            cand profiles 'List the saved profiles'
            cand db 'Work on the ledger''s SQLite database directly (while ledgerd is up or down)'
            cand completions 'Print shell completions'
        }
        &'etctl;vendor'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create the vendor master key: in the OS keyring when reachable, else a 0600 file'
            cand instance-key 'Print the instance key (hex) to provision on that ledger as LEDGERD_INSTANCE_KEY'
        }
        &'etctl;vendor;init'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --force 'Replace an existing vendor key (every pair minted with the old one stops verifying)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;vendor;instance-key'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;generate'= {
            cand --instance 'Instance the pairs are for'
            cand -n 'How many pairs'
            cand --count 'How many pairs'
            cand --format 'Output format'
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --json 'Same as --format json'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;verify'= {
            cand --instance 'Instance the pair should belong to'
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;register'= {
            cand --label 'A label to find the credential by later'
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --json 'Print the registered record as JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;list'= {
            cand --status 'Which credentials'
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --json 'A JSON array of credential records'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;show'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --json 'The credential record as JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;revoke'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -y 'Do not ask for confirmation (required without a terminal)'
            cand --yes 'Do not ask for confirmation (required without a terminal)'
            cand --json 'Print the API''s answer as JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;rotate'= {
            cand --new-key 'Rotate to this already-minted key (its secret comes from stdin, ETCTL_NEW_API_SECRET or a prompt)'
            cand --instance 'Mint the new pair for this instance with the vendor key'
            cand --label 'Label of the new credential [default: the old one''s]'
            cand --format 'Output format; `env` prints the new ETCTL_API_KEY/ETCTL_API_SECRET to eval'
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --json 'Same as --format json'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;whoami'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --json 'JSON output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;login'= {
            cand --api-key 'The operator ak_ key [default: ETCTL_API_KEY, else a prompt]; the secret comes from stdin, ETCTL_API_SECRET or a prompt'
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;logout'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;profiles'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --json 'JSON output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;db'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List credentials straight from the database'
            cand revoke 'Revoke a credential straight in the database (audited as `db`, with who and why)'
        }
        &'etctl;db;list'= {
            cand --db 'The ledger''s SQLite file; it must exist (nothing is ever created)'
            cand --status 'Which credentials'
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand --json 'A JSON array of credential records'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;db;revoke'= {
            cand --db 'The ledger''s SQLite file; it must exist (nothing is ever created)'
            cand --reason 'Why, for the audit trail (who did it is recorded as well)'
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -y 'Do not ask for confirmation (required without a terminal)'
            cand --yes 'Do not ask for confirmation (required without a terminal)'
            cand --dry-run 'Say what would be revoked, and change nothing'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'etctl;completions'= {
            cand --profile 'Use this saved profile (see `etctl login`); beats ETCTL_PROFILE and the ETCTL_* credential'
            cand --url 'Ledger URL; beats ETCTL_URL and the profile''s URL [default: http://127.0.0.1:8080]'
            cand --timeout 'Seconds to wait for each answer from the ledger'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
