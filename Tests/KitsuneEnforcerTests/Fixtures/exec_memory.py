"""W^X fixture for ExecMemoryTests: run under kitsune-enforcer as `python3 exec_memory.py CASE`.

benign     real native-extension packages (numpy, cryptography, pydantic-core, orjson) and a ctypes
           callback (CFUNCTYPE through libffi); prints one JSON line of results.
rwx        ctypes: libc mmap(PROT_READ|PROT_WRITE|PROT_EXEC, MAP_ANONYMOUS), copy code, call it.
mmap_rwx   the same through Python's own mmap module.
anon_rx    an anonymous PROT_READ|PROT_EXEC mapping.
mprotect   an anonymous RW mapping filled with code, then mprotect(PROT_READ|PROT_EXEC), call it.
Each attack prints `ran 42` when the code ran, `refused errno=N` when the kernel said no.
"""
import ctypes
import ctypes.util
import json
import mmap
import sys

CODE = bytes([0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3])  # x86-64: mov eax, 42; ret
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
MAP_FAILED = ctypes.c_void_p(-1).value


def call(address):
    print("ran", ctypes.CFUNCTYPE(ctypes.c_int)(address)(), flush=True)


def refused(err):
    print("refused errno=%d" % err, flush=True)


def benign():
    results = {}
    import numpy as np
    a = np.arange(10000, dtype=np.float64).reshape(100, 100)
    results["numpy"] = float(np.linalg.inv(a + np.eye(100) * 1e4).trace() > 0)
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    k = Fernet(Fernet.generate_key())
    results["cryptography"] = k.decrypt(k.encrypt(b"secret")).decode()
    key = ec.generate_private_key(ec.SECP256R1())
    key.public_key().verify(key.sign(b"m", ec.ECDSA(hashes.SHA256())), b"m", ec.ECDSA(hashes.SHA256()))
    results["cryptography_ec"] = True
    from pydantic_core import SchemaValidator, core_schema
    v = SchemaValidator(core_schema.typed_dict_schema({"n": core_schema.typed_dict_field(core_schema.int_schema())}))
    results["pydantic_core"] = v.validate_python({"n": "5"})["n"]
    import orjson
    results["orjson"] = orjson.loads(orjson.dumps({"a": [1, 2, 3]}))["a"][2]
    cmp = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
    arr = (ctypes.c_int * 5)(5, 1, 4, 2, 3)
    callbacks = [cmp(lambda x, y: x[0] - y[0]) for _ in range(50)]   # several trampoline pages' worth
    libc.qsort(arr, 5, ctypes.sizeof(ctypes.c_int), callbacks[-1])
    results["ctypes_callback"] = list(arr)
    print(json.dumps(results, sort_keys=True), flush=True)


def rwx():
    p = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if p == MAP_FAILED:
        return refused(ctypes.get_errno())
    ctypes.memmove(p, CODE, len(CODE))
    call(p)


def mmap_rwx():
    try:
        m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except OSError as e:
        return refused(e.errno)
    m.write(CODE)
    call(ctypes.addressof(ctypes.c_char.from_buffer(m)))


def anon_rx():
    p = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_EXEC, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if p == MAP_FAILED:
        return refused(ctypes.get_errno())
    print("mapped", flush=True)


def mprotect():
    p = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    ctypes.memmove(p, CODE, len(CODE))
    if libc.mprotect(p, 4096, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
        return refused(ctypes.get_errno())
    call(p)


{"benign": benign, "rwx": rwx, "mmap_rwx": mmap_rwx, "anon_rx": anon_rx, "mprotect": mprotect}[sys.argv[1]]()
