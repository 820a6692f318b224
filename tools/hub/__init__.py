"""The Hugging Face Hub: the token and its hosts, a Space's runtime state, deploy."""
