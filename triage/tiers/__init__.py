"""What happens after the rules: the model tiers, walked as the router decides (walk.py), with
the answer cache, the local, Runpod and paid calls, their shared budget and breaker, and the
one merge policy for every model answer."""

from triage.tiers.walk import Tiers

__all__ = ["Tiers"]
