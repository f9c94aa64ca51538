"""Every exception triage raises on purpose, grouped by what the caller should do about it.
The command line maps them to exit codes in one place (triage.cli.main.EXIT_CODES).

TriageError
├── ConfigError            fatal: the configuration is wrong; exit 78, say which key
│   ├── PriceMissing       a model without a configured price: never booked at $0
│   └── UnfitModelError    the local model file is the wrong kind of model (also a LocalModelError)
├── InputError             this input cannot be triaged: quarantine it with the reason
│   ├── ParseError         its bytes are no supported ticket format
│   └── ReplayError        it cannot be replayed: the message says what to do
├── StoreError             the result could not be committed: do not acknowledge, retry later
│   ├── StoreReplaced      the store file was deleted or replaced under the daemon
│   └── StoreLocked        another daemon runs on this store (exit 1)
│       └── NodeNameTaken  another live daemon of the fleet runs under this node name
├── BackendUnavailable     a model or model file cannot be used: fall through to the rules
│   ├── LocalModelError    the configured GGUF cannot be loaded or run
│   └── ModelFileError     the learned tier's model file is missing, broken or mismatched
├── AccountError           a connector's account cannot be used: stop that connector, alert
│   ├── ImapAuthError      the server refused the credentials
│   └── ImapSetupError     the account cannot be used as configured (a token command fails)
└── DeliveryError          a delivery attempt failed: permanent ones quarantined, others retried
"""


class TriageError(Exception):
    """Base of every error triage raises on purpose."""


class ConfigError(TriageError):
    """The configuration is unusable. The message names the key and what to fix."""


class PriceMissing(ConfigError):
    """A model without a configured price is refused, never booked at $0."""


class InputError(TriageError):
    """One input cannot be triaged. The message is the quarantine reason."""


class ParseError(InputError):
    """The input's bytes could not be read as any supported ticket format."""


class ReplayError(InputError):
    """An input that cannot be replayed, with what to do about it."""


class StoreError(TriageError):
    """The store could not commit (disk full, locked, corrupt): the input stays unacknowledged."""


class StoreReplaced(StoreError):
    """The store file was deleted or replaced under a running process: writing on would go
    into a file nobody will ever read again."""


class StoreLocked(StoreError):
    """Another daemon runs on this store."""


class NodeNameTaken(StoreLocked):
    """Another live daemon of the fleet runs under this `[store] node` name."""


class BackendUnavailable(TriageError):
    """A model tier or model file cannot be used; the ticket falls through to the rules."""


class LocalModelError(BackendUnavailable):
    """The configured model cannot be used. The message names the file."""


class UnfitModelError(LocalModelError, ConfigError):
    """The file loads but is the wrong kind of model for the configuration (no chat template,
    an answer bound that does not fit): a configuration error, exit 78."""


class ModelFileError(BackendUnavailable):
    """The model file cannot be used: missing, not a model, or not matching its card."""


class AccountError(TriageError):
    """A connector's account cannot be used: retrying soon will not help; the admin must act."""


class ImapAuthError(AccountError):
    """The server refused the credentials."""


class ImapSetupError(AccountError):
    """The account cannot be used as configured (e.g. the token command fails)."""


class DeliveryError(TriageError):
    """A delivery attempt failed: `permanent` ones are quarantined, the rest retried.
    `misconfigured`: the destination is set up wrong (a webhook URL that redirects): its
    deliveries are kept and tried again at the longest wait, until a person fixes it."""

    def __init__(self, reason: str, *, permanent: bool, misconfigured: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.misconfigured = misconfigured
