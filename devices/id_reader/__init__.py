"""Second-generation ID card reader (GA 467 SAM): frame codec, identity text decoding, adapter."""
