"""The command line: parse, build settings, call one function, print errors once."""
