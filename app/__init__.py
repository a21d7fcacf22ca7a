"""AayuLink Booking: a GraphQL API for healthcare appointment booking."""
