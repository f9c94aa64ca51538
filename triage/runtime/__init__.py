"""The daemon's runtime: its lifecycle, the scheduler, signals, systemd notification and
metrics."""
