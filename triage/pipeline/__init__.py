"""The pipeline: one ticket's stages, in order (listed in triage.pipeline.stages), from the raw
input a connector hands over to the committed and published result."""

from triage.pipeline.handler import Pipeline

__all__ = ["Pipeline"]
