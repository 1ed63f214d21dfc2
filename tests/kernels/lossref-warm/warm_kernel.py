"""The notebooks' kernel under `make test`: a fresh IPython kernel per notebook, forked from a
process that has already imported torch, NumPy, matplotlib and ipykernel.

Every notebook starts a kernel, and a kernel spends most of its first two seconds importing
torch, IPython and matplotlib: 44 notebooks paid that 44 times. Here one *zygote* process per
pytest worker imports them once (:func:`preimport`); each notebook's kernel is a fork of it
that then runs exactly what ``python -m ipykernel_launcher -f CONNECTION_FILE`` runs, in the
notebook's folder, with the environment jupyter_client gave it. The notebook's own cells still
run from the first to the last in a new process that has run no user code (``import torch`` in
the notebook finds the module loaded). Nothing else is shared: each kernel is its own process
and exits with it.

Two roles, one file (jupyter_client starts the second through ``kernel.json``):

``warm_kernel.py serve SOCKET PID``
    the zygote: imports, then forks a kernel for each launcher that connects to the Unix
    socket SOCKET. Exits when its parent is no longer PID, the process that started it (a
    pytest worker): that process is gone.
``warm_kernel.py -f CONNECTION_FILE``
    the launcher, the process jupyter_client starts and watches: it hands its standard streams,
    folder, environment and arguments to the zygote, forwards an interrupt (SIGINT) to the
    kernel, and exits when the kernel does. If it is killed, the kernel notices the closed
    socket and exits too. A zygote still importing listens already: the launcher waits for it
    (at most :data:`WAIT` seconds). Without a zygote (``LOSSREF_WARM_KERNEL`` unset, not
    listening, not answering in time, an environment that differs from the zygote's, or a
    ``matplotlibrc`` in the kernel's folder) it becomes an ordinary kernel.

tests/nbkernel.py (a pytest plugin) starts the zygote in each pytest worker and stops it when
the worker's session finishes.
"""

import json
import os
import signal
import socket
import struct
import sys

#: The kernel's environment must be the zygote's but for the variables jupyter_client sets for
#: its kernels, pytest's name of the running test and inductor's cache folder (all read at run
#: time, after the fork; the last is set in a pytest worker once anything there has imported
#: torch._dynamo, e.g. an optimizer's first step): torch and NumPy read theirs (thread pools,
#: allocator) when they are imported, so any other difference gets a fresh process.
KERNEL_ONLY = ("JPY_", "IPY_", "PYTEST_CURRENT_TEST", "TORCHINDUCTOR_CACHE_DIR")


def _differences(env: dict) -> list:
    keys = (set(env) | set(os.environ))
    return sorted(k for k in keys if not k.startswith(KERNEL_ONLY) and env.get(k) != os.environ.get(k))


def _send(sock, payload: bytes, fds=()) -> None:
    header = struct.pack("!I", len(payload))
    if fds:
        socket.send_fds(sock, [header], list(fds))
    else:
        sock.sendall(header)
    sock.sendall(payload)


def _receive(sock, nfds=0):
    header, fds, _, _ = socket.recv_fds(sock, 4, nfds) if nfds else (sock.recv(4), [], 0, None)
    if len(header) < 4:
        return None, fds
    (size,) = struct.unpack("!I", header)
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None, fds
        data += chunk
    return data, fds


# --------------------------------------------------------------------------- the launcher


#: Seconds a launcher waits for a zygote that is still importing (nbval gives a kernel 60 s to
#: start): one that has not answered by then is stuck, and the kernel starts the ordinary way.
WAIT = 30.0


def launch(args) -> None:
    path = os.environ.get("LOSSREF_WARM_KERNEL")
    sock = socket.socket(socket.AF_UNIX)
    try:
        if not path:
            raise OSError("no zygote")
        sock.connect(path)
        request = {"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}
        _send(sock, json.dumps(request).encode(), fds=(0, 1, 2))
        sock.settimeout(WAIT)  # a zygote still importing answers when it is done
        answer, _ = _receive(sock)
        if answer != b"forked":
            raise OSError(f"zygote refused: {answer!r}")
        sock.settimeout(None)
    except OSError:  # TimeoutError too
        sock.close()
        os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *args])

    def forward(signum, frame):
        try:
            sock.sendall(b"I")
        except OSError:
            pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # the kernel sees the socket close
    while True:
        try:
            if not sock.recv(64):  # the kernel exited: its end of the socket closed
                break
        except InterruptedError:
            continue
    os._exit(0)


# --------------------------------------------------------------------------- the zygote


def _kernel(conn, request, fds) -> None:
    """In the forked child: become `python -m ipykernel_launcher ARGS` for the launcher."""
    import runpy
    import threading

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    def watch():  # the launcher's messages; its end closing means it was killed
        while True:
            data = conn.recv(64)
            if not data:
                os._exit(0)
            for _ in data:
                os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, daemon=True).start()
    # as `python -m`: the folder first on sys.path (ipykernel_launcher removes it, then IPython
    # adds '' back), sys.argv[0] the launcher module's file
    sys.path[0] = os.getcwd()
    sys.argv = ["ipykernel_launcher", *request["args"]]
    code = 0
    try:
        runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (exc.code is not None)
    except BaseException:  # noqa: BLE001 (print it, as python would, then exit)
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


#: The backend ipykernel sets in ``MPLBACKEND`` before any cell runs, unless it is set.
INLINE = "module://matplotlib_inline.backend_inline"


def preimport() -> None:
    """Import, once, what every kernel imports (ipykernel_launcher's modules) and what costs most
    in many notebooks (torch, torch._dynamo, matplotlib).

    Not ``ipykernel.kernelapp`` (its options read ``JPY_PARENT_PID`` when the module is
    imported: the kernel imports it, after the fork) nor ``matplotlib_inline.backend_inline``
    (it hooks into the running IPython shell when imported, and there is none yet). matplotlib
    is imported as it is in a kernel: ipykernel sets ``MPLBACKEND`` to the inline backend,
    unless it is set, before any cell runs, and matplotlib reads it when imported.
    """
    # in the order a kernel imports them (some add warning filters): first the kernel's own,
    # ipykernel_launcher's imports but kernelapp itself, then the notebook's
    import ipykernel.control
    import ipykernel.heartbeat
    import ipykernel.iostream
    import ipykernel.ipkernel
    import ipykernel.parentpoller
    import ipykernel.shellchannel
    import ipykernel.zmqshell  # noqa: F401
    import IPython.core.application  # noqa: F401
    import numpy  # noqa: F401
    import torch
    import torch.nn.functional  # noqa: F401

    import lossref

    _import_without_traces("torch._dynamo")
    saved = os.environ.get("MPLBACKEND")
    if not saved:
        os.environ["MPLBACKEND"] = INLINE
    try:
        import matplotlib.backends.backend_agg  # the inline backend draws with it
        import matplotlib.pyplot  # noqa: F401
        import mplfonts  # noqa: F401

        import lossref.notebook  # noqa: F401
    except ImportError:  # no book extras: the notebooks import what there is themselves
        pass
    finally:  # the zygote's environment as it was: a kernel gets its launcher's
        if saved is None:
            del os.environ["MPLBACKEND"]
        else:
            os.environ["MPLBACKEND"] = saved


def _import_without_traces(name: str) -> None:
    """Import module ``name``, then undo what importing it did to the environment and to the
    warning filters.

    For ``torch._dynamo``, which torch imports at the first call of an optimizer (1.7 core-s, in
    a third of the notebooks): it sets ``TORCHINDUCTOR_CACHE_DIR`` and a ``"once"`` filter for
    SymPy's deprecation warnings. Undone, a kernel that never uses dynamo has no trace of it; one
    that does lacks just these two (inductor sets the variable again when it uses its cache;
    tests/test_nbkernel.py checks that nothing else differs).
    """
    import importlib
    import warnings

    env, filters = dict(os.environ), list(warnings.filters)
    importlib.import_module(name)
    for key in set(os.environ) - set(env):
        del os.environ[key]
    os.environ.update(env)
    warnings.filters[:] = filters
    warnings._filters_mutated()  # as warnings.filterwarnings does after changing the list


def _reads_its_folder(cwd: str) -> bool:
    """Whether a fresh kernel in ``cwd`` would import something other than the zygote did: a
    ``matplotlibrc`` there is read when matplotlib is imported. (Modules in the folder cannot
    shadow: the kernel does not put its folder on ``sys.path``.)"""
    return os.path.exists(os.path.join(cwd, "matplotlibrc"))


def serve(path: str, parent: int) -> None:
    # listen first, then import: a launcher that connects meanwhile waits for its kernel (an
    # ordinary kernel would import all of it again, alongside the zygote)
    server = socket.socket(socket.AF_UNIX)
    server.bind(path + ".tmp")
    server.listen(16)
    os.rename(path + ".tmp", path)  # launchers see the socket only once it listens
    print(f"listening; torch imported: {'torch' in sys.modules}", file=sys.stderr, flush=True)
    if os.getppid() == parent:  # else its worker is gone already: no kernel will be asked for
        preimport()

    def reap(signum, frame):  # exited kernels (waited for, so their CPU time counts as ours)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass

    signal.signal(signal.SIGCHLD, reap)
    server.settimeout(1.0)
    while os.getppid() == parent:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        data, fds = _receive(conn, 3)
        request = json.loads(data) if data else None
        differ = _differences(request["env"]) if request else ["no request"]
        rc = bool(request) and _reads_its_folder(request["cwd"])
        if differ or rc or len(fds) != 3:
            why = (f"environment differs in {differ}" if differ else
                   "a matplotlibrc in its folder" if rc else "no standard streams")
            print(f"fresh kernel instead: {why}", file=sys.stderr, flush=True)
            _send(conn, b"no")
            for fd in fds:
                os.close(fd)
            conn.close()
            continue
        print(f"forking a kernel in {request['cwd']}", file=sys.stderr, flush=True)
        if os.fork() == 0:
            server.close()
            try:
                _send(conn, b"forked")
            except OSError:  # the launcher gave up waiting (and started an ordinary kernel)
                os._exit(0)
            _kernel(conn, request, fds)
        for fd in fds:
            os.close(fd)
        conn.close()
    os.unlink(path)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        launch(sys.argv[1:])
