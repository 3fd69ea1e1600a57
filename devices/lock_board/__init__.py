"""Lock-control boards of the locker banks: Kerong-style RS-485 codec and bus adapter."""
