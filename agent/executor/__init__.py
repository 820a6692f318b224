"""What agent-written code may do, and where it runs."""
