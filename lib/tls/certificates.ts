// tls: auto's certificates: one per host name, loaded from the state folder
// at start, obtained from the ACME CA when missing, renewed acme-renew-before
// their expiry, and served by SNI from memory, so a renewal takes effect at
// the next handshake without a restart. A failed attempt is logged with the
// CA's reason and what clients get meanwhile (the previous certificate, or
// plain HTTP only), then retried later and later (1 min, doubling, up to 6 h).

import { createSecureContext, type SecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../util/log.js';
import { obtainCertificate, type AcmeOptions } from './acme.js';
import type { Challenges } from './challenges.js';
import type { StoredCertificate } from './store.js';

export interface AutoTlsOptions extends AcmeOptions {
  /** The host names to hold certificates for, asked at every check (sites change on reload). */
  names(): readonly string[];
  renewBeforeMs: number;
  /** Where plain HTTP is served meanwhile, for the log. */
  httpPort: number;
  log: Logger;
}

interface Held {
  context: SecureContext;
  notAfter: number;
}

const FIRST_RETRY_MS = 60_000;
const LONGEST_WAIT_MS = 6 * 3600_000;
/** Never sooner: a renew window longer than the CA's lifetime would otherwise renew without a pause. */
const SHORTEST_WAIT_MS = 5_000;

export class AutoCertificates {
  /** The HTTP-01 answers for the orders under way (served on http-port). */
  readonly challenges: Challenges = new Map();
  private readonly held = new Map<string, Held>();
  /** Name → [when to try again, the wait after that]. */
  private readonly retries = new Map<string, [number, number]>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: AutoTlsOptions) {}

  /** Loads the stored certificates, then obtains or renews what is due, in the background. */
  start(): void {
    for (const name of this.opts.names()) {
      const stored = this.opts.store.load(name);
      if (stored) this.hold(name, stored);
    }
    void this.check();
  }

  /** For the TLS server's SNICallback: the name's certificate; without SNI (or for another name), the first one held. */
  contextFor(servername: string | undefined): SecureContext | undefined {
    const exact = servername ? this.held.get(servername.toLowerCase()) : undefined;
    return (exact ?? this.held.values().next().value)?.context;
  }

  /** The expiry of the certificate held for `name` (ms since the epoch), or null. */
  notAfter(name: string): number | null {
    return this.held.get(name.toLowerCase())?.notAfter ?? null;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private checking: Promise<void> | null = null;

  /** Obtains every certificate that is due, one at a time, then sleeps until the next is. */
  check(): Promise<void> {
    this.checking ??= this.checkNames().finally(() => (this.checking = null));
    return this.checking;
  }

  private async checkNames(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const name of this.opts.names()) {
      if (this.closed) return;
      if (this.isDue(name)) await this.obtain(name);
    }
    if (!this.closed) this.schedule();
  }

  private isDue(name: string, now = Date.now()): boolean {
    const retry = this.retries.get(name);
    if (retry && retry[0] > now) return false;
    const held = this.held.get(name);
    return !held || held.notAfter - this.opts.renewBeforeMs <= now;
  }

  private async obtain(name: string): Promise<void> {
    const { directoryUrl, log } = this.opts;
    try {
      const stored = await obtainCertificate(this.opts, name, this.challenges);
      this.opts.store.save(name, stored);
      const notAfter = this.hold(name, stored);
      this.retries.delete(name);
      log.info(
        `tls: certificate for ${name} obtained from ${directoryUrl}, valid until ${new Date(notAfter).toISOString()}`,
      );
    } catch (err) {
      this.failed(name, err as Error);
    }
  }

  private failed(name: string, err: Error): void {
    const wait = this.retries.get(name)?.[1] ?? FIRST_RETRY_MS;
    this.retries.set(name, [Date.now() + wait, Math.min(wait * 2, LONGEST_WAIT_MS)]);
    const held = this.held.get(name);
    const meanwhile = held
      ? `its previous certificate (valid until ${new Date(held.notAfter).toISOString()}) is still served`
      : `it is served over plain HTTP only (port ${this.opts.httpPort})`;
    this.opts.log.error(
      `tls: could not obtain a certificate for ${name} from ${this.opts.directoryUrl}: ${err.message}; ${meanwhile}; next attempt in ${Math.round(wait / 1000)} s`,
    );
  }

  private hold(name: string, stored: StoredCertificate): number {
    const notAfter = Date.parse(new X509Certificate(stored.cert).validTo);
    this.held.set(name.toLowerCase(), { context: createSecureContext(stored), notAfter });
    return notAfter;
  }

  private schedule(): void {
    const now = Date.now();
    let next = now + LONGEST_WAIT_MS;
    for (const name of this.opts.names()) {
      const retry = this.retries.get(name);
      const held = this.held.get(name);
      const due = retry ? retry[0] : held ? held.notAfter - this.opts.renewBeforeMs : now;
      next = Math.min(next, due);
    }
    const wait = Math.max(SHORTEST_WAIT_MS, next - now);
    this.timer = setTimeout(() => void this.check(), wait);
    this.timer.unref();
  }
}
