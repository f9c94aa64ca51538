"""The composition root: the only place that builds concrete connectors, model tiers, the
store and delivery, and wires them together."""
