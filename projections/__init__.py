"""Read models: pure "event in, rows out" code, checkpointed and rebuildable."""
