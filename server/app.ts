// Builds the Koa app and the HTTP server around it. Thin: every rule lives in
// lib/ (resolve, environ, groups, worker); this file wires them in order.

import Koa, { type Context, type Next } from 'koa';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../lib/config.js';
import { GroupManager } from '../lib/groups.js';
import { findInterpreter, type Interpreter } from '../lib/interpreter.js';
import { combinedLine, consoleLogger, type Logger } from '../lib/log.js';
import { resolve } from '../lib/resolve.js';
import { sendErrorPage } from './error-page.js';
import { runScript } from './scripts.js';
import { staticSender } from './static-files.js';

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  interpreter: Interpreter;
  groups: GroupManager;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
}

/**
 * Checks the interpreter, then listens. Rejects with InterpreterError when no
 * usable Python is found, or the listen error (EADDRINUSE...).
 */
export async function startPypages(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? consoleLogger();
  const interpreter = await findInterpreter(config.python);
  const groups = new GroupManager({ python: interpreter.path, root: config.root, threads: config.threads, log });
  const app = buildApp(config, groups, log);
  const server = createServer(app.callback());
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    server,
    interpreter,
    groups,
    close: () => shutdown(server, groups),
  };
}

export function buildApp(config: Config, groups: GroupManager, log: Logger): Koa {
  const app = new Koa();
  const sendStatic = staticSender(config.root);
  app.use(accessLog(log));
  app.use(errorPages(config, log));
  app.use(async (ctx: Context) => {
    const [rawPath, ...query] = (ctx.req.url ?? '/').split('?');
    const target = await resolve(config.root, rawPath, query.join('?'), { index: config.index });
    switch (target.kind) {
      case 'script': return runScript(ctx, target, groups, config.root, config.debug);
      case 'static':
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return methodNotAllowed(ctx, config.debug);
        return sendStatic(ctx, target.urlPath);
      case 'redirect':
        ctx.status = 301;
        ctx.redirect(target.location);
        return;
      case 'bad-request': return sendErrorPage(ctx, 400, target.reason, config.debug);
      case 'not-found': return sendErrorPage(ctx, 404, target.reason, config.debug);
    }
  });
  app.on('error', (err: Error) => log.error(`koa: ${err.stack ?? err.message}`));
  return app;
}

function methodNotAllowed(ctx: Context, debug: boolean): void {
  sendErrorPage(ctx, 405, `${ctx.method} is not allowed on a static file`, debug);
  ctx.set('Allow', 'GET, HEAD');
}

/** Gives each request an id and writes its access-log line once the response is done. */
function accessLog(log: Logger) {
  let counter = 0;
  const prefix = randomBytes(3).toString('hex');
  return async (ctx: Context, next: Next) => {
    ctx.state.requestId = `${prefix}-${(++counter).toString(36)}`;
    ctx.state.log = log;
    const time = new Date();
    const requestLine = `${ctx.method} ${ctx.originalUrl} HTTP/${ctx.req.httpVersion}`;
    ctx.res.once('close', () => {
      const bytes = ctx.respond === false ? (ctx.state.bytes as number) : ctx.response.length ?? null;
      log.access(combinedLine({ remote: ctx.ip || '-', time, requestLine, status: ctx.res.statusCode, bytes, referer: ctx.get('Referer') || undefined, userAgent: ctx.get('User-Agent') || undefined }));
    });
    await next();
  };
}

/** Anything thrown in the app becomes a logged 500 with the request id. */
function errorPages(config: Config, log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const e = err as Error & { status?: number; expose?: boolean };
      const status = e.status && e.status >= 400 && e.status < 600 ? e.status : 500;
      if (status >= 500) log.error(`request ${ctx.state.requestId}: ${ctx.method} ${ctx.originalUrl}: ${e.stack ?? e.message}`);
      if (ctx.res.headersSent) return void ctx.res.destroy();
      sendErrorPage(ctx, status, e.message, config.debug);
    }
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function shutdown(server: Server, groups: GroupManager): Promise<void> {
  const closed = new Promise((r) => server.close(r));
  server.closeIdleConnections();
  await groups.close();
  server.closeAllConnections();
  await closed;
}
