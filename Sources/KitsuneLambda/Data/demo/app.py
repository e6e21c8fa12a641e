# The `kitsune demo` function: a deliberately VULNERABLE "convert this document URL" handler.
# Never deploy it. The URL from the event is pasted into a shell command line, so `x; env` runs `env`.
# Offline demo: DOCUMENT stands in for what the URL would download. It is staged in /tmp (cat,
# chmod), then the packaged converter (bin/convert, shipped without its executable bit) is started
# through the ELF loader. Its allowlist is therefore /bin/sh, cat, chmod and bin/convert.
import subprocess

DOCUMENT = "%PDF-1.7 report"


def handler(event, context):
    url = event["url"]
    cmd = ("cat > /tmp/upload && chmod 600 /tmp/upload && "
           "/lib64/ld-linux-x86-64.so.2 /var/task/bin/convert -w 0 /tmp/upload && echo ' <- converted' " + url)
    p = subprocess.run(cmd, shell=True, input=DOCUMENT, capture_output=True, text=True)
    return {"stdout": p.stdout, "stderr": p.stderr, "code": p.returncode}
