"""Background jobs (outbox delivery, queue runner, live poller, audit checkpoints) on one loop."""
