#!/usr/bin/env python3
"""A small HTTP front for the KitsuneAWS tests, for the behaviours moto's server mode lacks.
Everything else is forwarded unchanged to the moto upstream.

  aws_shim.py CONFIG.json   with keys:
    upstream      moto base URL (forwarding target), optional
    throttle      answer the first N requests with a throttling error (429 + ThrottlingException
                  for JSON APIs, 400 + <Code>Throttling</Code> for the query protocol)
    pageLambda    page ListFunctions by MaxItems/Marker (moto returns everything in one page)
    failUpdates   function names whose UpdateFunctionConfiguration is answered 409 ResourceConflictException
    lookupRecords CloudTrail records served by LookupEvents (moto does not implement it),
                  filtered by AccessKeyId/Username and paged by MaxResults/NextToken
Prints "READY <port>"; stops when stdin closes. GET /_shim/stats returns request counters."""
import json, sys, threading, urllib.request, urllib.error
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit, parse_qs

from loopback import serve_until_stdin_closes

config = json.load(open(sys.argv[1]))
lock = threading.Lock()
stats = {"requests": 0, "throttled": 0, "authorized": 0, "lookups": 0, "listPages": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def forward(self, body):
        request = urllib.request.Request(config["upstream"] + self.path, data=body if body else None,
                                         method=self.command)
        for key, value in self.headers.items():
            if key.lower() not in ("host", "content-length", "connection"):
                request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/_shim/stats":
            with lock:
                return self.reply(200, json.dumps(stats), {"Content-Type": "application/json"})
        with lock:
            stats["requests"] += 1
            if self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential="):
                stats["authorized"] += 1
            throttle = stats["throttled"] < config.get("throttle", 0)
            if throttle:
                stats["throttled"] += 1
        content_type = self.headers.get("Content-Type", "")
        if throttle:
            if "x-www-form-urlencoded" in content_type:
                return self.reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                                       "<Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>",
                                  {"Content-Type": "text/xml"})
            return self.reply(429, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}),
                              {"Content-Type": "application/json", "x-amzn-ErrorType": "ThrottlingException"})
        parts = urlsplit(self.path)
        if self.command == "PUT" and parts.path.startswith("/2015-03-31/functions/") and parts.path.endswith("/configuration"):
            name = parts.path.split("/")[3]
            with lock:
                stats["update:" + name] = stats.get("update:" + name, 0) + 1
            if name in config.get("failUpdates", []):
                return self.reply(409, json.dumps({"Type": "User", "message": "The operation cannot be performed at this time. An update is in progress for resource: " + name}),
                                  {"Content-Type": "application/json", "x-amzn-ErrorType": "ResourceConflictException"})
        target = self.headers.get("X-Amz-Target", "")
        if target.endswith(".LookupEvents") and "lookupRecords" in config:
            return self.lookup(json.loads(body or b"{}"))
        parts = urlsplit(self.path)
        if config.get("pageLambda") and self.command == "GET" and parts.path.rstrip("/") == "/2015-03-31/functions":
            status, data, headers = self.forward(b"")
            if status != 200:
                return self.reply(status, data)
            functions = json.loads(data)["Functions"]
            query = parse_qs(parts.query)
            size = int(query.get("MaxItems", ["50"])[0])
            start = int(query.get("Marker", ["m0"])[0][1:])
            page = {"Functions": functions[start:start + size]}
            if start + size < len(functions):
                page["NextMarker"] = f"m{start + size}"
            with lock:
                stats["listPages"] += 1
            return self.reply(200, json.dumps(page), {"Content-Type": "application/json"})
        status, data, headers = self.forward(body)
        keep = {k: v for k, v in headers.items() if k.lower() in ("content-type", "x-amzn-errortype")}
        return self.reply(status, data, keep)

    def lookup(self, request):
        with lock:
            stats["lookups"] += 1
        attribute = (request.get("LookupAttributes") or [{}])[0]
        key, value = attribute.get("AttributeKey"), attribute.get("AttributeValue")
        matches = []
        for record in config["lookupRecords"]:
            identity = record.get("userIdentity", {})
            if (key == "AccessKeyId" and identity.get("accessKeyId") == value) or \
               (key == "Username" and identity.get("userName") == value):
                matches.append(record)
        size = int(request.get("MaxResults", 50))
        start = int(request.get("NextToken", "0"))
        events = [{"EventId": r.get("eventID"), "EventName": r.get("eventName"), "EventSource": r.get("eventSource"),
                   "EventTime": 1700000000, "AccessKeyId": r.get("userIdentity", {}).get("accessKeyId"),
                   "Username": r.get("userIdentity", {}).get("userName"), "CloudTrailEvent": json.dumps(r)}
                  for r in matches[start:start + size]]
        answer = {"Events": events}
        if start + size < len(matches):
            answer["NextToken"] = str(start + size)
        return self.reply(200, json.dumps(answer), {"Content-Type": "application/x-amz-json-1.1"})

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


serve_until_stdin_closes(Handler)
