"""The device bridge: device I/O, presence and rule 8 in a process of their own, off the API's event loop.

- ``messages``: what crosses (pydantic models with a version field); ``wire``: the topics; ``codec``: device
  events as messages;
- ``server`` (``python -m controller.bridge``): the bridge process -- the registry, the presence tracker, rule 8,
  and a journal (``journal``) so a command runs at most once across its restarts;
- ``client``: the controller's end (commands with results, events, availability, the adapters' stand-ins);
- ``supervisor``: the controller starts the bridge and restarts it when it dies.

The transport is the site's own Mosquitto broker (see README, "Processes"): already running and supervised on
every site, persistent sessions and QoS 1 give delivery across either side's restart for free, and the ACL and
credentials of ``devices credentials`` already cover it. No RPC framework: a command is one message and its result
another, correlated by request id.
"""
