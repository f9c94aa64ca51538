"""The command line: one module per command, each with `register`; `main` lists them and
maps errors to exit codes."""
