"""ThreadPool: offer() runs a job now or not at all."""

import threading
import time
import unittest

from pypages_worker.pool import ThreadPool

TIMEOUT = 5.0


class PoolTests(unittest.TestCase):
    def test_offer_runs_now_or_not_at_all(self):
        pool = ThreadPool(1)
        release, ran = threading.Event(), threading.Event()
        self.assertTrue(pool.offer(release.wait, TIMEOUT))  # starts the one thread
        self.assertFalse(pool.offer(ran.set))  # it is busy: nothing is queued
        release.set()
        deadline = time.monotonic() + TIMEOUT
        while not pool.offer(ran.set):  # idle again soon
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.001)
        self.assertTrue(ran.wait(TIMEOUT))


if __name__ == "__main__":
    unittest.main()
