"""GraphQL types and inputs of locks, appointments, emergencies and their events."""
