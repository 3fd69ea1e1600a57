"""Station controller of a case-handling centre (执法办案管理中心)."""
