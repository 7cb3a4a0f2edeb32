"""The LSP side: the pygls server, its features, JSON-RPC details, progress and arguments."""
