"""Local, stateful simulators of the three provider APIs (like stripe-mock for Stripe)."""
