"""Background work in the database: the queue, the worker, what to enqueue, and when."""
