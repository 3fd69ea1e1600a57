"""Wire-level simulator of every device of a site; speaks through devices/<kind>/protocol.py in the device role."""
