"""Use cases: each takes a session and `now`, decides with the domain rules, and commits."""
