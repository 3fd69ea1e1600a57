"""REST and WebSocket API under /api/v1: routes, the one error shape, auth dependencies."""
