"""Where tickets come from. Each connector reads inputs, hands them to the pipeline, and
acknowledges an input only after its result is committed."""
