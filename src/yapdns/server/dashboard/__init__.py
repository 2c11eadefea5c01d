"""The analysts' web dashboard: login, search, domain/IP pages, pivot graph, overview and management."""
