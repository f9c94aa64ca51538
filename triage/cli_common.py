"""Exit codes shared by the command modules (CONTRACT.md)."""

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 78
