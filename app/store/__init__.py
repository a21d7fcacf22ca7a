"""The MongoDB store: the embedded default and the connection every process makes."""
