"""The audit log: every change to slots, appointments, schedules, doctors, specialties and
user roles, with its actor, request id and the changed fields before and after."""
