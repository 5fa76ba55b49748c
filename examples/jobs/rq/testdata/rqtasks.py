# The jobs of the test, imported by the rq worker.
import time


def block():  # runs until its worker is stopped
    time.sleep(170)


def noop():
    pass
