"""The front desk's patients: phones, search keys, the search itself and walk-in registration."""
