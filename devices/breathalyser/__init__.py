"""Breath alcohol tester on a serial line: ASCII line codec and adapter."""
