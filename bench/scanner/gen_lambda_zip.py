#!/usr/bin/env python3
"""Builds a ~100 MB Lambda deployment zip from generated PyPI- and npm-style package trees.

usage: gen_lambda_zip.py OUT.zip [TARGET_MB]
Layout like a real bundle: node_modules/<pkg>/{package.json,README.md,LICENSE,lib/*.js},
python/<pkg>/..., <pkg>-<v>.dist-info/{METADATA,RECORD}, native extensions (*.so, ELF header +
incompressible bytes), a lockfile, the handler. Deterministic (fixed seed); no real credentials.
"""
import io, json, os, random, string, sys, zipfile

rnd = random.Random(1121)
WORDS = ("request response handler config value index result buffer stream token parse format "
         "encode decode client server socket promise callback error logger cache queue worker").split()

def ident():
    return rnd.choice(WORDS) + rnd.choice(WORDS).capitalize() + str(rnd.randint(0, 99))

def js_file(lines):
    out = ["'use strict';", f"const {ident()} = require('./{rnd.choice(WORDS)}');"]
    for _ in range(lines):
        a, b = ident(), ident()
        out.append(f"function {a}({b}, opts) {{ if (!{b}) throw new TypeError('{a}: {b} required'); return {b}.{rnd.choice(WORDS)}(opts, {rnd.randint(0, 9999)}); }}")
    out.append("module.exports = { };")
    return "\n".join(out) + "\n"

def py_file(lines):
    out = ['"""Generated module."""', "import os", "import json"]
    for _ in range(lines):
        out.append(f"def {ident()}(value, *, {rnd.choice(WORDS)}=None):\n    return json.dumps({{'{rnd.choice(WORDS)}': value, 'n': {rnd.randint(0, 9999)}}})")
    return "\n".join(out) + "\n"

def elf_so(size):
    header = bytes([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]) + bytes(8) + bytes([3, 0, 0x3E, 0]) + bytes(44)
    return header + os.urandom(size - len(header))

def main():
    out = sys.argv[1]
    target = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    lock = {"name": "fn", "lockfileVersion": 3, "packages": {"": {"name": "fn"}}}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        def add(name, data, mode=0o644):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        add("index.js", "exports.handler = async (event) => ({ statusCode: 200 });\n")
        add("handler.py", "def handler(event, context):\n    return {'statusCode': 200}\n")
        n = 0
        while True:
            z.fp.flush()
            if os.path.getsize(out) >= target * 1_000_000:
                break
            n += 1
            if n % 2:
                name = f"{rnd.choice(WORDS)}-{rnd.choice(WORDS)}-{n}"
                version = f"{rnd.randint(0, 9)}.{rnd.randint(0, 30)}.{rnd.randint(0, 20)}"
                base = f"node_modules/{name}"
                add(f"{base}/package.json", json.dumps({"name": name, "version": version, "main": "lib/index.js",
                                                        "license": "MIT", "dependencies": {}}, indent=2))
                add(f"{base}/README.md", f"# {name}\n\n" + " ".join(rnd.choice(WORDS) for _ in range(400)) + "\n")
                add(f"{base}/LICENSE", "MIT License\n\nPermission is hereby granted, free of charge, ...\n")
                for i in range(rnd.randint(3, 12)):
                    add(f"{base}/lib/{rnd.choice(WORDS)}{i}.js", js_file(rnd.randint(50, 400)))
                lock["packages"][base] = {"version": version, "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"}
            else:
                name = f"{rnd.choice(WORDS)}_{rnd.choice(WORDS)}{n}"
                version = f"{rnd.randint(0, 5)}.{rnd.randint(0, 30)}.{rnd.randint(0, 9)}"
                dist = f"{name}-{version}.dist-info"
                add(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: generated\n\n" + " ".join(rnd.choice(WORDS) for _ in range(300)))
                add(f"{dist}/RECORD", "".join(f"{name}/m{i}.py,sha256={os.urandom(32).hex()},{rnd.randint(100, 9999)}\n" for i in range(20)))
                for i in range(rnd.randint(3, 10)):
                    add(f"{name}/m{i}.py", py_file(rnd.randint(50, 300)))
                if n % 6 == 0:
                    add(f"{name}/_speedups.cpython-312-x86_64-linux-gnu.so", elf_so(rnd.randint(200_000, 1_500_000)), 0o755)
        add("package-lock.json", json.dumps(lock, indent=2))
    total = sum(i.file_size for i in zipfile.ZipFile(out).infolist())
    print(f"{out}: {os.path.getsize(out) / 1e6:.1f} MB compressed, {total / 1e6:.1f} MB uncompressed, {len(zipfile.ZipFile(out).infolist())} entries")

if __name__ == "__main__":
    main()
