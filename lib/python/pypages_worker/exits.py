"""The exit codes of the worker and of the fork server, and what each means.

Node reads them: lib/worker/launch/fork-launcher.ts does not restart a fork server that
exited with USAGE or THREADS, as a new start would only fail the same way.
"""

OK = 0  # fd 3 ended (Node closed it): the normal end, of a worker and of the fork server alike
PROTOCOL = 1  # a worker met a frame it cannot read, lost its pipes, or its frame reader failed
USAGE = 2  # bad command line (as argparse exits), or fds 3 and 4 are not open: not started by pypages
THREADS = 4  # the fork server: a shared-preload module started a thread, so forking is not safe
LINGERED = 5  # a worker still running LIFELINE_SECONDS after fd 3 hung up (lifeline.py ended it)
CHILD_SETUP = 71  # sysexits' EX_OSERR: a forked worker could not connect to Node or take on its cwd and env;
# or a worker or fork server started as a user could not enter its folder (main.enter_folder)
