// Obtaining one certificate from an ACME CA (RFC 8555) with acme-client: the
// account (its key kept in the state folder), the order, the HTTP-01
// challenge (its answer put where the plain-HTTP port serves it:
// ./challenges.ts), the CSR with a fresh P-256 key, and the chain.
// acme-client (with axios and its ASN.1 libraries) is loaded at the first
// order, never by a server without tls: auto: loaded at start it made every
// server's heap larger by a few MiB of objects that each garbage collection
// then had to pass over.

import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { Challenges } from './challenges.js';
import type { CertificateStore, StoredCertificate } from './store.js';

export interface AcmeOptions {
  directoryUrl: string;
  /** The account's contact; '' for none. */
  email: string;
  /** PEM file of CAs to trust for the directory's HTTPS; '' for the system's. */
  caFile: string;
  store: CertificateStore;
}

/** A CA that does not answer within this long fails the attempt (acme-client's axios waits forever by default). */
const REQUEST_TIMEOUT_MS = 30_000;

/** Orders a certificate for `name` and answers its HTTP-01 challenge through `challenges`. Rejects with the CA's reason. */
export async function obtainCertificate(
  opts: AcmeOptions,
  name: string,
  challenges: Challenges,
): Promise<StoredCertificate> {
  const acme = await acmeClient();
  configureHttp(acme, opts.caFile);
  const accountKey = await opts.store.accountKey(opts.directoryUrl, async () =>
    (await acme.crypto.createPrivateEcdsaKey()).toString(),
  );
  const client = new acme.Client({ directoryUrl: opts.directoryUrl, accountKey });
  const [key, csr] = await acme.crypto.createCsr(
    { commonName: name, altNames: [name] },
    await acme.crypto.createPrivateEcdsaKey('P-256'),
  );
  const cert = await client.auto({
    csr,
    email: opts.email || undefined,
    termsOfServiceAgreed: true,
    challengePriority: ['http-01'],
    // The CA checks for itself; a self-check from here would go through NAT, proxies, or port 80 of another machine.
    skipChallengeVerification: true,
    challengeCreateFn: async (_authz, challenge, keyAuthorization) =>
      void challenges.set(challenge.token, keyAuthorization),
    challengeRemoveFn: async (_authz, challenge) => void challenges.delete(challenge.token),
  });
  return { cert, key: key.toString() };
}

type Acme = typeof import('acme-client');

async function acmeClient(): Promise<Acme> {
  const loaded = await import('acme-client');
  return (loaded as { default?: Acme }).default ?? loaded;
}

let trusted: string | null = null;

/** acme-client's HTTP client: a timeout, and the CAs of acme-ca (set once per file: the client is shared). */
function configureHttp(acme: Acme, caFile: string): void {
  acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
  if (caFile === trusted) return;
  trusted = caFile;
  acme.axios.defaults.httpsAgent = caFile ? new Agent({ ca: readFileSync(caFile) }) : undefined;
}
