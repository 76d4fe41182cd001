"""The fork server ("zygote"): a warm interpreter that forks new workers.

Started by Node (lib/worker/launch/forkserver.ts) as
``python -u -m pypages_worker.forkserver --socket PATH [--preload MODULE]...``
(main.py); its channels are specified in lib/worker/launch/forkserver-protocol.md, and
control.py reads and writes them.
"""
