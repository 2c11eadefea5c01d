"""The data model and normalization contract shared by the agent and the server."""
