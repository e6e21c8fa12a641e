// Kitsune's small Node.js runtime loop for the local Lambda emulator (NOT AWS's runtime interface
// client). It speaks the Lambda Runtime API found in AWS_LAMBDA_RUNTIME_API: GET .../invocation/next,
// POST .../{id}/response or .../{id}/error, POST .../init/error when the handler cannot be loaded.
'use strict';
const http = require('http');
const path = require('path');
const url = require('url');

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [host, port] = api.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime';

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const h = Object.assign({}, headers || {});
    if (data) { h['Content-Type'] = 'application/json'; h['Content-Length'] = data.length; }
    const req = http.request({ host, port, method, path: p, agent, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

function errorBody(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({
    errorType: e.name || 'Error',
    errorMessage: e.message,
    stackTrace: (e.stack || '').split('\n').slice(1).map((l) => l.trim()),
  });
}

// AWS's rule: the module is the handler string up to the first dot after its last slash; the rest is
// a property path (`lib/index.nested.deep` → module lib/index, handler exports.nested.deep).
async function loadHandler(spec) {
  const slash = spec.lastIndexOf('/');
  const dot = spec.indexOf('.', slash + 1);
  if (dot <= slash + 1 || dot === spec.length - 1) throw Object.assign(new Error(`Bad handler ${spec}: expected FILE.FUNCTION`), { name: 'Runtime.MalformedHandlerName' });
  const modulePath = path.resolve(process.env.LAMBDA_TASK_ROOT || '/var/task', spec.slice(0, dot));
  const fnPath = spec.slice(dot + 1).split('.');
  let mod;
  const fs = require('fs');
  const esm = ['.mjs'].find((ext) => fs.existsSync(modulePath + ext));
  try {
    if (esm) {
      mod = await import(url.pathToFileURL(modulePath + esm).href);
    } else if (fs.existsSync(modulePath + '.cjs')) {
      mod = require(modulePath + '.cjs');
    } else {
      mod = require(modulePath);
    }
  } catch (e) {
    if (e && e.code === 'ERR_REQUIRE_ESM') {
      mod = await import(url.pathToFileURL(modulePath + '.js').href);
    } else if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(modulePath)) {
      throw Object.assign(new Error(`Cannot find module '${spec.slice(0, dot)}'`), { name: 'Runtime.ImportModuleError' });
    } else {
      throw e;
    }
  }
  let handler = mod;
  for (const key of fnPath) handler = handler == null ? undefined : handler[key];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
  return handler;
}

function invokeHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, value) => { if (settled) return; settled = true; err ? reject(err) : resolve(value); };
    // The legacy context methods the Node.js runtime still offers.
    context.done = done;
    context.succeed = (value) => done(null, value);
    context.fail = (err) => done(err instanceof Error ? err : new Error(String(err)));
    try {
      const r = handler(event, context, done);
      if (r && typeof r.then === 'function') r.then((v) => done(null, v), (e) => done(e));
      else if (handler.length < 3) done(null, r);
    } catch (e) { done(e); }
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || '');
  } catch (e) {
    console.error(errorBody(e));
    await request('POST', `${base}/init/error`, errorBody(e), { 'Lambda-Runtime-Function-Error-Type': e.name || 'Runtime.Unknown' });
    process.exit(1);
  }
  for (;;) {
    const next = await request('GET', `${base}/invocation/next`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    const context = {
      awsRequestId: id,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      getRemainingTimeInMillis: () => deadline - Date.now(),
      callbackWaitsForEmptyEventLoop: true,
    };
    const parsed = (name) => { try { return next.headers[name] ? JSON.parse(next.headers[name]) : undefined; } catch (_) { return undefined; } };
    const clientContext = parsed('lambda-runtime-client-context');
    const identity = parsed('lambda-runtime-cognito-identity');
    if (clientContext) context.clientContext = clientContext;
    if (identity) context.identity = identity;
    let event;
    try {
      event = JSON.parse(next.body.toString('utf8') || 'null');
      const result = await invokeHandler(handler, event, context);
      await request('POST', `${base}/invocation/${id}/response`, JSON.stringify(result === undefined ? null : result));
    } catch (e) {
      console.error(`${new Date().toISOString()}\t${id}\tERROR\t${e && e.stack ? e.stack : e}`);
      await request('POST', `${base}/invocation/${id}/error`, errorBody(e), { 'Lambda-Runtime-Function-Error-Type': (e && e.name) || 'Error' });
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
