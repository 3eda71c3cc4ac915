"""Settings, escalation policy, working-day calendar and the one clock."""
