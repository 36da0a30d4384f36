"""saltext-venvaudit: venvaudit's Salt execution module and state (see docs/salt.md)."""
