"""The warm-kernel parent: imports the heavy libraries once and forks a fresh kernel per notebook.

This file runs inside the grading sandbox (``python -c SOURCE``; the repository is not
visible there), so it uses the standard library only. It is started under bubblewrap,
exactly as a kernel would be, and forks one kernel per request. The zygote never runs
student code, holds no secret, and starts one kernel at a time.

For each request it forks a *holder* that cuts the new kernel off from everything the
zygote and earlier notebooks could share with it:

- new user, mount, PID, network, IPC and UTS namespaces (``unshare``);
- fresh size-capped tmpfs over the working folder, ``/tmp`` and ``/dev/shm``, so nothing an
  earlier notebook wrote exists, and over the zygote's own folder (its socket, the other
  workers' socket folders), of which only the kernel's own socket folder is bound again;
  every other mount is inherited read-only and locked;
- the holder forks an init process (PID 1 of the new PID namespace, a reaper) and the
  init forks the kernel: when the grader kills that init, the kernel and every process it
  started die with it, and none can leave the namespace;
- no capabilities, no way to gain them again (bounding set emptied, securebits locked),
  no file descriptor of the zygote; the zygote and the holder are not dumpable, so the
  kernel cannot read or write their memory through ``/proc``.

The kernel starts from the zygote's memory image (copy-on-write): ``import tensorflow``
is a dictionary lookup, not three seconds of CPU. Nothing in the zygote has built a layer,
made a tensor or seeded a generator, so Keras's name counters, TensorFlow's eager context
and the random states start in the kernel as they do in a cold one.

One zygote can serve several grading workers: it listens on a Unix socket (the first
argument) in the folder bound into its sandbox, and each worker connects once and sends
its requests there, one notebook at a time. The kernels cannot reach that socket: the
folder is hidden under a fresh tmpfs in their namespace. When a worker's connection ends
(the worker exited or died), the zygote kills the kernels it started for that worker, so
no kernel outlives the process that grades it. The zygote ends when its owner closes its
stdin.

Protocol (JSON lines): the zygote prints ``{"ready": seconds, "threads": n}`` on stdout
after its imports; each request on a connection, ``{"argv": ipykernel's arguments, "env",
"cwd", "tmpfs": [[path, bytes], ...], "keep": [path, ...]}``, is answered there with
``{"init_pid": pid, "ready": seconds}`` (the init's PID in the zygote's PID namespace, and
how long the imports took) or ``{"error": text}``. A zygote that has more than one thread
after its imports is not safe to fork and answers every request with an error.
"""

import ctypes
import json
import os
import select
import signal
import socket
import struct
import sys
import time

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 1, 4, 24, 28
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
SECURE_ALL_LOCKED = 0x3F  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED and their locks
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
SIOCSIFFLAGS, IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x8914, 0x1, 0x8, 0x40
LAST_CAP = 63

libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def prctl(option, arg=0):
    return libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def isolate(tmpfs, keep):
    """In the holder: new namespaces, fresh tmpfs, mount changes kept to this namespace.

    ``keep`` are folders the fresh tmpfs must not hide (the socket folder and the Python the
    kernel runs on, where they lie under ``/tmp``): they are bound again on top, as they are
    in the cold sandbox.
    """
    uid, gid = os.geteuid(), os.getegid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS),
           "unshare")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    held = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in keep]  # before tmpfs hides them
    for path, size in tmpfs:
        os.makedirs(path, exist_ok=True)  # a folder an earlier tmpfs hid (the zygote's folder under /tmp)
        options = f"size={int(size)},mode=1777".encode()
        _check(libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options), f"tmpfs on {path}")
    for path, fd in held:
        if not any(path == t or path.startswith(t.rstrip("/") + "/") for t, _ in tmpfs):
            continue
        os.makedirs(path, exist_ok=True)
        _check(libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None),
               f"bind {path}")
    for _, fd in held:
        os.close(fd)
    _loopback_up()


def _loopback_up():
    """A new network namespace has its loopback down; the cold sandbox's is up."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        import fcntl

        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING))


def drop_privileges():
    """No capability now, none after an exec either (bounding set empty, root not special)."""
    for cap in range(LAST_CAP + 1):
        prctl(PR_CAPBSET_DROP, cap)  # fails past the kernel's last capability: harmless
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _check(prctl(PR_SET_SECUREBITS, SECURE_ALL_LOCKED), "securebits")
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    _check(libc.capset(ctypes.byref(Header(0x20080522, 0)), ctypes.byref((Data * 2)())), "capset")


def close_inherited_fds(keep=()):
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def fill_traceback_caches():
    """Fill, once, the caches every kernel would otherwise fill at its first traceback (0.2 s of CPU).

    Each graded notebook shows at least one traceback: its canary cells fail on purpose.
    IPython's traceback asks ``inspect.getmodule`` for the frame's module, whose first call
    resolves the file of every loaded module (3,000 with TensorFlow), and highlights the
    code with Pygments' Python lexer, whose first use compiles its regular expressions.
    Both caches hold only what the imports made, the same for every notebook, and no
    thread is started. Best effort: a library that changed its ways costs time, nothing else.
    """
    try:
        import inspect

        inspect.getmodule(None, "<zygote>")  # fills inspect's file-to-module maps for every loaded module
        from pygments.lexers import get_lexer_by_name

        get_lexer_by_name("python3")  # compiles the lexer's patterns into the re module's cache
    except Exception:
        pass


def reseed():
    """Random states were made at import in the zygote; a cold kernel would have fresh ones."""
    import random

    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def size_blas_threads():
    """NumPy's OpenBLAS was loaded single-threaded in the zygote (its thread pool would not survive a
    fork); give it the thread count a cold kernel would have read from its environment."""
    wanted = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    if not wanted or not wanted.isdigit():
        return
    with open("/proc/self/maps") as maps:
        libraries = {line.split()[-1] for line in maps if "openblas" in line.lower() and line.rstrip().endswith(".so")}
    for path in libraries:
        library = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads"):
            if hasattr(library, name):
                getattr(library, name)(int(wanted))
                break


def run_kernel(request):
    """In the kernel process: the environment of a cold kernel, then ipykernel's own start."""
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    prctl(PR_SET_DUMPABLE, 1)  # the grader reads its memory use, as for a cold kernel
    reseed()
    size_blas_threads()
    sys.argv = ["ipykernel_launcher", *request["argv"]]  # as a cold kernel's command line has them
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def init(request):
    """PID 1 of the notebook's namespace: start the kernel, reap orphans, end with the kernel."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    kernel = os.fork()
    if kernel == 0:
        try:
            run_kernel(request)
        finally:
            os._exit(1)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        if pid == kernel:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def holder(request, report_fd):
    """Between the zygote and the notebook: isolates, then waits for the notebook's init."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDWR)
    # the zygote's stdin and stdout are its channel to the grader; ZYGOTE_DEBUG (a maintainer's
    # switch, never set by the grader) keeps the kernel's stderr to see why one fails to start
    for fd in ((0, 1) if os.environ.get("ZYGOTE_DEBUG") else (0, 1, 2)):
        os.dup2(null, fd)
    close_inherited_fds(keep=(report_fd,))
    try:
        isolate(request["tmpfs"], request.get("keep", []))
        drop_privileges()
        pid = os.fork()
    except OSError as error:
        os.write(report_fd, json.dumps({"error": str(error)}).encode())
        os._exit(1)
    if pid == 0:
        os.close(report_fd)
        try:
            init(request)
        finally:
            os._exit(1)
    os.write(report_fd, json.dumps({"init_pid": pid}).encode())
    os.close(report_fd)
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


class Client:
    """One grading worker's connection: the bytes of its next request, and the kernels it owns."""

    def __init__(self, connection):
        self.connection, self.buffer, self.holders = connection, b"", set()

    def end(self):
        """The worker is gone: so are its kernels (killing a holder kills its namespace's init)."""
        for pid in self.holders:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.connection.close()


def serve(owner, listener, ready):
    clients = {}
    while True:
        readable, _, _ = select.select([owner, listener, *clients], [], [], 1.0)
        _reap(clients.values())
        for source in readable:
            if source is owner:
                if not os.read(owner, 4096):  # the owner closed our stdin, or died
                    return
            elif source is listener:
                connection, _ = listener.accept()
                clients[connection] = Client(connection)
            else:
                _receive(clients, clients[source], ready)


def _receive(clients, client, ready):
    try:
        data = client.connection.recv(65536)
    except OSError:
        data = b""
    if not data:
        clients.pop(client.connection).end()
        return
    client.buffer += data
    while b"\n" in client.buffer:
        line, client.buffer = client.buffer.split(b"\n", 1)
        if ready["threads"] != 1:  # a fork copies one thread; locks held by the others would never be freed
            reply = {"error": f"the warm parent has {ready['threads']} threads after its imports, so forking it "
                              "is not safe"}
        else:
            reply = start(json.loads(line))
        holder = reply.pop("holder", None)
        if holder is not None:
            client.holders.add(holder)
        try:
            client.connection.sendall((json.dumps(dict(reply, ready=ready["ready"])) + "\n").encode())
        except OSError:
            clients.pop(client.connection).end()
            return


def start(request):
    ours, theirs = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ours)
        try:
            holder(request, theirs)
        finally:
            os._exit(1)
    os.close(theirs)
    with os.fdopen(ours, "rb") as report:
        data = report.read()
    try:
        return dict(json.loads(data), holder=pid)
    except ValueError:
        return {"error": f"the kernel's holder ended without a word (status of pid {pid})"}


def _reap(clients=()):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        for client in clients:
            client.holders.discard(pid)


def main(socket_path, modules):
    started = time.monotonic()
    prctl(PR_SET_DUMPABLE, 0)  # no kernel may read or write the zygote's memory through /proc
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # no BLAS thread pool before the fork (see size_blas_threads)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)  # before the imports: workers may connect at once, and wait for them
    os.chmod(socket_path, 0o600)
    listener.listen(64)
    for name in modules:
        __import__(name)
    fill_traceback_caches()
    ready = {"ready": round(time.monotonic() - started, 3), "threads": len(os.listdir("/proc/self/task"))}
    print(json.dumps(ready), flush=True)
    serve(sys.stdin.fileno(), listener, ready)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
