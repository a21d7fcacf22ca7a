"""GraphQL types and inputs of working hours, slots made by hand, and their changes."""
