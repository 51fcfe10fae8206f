"""Callbacks that tests of several folders train with."""

from skorch.callbacks import Callback

__all__ = ["InterruptAt"]


class InterruptAt(Callback):
    """Raises KeyboardInterrupt (what Ctrl-C raises) at a batch of an epoch."""

    def __init__(self, epoch, batch=2):
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, net, training=False, **kwargs):
        batches = len(net.history[-1]["batches"])
        if training and len(net.history) == self.epoch and batches == self.batch:
            raise KeyboardInterrupt
