"""Business logic as plain functions: the actor is passed in; they flush, never commit."""
