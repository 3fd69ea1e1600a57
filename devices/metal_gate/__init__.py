"""Walk-through metal detector gate: ASCII line codec and adapter."""
