#!/usr/bin/env python3
"""Generates the labeled secret fixture set for the kitsune vs detect-secrets benchmark.

Every value is fake but well-formed (right prefix, length and alphabet, random body) — never a
real credential. Writes OUT/labeled/... files plus OUT/labels.json:
  [{"file": "labeled/x.py", "lines": [3, 4], "secret": true, "kind": "aws-pair"}, ...]
and OUT/speed/..., a larger tree of source-like files (with a few secrets) for timing.
"""
import base64, json, os, random, string, sys

rnd = random.Random(20261121)
ALNUM = string.ascii_letters + string.digits
UPPER32 = string.ascii_uppercase + "234567"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"

def s(n, alphabet=ALNUM):
    return "".join(rnd.choice(alphabet) for _ in range(n))

def jwt():
    seg = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return seg({"alg": "HS256", "typ": "JWT"}) + "." + seg({"sub": s(12), "iat": rnd.randint(1600000000, 1700000000)}) + "." + s(43, ALNUM + "-_")

def pem():
    body = "\n".join(s(64, B64) for _ in range(8))
    return ["-----BEGIN RSA PRIVATE KEY-----"] + body.split("\n") + ["-----END RSA PRIVATE KEY-----"]

# Each generator returns (lines, secret_line_offsets, kind); offsets index into lines.
TRUE = [
    lambda: ([f"aws_access_key_id = AKIA{s(16, UPPER32)}", f"aws_secret_access_key = {s(40, B64)}"], [0, 1], "aws-pair"),
    lambda: ([f'ACCESS_KEY_ID = "AKIA{s(16, UPPER32)}"'], [0], "aws-key-id"),
    lambda: ([f'GITHUB_TOKEN = "ghp_{s(36)}"'], [0], "github"),
    lambda: ([f"gitlab_token: glpat-{s(20, ALNUM + '-_')}"], [0], "gitlab"),
    lambda: ([f"SLACK_BOT_TOKEN=xoxb-{s(11, string.digits)}-{s(12, string.digits)}-{s(24)}"], [0], "slack"),
    lambda: ([f'stripe.api_key = "sk_live_{s(24)}"'], [0], "stripe"),
    lambda: ([f'const mapsKey = "AIza{s(35, ALNUM + "-_")}";'], [0], "google"),
    lambda: ([f"SENDGRID_API_KEY=SG.{s(22, ALNUM + '-_')}.{s(43, ALNUM + '-_')}"], [0], "sendgrid"),
    lambda: ([f'TWILIO_AUTH_TOKEN = "{s(32, HEX)}"'], [0], "twilio"),
    lambda: ([f'headers = {{"Authorization": "Bearer {jwt()}"}}'], [0], "jwt"),
    lambda: (pem(), [0], "private-key"),
    lambda: ([f'DATABASE_URL = "postgres://app:{s(16)}@db.internal:5432/orders"'], [0], "db-url"),
    lambda: ([f'db_password = "{s(18, ALNUM + "!@#%^&*")}"'], [0], "generic-password"),
    lambda: ([f"API_TOKEN={s(32)}"], [0], "generic-token"),
    lambda: ([f'  "client_secret": "{s(32)}",'], [0], "generic-json"),
]

FALSE = [
    lambda: (["aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"], "aws-docs-example"),
    lambda: (['password = "changeme"'], "placeholder"),
    lambda: (['GITHUB_TOKEN = "<your-github-token>"'], "placeholder"),
    lambda: (['api_key = "xxxxxxxxxxxxxxxxxxxxxxxx"'], "placeholder"),
    lambda: (['password = os.environ["DB_PASSWORD"]'], "env-lookup"),
    lambda: (["const token = await getToken(session);"], "code"),
    lambda: (["secret = this.config.secretName;"], "code"),
    lambda: ([f'    "integrity": "sha512-{base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(64))).decode()}",'], "lockfile-integrity"),
    lambda: ([f'    "resolved": "https://registry.npmjs.org/x/-/x-1.0.{rnd.randint(0, 9)}.tgz", "shasum": "{s(40, HEX)}"'], "checksum"),
    lambda: ([f"Revision: {s(40, HEX)}"], "git-sha"),
    lambda: ([f'id = "{s(8, HEX)}-{s(4, HEX)}-{s(4, HEX)}-{s(4, HEX)}-{s(12, HEX)}"'], "uuid"),
    lambda: ([f"sha256 = {s(64, HEX)}"], "sha256"),
    lambda: (["-----BEGIN PUBLIC KEY-----", s(64, B64), "-----END PUBLIC KEY-----"], "public-key"),
    lambda: (['DATABASE_URL = "postgres://app:${DB_PASSWORD}@db.internal:5432/orders"'], "templated-url"),
    lambda: (["# tokens start with ghp_ (GitHub) or glpat- (GitLab)"], "doc-mention"),
    lambda: (['token_type = "access_token"'], "field-name"),
    lambda: ([f'img = "data:image/png;base64,{s(60, B64)}"'], "base64-data"),
    lambda: (["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"], "jwt-io-example"),
    lambda: ([f'translation_key = "{s(24, string.ascii_lowercase + "_")}"'], "identifier"),
]

FILLER = [
    "def handler(event, context):", "    return {'statusCode': 200}", "import json", "import os",
    "function add(a, b) { return a + b; }", "module.exports = { add };", "# configuration", "",
    "const express = require('express');", "logger.info('processing %s', item)", "for (const x of xs) total += x;",
]

def write_labeled(out):
    labels = []
    exts = [".py", ".js", ".env", ".yaml", ".json", ".cfg", ".properties"]
    for i in range(300):
        path = f"labeled/f{i:03d}{rnd.choice(exts)}"
        lines = []
        for _ in range(rnd.randint(3, 8)):
            lines.append(rnd.choice(FILLER))
        # 1-2 items per file, separated by filler so a pair rule cannot join unrelated items.
        for _ in range(rnd.randint(1, 2)):
            lines += [rnd.choice(FILLER) for _ in range(12)]
            if rnd.random() < 0.5:
                item, offsets, kind = rnd.choice(TRUE)()
                labels.append({"file": path, "lines": [len(lines) + 1 + o for o in offsets] if kind != "aws-pair" else [len(lines) + 1, len(lines) + 2],
                               "secret": True, "kind": kind})
            else:
                item, kind = rnd.choice(FALSE)()
                labels.append({"file": path, "lines": list(range(len(lines) + 1, len(lines) + 1 + len(item))), "secret": False, "kind": kind})
            lines += item
            lines += [rnd.choice(FILLER) for _ in range(12)]
        full = os.path.join(out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "labels.json"), "w") as f:
        json.dump(labels, f, indent=1)
    return labels

def write_speed(out, megabytes):
    words = ["value", "index", "result", "config", "handler", "request", "response", "item", "total", "name", "user", "data"]
    target = megabytes * 1_000_000
    written = 0
    n = 0
    while written < target:
        pkg = f"speed/node_modules/pkg{n // 40:04d}/lib"
        os.makedirs(os.path.join(out, pkg), exist_ok=True)
        lines = []
        for _ in range(3000):
            a, b, c = rnd.choice(words), rnd.choice(words), rnd.choice(words)
            lines.append(f"  const {a}{rnd.randint(0, 99)} = {b}.{c}({rnd.randint(0, 9999)}, '{s(12)}');")
        if n % 50 == 0:
            lines.append(f'  const token = "ghp_{s(36)}";')
        text = "\n".join(lines) + "\n"
        with open(os.path.join(out, pkg, f"m{n}.js"), "w") as f:
            f.write(text)
        written += len(text)
        n += 1

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/kitsune-bench-secrets"
    mb = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    os.makedirs(out, exist_ok=True)
    labels = write_labeled(out)
    write_speed(out, mb)
    print(f"{out}: {sum(1 for l in labels if l['secret'])} true secrets, {sum(1 for l in labels if not l['secret'])} look-alikes, speed tree {mb} MB")
