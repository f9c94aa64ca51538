"""The exceptions triage raises, grouped by what the caller should do about them.

TriageError
├── ConfigError        fatal: the configuration is wrong; exit 78, say which key
├── InputError         this input cannot be triaged; quarantine it with the reason
│   └── ParseError
└── StoreError         the result could not be committed; do not acknowledge, retry later
"""


class TriageError(Exception):
    """Base of every error triage raises on purpose."""


class ConfigError(TriageError):
    """The configuration is unusable. The message names the key and what to fix."""


class InputError(TriageError):
    """One input cannot be triaged. The message is the quarantine reason."""


class ParseError(InputError):
    """The input's bytes could not be read as any supported ticket format."""


class StoreError(TriageError):
    """The store could not commit (disk full, locked, corrupt): the input stays unacknowledged."""
