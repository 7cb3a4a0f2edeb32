"""LSP features, one module each, each with `setup(server)`."""
