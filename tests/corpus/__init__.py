"""Bad-input corpus generators and a scriptable stdlib fake Space (tests only)."""
