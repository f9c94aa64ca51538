"""The settings: one `Settings` (pydantic-settings) with a model per TOML table, and
`defaults.toml`, the built-in defaults (the repository's `config.toml` is that file)."""
