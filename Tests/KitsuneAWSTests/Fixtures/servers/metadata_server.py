#!/usr/bin/env python3
"""Stands in for the two platform credential endpoints moto does not serve: the EC2 instance
metadata service (IMDSv2: PUT /latest/api/token, then token-authenticated GETs) and the container
credentials endpoint (Authorization header). Prints "READY <port>"; stops when stdin closes."""
import json
from http.server import BaseHTTPRequestHandler

from loopback import serve_until_stdin_closes

TOKEN = "imds-session-token-1"
CREDS = {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAIMDSROLE00000001",
         "SecretAccessKey": "imds-secret", "Token": "imds-session", "Expiration": "2099-01-01T00:00:00Z"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, TOKEN)
        return self.reply(400, "")

    def do_GET(self):
        if self.path.startswith("/container/"):
            if self.headers.get("Authorization") != "Bearer container-auth":
                return self.reply(401, "")
            return self.reply(200, json.dumps(dict(CREDS, AccessKeyId="ASIACONTAINER0000001")))
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.reply(401, "")
        if self.path == "/latest/meta-data/iam/security-credentials/":
            return self.reply(200, "kitsune-ci-role")
        if self.path == "/latest/meta-data/iam/security-credentials/kitsune-ci-role":
            return self.reply(200, json.dumps(CREDS))
        return self.reply(404, "")


serve_until_stdin_closes(Handler)
