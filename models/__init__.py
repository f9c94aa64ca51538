"""Where answers come from: the model tiers behind the rules."""
