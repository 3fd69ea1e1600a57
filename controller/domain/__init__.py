"""Pure rules of the custody record: the stay's state machine, legal clocks, separation, alarms. No I/O."""
