"""Persistence: SQLModel tables, the unit of work, the audit hash chain and the outbox, written in one transaction."""
