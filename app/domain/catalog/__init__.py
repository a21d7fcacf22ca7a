"""What patients browse: specialties and doctors."""
