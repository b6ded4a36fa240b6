"""The scheduler process: it says when to look; what is due lives in the database."""
