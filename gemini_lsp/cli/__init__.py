"""The command line: generate into a file without an editor."""
