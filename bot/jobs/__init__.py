"""Background jobs: loops the app lifespan starts and cancels."""
