"""The fork server ("zygote"): a warm interpreter that forks new workers.

Started by Node (lib/forkserver.ts) as
``python -u -m pypages_worker.forkserver --socket PATH [--preload MODULE]...``.
"""
