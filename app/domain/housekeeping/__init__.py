"""What the server does on its own: expire locks, repair orphaned bookings."""
