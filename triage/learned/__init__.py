"""The learned tier: a text classifier trained on the helpdesk's own history (`triage learn`)
that names the team, with a calibrated probability, between the rules and the local model."""
