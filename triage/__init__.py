"""triage: an IT-helpdesk ticket-triage daemon. Rules first, a local model second, rented GPUs
for big batches, a paid model only where it pays off."""

__version__ = "0.1.0"
