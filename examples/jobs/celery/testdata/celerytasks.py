# The Celery app and tasks of the test; the broker is REDIS_URL's.
import os, time

from celery import Celery

app = Celery("celerytasks", broker=os.environ["REDIS_URL"])


@app.task
def block():  # runs until its worker is stopped
    time.sleep(120)


@app.task
def noop():
    pass
