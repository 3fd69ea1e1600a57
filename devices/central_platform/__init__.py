"""The link to the central platform (中心/省级管控平台): its signed-batch wire protocol, shared by both ends."""
