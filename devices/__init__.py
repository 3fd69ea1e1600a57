"""Device adapters of the handling centre: transports, pure codecs and adapters. Never imports `controller`."""
