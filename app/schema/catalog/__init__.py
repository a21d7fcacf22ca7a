"""GraphQL types and inputs of what patients browse: specialties, doctors, their slots."""
