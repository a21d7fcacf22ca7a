"""A doctor's recurring hours, the dates that differ, and the slots generated from them."""
