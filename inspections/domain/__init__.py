"""Pure domain code (no ORM): unit-tested without a database."""
